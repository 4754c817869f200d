"""`helsekort demo`: each domain's demo registers its loader with the core, the composition picks the domains,
the loaders run after what they need, and loading the whole demo again adds nothing (issue 13, layering)."""

from __future__ import annotations

import asyncpg
import pytest
from litestar import Litestar

from backend.core import demo as registry
from backend.core.demo import demo_loader, registered_demos
from backend.settings import Settings

PATIENT_DOMAINS = ("labs", "medications", "pregnancy", "measurements", "documents")


def test_the_composition_registers_the_core_and_every_domain_each_after_what_it_needs() -> None:
    import backend.demo

    assert {module.__name__ for module in backend.demo.DEMO_DOMAINS} == {
        f"backend.{name}.demo" for name in (*PATIENT_DOMAINS, "cms")
    }
    order = [entry.name for entry in registered_demos()]
    assert sorted(order) == sorted(["core", *PATIENT_DOMAINS, "cms"])
    for entry in registered_demos():
        # A name in `after` that nobody registers would silently be no constraint: here every one is real.
        assert set(entry.after) <= set(order), entry
        assert all(order.index(needed) < order.index(entry.name) for needed in entry.after)
    # Every patient domain's demo uses the demo citizen's consent and care relations; readings need the card.
    assert all(order.index("core") < order.index(name) for name in PATIENT_DOMAINS)
    assert order.index("pregnancy") < order.index("measurements")


@pytest.fixture
def empty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", {})


async def _first(settings: Settings) -> str:
    return "first"


async def _second(settings: Settings) -> str:
    return "second"


async def _third(settings: Settings) -> str:
    return "third"


@pytest.mark.usefixtures("empty_registry")
def test_loaders_run_in_registration_order_unless_one_waits_for_another() -> None:
    demo_loader("b", after=("c", "not-in-this-build"))(_first)
    demo_loader("a")(_second)
    demo_loader("c")(_third)
    assert [entry.name for entry in registered_demos()] == ["a", "c", "b"]


@pytest.mark.usefixtures("empty_registry")
def test_a_second_loader_under_one_name_and_a_circle_are_refused() -> None:
    demo_loader("a", after=("b",))(_first)
    demo_loader("a", after=("b",))(_first)  # the same loader again (a module imported twice) is no conflict
    with pytest.raises(ValueError, match="registered twice"):
        demo_loader("a")(_second)
    demo_loader("b", after=("a",))(_third)
    with pytest.raises(ValueError, match="circle: a, b"):
        registered_demos()


async def _row_counts(db: asyncpg.Connection) -> dict[str, int]:
    tables = await db.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'audit_log'"
    )
    return {row["tablename"]: await db.fetchval(f'SELECT count(*) FROM "{row["tablename"]}"') for row in tables}


async def test_loading_the_whole_demo_twice_writes_nothing_the_second_time(
    app: Litestar, settings: Settings, db: asyncpg.Connection
) -> None:
    from backend.demo import load_demo

    first = await load_demo(settings)
    assert len(first.splitlines()) == len(registered_demos())
    before = await _row_counts(db)
    assert before["pregnancy_card"] >= 1
    assert before["lab_report"] >= 10
    await load_demo(settings)
    assert await _row_counts(db) == before
