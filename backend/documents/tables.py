"""Tables of the journal documents: the metadata, and the bytes stored once per patient and content (sha256).

A document row names its content by `(patient_id, sha256)`; the bytes are a `document_blob` of the patient,
shared by every document of hers with the same content (a re-sent or replaced-with-the-same file costs
nothing). In the PostgreSQL store the bytes are `document_blob_chunk` rows of a fixed size, so an upload and
a download stream chunk by chunk and a byte range reads only the chunks it covers; with an S3-compatible store
(`HELSEKORT_DOCUMENT_STORE`) the blob row stays and the chunks are an object instead.

Columns and nullability here match the database (tests/core/test_schema_catalogue.py); the keys
((patient_id, id), the composite links) are in the hand-written migration, which Piccolo cannot declare.
"""

from __future__ import annotations

import uuid

from piccolo.columns import UUID, BigInt, Boolean, Bytea, Date, ForeignKey, Integer, Text, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.db import DB
from backend.core.tables import Patient


class DocumentBlob(Table, tablename="document_blob", db=DB):
    """One content of one patient, by its SHA-256; `id` names its chunks (known before the hash is)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    sha256 = Text()
    size = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())


class DocumentBlobChunk(Table, tablename="document_blob_chunk", db=DB):
    """A fixed-size piece of a blob (the last may be shorter); key (patient_id, blob_id, seq)."""

    seq = Integer(primary_key=True)
    patient_id = UUID(null=False)
    blob_id = UUID(null=False)
    data = Bytea()


class Document(Table, tablename="document", db=DB):
    """A journal document's metadata, keyed by the sender's id within the patient."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    type = Text()
    title = Text()
    date = Date()
    department = Text(null=True, default=None)
    visible_to_patient = Boolean(default=True)
    hidden_reason = Text(null=True, default=None)
    replaces = UUID(null=True, default=None)
    superseded_by = UUID(null=True, default=None)
    organisation = Text()
    org_kind = Text()
    author_hpr = Text()
    author_name = Text(null=True, default=None)
    author_authorization = Text()
    content_type = Text()
    size = BigInt()
    sha256 = Text()
    status = Text(default="current")
    restricted = Boolean(default=False)
    restricted_at = Timestamptz(null=True, default=None)
    entered_in_error_reason = Text(null=True, default=None)
    entered_in_error_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


DOCUMENT_TABLES = (DocumentBlob, DocumentBlobChunk, Document)
