"""`helsekort content sync`: load content/*.md (YAML front matter + Markdown) into the CMS, idempotently.

A new file creates its page (published when its front matter says `status: published`); a changed file
adds a revision; an unchanged file does nothing. A page an editor has changed in the database since the
last sync is left alone unless `force` is given. A bad file is reported by name and the rest still sync.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec
import yaml

from backend.cms import service
from backend.cms.schemas import LOCALES, PageIn
from backend.core.errors import BadRequest

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)
_PAGE_FILE = re.compile(r"^(?P<slug>.+)\.(?P<locale>[A-Za-z_-]+)\.md$")
NOT_PAGES = frozenset({"README.md"})


@dataclass
class SyncReport:
    """What one sync did, file by file."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped_edited: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        lines = [
            f"content sync: {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped_edited)} skipped (edited in the database), "
            f"{len(self.errors)} errors"
        ]
        for label, names in (
            ("created", self.created),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
            ("skipped-edited (use --force to overwrite the editors' changes)", self.skipped_edited),
        ):
            if names:
                lines.append(f"  {label}: {', '.join(sorted(names))}")
        for name, problem in sorted(self.errors.items()):
            lines.append(f"  error: {name}: {problem}")
        return "\n".join(lines)


class ContentFileError(ValueError):
    """A content file that cannot become a page; the message says why."""


@dataclass(frozen=True, slots=True)
class ContentFile:
    name: str
    page: PageIn
    front_matter: dict[str, Any]
    digest: str
    publish: bool


def _plain(value: Any) -> Any:
    """YAML dates and times as ISO text, so front matter stores as JSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_content_file(path: Path) -> ContentFile:
    name = path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentFileError("not UTF-8 text") from exc
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ContentFileError("no YAML front matter between two --- lines at the top")
    try:
        meta = yaml.safe_load(match[1])
    except yaml.YAMLError as exc:
        raise ContentFileError(f"invalid YAML front matter: {str(exc).splitlines()[0]}") from exc
    if not isinstance(meta, dict):
        raise ContentFileError("the front matter must be a mapping of keys to values")
    meta = _plain(meta)
    slug, locale = meta.get("slug"), meta.get("locale")
    if not slug:
        raise ContentFileError("the front matter has no slug")
    if not locale:
        raise ContentFileError("the front matter has no locale")
    if locale not in LOCALES:
        raise ContentFileError(f"unknown locale {locale!r} (use one of {', '.join(LOCALES)})")
    status = meta.get("status", "draft")
    if status not in ("published", "draft"):
        raise ContentFileError("status must be published or draft")
    try:
        page = msgspec.convert(
            {
                "slug": slug,
                "locale": locale,
                "title": meta.get("title"),
                "summary": meta.get("summary") or "",
                "markdown": match[2].lstrip("\r\n"),
                "tags": meta.get("tags") or [],
                "audience": meta.get("audience") or "citizen",
                "contextKeys": meta.get("contextKeys") or {},
            },
            PageIn,
        )
        service.normalise_context_keys(page.context_keys)
    except msgspec.ValidationError as exc:
        raise ContentFileError(f"invalid front matter: {exc}") from exc
    except BadRequest as exc:
        raise ContentFileError(f"invalid front matter: {exc.field}: {exc.detail}") from exc
    return ContentFile(
        name=name,
        page=page,
        front_matter=meta,
        digest=hashlib.sha256(raw).hexdigest(),
        publish=status == "published",
    )


def _read_directory(directory: Path, report: SyncReport) -> list[ContentFile]:
    """Every parseable page file; bad files and duplicate slug+locale pairs go to the report."""
    parsed: list[ContentFile] = []
    for path in sorted(directory.glob("*.md")):
        if path.name in NOT_PAGES or not path.is_file():
            continue
        try:
            parsed.append(parse_content_file(path))
        except (ContentFileError, OSError) as exc:
            report.errors[path.name] = str(exc)
    by_key: dict[tuple[str, str], list[ContentFile]] = {}
    for item in parsed:
        by_key.setdefault((item.page.slug, item.page.locale), []).append(item)
    good: list[ContentFile] = []
    for (slug, locale), items in by_key.items():
        if len(items) > 1:
            names = ", ".join(item.name for item in items)
            for item in items:
                report.errors[item.name] = f"duplicate slug+locale {slug}/{locale} (in {names})"
            continue
        item = items[0]
        file_match = _PAGE_FILE.match(item.name)
        if file_match is None or file_match["slug"] != slug or file_match["locale"] != locale:
            report.errors[item.name] = f"the file name must be {slug}.{locale}.md to match its front matter"
            continue
        good.append(item)
    return good


async def sync_content(directory: Path, *, force: bool) -> SyncReport:
    """Load every page file of `directory`; see the module's docstring for the rules."""
    report = SyncReport()
    if not await asyncio.to_thread(directory.is_dir):
        report.errors[str(directory)] = "not a directory"
        return report
    for item in await asyncio.to_thread(_read_directory, directory, report):
        state = await service.sync_state(item.page.slug, item.page.locale)
        if state is not None:
            if state.edited_since_sync and not force:
                if state.digest == item.digest:
                    report.unchanged.append(item.name)
                else:
                    report.skipped_edited.append(item.name)
                continue
            if state.digest == item.digest and not state.edited_since_sync:
                report.unchanged.append(item.name)
                continue
        try:
            outcome = await service.sync_page(item.page, item.front_matter, item.digest, publish_now=item.publish)
        except BadRequest as exc:
            report.errors[item.name] = f"{exc.field or 'page'}: {exc.detail}"
            continue
        (report.created if outcome == "created" else report.updated).append(item.name)
    return report
