"""WordPress post and comment HTML become Markdown that renders to what readers saw on WordPress."""

from __future__ import annotations

from bs4 import BeautifulSoup

from core.markup import render_markdown
from wordpress.content import comment_markdown, post_body_markdown


def rendered(content: str) -> BeautifulSoup:
    return BeautifulSoup(render_markdown(post_body_markdown(content).markdown, "post"), "html.parser")


def test_blank_lines_make_paragraphs_and_single_newlines_line_breaks():
    soup = rendered("One line\nnext line\n\n\nSecond paragraph.\r\n\r\nThird.")
    paragraphs = soup.find_all("p")
    assert [p.get_text() for p in paragraphs] == ["One line\nnext line", "Second paragraph.", "Third."]
    assert paragraphs[0].find("br") is not None


def test_plain_paragraphs_become_plain_markdown():
    markdown = post_body_markdown("Hello there.\n\nSecond <em>one</em>.").markdown
    assert markdown == "Hello there.\n\nSecond <em>one</em>.\n"


def test_markdown_characters_in_wordpress_text_stay_literal():
    text = (
        "*not emphasis* and _not_ either\n# not a heading\n1. not a list\n- not a bullet\n"
        "[not a link](x) `tick` \\ back"
    )
    soup = rendered(text)
    assert soup.find(["em", "h1", "ol", "ul", "a", "code"]) is None
    assert soup.get_text().replace("\u2019", "'") == text


def test_html_blocks_are_kept_and_quotes_get_paragraphs():
    soup = rendered(
        "<blockquote>First thought.\n\nSecond thought.</blockquote>\n"
        "<table><tr><td>a</td><td>b</td></tr></table>\n\n"
        "<pre>def f():\n\n    return 1</pre>\n\n<h3>Heading</h3>"
    )
    assert [p.get_text() for p in soup.blockquote.find_all("p")] == ["First thought.", "Second thought."]
    assert [td.get_text() for td in soup.find_all("td")] == ["a", "b"]
    assert soup.pre.get_text() == "def f():\n\n    return 1"
    assert soup.h3.get_text() == "Heading"


def test_caption_becomes_a_figure_and_embed_a_link():
    soup = rendered(
        '[caption id="attachment_1" align="aligncenter" width="640"]'
        '<a href="https://x.example/big.jpg"><img src="https://x.example/small.jpg" alt="Pump" /></a>'
        " A village pump[/caption]\n\n[embed]https://video.example/watch?v=1[/embed]"
    )
    assert soup.figure.a.img["alt"] == "Pump"
    assert soup.figure.figcaption.get_text() == "A village pump"
    assert "aligncenter" in soup.figure["class"]
    assert soup.find("a", href="https://video.example/watch?v=1") is not None


def test_unrenderable_shortcodes_stay_visible_and_are_reported():
    conversion = post_body_markdown('Look:\n\n[gallery ids="1,2"]\n\n[audio src="a.mp3"][/audio] and [sic].')
    assert conversion.unrendered_shortcodes == ['[gallery ids="1,2"]', '[audio src="a.mp3"]']
    text = BeautifulSoup(render_markdown(conversion.markdown), "html.parser").get_text()
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    assert '[gallery ids="1,2"]' in text
    assert '[audio src="a.mp3"][/audio]' in text
    assert "[sic]" in text


def test_block_editor_delimiters_are_dropped_and_more_is_kept():
    conversion = post_body_markdown(
        "<!-- wp:paragraph -->\n<p>Block text.</p>\n<!-- /wp:paragraph -->\n\n<!--more-->\n\nAfter."
    )
    assert "wp:paragraph" not in conversion.markdown
    assert "<!--more-->" in conversion.markdown
    soup = BeautifulSoup(render_markdown(conversion.markdown), "html.parser")
    assert [p.get_text() for p in soup.find_all("p")] == ["Block text.", "After."]


def test_non_latin_scripts_survive_unchanged():
    text = "Кириллица — עברית — العربية — 漢字かなカナ — 한국어 — 😀👩🏽‍🔧"
    conversion = post_body_markdown(f"<p>{text}</p>\n\n{text}")
    assert conversion.markdown.count(text) == 2
    assert render_markdown(conversion.markdown).encode().count(text.encode()) == 2


def test_empty_content_gives_an_empty_body():
    assert post_body_markdown("").markdown == ""
    assert post_body_markdown("  \n\n ").markdown == ""
    assert comment_markdown("") == ""


def test_comment_html_becomes_markdown_the_comment_renderer_shows():
    markdown = comment_markdown(
        'I <strong>agree</strong> with <em>this</em>, see <a href="https://e.example/a b">notes</a>.\n'
        "New line.\n\n<blockquote>Quoted</blockquote>\n<ul><li>one</li><li>two</li></ul>"
        "<code>x*y</code> <span>plain</span>"
    )
    assert "<" not in markdown.replace("&lt;", "")
    soup = BeautifulSoup(render_markdown(markdown, "comment"), "html.parser")
    assert soup.strong.get_text() == "agree"
    assert soup.em.get_text() == "this"
    assert soup.a["href"] == "https://e.example/a%20b"
    assert soup.blockquote.get_text(strip=True) == "Quoted"
    assert [li.get_text() for li in soup.find_all("li")] == ["one", "two"]
    assert soup.code.get_text() == "x*y"
    assert "plain" in soup.get_text()
    assert soup.find("br") is not None
