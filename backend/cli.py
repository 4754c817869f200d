"""The `helsekort` command: serve [--with-worker] | migrate | worker | content sync | demo | token | openapi."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backend.settings import SettingsError, load_settings

OPENAPI_PATH = Path("openapi/openapi.json")


def _settings_or_exit() -> Any:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"helsekort: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


# --- migrate / demo / content ------------------------------------------------------------------------


async def _with_database(settings: Any, action: Any) -> Any:
    from backend.core.identity import configure_sealer, load_patient_secret
    from backend.db.database import database_url
    from backend.db.engine import DB
    from backend.db.migrate import migrate

    configure_sealer(load_patient_secret(settings.patient_key, settings.dev_keys_dir))
    with database_url(settings) as dsn:
        await migrate(dsn)
        await DB.open_pool(min_size=1, max_size=4, acquire_timeout=30, statement_timeout_ms=600_000)
        try:
            return await action(settings)
        finally:
            await DB.close_pool()


async def _noop(settings: Any) -> None:
    return None


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    asyncio.run(_with_database(settings, _noop))
    print("migrations applied")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from backend.demo import load_demo

    settings = _settings_or_exit()
    summary = asyncio.run(_with_database(settings, load_demo))
    print(summary)
    return 0


def cmd_content(args: argparse.Namespace) -> int:
    from backend.jobs import content_sync

    settings = _settings_or_exit()
    if content_sync is None:
        print("helsekort: the CMS is not part of this build yet; nothing was synced", file=sys.stderr)
        return 2

    async def run(settings: Any) -> Any:
        return await content_sync(Path(args.directory), force=args.force)

    report = asyncio.run(_with_database(settings, run))
    print(report)
    return 0 if getattr(report, "ok", True) else 1


def cmd_catalogue(args: argparse.Namespace) -> int:
    from backend.jobs import load_drug_catalogue
    from backend.medications.catalogue import SAMPLE, CatalogueFileError

    settings = _settings_or_exit()
    path = SAMPLE if args.file == "sample" else Path(args.file)

    async def run(settings: Any) -> str:
        return await load_drug_catalogue(path)

    try:
        print(asyncio.run(_with_database(settings, run)))
    except CatalogueFileError as exc:
        print(f"helsekort: {exc}", file=sys.stderr)
        return 2
    return 0


# --- worker ---------------------------------------------------------------------------------------------


def cmd_worker(args: argparse.Namespace) -> int:
    from backend.core.logs import configure_logging
    from backend.jobs import run_worker

    settings = _settings_or_exit()
    configure_logging(settings.log_level)

    async def run(settings: Any) -> int:
        return await run_worker(settings, once=args.once)

    return int(asyncio.run(_with_database(settings, run)))


# --- serve ----------------------------------------------------------------------------------------------


WORKERS_KILL_SECONDS = 20
# backend.core.logs.logging_config() as a file, for the servers' --log-config (tests/test_served_logs.py keeps them equal).
SERVER_LOG_CONFIG = Path(__file__).resolve().parent / "core" / "server-logging.json"


def _server_command(args: argparse.Namespace) -> list[str]:
    """The ASGI server's command line; SERVER_LOG_CONFIG makes the server's own lines JSON and scrubbed too."""
    if args.server == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", "backend.app:app_factory", "--factory",
            "--host", args.host, "--port", str(args.port), "--workers", str(args.workers),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--lifespan", "on",
            "--log-config", str(SERVER_LOG_CONFIG),
        ]  # fmt: skip
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "backend.app:app_factory",
        "--host", args.host, "--port", str(args.port), "--workers", str(args.workers),
        "--loop", "uvloop", "--no-ws", "--log-level", "warning", "--log-config", str(SERVER_LOG_CONFIG),
        # With several workers granian 2.8 sometimes leaves a worker serving after SIGTERM (reproduced about
        # one stop in three): kill it after a grace period so a stop always ends, within Kubernetes' 30 s.
        "--workers-kill-timeout", str(WORKERS_KILL_SECONDS),
    ]  # fmt: skip


def _worker_command() -> list[str]:
    return [sys.executable, "-m", "backend", "worker"]


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def cmd_serve(args: argparse.Namespace) -> int:
    from backend.db.embedded import EmbeddedPostgres
    from backend.supervisor import Supervisor

    settings = _settings_or_exit()
    # Until the supervisor takes over, SIGTERM unwinds like Ctrl-C does, so the finally below still runs.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    env = dict(os.environ)
    embedded: EmbeddedPostgres | None = None
    try:
        if not settings.database_url:
            # Started once here: the API's processes and the worker share it through DATABASE_URL.
            embedded = EmbeddedPostgres(settings.data_dir)
            env["DATABASE_URL"] = embedded.uri
            settings = load_settings(env)
        if args.prepare:
            asyncio.run(_prepare(settings))
        commands = {"API server": _server_command(args)}
        if args.with_worker:
            commands["worker"] = _worker_command()
        print(
            f"helsekort: serving on http://{args.host}:{args.port} (API page at /schema)"
            + (", with the worker" if args.with_worker else "")
            + "; Ctrl-C stops everything",
            flush=True,
        )
        return Supervisor(commands, env).run()
    except KeyboardInterrupt:
        return 130
    finally:
        if embedded is not None:
            embedded.stop()


async def _prepare(settings: Any) -> None:
    from backend.demo import load_demo
    from backend.jobs import content_sync

    async def run(settings: Any) -> None:
        if content_sync is not None:
            print(await content_sync(Path("content"), force=False))
        print(await load_demo(settings))

    await _with_database(settings, run)


# --- openapi --------------------------------------------------------------------------------------------


def openapi_document() -> str:
    from backend.app import create_app
    from backend.core.contract import contract_document
    from backend.settings import Settings

    app = create_app(Settings(env="dev"))
    return json.dumps(contract_document(app), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def cmd_openapi(args: argparse.Namespace) -> int:
    document = openapi_document()
    path = Path(args.output)
    if args.check:
        if not path.exists() or path.read_text(encoding="utf-8") != document:
            print(f"helsekort: {path} is out of date; run `helsekort openapi` and commit it", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    print(f"wrote {path}")
    return 0


# --- token ----------------------------------------------------------------------------------------------


def cmd_token(args: argparse.Namespace) -> int:
    from backend.dev.tokens import mint_from_args

    settings = _settings_or_exit()
    if not settings.dev_issuers_enabled:
        print("helsekort: dev tokens do not exist in production", file=sys.stderr)
        return 2
    try:
        print(mint_from_args(settings, args))
    except ValueError as exc:
        print(f"helsekort: {exc}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helsekort", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    serve.add_argument("--prepare", action="store_true", help="migrate, sync content and load demo data first")
    serve.add_argument(
        "--with-worker", action="store_true", help="also run the worker; stopped together, either exiting stops both"
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load demo data (idempotent)").set_defaults(func=cmd_demo)

    worker = sub.add_parser("worker", help="run background jobs until SIGTERM")
    worker.add_argument("--once", action="store_true", help="do what is due now and exit")
    worker.set_defaults(func=cmd_worker)

    content = sub.add_parser("content", help="CMS content")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    sync = content_sub.add_parser("sync", help="load content/ into the database")
    sync.add_argument("--directory", default="content")
    sync.add_argument("--force", action="store_true", help="overwrite editor changes made in the database")
    sync.set_defaults(func=cmd_content)

    catalogue = sub.add_parser("catalogue", help="the drug catalogue (FEST)")
    catalogue_sub = catalogue.add_subparsers(dest="catalogue_command", required=True)
    load = catalogue_sub.add_parser("load", help="replace the drug catalogue from a JSON file")
    load.add_argument("file", help="the catalogue file, or `sample` for the bundled sample")
    load.set_defaults(func=cmd_catalogue)

    openapi = sub.add_parser("openapi", help="write or verify openapi/openapi.json")
    openapi.add_argument("--check", action="store_true")
    openapi.add_argument("--output", default=str(OPENAPI_PATH))
    openapi.set_defaults(func=cmd_openapi)

    token = sub.add_parser("token", help="mint a dev token (not in production)")
    token_sub = token.add_subparsers(dest="kind", required=True)
    for kind in ("citizen", "clinician", "editor", "system"):
        p = token_sub.add_parser(kind)
        p.add_argument("--expires-in", type=int, default=3600)
        p.add_argument("--audience", default=None)
        if kind == "citizen":
            p.add_argument("--pid", required=True)
        elif kind == "clinician":
            p.add_argument("--hpr", required=True)
            p.add_argument("--pid", required=True)
            p.add_argument("--authorization", choices=("LE", "JO", "SP"), required=True)
            p.add_argument("--org", required=True)
            p.add_argument(
                "--org-kind",
                # backend.core.auth.ORG_KINDS, written out so that `helsekort --help` imports nothing of core
                choices=(
                    "fastlege",
                    "helsestasjon",
                    "sykehus",
                    "legevakt",
                    "laboratorium",
                    "hjemmetjeneste",
                    "apotek",
                    "kommune",
                ),
                required=True,
            )
            p.add_argument("--name", default=None)
            p.add_argument(
                "--municipality",
                default="0301",
                help="4-digit kommunenummer of the clinician's organisation (default 0301, Oslo)",
            )
        elif kind == "system":
            # backend.core.auth.SYSTEM_SCOPES, written out for the same reason
            p.add_argument("--scope", choices=("registry",), required=True)
            p.add_argument("--sub", default="folkeregister-feed", help="the machine client's id")
        else:
            p.add_argument("--sub", required=True)
        p.set_defaults(func=cmd_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
