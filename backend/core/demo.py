"""Demo data's shared parts: the demo identities every domain's demo uses, and the registry of demo loaders.

Each domain's `demo.py` registers its loader with `@demo_loader(name, after=...)`; the composition
(`backend/demo.py`) imports the demo modules of the domains the build has and runs them all with
`load_registered_demos`. Every loader is idempotent, so `helsekort demo` may run any number of times.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date

from backend.core.access import patient_for_identity_number
from backend.core.identity import with_control_digits
from backend.core.settings import Settings

DemoLoader = Callable[[Settings], Awaitable[str]]

# A synthetic test number (month + 80): never a real person. Only accepted outside production.
DEMO_FNR = "13899540063"


@dataclass(frozen=True, slots=True)
class DemoClinician:
    hpr: str
    name: str
    authorization: str
    org_number: str
    org_kind: str
    relation: str | None
    pid: str  # the clinician's own synthetic fødselsnummer, for the dev HelseID token (README)


DEMO_MIDWIFE = DemoClinician(
    "9100001", "Jordmor Kari Nordmann", "JO", "974600001", "helsestasjon", "midwife", "01857510190"
)
DEMO_GP = DemoClinician("9100002", "Fastlege Ola Hansen", "LE", "974600002", "fastlege", "gp", "02858020045")
DEMO_HOSPITAL = DemoClinician("9100003", "Lege Ingrid Berg", "LE", "974600003", "sykehus", "hospital", "03857030019")
DEMO_LAB = DemoClinician("9100004", "Bioingeniør Per Lab", "SP", "974600004", "laboratorium", None, "04856540087")
DEMO_CLINICIANS = (DEMO_MIDWIFE, DEMO_GP, DEMO_HOSPITAL, DEMO_LAB)


async def demo_patient_id() -> uuid.UUID:
    return await patient_for_identity_number(DEMO_FNR)


# The people the demo citizen represents: her children of 7 and 13 (she is their guardian) and the 84-year-old
# elder below, who gave her power of attorney. The children are born on 2 January, so their age is right all year
# but New Year's Day; a new year makes new numbers (and new demo children), since a fødselsnummer holds the birth date.
DEMO_CHILD_AGES = (7, 13)


def demo_number_born(born: date) -> str:
    """The first valid synthetic number (month + 80) for a birth date: the same every time it is asked."""
    individuals = range(500, 1000) if born.year >= 2000 else range(500)
    for individual in individuals:
        number = with_control_digits(f"{born.day:02d}{born.month + 80:02d}{born.year % 100:02d}{individual:03d}")
        if number is not None:
            return number
    raise ValueError(f"no synthetic number for {born}")


# The demo's elder, born 14 March 1942: she gave the demo citizen power of attorney, and her municipality's home
# care serves her (municipal/demo.py; the README's ELDER). One person, so the demo's stories meet.
DEMO_ELDER_FNR = next(n for i in range(100, 500) if (n := with_control_digits(f"148342{i:03d}")) is not None)


def demo_represented_numbers(today: date) -> tuple[tuple[str, ...], str]:
    """The demo children's numbers (of DEMO_CHILD_AGES this year) and the elder's."""
    children = tuple(demo_number_born(date(today.year - age, 1, 2)) for age in DEMO_CHILD_AGES)
    return children, DEMO_ELDER_FNR


# --- the registry --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisteredDemo:
    name: str
    load: DemoLoader
    after: tuple[str, ...]


_REGISTRY: dict[str, RegisteredDemo] = {}


def demo_loader(name: str, *, after: Iterable[str] = ()) -> Callable[[DemoLoader], DemoLoader]:
    """Register a demo loader under `name`, to run after the registered loaders named in `after`.

    A name in `after` that no loader of this build registers is no constraint (that domain is not composed).
    """

    def register(load: DemoLoader) -> DemoLoader:
        known = _REGISTRY.get(name)
        if known is not None and _qualified(known.load) != _qualified(load):
            raise ValueError(f"demo loader {name!r} is registered twice ({_qualified(known.load)}, {_qualified(load)})")
        _REGISTRY[name] = RegisteredDemo(name=name, load=load, after=tuple(after))
        return load

    return register


def _qualified(load: DemoLoader) -> str:
    return f"{getattr(load, '__module__', '?')}.{getattr(load, '__qualname__', repr(load))}"


def registered_demos() -> list[RegisteredDemo]:
    """Every registered loader, each after those it names; otherwise in the order they were registered."""
    entries = list(_REGISTRY.values())
    index = {entry.name: position for position, entry in enumerate(entries)}
    waiting_on = {entry.name: {name for name in entry.after if name in index} for entry in entries}
    ready = [index[name] for name, needs in waiting_on.items() if not needs]
    heapq.heapify(ready)
    ordered: list[RegisteredDemo] = []
    while ready:
        entry = entries[heapq.heappop(ready)]
        ordered.append(entry)
        for name, needs in waiting_on.items():
            if entry.name in needs:
                needs.discard(entry.name)
                if not needs:
                    heapq.heappush(ready, index[name])
    if len(ordered) != len(entries):
        stuck = sorted(name for name, needs in waiting_on.items() if needs)
        raise ValueError(f"demo loaders wait on each other in a circle: {', '.join(stuck)}")
    return ordered


async def load_registered_demos(settings: Settings) -> str:
    """Run every registered loader in order; one summary line each."""
    return "\n".join([await entry.load(settings) for entry in registered_demos()])
