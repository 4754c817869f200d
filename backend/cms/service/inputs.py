"""What every CMS rule checks first: who saves (and is audited), locales, context keys, drafts and times."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.cms.queries import GESTATIONAL_WEEK
from backend.cms.schemas import DEFAULT_LOCALE, LOCALES, DraftIn
from backend.core.audit import record_editor_action
from backend.core.auth import EditorPrincipal
from backend.core.clock import utcnow
from backend.core.errors import BadRequest

_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_ATC = re.compile(r"^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$")
_LOINC = re.compile(r"^[0-9]{1,7}-[0-9]$")
_MAX_WEEK = 45


@dataclass(frozen=True, slots=True)
class Author:
    """Who saved: an editor (audited) or the content sync. Not a clinician: the CMS holds no patient data."""

    name: str
    editor: EditorPrincipal | None = None


SYNC_AUTHOR = Author(name="content-sync")


def editor_author(principal: EditorPrincipal) -> Author:
    return Author(name=principal.name or principal.sub, editor=principal)


async def audit(author: Author, action: str, slug: str, locale: str) -> None:
    """An editor's action on a page is one audit row (`record_editor_action`); the content sync is not audited."""
    if author.editor is not None:
        await record_editor_action(author.editor, action=action, resource_type="page", resource_id=f"{slug}/{locale}")


def parse_locale(value: str | None, *, field: str = "locale") -> str:
    if value is None or value == "":
        return DEFAULT_LOCALE
    if value not in LOCALES:
        raise BadRequest(f"locale must be one of {', '.join(LOCALES)}", field=field)
    return value


def normalise_context_keys(keys: dict[str, Any], *, field: str = "contextKeys") -> dict[str, Any]:
    """Check context keys: `gestational-week` a week 0–45, `atc` an ATC code, `loinc` a LOINC code."""
    cleaned: dict[str, Any] = {}
    for key, raw in keys.items():
        where = f"{field}.{key}"
        if not _KEY.match(key) or len(key) > 48:
            raise BadRequest("context keys are lowercase words joined by hyphens", field=where)
        values = raw if isinstance(raw, list) else [raw]
        if not values or len(values) > 50:
            raise BadRequest("give one value or a list of up to 50 values", field=where)
        checked: list[str | int] = []
        for value in values:
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise BadRequest("context values are text or whole numbers", field=where)
            if key == GESTATIONAL_WEEK:
                if not isinstance(value, int) or not 0 <= value <= _MAX_WEEK:
                    raise BadRequest(f"gestational-week is a whole week from 0 to {_MAX_WEEK}", field=where)
            elif key == "atc":
                code = str(value).upper()
                if not _ATC.match(code):
                    raise BadRequest("not an ATC code (such as B03A or B03AA07)", field=where)
                value = code  # noqa: PLW2901 - ATC codes are stored upper-case
            elif key == "loinc":
                if not _LOINC.match(str(value)):
                    raise BadRequest("not a LOINC code (such as 718-7)", field=where)
            elif isinstance(value, str) and not 0 < len(value) <= 64:
                raise BadRequest("context values are 1 to 64 characters", field=where)
            checked.append(value)
        if key == GESTATIONAL_WEEK and len(checked) != 1:
            raise BadRequest("a page suits one gestational week (the first of its window)", field=where)
        cleaned[key] = checked if isinstance(raw, list) else checked[0]
    return cleaned


def parse_context(value: str | None) -> tuple[str, str | int] | None:
    """`gestational-week:24`, `atc:B03AA07`, `loinc:718-7` → (key, value)."""
    if value is None or value == "":
        return None
    key, sep, raw = value.partition(":")
    if not sep or not _KEY.match(key) or not raw.strip():
        raise BadRequest("context is key:value, e.g. gestational-week:24 or atc:B03A", field="context")
    raw = raw.strip()
    if key == GESTATIONAL_WEEK:
        # ASCII digits only: "²".isdigit() is true, but int("²") fails.
        if not (raw.isascii() and raw.isdigit()) or int(raw) > _MAX_WEEK:
            raise BadRequest(f"gestational-week is a whole week from 0 to {_MAX_WEEK}", field="context")
        return key, int(raw)
    if key == "atc" and not _ATC.match(raw.upper()):
        raise BadRequest("not an ATC code (such as B03A or B03AA07)", field="context")
    if len(raw) > 64:
        raise BadRequest("the context value is too long", field="context")
    return key, raw


def check_draft(draft: DraftIn) -> dict[str, Any]:
    """The draft's checks beyond its schema; returns its normalised context keys."""
    if not draft.title.strip():
        raise BadRequest("the title must not be blank", field="title")
    if len(set(draft.tags)) != len(draft.tags):
        raise BadRequest("a tag is listed twice", field="tags")
    return normalise_context_keys(draft.context_keys)


def future(at: datetime | None, *, field: str = "at") -> datetime | None:
    if at is None:
        return None
    if at.tzinfo is None:
        raise BadRequest("give the time with its offset (RFC 3339), e.g. 2026-12-01T08:00:00+01:00", field=field)
    if at <= utcnow():
        raise BadRequest("the time is not in the future; leave `at` out to act now", field=field)
    return at
