"""The documents section of the legevakt overview: the newest five documents' metadata the reader may see.

The clinician's own list's rule (`queries._SEEN_BY_CLINICIAN`): the look-back of other organisations' documents,
and the citizen's restrictions (emergency access excepted), hold here exactly as there.
"""

from __future__ import annotations

from typing import Any

from backend.core.access import Grant
from backend.core.overview import NEWEST_DOCUMENTS, OverviewDocument, SectionQuery, overview_source
from backend.core.settings import Settings
from backend.documents import queries, service


def _documents(rows: list[OverviewDocument]) -> list[OverviewDocument]:
    return rows


@overview_source("documents")
async def newest_documents(grant: Grant, settings: Settings) -> SectionQuery | None:
    args: tuple[Any, ...] = (
        grant.patient_id,
        *queries.reader_values(service.reader_of(grant, settings)),
        NEWEST_DOCUMENTS,
    )
    return SectionQuery(sql=queries.NEWEST_SEEN, args=args, row=OverviewDocument, build=_documents)
