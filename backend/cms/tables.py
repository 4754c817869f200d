"""CMS tables: one page per slug and locale (workflow and publication), its editable draft, and every revision."""

from __future__ import annotations

import uuid

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.db import DB


class CmsPage(Table, tablename="cms_page", db=DB):
    """One page in one locale: its state, which revision is current and which is published.

    The published content is the revision `published_revision`; `search` (a tsvector added by the
    hand-written migration) is rebuilt from it on publish with the locale's text-search configuration.
    Only backend/cms/service.py writes this table.
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    slug = Varchar(length=60)
    locale = Varchar(length=2)
    status = Varchar(length=16, default="draft")
    # The draft's ETag: bumped on every save and restore.
    version = Integer(default=1)
    current_revision = Integer(default=1)
    published_revision = Integer(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    publish_at = Timestamptz(null=True, default=None)
    # The revision a scheduled publish will publish (the one current when it was scheduled).
    scheduled_revision = Integer(null=True, default=None)
    unpublish_at = Timestamptz(null=True, default=None)
    # What `helsekort content sync` last wrote: the revision and the source file's digest.
    synced_revision = Integer(null=True, default=None)
    source_digest = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CmsDraft(Table, tablename="cms_draft", db=DB):
    """The editable working copy of a page (the content of its current revision); what /admin edits."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    page = ForeignKey(CmsPage, on_delete=OnDelete.restrict, unique=True, index=True)
    title = Varchar(length=300)
    summary = Text(default="")
    markdown = Text(default="")
    html = Text(default="")
    tags = Array(Varchar(length=48), default=list)
    audience = Varchar(length=16, default="citizen")
    context_keys = JSONB(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = Varchar(length=200, default="")


class CmsRevision(Table, tablename="cms_revision", db=DB):
    """Every save of a page, numbered 1, 2, … per page; never changed afterwards."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    page = ForeignKey(CmsPage, on_delete=OnDelete.restrict, index=True)
    n = Integer()
    title = Varchar(length=300)
    summary = Text(default="")
    markdown = Text(default="")
    html = Text(default="")
    # The text of the sanitised HTML, for search and snippets.
    plain_text = Text(default="")
    tags = Array(Varchar(length=48), default=list)
    audience = Varchar(length=16, default="citizen")
    context_keys = JSONB(default="{}")
    front_matter = JSONB(default="{}")
    author = Varchar(length=200)
    source = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())


CMS_TABLES: tuple[type[Table], ...] = (CmsPage, CmsDraft, CmsRevision)
