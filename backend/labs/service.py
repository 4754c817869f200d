"""Lab report rules: intake (JSON or FHIR), versions and corrections, release and hold, and what each reader sees.

The domain's public surface (routes, the worker, the demo); each part is its own module:
- `intake`: posting a report or a new version of it (`POST_REPORT`: a clinician with access to the patient is the
  requester; an organisation of kind `laboratorium` may post for any existing patient and names the requester);
- `releases`: release and hold by the requester or the requester's organisation (`RELEASE_OR_HOLD`; anyone else
  with access is an audited refusal), and the announcement job;
- `clinician` and `citizen`: what each reader sees (`READ_REPORTS`: laboratories read nothing), with `views`,
  the builders they share;
- `release`: when the citizen sees a report, defined once for SQL and Python; `queries`: every SQL statement.

Every function that touches a patient's reports takes the `Grant` the access decision returned.
"""

from __future__ import annotations

from backend.labs.citizen import get_for_citizen, list_for_citizen, trend_for_citizen
from backend.labs.citizen import list_state as citizen_list_state
from backend.labs.clinician import PAGES as CLINICIAN_PAGES
from backend.labs.clinician import REPORTS as CLINICIAN_REPORTS
from backend.labs.clinician import (
    clinician_report,
    list_for_clinician,
    read_page,
    read_report,
    versions_for_clinician,
)
from backend.labs.intake import (
    FHIR_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    POST_REPORT,
    Intake,
    Sender,
    parse_report,
    read_lab_report,
    receive_lab_report,
    release_delay,
    store_lab_report,
)
from backend.labs.releases import RELEASE_OR_HOLD, announce_due_releases, hold_lab_report, release_lab_report
from backend.labs.views import READ_REPORTS, RESOURCE_TYPE, Paging, paging

__all__ = [
    "CLINICIAN_PAGES",
    "CLINICIAN_REPORTS",
    "FHIR_MEDIA_TYPE",
    "JSON_MEDIA_TYPE",
    "POST_REPORT",
    "READ_REPORTS",
    "RELEASE_OR_HOLD",
    "RESOURCE_TYPE",
    "Intake",
    "Paging",
    "Sender",
    "announce_due_releases",
    "citizen_list_state",
    "clinician_report",
    "get_for_citizen",
    "hold_lab_report",
    "list_for_citizen",
    "list_for_clinician",
    "paging",
    "parse_report",
    "read_lab_report",
    "read_page",
    "read_report",
    "receive_lab_report",
    "release_delay",
    "release_lab_report",
    "store_lab_report",
    "trend_for_citizen",
    "versions_for_clinician",
]
