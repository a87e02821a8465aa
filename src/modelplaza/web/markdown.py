"""Markdown to safe HTML for cards and ``.md`` files: markdown-it renders (raw HTML allowed,
as cards use it for images and layout), then nh3 keeps only inert tags, attributes and URL
schemes. A card's ``<script>``, event handlers or ``javascript:`` links come out inert."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "code": {"class"},  # language-xxx, for the reader's eye
    "img": {"src", "alt", "title", "width", "height", "align"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "div": {"align"},
    "p": {"align"},
}
_SCHEMES = {"http", "https", "mailto"}


def _relative_to(base: str | None):
    """Resolve a card's relative links and images against the repo's own files."""

    def rewrite(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in ("href", "src") or base is None:
            return value
        if urlsplit(value).scheme or value.startswith(("#", "/")):
            return value
        return urljoin(base, value)

    return rewrite


def render_markdown(text: str, link_base: str | None = None) -> Markup:
    """Sanitised HTML for ``text``; relative URLs resolve against ``link_base`` (a folder URL
    ending in ``/``) when given."""
    html = nh3.clean(
        _md.render(text),
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style"},
        attribute_filter=_relative_to(link_base),
    )
    return Markup(html)
