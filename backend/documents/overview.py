"""The documents section of the legevakt overview: the newest five documents' metadata the reader may see.

The clinician's own list's rule (`queries._SEEN_BY_CLINICIAN`): the look-back of other organisations' documents,
and the citizen's restrictions (emergency access excepted), hold here exactly as there.
"""

from __future__ import annotations

from typing import Any

from backend.core.auth import ClinicianPrincipal
from backend.core.clock import oslo_now
from backend.core.overview import EMERGENCY, NEWEST_DOCUMENTS, PATIENT, OverviewDocument, SectionQuery, overview_source
from backend.core.settings import Settings
from backend.documents import queries


def _documents(rows: list[OverviewDocument]) -> list[OverviewDocument]:
    return rows


@overview_source("documents")
def newest_documents(clinician: ClinicianPrincipal, settings: Settings) -> SectionQuery | None:
    lookback = settings.document_lookback_days
    args: tuple[Any, ...] = (
        PATIENT,  # $1 and $3 as `reader_values` (of `service.reader_of`), with the decision's patient and basis
        clinician.org_number,
        EMERGENCY,
        oslo_now().date(),
        [kind for kind, _ in lookback],
        [days for _, days in lookback],
        NEWEST_DOCUMENTS,
    )
    return SectionQuery(sql=queries.NEWEST_SEEN, args=args, row=OverviewDocument, build=_documents)
