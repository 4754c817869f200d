"""Where a document's bytes live: content-addressed by SHA-256 per patient, streamed in and out, never whole.

A small interface with two implementations, chosen by `HELSEKORT_DOCUMENT_STORE`:

- `PostgresStore` (default): fixed-size `document_blob_chunk` rows written in the upload's own transaction, so
  a failed upload (bad type, over the limit, invalid metadata, a crash) leaves nothing behind: it rolls back.
- `S3Store` (`s3://bucket/prefix`, any S3-compatible service; obstore): the upload streams to a staging object,
  which becomes `<prefix>/<patient>/<sha256>` inside the upload's transaction, under a lock on that content;
  a failed upload deletes its staging object and, when no row names the content, the object
  (`discard`). Objects left by a process killed mid-upload are all under `staging/`: give that prefix a
  lifecycle rule of a day.

Either way the `document_blob` row is the truth of which contents a patient has; identical content is stored
once per patient (the second upload's bytes are dropped when it commits).
"""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from backend.core.db import DB
from backend.documents import queries

CHUNK_SIZE = 256 * 1024  # a PostgreSQL chunk; every chunk but a blob's last is exactly this long (ranges need it)
S3_PART_SIZE = 5 * 1024 * 1024  # S3's smallest multipart part: what the S3 upload holds per part


@dataclass(frozen=True, slots=True)
class Staged:
    """Bytes written but not yet kept: their id (PostgreSQL chunks) or staging key (S3), hash and size."""

    blob_id: uuid.UUID
    sha256: str
    size: int


class DocumentStore(Protocol):
    async def stage(self, connection: Any, patient_id: uuid.UUID, chunks: AsyncIterable[bytes]) -> Staged:
        """Write the stream (inside the upload's transaction); its SHA-256 and size."""

    async def keep(self, connection: Any, patient_id: uuid.UUID, staged: Staged) -> None:
        """Make the staged bytes the patient's content `staged.sha256` (once: a second copy is dropped)."""

    async def discard(self, patient_id: uuid.UUID, staged: Staged) -> None:
        """After the upload's transaction failed: remove whatever of it outlived the rollback."""

    def read(
        self, patient_id: uuid.UUID, blob_id: uuid.UUID, sha256: str, start: int, end: int
    ) -> AsyncIterator[bytes]:
        """Bytes `start`..`end` (inclusive) of a kept content, a chunk at a time."""


