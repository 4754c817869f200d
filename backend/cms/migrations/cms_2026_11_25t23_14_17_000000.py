"""CMS constraints Piccolo cannot express: uniqueness, checks, the search vector and its indexes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-25T23:14:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "cms constraints, search vector and indexes"

SQL = """
ALTER TABLE cms_page ADD CONSTRAINT cms_page_slug_locale UNIQUE (slug, locale);
ALTER TABLE cms_page ADD CONSTRAINT cms_page_slug_check CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$');
ALTER TABLE cms_page ADD CONSTRAINT cms_page_locale_check CHECK (locale IN ('nb', 'nn', 'en', 'se'));
ALTER TABLE cms_page ADD CONSTRAINT cms_page_status_check CHECK (status IN ('draft', 'published', 'archived'));
ALTER TABLE cms_page ADD CONSTRAINT cms_page_published_has_revision
    CHECK (status <> 'published' OR published_revision IS NOT NULL);
ALTER TABLE cms_page ADD COLUMN search tsvector;
-- Keep the vector in the heap row (compressed), not in TOAST: the planner then sees what a sequential
-- scan really costs and uses the GIN index, and ranking does not fetch every match from TOAST.
ALTER TABLE cms_page ALTER COLUMN search SET STORAGE MAIN;
CREATE INDEX cms_page_search ON cms_page USING gin (search) WHERE status = 'published';
CREATE INDEX cms_page_published ON cms_page (locale, slug) WHERE status = 'published';
CREATE INDEX cms_page_due_publish ON cms_page (publish_at) WHERE publish_at IS NOT NULL;
CREATE INDEX cms_page_due_unpublish ON cms_page (unpublish_at) WHERE unpublish_at IS NOT NULL;

ALTER TABLE cms_revision ADD CONSTRAINT cms_revision_once UNIQUE (page, n);
ALTER TABLE cms_revision ADD CONSTRAINT cms_revision_source_check
    CHECK (source IN ('api', 'sync', 'admin', 'restore'));
ALTER TABLE cms_revision ADD CONSTRAINT cms_revision_audience_check CHECK (audience IN ('citizen', 'clinician'));
ALTER TABLE cms_draft ADD CONSTRAINT cms_draft_audience_check CHECK (audience IN ('citizen', 'clinician'));
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cms", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    manager.add_raw(run)
    return manager
