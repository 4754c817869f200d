"""The access log's fast line (core/logs.py `TRUSTED`) is exactly the line the generic formatter makes of it."""

from __future__ import annotations

import json
import logging

import pytest

from backend.core.logs import TRUSTED, JsonFormatter, request_id_var


@pytest.mark.parametrize("duration", [0.0, 0.1, 1.23, 12.0, 1234.57, 1e-05])
@pytest.mark.parametrize("request_id", [None, "abcdefghijklmnop1f", "trace-medications-1"])
def test_the_trusted_access_line_is_the_generic_one(duration: float, request_id: str | None) -> None:
    logger = logging.getLogger("helsekort.access")
    fields = {
        "method": "GET",
        "route": "/clinician/v1/patients/{patient_id:uuid}/lab-reports/{report_id:uuid}",
        "status": 304,
        "durationMs": duration,
        "caller": "clinician",
    }
    generic = logger.makeRecord(logger.name, logging.INFO, __file__, 0, "request", (), None, extra=fields)
    fast = logger.makeRecord(
        logger.name, logging.INFO, __file__, 0, "request", (), None, extra={**fields, TRUSTED: True}
    )
    fast.created = generic.created
    token = request_id_var.set(request_id)
    try:
        formatter = JsonFormatter()
        assert formatter.format(fast) == formatter.format(generic)
        assert formatter.render(fast) == formatter.render(generic)
        assert json.loads(formatter.format(fast))["durationMs"] == duration
    finally:
        request_id_var.reset(token)


@pytest.mark.parametrize(
    ("template", "trusted"),
    [
        ("/citizen/v1/me/pregnancies/{pregnancy_id:uuid}", True),
        ("unmatched", True),
        ("/a/1234567", False),
        ('/a"b', False),
        ("/x/eyJhbGciOi", False),
    ],
)
def test_only_a_route_template_with_nothing_to_scrub_or_escape_is_trusted(template: str, trusted: bool) -> None:
    from backend.core.middleware import _SAFE_TEMPLATE

    assert bool(_SAFE_TEMPLATE.match(template)) is trusted
