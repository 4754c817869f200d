"""The bench database: a fresh one on DATABASE_URL's server or on an embedded PostgreSQL, dropped after."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def with_database(dsn: str, database: str) -> str:
    """The same server, another database (works for TCP URLs and the embedded socket URL)."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def describe(dsn: str) -> str:
    """Where the server is, without credentials, for the report."""
    parts = urlsplit(dsn)
    if parts.hostname:
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432}"
    return "embedded PostgreSQL (pgserver, Unix socket)"


@contextlib.contextmanager
def server_dsn() -> Iterator[tuple[str, str]]:
    """Yield (maintenance DSN, description): DATABASE_URL's server, or an embedded one in a temp dir."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external, describe(external)
        return
    from backend.db.embedded import EmbeddedPostgres

    directory = Path(tempfile.mkdtemp(prefix="helsekort-bench-pg-"))
    print(f"bench: DATABASE_URL is unset; starting an embedded PostgreSQL in {directory}", flush=True)
    embedded = EmbeddedPostgres(directory)
    try:
        yield embedded.uri, describe(embedded.uri)
    finally:
        embedded.stop()
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.asynccontextmanager
async def bench_database(server: str) -> AsyncIterator[str]:
    """Create `helsekort_bench_<random>`, apply the migrations, yield its DSN, drop it afterwards."""
    from backend.db.migrate import migrate

    name = f"helsekort_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server, name)
    try:
        await migrate(url)
        yield url
    finally:
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        print(f"bench: dropped database {name}", flush=True)
