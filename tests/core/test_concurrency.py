"""ETag / If-Match rules shared by every guarded write."""

from __future__ import annotations

import pytest

from backend.core.concurrency import etag, if_none_match_hits, require_if_match
from backend.core.errors import BadRequest, PreconditionFailed, PreconditionRequired


def test_matching_version_passes() -> None:
    require_if_match(etag(7), 7)
    require_if_match('"6", "7"', 7)
    require_if_match('W/"7", "7"', 7)


def test_a_weak_etag_never_matches_if_match() -> None:
    # RFC 9110 §13.1.1: If-Match uses the strong comparison function.
    with pytest.raises(PreconditionFailed):
        require_if_match('W/"7"', 7)


def test_missing_if_match_is_428_with_the_current_version() -> None:
    with pytest.raises(PreconditionRequired) as caught:
        require_if_match(None, 3, resource="medication list")
    assert caught.value.extra["currentVersion"] == 3


def test_stale_if_match_is_412_with_the_current_version() -> None:
    with pytest.raises(PreconditionFailed) as caught:
        require_if_match('"2"', 3)
    assert caught.value.extra["currentVersion"] == 3


def test_wildcard_is_refused() -> None:
    with pytest.raises(BadRequest):
        require_if_match("*", 3)


def test_if_none_match() -> None:
    assert if_none_match_hits('"abc"', '"abc"')
    assert if_none_match_hits('W/"abc", "x"', '"abc"')
    assert not if_none_match_hits('"old"', '"abc"')
    assert not if_none_match_hits(None, '"abc"')
