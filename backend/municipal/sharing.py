"""Whose municipal services a reader sees: each municipality is data controller of its own.

A reader sees the services of her own municipality (the token's kommunenummer), of the municipalities her
organisation serves (a legevakt district, `HELSEKORT_LEGEVAKT_DISTRICTS`) and of the municipalities that share
nationally (`HELSEKORT_SHARING_MUNICIPALITIES`); the rest are only counted (API.md).
"""

from __future__ import annotations

from backend.core.auth import ClinicianPrincipal
from backend.core.settings import Settings


def readable_municipalities(principal: ClinicianPrincipal, settings: Settings) -> frozenset[str]:
    own = {principal.municipality} if principal.municipality is not None else set()
    district = dict(settings.legevakt_districts).get(principal.org_number, ())
    return frozenset(own | set(district) | settings.sharing_municipalities)
