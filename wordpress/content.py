"""WordPress content to sectorblog Markdown, for the WXR importer.

WordPress stores post bodies as HTML written with "automatic paragraphs": a blank line separates
paragraphs and a single newline is a line break (`wpautop`). `post_body_markdown()` rebuilds that
structure in two steps:

1. paragraphs: blank-line-separated runs of text become `<p>` elements, single newlines `<br>`,
   while block-level HTML (lists, tables, quotes, `<pre>`, figures) is left as it is;
2. Markdown: plain paragraphs and headings become Markdown text (with Markdown's special
   characters escaped, so the text reads exactly as before); every other block stays as HTML,
   which the post renderer keeps after sanitizing it (see `core.markup`).

Shortcodes: `[caption]` becomes a `<figure>` and `[embed]URL[/embed]` a link. Every other
shortcode (gallery, audio, video, ...) is left visible in the text and reported, never dropped.
Gutenberg block delimiters (`<!-- wp:... -->`) are HTML comments without content and are removed.

`comment_markdown()` does the same for comments, whose renderer escapes raw HTML: emphasis, links,
code, quotes and lists become Markdown syntax, and any other tag keeps only its text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from core.markup import plain_text

_BLOCK = (
    "address|article|aside|audio|blockquote|caption|col|colgroup|dd|details|div|dl|dt|fieldset|"
    "figcaption|figure|footer|form|h[1-6]|header|hgroup|hr|iframe|legend|li|map|math|menu|nav|"
    "object|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul|video"
)
_BLOCK_NAMES = re.compile(rf"^(?:{_BLOCK})$")
_OPEN_BLOCK = re.compile(rf"(<(?:{_BLOCK})(?=[\s/>]))", re.IGNORECASE)
_CLOSE_BLOCK = re.compile(rf"(</(?:{_BLOCK})>)", re.IGNORECASE)
_LEAD_BLOCKS = re.compile(rf"^(?:\s*</?(?:{_BLOCK})(?:[\s/][^>]*)?>)+", re.IGNORECASE)
_TRAIL_BLOCKS = re.compile(rf"(?:</?(?:{_BLOCK})(?:[\s/][^>]*)?>\s*)+$", re.IGNORECASE)
_RAW_ELEMENTS = re.compile(r"<(pre|script|style|textarea)(?=[\s>]).*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_GUTENBERG_DELIMITER = re.compile(r"<!--\s*/?wp:[^>]*?-->\n?")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")

# Shortcodes WordPress core and Jetpack register; `[name attr="..."]` or `[name]...[/name]` with
# another name is reported too. A bracketed word alone ("[sic]") is ordinary text.
KNOWN_SHORTCODES = {
    "archives", "audio", "caption", "code", "contact-field", "contact-form", "dailymotion",
    "embed", "flickr", "gallery", "gist", "googlemaps", "instagram", "latex", "playlist",
    "polldaddy", "portfolio", "recipe", "scribd", "sitemap", "slideshow", "soundcloud",
    "sourcecode", "spotify", "ted", "tweet", "twitter", "video", "vimeo", "wp_caption",
    "wpvideo", "youtube",
}  # fmt: skip
_SHORTCODE = re.compile(r"\[(/?)([A-Za-z][\w-]*)((?:\s[^\]]*)?)\]")
_CAPTION = re.compile(r"\[(caption|wp_caption)(\s[^\]]*)?\](.*?)\[/\1\]", re.IGNORECASE | re.DOTALL)
_EMBED = re.compile(r"\[embed(\s[^\]]*)?\]\s*(https?://[^\s\[]+?)\s*\[/embed\]", re.IGNORECASE)
_CAPTION_MEDIA = re.compile(
    r"^\s*((?:<a\s[^>]*>\s*)?<img\s[^>]*>(?:\s*</a>)?)(.*)$", re.DOTALL | re.IGNORECASE
)
_ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")


@dataclass
class Conversion:
    markdown: str
    unrendered_shortcodes: list[str] = field(default_factory=list)


def _attributes(text: str) -> dict[str, str]:
    return {
        m[1].lower(): m[2] if m[2] is not None else m[3] if m[3] is not None else m[4]
        for m in _ATTRIBUTE.finditer(text or "")
    }


def _render_shortcodes(text: str, stash: list[str]) -> str:
    """Turn the shortcodes we can render into stashed HTML blocks."""

    def caption(match: re.Match) -> str:
        attrs = _attributes(match[2] or "")
        inner = match[3]
        media = _CAPTION_MEDIA.match(inner)
        if media:
            image, caption_html = media[1], media[2].strip()
        else:
            image, caption_html = inner, ""
        caption_html = caption_html or attrs.get("caption", "")
        classes = " ".join(c for c in ("wp-caption", attrs.get("align", "")) if c)
        figure = f'<figure class="{html.escape(classes)}">{image.strip()}'
        if caption_html:
            figure += f"<figcaption>{caption_html}</figcaption>"
        stash.append(figure + "</figure>")
        return f"\n\n\x00{len(stash) - 1}\x00\n\n"

    def embed(match: re.Match) -> str:
        url = html.escape(match[2])
        stash.append(f'<p><a href="{url}">{url}</a></p>')
        return f"\n\n\x00{len(stash) - 1}\x00\n\n"

    text = _CAPTION.sub(caption, text)
    return _EMBED.sub(embed, text)


def find_shortcodes(text: str) -> list[str]:
    """The opening tags of the shortcodes left in a text, e.g. ['[gallery columns="1"]']."""
    names_closed = {m[2].lower() for m in _SHORTCODE.finditer(text) if m[1]}
    found = []
    for match in _SHORTCODE.finditer(text):
        if match[1]:
            continue
        name = match[2].lower()
        if name in KNOWN_SHORTCODES or name in names_closed or "=" in match[3]:
            found.append(match[0])
    return found


def autop(text: str) -> str:
    """Blank-line paragraphs to `<p>`, single newlines to `<br>`, block-level HTML left alone."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    stash: list[str] = []

    def keep(match: re.Match) -> str:
        stash.append(match[0])
        return f"\n\n\x00{len(stash) - 1}\x00\n\n"

    text = _RAW_ELEMENTS.sub(keep, text)
    text = _MORE.sub(keep, text)
    text = _render_shortcodes(text, stash)
    # A newline inside a tag is not a line break.
    text = re.sub(r"<[^>\x00]*>", lambda m: m[0].replace("\n", " "), text)
    text = _OPEN_BLOCK.sub(r"\n\n\1", text)
    text = _CLOSE_BLOCK.sub(r"\1\n\n", text)
    out = []
    for chunk in re.split(r"\n[ \t]*\n", text):
        chunk = chunk.strip()
        if not chunk:
            continue
        if _PLACEHOLDER.fullmatch(chunk):
            out.append(chunk)
            continue
        lead_match = _LEAD_BLOCKS.match(chunk)
        lead = lead_match[0] if lead_match else ""
        rest = chunk[len(lead) :]
        trail_match = _TRAIL_BLOCKS.search(rest)
        trail = trail_match[0] if trail_match else ""
        middle = rest[: len(rest) - len(trail)].strip()
        if not middle:
            out.append(lead.strip() + trail.strip())
            continue
        middle = re.sub(r"\s*\n\s*", "<br />\n", middle)
        enclosed = lead and trail and not re.search(r"<blockquote[^>]*>\s*$", lead, re.IGNORECASE)
        if enclosed:
            out.append(f"{lead.strip()}{middle}{trail.strip()}")
        else:
            out.append(f"{lead.strip()}<p>{middle}</p>{trail.strip()}")
    result = "\n".join(out)
    return _PLACEHOLDER.sub(lambda m: stash[int(m[1])], result)


