"""render_markdown, clean_line and has_control_chars: user text is hostile."""

from __future__ import annotations

import pytest

from shopkeep.core.text import clean_line, has_control_chars, render_markdown


def test_bold_italic_and_https_links_are_kept():
    html = render_markdown("**VIP** _rank_, see [the rules](https://example.com/rules)")
    assert "<strong>VIP</strong>" in html
    assert "<em>rank</em>" in html
    assert '<a href="https://example.com/rules"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_lists_and_code_are_kept():
    html = render_markdown("- one\n- two\n\n`/give`")
    assert "<ul>" in html and "<li>one</li>" in html
    assert "<code>/give</code>" in html


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "hello <script src=https://evil.example/x.js></script>",
    "<SCRIPT>alert(1)</SCRIPT>",
])
def test_script_tags_never_survive(source):
    html = render_markdown(source)
    assert "<script" not in html.lower()


@pytest.mark.parametrize("source", [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](  javascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox)",
])
def test_dangerous_links_never_become_links(source):
    html = render_markdown(source)
    assert "<a" not in html


@pytest.mark.parametrize("source", [
    '<img src=x onerror="alert(1)">',
    '<div onmouseover="alert(1)">x</div>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
])
def test_raw_html_is_escaped_not_rendered(source):
    html = render_markdown(source)
    for tag in ("<img", "<div", "<iframe", "<style"):
        assert tag not in html


def test_empty_description_renders_empty():
    assert render_markdown("") == ""


def test_clean_line_collapses_whitespace_and_truncates():
    assert clean_line("  VIP \t  Rank  ", max_length=100) == "VIP Rank"
    assert clean_line("abcdef", max_length=3) == "abc"
    assert clean_line("", max_length=5) == ""


@pytest.mark.parametrize("value", [
    "a\nb", "a\rb", "a\tb", "a\x00b", "a\x1bb", "a\x7fb",
    "a\x85b",  # NEL, a C1 line break
    "a\x9bb",  # C1 CSI
    "a\u2028b", "a\u2029b",  # Unicode line and paragraph separators
])
def test_has_control_chars_finds_line_breaks_and_controls(value):
    assert has_control_chars(value)


@pytest.mark.parametrize("value", ["", "VIP Rank", "Steve_01", "Überrang ★", "日本語", "a b"])
def test_has_control_chars_accepts_printable_text(value):
    assert not has_control_chars(value)
