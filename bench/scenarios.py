"""The scenario registry: every `bench/scenarios_*.py` module lists its scenarios in `SCENARIOS`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

Target = Literal["app", "baseline"]


@dataclass(frozen=True, kw_only=True)
class BenchContext:
    """What a scenario's setup may use: the running servers, the bench database and a client."""

    app_url: str
    baseline_url: str
    database_url: str
    data_dir: Path
    http: httpx.AsyncClient  # base_url is the app server


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """What a setup returns: extra headers and the paths wrk cycles through (empty keeps the scenario's)."""

    headers: Mapping[str, str] = field(default_factory=dict)
    paths: Sequence[str] = ()
    body: bytes | None = None
    # Headers of one path each (same length as `paths`), e.g. one caller per path for per-caller limits.
    path_headers: Sequence[Mapping[str, str]] = ()


Setup = Callable[[BenchContext], Awaitable[Prepared]]


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One measured request shape. `path` is used unless the setup returns paths."""

    name: str
    path: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    target: Target = "app"
    expect_status: int = 200
    setup: Setup | None = None
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class Requests:
    """The concrete requests wrk sends in turn for one scenario, after its setup ran."""

    method: str
    paths: tuple[str, ...]
    headers: Mapping[str, str]
    body: bytes | None
    path_headers: tuple[Mapping[str, str], ...] = ()

    def headers_of(self, index: int) -> dict[str, str]:
        """The headers of the request to `paths[index]`."""
        return {**self.headers, **(self.path_headers[index] if self.path_headers else {})}


async def prepare(scenario: Scenario, context: BenchContext) -> Requests:
    prepared = await scenario.setup(context) if scenario.setup is not None else Prepared()
    paths = tuple(prepared.paths) or (scenario.path,)
    headers = {**scenario.headers, **prepared.headers}
    body = prepared.body if prepared.body is not None else scenario.body
    if prepared.path_headers and len(prepared.path_headers) != len(paths):
        raise ValueError(f"{scenario.name}: path_headers must give one mapping per path")
    return Requests(
        method=scenario.method, paths=paths, headers=headers, body=body, path_headers=tuple(prepared.path_headers)
    )


def discover() -> list[Scenario]:
    """Every scenario in bench/scenarios_*.py: scenarios_core first, then the others by module name."""
    package_dir = Path(__file__).parent
    names = sorted(
        (info.name for info in pkgutil.iter_modules([str(package_dir)]) if info.name.startswith("scenarios_")),
        key=lambda name: (name != "scenarios_core", name),
    )
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        listed = getattr(module, "SCENARIOS", None)
        if not isinstance(listed, list) or not all(isinstance(item, Scenario) for item in listed):
            raise TypeError(f"bench/{name}.py must define SCENARIOS: list[Scenario]")
        for scenario in listed:
            if scenario.name in seen:
                raise ValueError(f"two scenarios are named {scenario.name!r} (the second in bench/{name}.py)")
            seen.add(scenario.name)
            scenarios.append(scenario)
    if not scenarios or scenarios[0].name != "baseline":
        raise ValueError("bench/scenarios_core.py must list the baseline scenario first")
    return scenarios
