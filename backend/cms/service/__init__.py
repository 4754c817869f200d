"""The CMS's rules, one module per sub-resource; every statement is in `backend.cms.queries`.

- `inputs`: who saves (an editor, audited with `record_editor_action`, or the content sync), locales,
  context keys, drafts and times;
- `published`: published pages for readers, behind a short in-process cache (the hot path);
- `search`: lists and ranked search of published pages, with Norwegian query widening;
- `drafts`: the draft as editors see it and saving it as a new revision (If-Match);
- `pages`: a new page, the preview;
- `revisions`: the history, and restoring a revision as the draft;
- `publishing`: publish and unpublish, now or scheduled, and the worker's job for what is due;
- `syncing`: the content sync's writes.

Every save is a revision; the draft row is the working copy (the content of the current revision). The
CMS holds no patient data. Routes, the admin, the sync and the worker import the names below.
"""

from __future__ import annotations

from backend.cms.service.drafts import Content, save_draft
from backend.cms.service.inputs import (
    SYNC_AUTHOR,
    Author,
    editor_author,
    normalise_context_keys,
    parse_context,
    parse_locale,
)
from backend.cms.service.pages import create_page, preview
from backend.cms.service.published import (
    PAGE_CACHE_SECONDS,
    PUBLIC_CACHE_CONTROL,
    PUBLIC_MAX_AGE,
    PublishedPage,
    cached_published_page,
    forget_cached_pages,
    published_page,
)
from backend.cms.service.publishing import publish, publish_due_pages, run_due_schedules, unpublish
from backend.cms.service.revisions import restore_revision, revisions
from backend.cms.service.search import (
    FOLDED_CONFIGS,
    MAX_RESPELLINGS,
    SEARCH_CONFIG,
    expand_norwegian_query,
    fold_nordic,
    list_pages,
    norwegian_respellings,
    without_folded_stop_words,
)
from backend.cms.service.syncing import SyncState, sync_page, sync_state

__all__ = [
    "FOLDED_CONFIGS",
    "MAX_RESPELLINGS",
    "PAGE_CACHE_SECONDS",
    "PUBLIC_CACHE_CONTROL",
    "PUBLIC_MAX_AGE",
    "SEARCH_CONFIG",
    "SYNC_AUTHOR",
    "Author",
    "Content",
    "PublishedPage",
    "SyncState",
    "cached_published_page",
    "create_page",
    "editor_author",
    "expand_norwegian_query",
    "fold_nordic",
    "forget_cached_pages",
    "list_pages",
    "normalise_context_keys",
    "norwegian_respellings",
    "parse_context",
    "parse_locale",
    "preview",
    "publish",
    "publish_due_pages",
    "published_page",
    "restore_revision",
    "revisions",
    "run_due_schedules",
    "save_draft",
    "sync_page",
    "sync_state",
    "unpublish",
    "without_folded_stop_words",
]
