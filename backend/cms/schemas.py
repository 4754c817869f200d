"""Request and response bodies of the content routes (/content/v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

LOCALES: tuple[str, ...] = ("nb", "nn", "en", "se")
DEFAULT_LOCALE = "nb"
Locale = Literal["nb", "nn", "en", "se"]
Audience = Literal["citizen", "clinician"]
PageStatus = Literal["draft", "published", "archived"]

SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN, min_length=1, max_length=60)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Summary = Annotated[str, msgspec.Meta(max_length=2000)]
MarkdownText = Annotated[str, msgspec.Meta(max_length=200_000)]
Tag = Annotated[str, msgspec.Meta(pattern="^[a-z0-9]+(-[a-z0-9]+)*$", max_length=48)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=20)]
# Context keys: a key such as `gestational-week`, `loinc` or `atc` and a value (or a list of values).
ContextValue = str | int | list[str | int]
ContextKeys = Annotated[dict[str, ContextValue], msgspec.Meta(max_length=20)]


class DraftIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The whole draft (PUT replaces it)."""

    title: Title
    markdown: MarkdownText
    summary: Summary = ""
    tags: Tags = msgspec.field(default_factory=list)
    audience: Audience = "citizen"
    context_keys: ContextKeys = msgspec.field(default_factory=dict)


class PageIn(DraftIn, kw_only=True, rename="camel", forbid_unknown_fields=True):
    slug: Slug
    locale: Locale


class ScheduleIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Publish or unpublish now (no `at`) or at a future time."""

    at: datetime | None = None


class Page(msgspec.Struct, kw_only=True, rename="camel"):
    """A published page as readers get it."""

    slug: str
    locale: str
    requested_locale: str
    title: str
    summary: str
    markdown: str
    html: str
    tags: list[str]
    audience: str
    context_keys: dict[str, Any]
    updated_at: datetime
    revision: int


class EditorPage(msgspec.Struct, kw_only=True, rename="camel"):
    """A page as editors see it: the draft, where it stands and what is scheduled."""

    slug: str
    locale: str
    requested_locale: str
    title: str
    summary: str
    markdown: str
    html: str
    tags: list[str]
    audience: str
    context_keys: dict[str, Any]
    updated_at: datetime
    updated_by: str
    status: PageStatus
    version: int
    revision: int
    published_revision: int | None
    published_at: datetime | None
    publish_at: datetime | None
    unpublish_at: datetime | None


class PageSummary(msgspec.Struct, kw_only=True, rename="camel"):
    slug: str
    locale: str
    requested_locale: str
    title: str
    summary: str
    tags: list[str]
    audience: str
    context_keys: dict[str, Any]
    updated_at: datetime
    # Search only: the relevance and a snippet with the matches in <mark>…</mark> (the rest HTML-escaped).
    rank: float | None = None
    snippet: str | None = None


class PageList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[PageSummary]
    next: str | None


class Revision(msgspec.Struct, kw_only=True, rename="camel"):
    n: int
    title: str
    summary: str
    author: str
    source: str
    created_at: datetime
    current: bool
    published: bool


class RevisionList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[Revision]
    next: str | None
