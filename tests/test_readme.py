"""The README's demo section cannot drift: its token commands are run and used against the app, and its
tables are compared with the demo data (backend/core/demo.py) and the measurement catalogue (codes.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from backend.cli import build_parser, main
from backend.cms.demo import DEV_EDITOR_PASSWORD, DEV_EDITOR_USERNAME
from backend.core.demo import DEMO_CLINICIANS, DEMO_FNR
from backend.demo import load_core_demo
from backend.municipal.demo import DEMO_ELDER_FNR, DEMO_HOMECARE, DEMO_LEGEVAKT
from backend.settings import Settings
from tests.factories import bearer

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
_ASSIGNED_COMMAND = re.compile(r"^([A-Z]+)=\$\((\.venv/bin/helsekort token [^)]*)\)$", re.MULTILINE)


def _commands() -> dict[str, list[str]]:
    """`NAME=$(.venv/bin/helsekort token ...)` lines of the README: name → argv after the program."""
    return {name: shlex.split(command)[1:] for name, command in _ASSIGNED_COMMAND.findall(README)}


def _table(header: str) -> list[list[str]]:
    lines = README[README.index(header) :].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _mint(argv: list[str], data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """Runs the README's command as the CLI would, with the test app's dev signing key."""
    monkeypatch.setenv("HELSEKORT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HELSEKORT_ENV", "dev")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr().out.strip()


def test_readme_names_every_demo_clinician_with_a_token_command_for_exactly_that_clinician() -> None:
    parser = build_parser()
    clinicians = {}
    for argv in _commands().values():
        args = parser.parse_args(argv)
        if args.kind == "clinician":
            clinicians[args.hpr] = (args.name, args.authorization, args.org, args.org_kind, args.pid)
    demo = (*DEMO_CLINICIANS, DEMO_LEGEVAKT, DEMO_HOMECARE)  # the last two: the municipal demo's
    assert clinicians == {c.hpr: (c.name, c.authorization, c.org_number, c.org_kind, c.pid) for c in demo}
    rows = _table("| clinician | HPR |")
    assert rows == [
        [c.name, c.hpr, c.authorization, c.org_number, c.org_kind, c.relation or "none"] for c in DEMO_CLINICIANS
    ]


def test_readme_names_the_demo_citizen_and_the_editor_login() -> None:
    citizen = build_parser().parse_args(_commands()["CITIZEN"])
    assert citizen.pid == DEMO_FNR
    assert build_parser().parse_args(_commands()["ELDER"]).pid == DEMO_ELDER_FNR
    assert f"`{DEV_EDITOR_USERNAME}` with the password\n`{DEV_EDITOR_PASSWORD}`" in README
    assert "http://127.0.0.1:8000/admin" in README


async def test_readme_commands_mint_tokens_that_reach_the_demo_data(
    client: httpx.AsyncClient,
    app: Litestar,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await load_core_demo(settings)  # idempotent: the demo citizen and her care relations
    tokens = {name: _mint(argv, settings.data_dir, monkeypatch, capsys) for name, argv in _commands().items()}
    me = await client.get("/citizen/v1/me", headers=bearer(tokens["CITIZEN"]))
    assert me.status_code == 200, me.text
    for name, clinician in zip(("MIDWIFE", "GP", "HOSPITAL", "LAB"), DEMO_CLINICIANS, strict=True):
        found = await client.post("/clinician/v1/patients/lookup", json={"fnr": DEMO_FNR}, headers=bearer(tokens[name]))
        assert found.status_code == 200, (name, found.text)
        assert found.json()["patientId"] == me.json()["patientId"]
        if clinician.relation is None:
            continue
        relations = await client.get(
            f"/clinician/v1/patients/{found.json()['patientId']}/care-relations", headers=bearer(tokens[name])
        )
        assert relations.status_code == 200, (name, relations.text)
        seen = {(item["kind"], item["attestedBy"]["organisation"]) for item in relations.json()["items"]}
        assert (clinician.relation, clinician.org_number) in seen


def _number(value: Any) -> str:
    return f"{value:g}"


async def test_readme_measurement_codes_are_the_ones_the_api_serves(
    client: httpx.AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = _mint(_commands()["CITIZEN"], settings.data_dir, monkeypatch, capsys)
    response = await client.get("/citizen/v1/measurement-codes", headers=bearer(token))
    assert response.status_code == 200, response.text
    served = []
    for item in response.json()["items"]:
        for part in item["components"] or [None]:
            if part is None:
                served.append([f"`{item['code']}`", item["display"]["nb"], item["display"]["en"], f"`{item['unit']}`",
                               f"{_number(item['minimum'])}–{_number(item['maximum'])}"])  # fmt: skip
            else:
                served.append([f"`{item['code']}` → `{part['code']}`",
                               f"{item['display']['nb']}: {part['display']['nb']}",
                               f"{item['display']['en']}: {part['display']['en']}", f"`{part['unit']}`",
                               f"{_number(part['minimum'])}–{_number(part['maximum'])}"])  # fmt: skip
    assert _table("| code | norsk | English |") == served
