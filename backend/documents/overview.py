"""The documents section of the legevakt overview: the newest five documents' metadata the reader may see.

The clinician's own list (`service.clinician_list`): the look-back of other organisations' documents, and the
citizen's restrictions (emergency access excepted), hold here exactly as there.
"""

from __future__ import annotations

from backend.core.access import Grant
from backend.core.overview import NEWEST_DOCUMENTS, OverviewDocument, overview_source
from backend.core.settings import Settings
from backend.documents import service


@overview_source("documents")
async def newest_documents(grant: Grant, settings: Settings) -> list[OverviewDocument]:
    page = await service.clinician_list(grant, settings, service.list_query(None, None, None, None, NEWEST_DOCUMENTS))
    return [
        OverviewDocument(
            id=item.id,
            type=item.type,
            title=item.title,
            date=item.date,
            organisation=item.organisation,
            content_type=item.content_type,
        )
        for item in page.items
    ]
