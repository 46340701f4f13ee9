"""The feed items' XML written directly: the bytes Django's generators write through
`SimplerXMLGenerator` (django.utils.feedgenerator), with string joins instead of SAX events.

The generators in feeds/framework.py keep their `add_item_elements` (the SAX form, the readable
copy of what an item holds); `write_items` uses these functions instead, and
tests/test_feeds_direct.py proves both write the same bytes. What the SAX writer does, and these
functions repeat:

- text is escaped as `xml.sax.saxutils.escape` does (&, >, < in that order);
- attributes are sorted by name (SimplerXMLGenerator) and quoted as `quoteattr` does;
- an element with no text (None or "") closes itself: `<link href="…" rel="alternate"/>`
  (the generators write with short_empty_elements=True).

An item using something the site's feeds never set (author_email/author_name, comments, ttl,
enclosures, item_copyright, item attributes) gets None here, and the generator writes it with
the SAX form.
"""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import quoteattr

from django.utils.feedgenerator import get_tag_uri, rfc2822_date, rfc3339_date

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ZERO = dt.timedelta(0)


def text(value: str) -> str:
    """xml.sax.saxutils.escape(value)."""
    return value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def attr(value: str) -> str:
    """xml.sax.saxutils.quoteattr(value): most values need none of its work."""
    if (
        "&" in value
        or "<" in value
        or ">" in value
        or '"' in value
        or "\n" in value
        or "\r" in value
        or "\t" in value
    ):
        return quoteattr(value)
    return f'"{value}"'


def element(name: str, content: str | None, attrs: str = "") -> str:
    """SimplerXMLGenerator.addQuickElement(name, content, …) with `attrs` already written
    (` name="value"`, in name order)."""
    if content:
        return f"<{name}{attrs}>{text(content)}</{name}>"
    return f"<{name}{attrs}/>"


def rfc2822(date) -> str:
    """django.utils.feedgenerator.rfc2822_date(date); a UTC date without email.utils."""
    if type(date) is dt.datetime and date.utcoffset() == _ZERO:
        return (
            f"{_DAYS[date.weekday()]}, {date.day:02d} {_MONTHS[date.month - 1]} {date.year:04d}"
            f" {date.hour:02d}:{date.minute:02d}:{date.second:02d} +0000"
        )
    return rfc2822_date(date)


def _sax_only(item: dict) -> bool:
    """Whether the item uses an element these functions don't write."""
    return bool(
        item["author_email"]
        or item["author_name"] is not None
        or item["comments"] is not None
        or item["ttl"] is not None
        or item["enclosures"]
        or item["item_copyright"] is not None
    )


def rss_item(item: dict) -> str | None:
    """feeds.framework.RssFeedGenerator's <item>, or None for one only the SAX form writes."""
    if _sax_only(item):
        return None
    out = ["<item>", element("title", item["title"]), element("link", item["link"])]
    if item["description"] is not None:
        out.append(element("description", item["description"]))
    if item["pubdate"] is not None:
        out.append(element("pubDate", rfc2822(item["pubdate"])))
    if item["unique_id"] is not None:
        permalink = item.get("unique_id_is_permalink")
        attrs = f' isPermaLink="{str(permalink).lower()}"' if isinstance(permalink, bool) else ""
        out.append(element("guid", item["unique_id"], attrs))
    for category in item["categories"]:
        out.append(element("category", category))
    for author in item.get("authors", ()):
        out.append(element("dc:creator", author["name"]))
    if item.get("content"):
        out.append(element("content:encoded", item["content"]))
    image = item.get("image")
    if image:
        start = f'<media:content medium="image" type={attr(image["type"])} url={attr(image["url"])}'
        if image.get("alt"):
            out.append(f"{start}>{element('media:description', image['alt'])}</media:content>")
        else:
            out.append(f"{start}/>")
    out.append("</item>")
    return "".join(out)


def atom_entry(item: dict) -> str | None:
    """feeds.framework.AtomFeedGenerator's <entry>, or None for one only the SAX form writes."""
    if _sax_only(item):
        return None
    out = [
        "<entry>",
        element("title", item["title"]),
        f'<link href={attr(item["link"])} rel="alternate"/>',
    ]
    if item["pubdate"] is not None:
        out.append(element("published", rfc3339_date(item["pubdate"])))
    if item["updateddate"] is not None:
        out.append(element("updated", rfc3339_date(item["updateddate"])))
    unique_id = item["unique_id"]
    if unique_id is None:
        unique_id = get_tag_uri(item["link"], item["pubdate"])
    out.append(element("id", unique_id))
    if item["description"] is not None:
        out.append(element("summary", item["description"], ' type="html"'))
    for category in item["categories"]:
        out.append(f"<category term={attr(category)}/>")
    for author in item.get("authors", ()):
        out.append("<author>")
        out.append(element("name", author["name"]))
        if author.get("uri"):
            out.append(element("uri", author["uri"]))
        out.append("</author>")
    if item.get("content"):
        out.append(element("content", item["content"], ' type="html"'))
    image = item.get("image")
    if image:
        out.append(f'<link href={attr(image["url"])} rel="enclosure" type={attr(image["type"])}/>')
    out.append("</entry>")
    return "".join(out)
