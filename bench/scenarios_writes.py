"""A small citizen write: what every citizen write pays before its handler (authentication, the write rate
limit, the Idempotency-Key step) plus one short transaction."""

from __future__ import annotations

from backend.core.devtokens import citizen_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.scenarios import BenchContext, Prepared, Scenario
from bench.scenarios_access import _synthetic_numbers

HPRS = [str(9_100_000 + n) for n in range(20)]


async def _citizen_block(context: BenchContext) -> Prepared:
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    # Her own citizen (the last of the access scenarios' numbers), so no other scenario's data is touched.
    token = mint(key, "citizen", citizen_claims(_synthetic_numbers(2)[1]), expires_in=3600)
    headers = {"Authorization": f"Bearer {token}"}
    for hpr in HPRS:
        response = await context.http.put(f"/citizen/v1/me/blocks/{hpr}", headers=headers)
        response.raise_for_status()
    return Prepared(headers=headers, paths=[f"/citizen/v1/me/blocks/{hpr}" for hpr in HPRS])


SCENARIOS: list[Scenario] = [
    Scenario(
        name="citizen-write",
        path="/citizen/v1/me/blocks/{hpr}",
        method="PUT",
        expect_status=204,
        setup=_citizen_block,
        description="PUT of an existing block: a citizen write's middleware (rate limit included) + one transaction",
    ),
]
