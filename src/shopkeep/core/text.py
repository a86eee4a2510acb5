"""User-written text: Markdown rendered without raw HTML, then sanitised by nh3 (Ammonia)."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# "commonmark" with html off: raw HTML in the source is escaped, not passed through.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
}
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(source: str) -> str:
    html = _md.render(source or "")
    # nh3 drops javascript: and data: links and adds rel="noopener noreferrer" to every link.
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow")


def clean_line(value: str, *, max_length: int) -> str:
    """A single-line field: whitespace collapsed, control characters refused by the caller."""
    return " ".join((value or "").split())[:max_length]


def has_control_chars(value: str) -> bool:
    # C0, DEL and C1 (NEL U+0085 is a line break to some readers), and the Unicode line and
    # paragraph separators: all of them could split one command into two.
    return any(ord(ch) < 32 or 127 <= ord(ch) < 160 or ch in "\u2028\u2029" for ch in value)
