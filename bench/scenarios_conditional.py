"""A polling app revalidating the citizen's whole resources (core/conditional.py): If-None-Match → 304.

Compare with the `health` row of the same run (target ≥ 0.7×): a 304 is the access decision and one state
statement, nothing of the resource is read or serialised.
"""

from __future__ import annotations

from bench.scenarios import BenchContext, Prepared, Scenario
from bench.scenarios_labs import _patient_with_two_years
from bench.scenarios_pregnancy import _woman_with_a_full_card

LAB_LIST = "/citizen/v1/me/lab-results?limit=10"
MEDICATIONS = "/citizen/v1/me/medications"


async def _validators(context: BenchContext) -> Prepared:
    woman, card_id = await _woman_with_a_full_card(context)
    citizen, _, _ = await _patient_with_two_years(context)
    reads = [(woman, f"/citizen/v1/me/pregnancies/{card_id}"), (citizen, LAB_LIST), (citizen, MEDICATIONS)]
    paths: list[str] = []
    path_headers: list[dict[str, str]] = []
    for headers, path in reads:
        response = await context.http.get(path, headers=headers)
        response.raise_for_status()
        paths.append(path)
        path_headers.append({**headers, "If-None-Match": response.headers["ETag"]})
    return Prepared(paths=paths, path_headers=path_headers)


SCENARIOS: list[Scenario] = [
    Scenario(
        name="citizen-poll-304",
        path="/citizen/v1/me/medications",
        setup=_validators,
        expect_status=304,
        description="If-None-Match on her card, lab list and medication list, all current: 304 (target ≥ 0.7× health)",
    ),
]
