"""`helsekort content sync`: idempotent, keeps editors' changes unless forced, reports bad files by name."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
from litestar import Litestar

from backend.cms.sync import sync_content
from backend.jobs import content_sync
from tests.cms.pages import editor, new_slug

CONTENT = Path(__file__).resolve().parents[2] / "content"


def page_file(directory: Path, slug: str, locale: str = "nb", *, title: str = "Tittel", body: str = "Tekst.",
              status: str = "published", extra: str = "") -> Path:  # fmt: skip
    path = directory / f"{slug}.{locale}.md"
    path.write_text(
        f'---\nslug: {slug}\nlocale: {locale}\ntitle: {title}\nsummary: "Kort: sammendrag"\naudience: citizen\n'
        f"tags: [legemidler]\nstatus: {status}\nlastClinicallyReviewed: 2026-11-25\n{extra}---\n\n{body}\n",
        encoding="utf-8",
    )
    return path


def test_the_cli_uses_this_loader() -> None:
    assert content_sync is not None


async def test_sync_creates_then_does_nothing_then_updates_a_changed_file(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, tmp_path: Path
) -> None:
    slug = new_slug()
    page_file(tmp_path, slug, body="Første versjon.")
    page_file(tmp_path, slug, "en", title="Title", body="First version.")
    draft_slug = new_slug()
    page_file(tmp_path, draft_slug, status="draft")

    first = await sync_content(tmp_path, force=False)
    assert first.ok, str(first)
    assert sorted(first.created) == sorted([f"{slug}.nb.md", f"{slug}.en.md", f"{draft_slug}.nb.md"])
    page = (await client.get(f"/content/v1/pages/{slug}")).json()
    assert "Første versjon." in page["html"]
    assert page["summary"] == "Kort: sammendrag"
    assert (await client.get(f"/content/v1/pages/{draft_slug}")).status_code == 404
    front = await db.fetchval(
        "SELECT r.front_matter->>'lastClinicallyReviewed' FROM cms_revision r JOIN cms_page p ON p.id = r.page "
        "WHERE p.slug = $1 AND p.locale = 'nb'",
        slug,
    )
    assert front == "2026-11-25"

    second = await sync_content(tmp_path, force=False)
    assert (second.created, second.updated, len(second.unchanged)) == ([], [], 3)

    page_file(tmp_path, slug, body="Andre versjon.")
    third = await sync_content(tmp_path, force=False)
    assert third.updated == [f"{slug}.nb.md"]
    assert "Andre versjon." in (await client.get(f"/content/v1/pages/{slug}")).json()["html"]
    revisions = (await client.get(f"/content/v1/pages/{slug}/revisions", headers=editor(app))).json()["items"]
    assert [(r["n"], r["source"], r["author"]) for r in revisions] == [
        (2, "sync", "content-sync"),
        (1, "sync", "content-sync"),
    ]


async def test_editor_changes_are_kept_unless_forced(client: httpx.AsyncClient, app: Litestar, tmp_path: Path) -> None:
    slug = new_slug()
    page_file(tmp_path, slug, body="Fra fil.")
    await sync_content(tmp_path, force=False)
    preview = await client.get(f"/content/v1/pages/{slug}/preview", headers=editor(app))
    edited = await client.put(
        f"/content/v1/pages/{slug}/draft",
        json={"title": "Redaktørens tittel", "markdown": "Fra redaktør."},
        headers={**editor(app), "If-Match": preview.headers["ETag"]},
    )
    assert edited.status_code == 200

    unchanged_file = await sync_content(tmp_path, force=False)
    assert unchanged_file.unchanged == [f"{slug}.nb.md"]
    page_file(tmp_path, slug, body="Ny tekst i fila.")
    kept = await sync_content(tmp_path, force=False)
    assert kept.skipped_edited == [f"{slug}.nb.md"]
    assert "skipped-edited" in str(kept)
    assert f"{slug}.nb.md" in str(kept)
    assert (await client.get(f"/content/v1/pages/{slug}/preview", headers=editor(app))).json()["title"] == (
        "Redaktørens tittel"
    )

    forced = await sync_content(tmp_path, force=True)
    assert forced.updated == [f"{slug}.nb.md"]
    assert "Ny tekst i fila." in (await client.get(f"/content/v1/pages/{slug}")).json()["html"]
    assert (await sync_content(tmp_path, force=False)).unchanged == [f"{slug}.nb.md"]


async def test_bad_files_are_reported_by_name_and_the_rest_still_syncs(
    client: httpx.AsyncClient, app: Litestar, tmp_path: Path
) -> None:
    good = new_slug()
    page_file(tmp_path, good)
    (tmp_path / "uten-slug.nb.md").write_text("---\nlocale: nb\ntitle: x\n---\nTekst\n", encoding="utf-8")
    (tmp_path / "ugyldig-yaml.nb.md").write_text("---\nslug: [ugyldig\n---\nTekst\n", encoding="utf-8")
    (tmp_path / "ingen-front-matter.nb.md").write_text("Bare tekst\n", encoding="utf-8")
    page_file(tmp_path, "tysk-side", "de")
    twin = new_slug()
    page_file(tmp_path, twin)
    copy = tmp_path / f"{twin}-kopi.nb.md"
    copy.write_text((tmp_path / f"{twin}.nb.md").read_text(encoding="utf-8"), encoding="utf-8")
    page_file(tmp_path, new_slug(), extra="contextKeys:\n  gestational-week: 99\n")
    (tmp_path / "README.md").write_text("# not a page\n", encoding="utf-8")

    report = await sync_content(tmp_path, force=False)
    assert not report.ok
    assert report.created == [f"{good}.nb.md"], str(report)
    assert set(report.errors) == {
        "uten-slug.nb.md", "ugyldig-yaml.nb.md", "ingen-front-matter.nb.md", "tysk-side.de.md",
        f"{twin}.nb.md", f"{twin}-kopi.nb.md", next(n for n in report.errors if "gestational" in report.errors[n]),
    }  # fmt: skip
    assert "no slug" in report.errors["uten-slug.nb.md"]
    assert "invalid YAML" in report.errors["ugyldig-yaml.nb.md"]
    assert "unknown locale" in report.errors["tysk-side.de.md"]
    assert "duplicate slug+locale" in report.errors[f"{twin}-kopi.nb.md"]
    text = str(report)
    for name in report.errors:
        assert name in text
    assert (await client.get(f"/content/v1/pages/{good}")).status_code == 200
    assert (await client.get(f"/content/v1/pages/{twin}")).status_code == 404


async def test_the_real_content_directory_syncs_cleanly_and_serves_the_service_pages(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    report = await sync_content(CONTENT, force=False)
    assert report.ok, str(report)
    again = await sync_content(CONTENT, force=False)
    assert again.created == []
    assert again.updated == []
    for slug in (
        "pasientens-legemiddelliste", "sentral-forskrivningsmodul", "pasientens-journaldokumenter",
        "pasientens-maledata", "pasientens-provesvar", "kommunal-samhandlingsplattform", "helsekort-for-gravide",
    ):  # fmt: skip
        for locale in ("nb", "en"):
            response = await client.get(f"/content/v1/pages/{slug}", params={"locale": locale})
            assert response.status_code == 200, (slug, locale)
            assert response.json()["locale"] == locale
    week = (
        await client.get("/content/v1/pages", params={"context": "gestational-week:25", "tag": "svangerskap"})
    ).json()
    assert [item["slug"] for item in week["items"]] == ["svangerskap-uke-24"]
    found = (await client.get("/content/v1/pages", params={"q": "legemidler"})).json()["items"]
    assert "pasientens-legemiddelliste" in [item["slug"] for item in found]
