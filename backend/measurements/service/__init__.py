"""Rules of måledata, one module per sub-resource; routes import this package and call it with a `Grant`.

- `uploads`: the citizen's and clinicians' batches, decoded item by item, stored in one statement, answered per item;
- `readings`: the list (newest first, keyset-paged), one code's series for charts, the code catalogue;
- `news2_scores`: a recorded vital set with its NEWS2 score, validity for the patient and alert;
- `spo2_target`: the doctor's 88-92 % target that puts NEWS2 on scale 2.

Every SQL statement is in `backend/measurements/queries.py`. Each module declares the `Need`s of its routes.
"""

from backend.measurements.service.news2_scores import (
    READ_NEWS2,
    RECORD_NEWS2,
    News2Shown,
    list_news2_scores,
    news2_not_valid_reason,
    reason_for_reader,
    record_news2,
)
from backend.measurements.service.readings import (
    CLINICIAN_PAGES,
    READ,
    list_measurements,
    measurement_codes,
    measurement_series,
    measurements_read,
)
from backend.measurements.service.spo2_target import (
    PRESCRIBE_SPO2_TARGET,
    READ_SPO2_TARGET,
    clear_spo2_target,
    prescribe_spo2_target,
    spo2_target,
)
from backend.measurements.service.uploads import WRITE, decode_batch, upload_measurements

__all__ = [
    "CLINICIAN_PAGES",
    "PRESCRIBE_SPO2_TARGET",
    "READ",
    "READ_NEWS2",
    "READ_SPO2_TARGET",
    "RECORD_NEWS2",
    "WRITE",
    "News2Shown",
    "clear_spo2_target",
    "decode_batch",
    "list_measurements",
    "list_news2_scores",
    "measurement_codes",
    "measurement_series",
    "measurements_read",
    "news2_not_valid_reason",
    "prescribe_spo2_target",
    "reason_for_reader",
    "record_news2",
    "spo2_target",
    "upload_measurements",
]
