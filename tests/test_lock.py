"""The install lock: every dependency pinned with hashes, inside pyproject's ranges, with no addresses.

A fresh clone failed its own tests once because nothing pinned the dependencies; these tests keep the lock
(`requirements.txt`, made by `make lock`) honest against `pyproject.toml`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def _entries() -> list[str]:
    """The lock's requirement entries, each with its continuation lines joined."""
    text = LOCK.read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for entry in _entries():
        match = PIN.match(entry)
        assert match, f"not an exact pin: {entry[:80]}"
        pins[canonicalize_name(match.group(1))] = match.group(3)
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [Requirement(r) for r in project["dependencies"]]
    declared += [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    build = (ROOT / "requirements-build.in").read_text(encoding="utf-8").splitlines()
    declared += [Requirement(line) for line in build if line.strip() and not line.startswith("#")]
    return declared


def test_every_entry_is_an_exact_pin_with_sha256_hashes() -> None:
    entries = _entries()
    assert len(entries) > 50
    for entry in entries:
        assert PIN.match(entry), entry[:80]
        assert "--hash=sha256:" in entry, f"no hash: {entry[:80]}"


def test_the_lock_records_no_download_address_or_index_option() -> None:
    text = LOCK.read_text(encoding="utf-8")
    for forbidden in ("://", "--index-url", "--extra-index-url", "--find-links", "--trusted-host", "-f "):
        assert forbidden not in text, forbidden


@pytest.mark.parametrize("requirement", _declared(), ids=str)
def test_every_declared_dependency_is_pinned_inside_its_range(requirement: Requirement) -> None:
    pins = _pins()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{requirement} is declared but not in the lock: run `make lock`"
    assert requirement.specifier.contains(pins[name], prereleases=True), (
        f"{requirement} is declared, the lock pins {pins[name]}: run `make lock`"
    )
