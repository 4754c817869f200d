"""A small citizen write: what every citizen write pays before its handler (authentication, the write rate
limit, the Idempotency-Key step) plus one short transaction.

Measured at the production write limit (120 a minute per citizen): the writes are spread over so many
citizens, one per path, that none reaches it below about 2,000 requests a second."""

from __future__ import annotations

import asyncio

from backend.core.identity import with_control_digits
from backend.dev.tokens import citizen_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.scenarios import BenchContext, Prepared, Scenario

CITIZENS = 1000
HPR = "9100001"


def _numbers(count: int) -> list[str]:
    """Synthetic numbers (month + 80), individual numbers 500 and up: apart from the access scenarios' citizens."""
    numbers: list[str] = []
    for serial in range(count * 3):
        day, month = 1 + serial % 28, 81 + (serial // 28) % 12
        number = with_control_digits(f"{day:02d}{month:02d}85{500 + serial // 336:03d}")
        if number is not None and number not in numbers:
            numbers.append(number)
        if len(numbers) == count:
            return numbers
    raise RuntimeError("not enough synthetic numbers")


async def _citizen_block(context: BenchContext) -> Prepared:
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    tokens = [mint(key, "citizen", citizen_claims(number), expires_in=3600) for number in _numbers(CITIZENS)]
    path = f"/citizen/v1/me/blocks/{HPR}"
    gate = asyncio.Semaphore(8)

    async def first_block(token: str) -> None:
        async with gate:
            response = await context.http.put(path, headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()

    await asyncio.gather(*[first_block(token) for token in tokens])
    return Prepared(paths=[path] * CITIZENS, path_headers=[{"Authorization": f"Bearer {t}"} for t in tokens])


SCENARIOS: list[Scenario] = [
    Scenario(
        name="citizen-write",
        path=f"/citizen/v1/me/blocks/{HPR}",
        method="PUT",
        expect_status=204,
        setup=_citizen_block,
        description="PUT of an existing block by 1,000 citizens in turn: a citizen write's middleware (the write "
        "limit at 120/min included) + one transaction",
    ),
]
