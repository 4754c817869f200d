"""Test session: its own database from the migrations (DATABASE_URL or embedded), dropped afterwards.

Tests talk to `create_app()` through httpx's ASGITransport in the test's own event loop, so the pool
opened in the lifespan is the one the test uses. Data is never shared between tests: every test makes
its own patients and clinicians through the factories in tests/factories.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import hypothesis
import pytest
from asyncpg.connection import Connection
from litestar import Litestar

from backend.core.change_signals import SIGNALS
from backend.settings import Settings
from tests.support.own_database import with_database

# Property tests are bounded by example count, never by time: a per-example deadline on a loaded 2-core
# machine (CI runs two suites side by side) fails on scheduling, not on behaviour.
hypothesis.settings.register_profile("helsekort", deadline=None, max_examples=100)
hypothesis.settings.load_profile("helsekort")

# The app, the embedded server and migrations are imported inside the fixtures, so that pure unit
# tests (NEWS2, dating, validators) collect and run without touching the database layer.


_ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{6}[ -]?\d{5}(?!\d)")
_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.")


@pytest.fixture(scope="session", autouse=True)
def no_identifiers_in_any_log_record() -> Iterator[None]:
    """Issue 12: every record the whole run logs, before scrubbing, holds no token and no test fødselsnummer.

    Scrubbing is the last line of defence; this checks that the code never needed it. The factories
    register every synthetic number they issue (tests.factories.ISSUED_NUMBERS).
    """
    from backend.core.logs import JsonFormatter
    from tests.factories import ISSUED_NUMBERS

    render = JsonFormatter().render
    offenders: list[str] = []
    original = logging.Logger.callHandlers

    def checked(self: logging.Logger, record: logging.LogRecord) -> None:
        try:
            line = render(record)
        except Exception:  # a record that cannot be rendered is the formatter's test's business
            line = ""
        numbers = {match.replace(" ", "").replace("-", "") for match in _ELEVEN_DIGITS.findall(line)}
        if numbers & ISSUED_NUMBERS or _TOKEN.search(line):
            offenders.append(line[:500])
        original(self, record)

    logging.Logger.callHandlers = checked  # type: ignore[method-assign]
    try:
        yield
    finally:
        logging.Logger.callHandlers = original  # type: ignore[method-assign]
        # pgserver logs from an atexit thread, after pytest closed the stream the handlers write to.
        logging.getLogger().handlers.clear()
    assert offenders == [], "log records with a token or a test fødselsnummer:\n" + "\n".join(offenders[:20])


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server's maintenance DSN: DATABASE_URL's server, or a fresh embedded one."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    from backend.db.embedded import EmbeddedPostgres

    directory = Path(tempfile.mkdtemp(prefix="helsekort-test-pg-"))
    embedded = EmbeddedPostgres(directory)
    try:
        yield embedded.uri
    finally:
        embedded.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    name = f"helsekort_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server_url, name)
    from backend.db.migrate import migrate

    await migrate(url)
    try:
        yield url
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="helsekort-test-data-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(database_url: str, data_dir: Path) -> Settings:
    # Generous database timeouts: the test machine is shared and slow at times. The production defaults
    # (about a second) are exercised against a frozen server in tests/reliability/test_stalled_database.py.
    return Settings(
        env="test",
        database_url=database_url,
        data_dir=data_dir,
        # INFO: every access line and info record passes the whole-run identifier check below.
        log_level="INFO",
        db_acquire_timeout=5.0,
        db_command_timeout=20.0,
        db_statement_timeout_ms=15_000,
    )


@contextlib.asynccontextmanager
async def running(application: Litestar) -> AsyncIterator[Litestar]:
    """Run the app's lifespan in one task of its own (anyio needs enter and exit in the same task)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
    try:
        yield application
    finally:
        stop.set()
        await task


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    from backend.app import create_app

    async with running(create_app(settings)) as application:
        yield application


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    # Each test its own client address, so per-address limits (auth failures) never leak between tests.
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def db(app: Litestar) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection to the test database, for assertions the API does not expose."""
    from backend.db.engine import DB

    async with DB.connection() as connection:
        yield connection


# --- the contract: every response of the suite against openapi/openapi.json --------------------------------

_exchanges: list[httpx.Response] = []
_handle_async_request = httpx.ASGITransport.handle_async_request


async def _recording_handle_async_request(self: httpx.ASGITransport, request: httpx.Request) -> httpx.Response:
    response = await _handle_async_request(self, request)
    _exchanges.append(response)
    return response


@pytest.fixture(autouse=True)
def conforms_to_openapi() -> Iterator[None]:
    """Fails the test when a response it received contradicts the committed OpenAPI document."""
    _exchanges.clear()
    httpx.ASGITransport.handle_async_request = _recording_handle_async_request  # type: ignore[method-assign]
    try:
        yield
    finally:
        httpx.ASGITransport.handle_async_request = _handle_async_request  # type: ignore[method-assign]
    from tests.contract.conformance import contradictions

    found = list(contradictions([r for r in _exchanges if r.is_closed]))
    _exchanges.clear()
    if found:
        pytest.fail("responses contradict openapi/openapi.json:\n" + "\n".join(found), pytrace=False)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement with parameters that the app sends (fetch, fetchrow, fetchval and execute with arguments), but
    the change listener's own probes (core/change_signals.py: every 2 s on its own connection, between any two
    requests)."""
    seen: list[str] = []
    original = Connection._execute  # type: ignore[attr-defined]  # the one method every parameterised statement passes

    async def counting(self: Connection, query: str, *args: object, **kwargs: object) -> object:
        if self is not SIGNALS._connection:
            seen.append(" ".join(query.split()))
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(Connection, "_execute", counting)
    return seen