# --- HTML to Markdown -----------------------------------------------------------------------

_LINE_START = re.compile(r"^(\s*)([#>+=|-]|\d+[.)])", re.MULTILINE)
_MORE = re.compile(r"<!--(more|nextpage)(\s[^>]*)?-->")
_VOID = {"br", "img", "hr", "wbr", "input", "col", "area", "source", "track", "embed"}


def _escape_text(text: str) -> str:
    """Plain text as Markdown that renders to exactly that text."""
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([`*\[\]])", r"\\\1", text)
    text = re.sub(r"(?<!\w)_|_(?!\w)", r"\\_", text)
    text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
    return text.replace("<", "&lt;")


def _escape_line_starts(text: str) -> str:
    return _LINE_START.sub(
        lambda m: f"{m[1]}\\{m[2]}" if not m[2][0].isdigit() else f"{m[1]}{m[2][:-1]}\\{m[2][-1]}", text
    )


def _open_tag(tag: Tag) -> str:
    attrs = "".join(
        f' {name}="{html.escape(" ".join(value) if isinstance(value, list) else value)}"'
        for name, value in tag.attrs.items()
    )
    return f"<{tag.name}{attrs}>"


def _has_block(tag: Tag) -> bool:
    return any(isinstance(d, Tag) and _BLOCK_NAMES.match(d.name) for d in tag.descendants)


def _inline_post(node: Tag) -> str:
    parts = []
    for child in node.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            parts.append(_escape_text(re.sub(r"\s*\n\s*", " ", str(child))))
        elif child.name == "br":
            parts.append("  \n")
        elif child.name in _VOID:
            parts.append(_open_tag(child))
        else:
            parts.append(f"{_open_tag(child)}{_inline_post(child)}</{child.name}>")
    text = re.sub(r"[ \t]*  \n[ \t]*", "  \n", "".join(parts))
    return re.sub(r"(?:  \n)+$", "", text).strip(" \t")


def _post_blocks(soup: BeautifulSoup) -> list[str]:
    blocks: list[str] = []
    for node in soup.children:
        if isinstance(node, Comment):
            blocks.append(f"<!--{node}-->")
        elif isinstance(node, NavigableString):
            if str(node).strip():
                blocks.append(_escape_line_starts(_escape_text(str(node).strip())))
        elif node.name == "p" and not node.attrs and not _has_block(node):
            text = _escape_line_starts(_inline_post(node))
            if text.strip():
                blocks.append(text)
        elif re.fullmatch(r"h[1-6]", node.name) and not node.attrs and not _has_block(node):
            text = _inline_post(node).replace("  \n", " ").strip()
            blocks.append(f"{'#' * int(node.name[1])} {text}" if text else str(node))
        else:
            blocks.append(str(node))
    return blocks


def post_body_markdown(content: str) -> Conversion:
    """A WordPress post body (HTML with automatic paragraphs) as sectorblog Markdown."""
    content = _GUTENBERG_DELIMITER.sub("", content or "")
    if not content.strip():
        return Conversion("")
    soup = BeautifulSoup(autop(content), "html.parser")
    markdown = "\n\n".join(_post_blocks(soup)).strip() + "\n"
    return Conversion(markdown, find_shortcodes(markdown.replace("\\[", "[").replace("\\]", "]")))


def _code_span(text: str) -> str:
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _link_target(url: str) -> str:
    return url.strip().replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _inline_comment(node: Tag) -> str:
    parts = []
    for child in node.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            parts.append(_escape_text(re.sub(r"\s*\n\s*", " ", str(child))))
            continue
        name = child.name
        inner = _inline_comment(child)
        if name == "br":
            parts.append("  \n")
        elif name in ("strong", "b") and inner.strip():
            parts.append(f"**{inner}**")
        elif name in ("em", "i", "cite") and inner.strip():
            parts.append(f"*{inner}*")
        elif name == "code":
            parts.append(_code_span(child.get_text()))
        elif name == "a" and child.get("href"):
            parts.append(f"[{inner or _escape_text(child['href'])}]({_link_target(child['href'])})")
        elif name == "img" and child.get("src"):
            parts.append(f"[{_escape_text(child.get('alt') or child['src'])}]({_link_target(child['src'])})")
        else:
            parts.append(inner)
    return "".join(parts)


def _comment_blocks(node: Tag) -> list[str]:
    blocks: list[str] = []
    inline: list[Tag | NavigableString] = []

    def flush() -> None:
        if inline:
            holder = BeautifulSoup("", "html.parser").new_tag("p")
            for piece in inline:
                holder.append(piece.extract() if isinstance(piece, Tag) else NavigableString(str(piece)))
            text = _escape_line_starts(_inline_comment(holder).strip())
            if text:
                blocks.append(text)
            inline.clear()

    for child in list(node.children):
        if isinstance(child, Comment):
            continue
        if isinstance(child, Tag) and _BLOCK_NAMES.match(child.name):
            flush()
            name = child.name
            if name == "blockquote":
                inner = "\n\n".join(_comment_blocks(child))
                blocks.append("\n".join(f"> {line}" if line else ">" for line in inner.splitlines()))
            elif name in ("ul", "ol"):
                items = list(child.find_all("li", recursive=False))
                lines = []
                for number, li in enumerate(items, start=1):
                    marker = f"{number}." if name == "ol" else "-"
                    body = "\n\n".join(_comment_blocks(li)) or ""
                    indented = body.replace("\n", "\n" + " " * (len(marker) + 1))
                    lines.append(f"{marker} {indented}")
                if lines:
                    blocks.append("\n".join(lines))
            elif name == "pre":
                code = child.get_text().strip("\n")
                fence = "```"
                while fence in code:
                    fence += "`"
                blocks.append(f"{fence}\n{code}\n{fence}")
            elif name == "hr":
                blocks.append("* * *")
            else:
                blocks.extend(_comment_blocks(child))
        else:
            inline.append(child)
    flush()
    return blocks


def comment_markdown(content: str) -> str:
    """A WordPress comment (HTML with automatic paragraphs) as Markdown without raw HTML."""
    if not (content or "").strip():
        return ""
    soup = BeautifulSoup(autop(content), "html.parser")
    return "\n\n".join(_comment_blocks(soup)).strip()


def plain_title(title: str) -> str:
    """A WordPress title (which may hold markup and entities) as plain text."""
    return plain_text(title or "")


def linkback_excerpt(content: str) -> str:
    """The quoted text of a pingback or trackback, without WordPress's "[...]" ellipses."""
    text = plain_text(content or "")
    text = re.sub(r"^\s*(?:\[(?:\.\.\.|…|&hellip;)\]\s*)+", "", text)
    text = re.sub(r"(?:\s*\[(?:\.\.\.|…|&hellip;)\])+\s*$", "", text)
    return text.strip()