class _Hashed:
    """Counts and hashes the bytes that pass through."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self.chunks = chunks
        self.digest = hashlib.sha256()
        self.size = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for piece in self.chunks:
            self.digest.update(piece)
            self.size += len(piece)
            yield piece


async def _fixed_size(chunks: AsyncIterable[bytes], size: int) -> AsyncIterator[bytes]:
    """The stream re-cut into pieces of exactly `size` bytes (the last may be shorter), holding at most one."""
    buffer = bytearray()
    async for piece in chunks:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


class PostgresStore:
    async def stage(self, connection: Any, patient_id: uuid.UUID, chunks: AsyncIterable[bytes]) -> Staged:
        blob = uuid.uuid4()
        hashed = _Hashed(chunks)
        seq = 0
        async for piece in _fixed_size(hashed, CHUNK_SIZE):
            await queries.insert_chunk(connection, patient_id, blob, seq, piece)
            seq += 1
        return Staged(blob, hashed.digest.hexdigest(), hashed.size)

    async def keep(self, connection: Any, patient_id: uuid.UUID, staged: Staged) -> None:
        await queries.lock_content(connection, patient_id, staged.sha256)
        if await queries.blob_id(connection, patient_id, staged.sha256) is not None:
            await queries.delete_chunks(connection, patient_id, staged.blob_id)
            return
        await queries.insert_blob(connection, patient_id, staged.blob_id, staged.sha256, staged.size)

    async def discard(self, patient_id: uuid.UUID, staged: Staged) -> None:
        return  # the chunks were written in the transaction that rolled back

    async def read(
        self, patient_id: uuid.UUID, blob_id: uuid.UUID, sha256: str, start: int, end: int
    ) -> AsyncIterator[bytes]:
        # One short statement per chunk, each on a connection of its own: a slow reader holds no connection.
        for seq in range(start // CHUNK_SIZE, end // CHUNK_SIZE + 1):
            async with DB.connection() as connection:
                data = await queries.chunk(connection, patient_id, blob_id, seq)
            if data is None:
                raise RuntimeError(f"document content {sha256} lost chunk {seq}")
            offset = seq * CHUNK_SIZE
            yield data[max(start - offset, 0) : end - offset + 1]


class S3Store:
    def __init__(self, url: str) -> None:
        from obstore.store import S3Store as ObjectStore

        # Credentials, region and endpoint come from the usual AWS_* environment variables.
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        self.objects = ObjectStore.from_url(url, client_options={"allow_http": endpoint.startswith("http://")})

    @staticmethod
    def _staging(staged_id: uuid.UUID) -> str:
        return f"staging/{staged_id}"

    @staticmethod
    def _kept(patient_id: uuid.UUID, sha256: str) -> str:
        return f"{patient_id}/{sha256}"

    async def stage(self, connection: Any, patient_id: uuid.UUID, chunks: AsyncIterable[bytes]) -> Staged:
        import obstore

        staged_id = uuid.uuid4()
        hashed = _Hashed(chunks)
        failure: BaseException | None = None

        async def watched() -> AsyncIterator[bytes]:
            nonlocal failure
            try:
                async for piece in _fixed_size(hashed, CHUNK_SIZE):
                    yield piece
            except BaseException as exc:  # the caller's 413/415 must come out as itself, not as an upload error
                failure = exc
                raise

        try:
            await obstore.put_async(
                self.objects, self._staging(staged_id), watched(), chunk_size=S3_PART_SIZE, max_concurrency=2
            )
        except Exception:
            await self._delete(self._staging(staged_id))
            if failure is not None:
                raise failure from None
            raise
        return Staged(staged_id, hashed.digest.hexdigest(), hashed.size)

    async def keep(self, connection: Any, patient_id: uuid.UUID, staged: Staged) -> None:
        import obstore

        await queries.lock_content(connection, patient_id, staged.sha256)
        if await queries.blob_id(connection, patient_id, staged.sha256) is not None:
            await self._delete(self._staging(staged.blob_id))
            return
        await obstore.rename_async(self.objects, self._staging(staged.blob_id), self._kept(patient_id, staged.sha256))
        await queries.insert_blob(connection, patient_id, staged.blob_id, staged.sha256, staged.size)

    async def discard(self, patient_id: uuid.UUID, staged: Staged) -> None:
        await self._delete(self._staging(staged.blob_id))
        async with DB.transaction(), DB.connection() as connection:
            await queries.lock_content(connection, patient_id, staged.sha256)
            if await queries.blob_id(connection, patient_id, staged.sha256) is None:
                await self._delete(self._kept(patient_id, staged.sha256))

    async def read(
        self, patient_id: uuid.UUID, blob_id: uuid.UUID, sha256: str, start: int, end: int
    ) -> AsyncIterator[bytes]:
        import obstore

        result = await obstore.get_async(
            self.objects, self._kept(patient_id, sha256), options={"range": (start, end + 1)}
        )
        async for piece in result.stream(min_chunk_size=CHUNK_SIZE):
            yield bytes(piece)

    async def _delete(self, key: str) -> None:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            await obstore.delete_async(self.objects, key)
        except NotFoundError:
            return


@functools.cache
def store_for(url: str | None) -> DocumentStore:
    """The store `HELSEKORT_DOCUMENT_STORE` names (None: PostgreSQL); one per URL per process."""
    if url is None:
        return PostgresStore()
    return S3Store(url)
