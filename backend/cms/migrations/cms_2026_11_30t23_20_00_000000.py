"""Norwegian search folds æøå and their ASCII spellings (ae/oe/aa, a/o/a) to one form: `provesvar` finds prøvesvar.

The function is the SQL twin of backend.cms.service.fold_nordic (same steps, same order); the search
vectors of published Norwegian (nb, nn) pages are rebuilt with it. Downgrade: unfolded vectors, no function.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-30T23:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "cms: Norwegian search folds æøå and their ASCII spellings"

FORWARDS = """
CREATE FUNCTION helsekort_fold_nordic(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(replace(
        lower(translate($1, 'ÆØÅ', 'æøå')), 'æ', 'ae'), 'ø', 'oe'), 'å', 'aa'), 'aa', 'a'), 'oe', 'o'), 'ae', 'a')
$$;

UPDATE cms_page p SET search =
       setweight(to_tsvector('norwegian', helsekort_fold_nordic(r.title)), 'A')
    || setweight(to_tsvector('norwegian', helsekort_fold_nordic(r.summary)), 'B')
    || setweight(to_tsvector('norwegian', helsekort_fold_nordic(r.plain_text)), 'C')
FROM cms_revision r
WHERE r.page = p.id AND r.n = p.published_revision AND p.status = 'published' AND p.locale IN ('nb', 'nn');
"""

BACKWARDS = """
UPDATE cms_page p SET search =
       setweight(to_tsvector('norwegian', r.title), 'A')
    || setweight(to_tsvector('norwegian', r.summary), 'B')
    || setweight(to_tsvector('norwegian', r.plain_text), 'C')
FROM cms_revision r
WHERE r.page = p.id AND r.n = p.published_revision AND p.status = 'published' AND p.locale IN ('nb', 'nn');

DROP FUNCTION helsekort_fold_nordic(text);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cms", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(FORWARDS)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
