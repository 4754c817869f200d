"""Journal documents (issue 15): metadata, and content stored once per patient and SHA-256, in chunks."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents: document, document_blob, document_blob_chunk"

SQL = """
CREATE TABLE document_blob (
    patient_id uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    id uuid NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size bigint NOT NULL CHECK (size > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, id),
    UNIQUE (patient_id, sha256)
);

-- Written before the blob row (the hash is known only at the end of the stream): the link is checked at commit.
CREATE TABLE document_blob_chunk (
    patient_id uuid NOT NULL,
    blob_id uuid NOT NULL,
    seq integer NOT NULL CHECK (seq >= 0),
    data bytea NOT NULL,
    PRIMARY KEY (patient_id, blob_id, seq),
    FOREIGN KEY (patient_id, blob_id) REFERENCES document_blob (patient_id, id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE document (
    patient_id uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    id uuid NOT NULL,
    type text NOT NULL CHECK (type IN ('epicrisis', 'outpatient-note', 'referral', 'radiology-report',
                                       'lab-report', 'summary', 'other')),
    title text NOT NULL,
    date date NOT NULL,
    department text,
    visible_to_patient boolean NOT NULL DEFAULT true,
    hidden_reason text,
    replaces uuid,
    superseded_by uuid,
    organisation text NOT NULL,
    org_kind text NOT NULL,
    author_hpr text NOT NULL,
    author_name text,
    author_authorization text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'text/plain', 'image/jpeg', 'image/png')),
    size bigint NOT NULL,
    sha256 text NOT NULL,
    status text NOT NULL DEFAULT 'current' CHECK (status IN ('current', 'superseded', 'entered-in-error')),
    restricted boolean NOT NULL DEFAULT false,
    restricted_at timestamptz,
    entered_in_error_reason text,
    entered_in_error_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, id),
    CHECK (visible_to_patient OR hidden_reason IS NOT NULL),
    FOREIGN KEY (patient_id, sha256) REFERENCES document_blob (patient_id, sha256) ON DELETE RESTRICT,
    FOREIGN KEY (patient_id, replaces) REFERENCES document (patient_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (patient_id, superseded_by) REFERENCES document (patient_id, id) ON DELETE RESTRICT
);
-- The clinician's and the citizen's lists: newest first by the document's date.
CREATE INDEX document_by_date ON document (patient_id, date DESC, id DESC);
"""

BACKWARDS_SQL = """
DROP TABLE document;
DROP TABLE document_blob_chunk;
DROP TABLE document_blob;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
