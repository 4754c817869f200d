"""Markdown to sanitised HTML: markdown-it-py renders, nh3 keeps only a safe set of tags, attributes and URL schemes."""

from __future__ import annotations

import html as html_lib

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "b", "i",
        "code", "pre", "blockquote", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "del", "s",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
# No javascript:, data:, vbscript: or anything else: links and images are web or mail addresses only.
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

# Raw HTML in Markdown is parsed (so that it can be stripped cleanly, never shown as code) and then sanitised.
_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(markdown: str) -> str:
    """The page's HTML: rendered, then sanitised (script, style, iframe, on* and unsafe URLs removed)."""
    return sanitise(_markdown.render(markdown))


def plain_text(html: str) -> str:
    """The text of sanitised HTML, for the search vector and snippets."""
    text = html_lib.unescape(nh3.clean(html, tags=set(), clean_content_tags={"script", "style"}))
    return " ".join(text.split())
