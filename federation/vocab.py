"""Reading the ActivityStreams 2.0 vocabulary as peers send it: compacted JSON-LD, where a
property may hold a string, an object with an `id` (or a Link with an `href`), or a list of those.
Contexts are never fetched or expanded; the terms read here are those of the ActivityStreams
context, which every implementation compacts to."""

from __future__ import annotations

from comments.linkbacks.services import clean_text

PUBLIC_IDS = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}


def first_id(value) -> str:
    """The first ID (or Link href) a property names, or ""."""
    if isinstance(value, list):
        for item in value:
            found = first_id(item)
            if found:
                return found
        return ""
    if isinstance(value, dict):
        found = value.get("id") or value.get("href")
        return found if isinstance(found, str) else ""
    return value if isinstance(value, str) else ""


def ids_of(value) -> list[str]:
    """Every ID a property names (to, cc, object lists)."""
    items = value if isinstance(value, list) else [value]
    return [found for found in (first_id(item) for item in items) if found]


def types_of(document) -> set[str]:
    if not isinstance(document, dict):
        return set()
    value = document.get("type")
    items = value if isinstance(value, list) else [value]
    return {item for item in items if isinstance(item, str)}


def text_of(value, limit: int) -> str:
    """A plain string property, without control or bidirectional-override characters."""
    if isinstance(value, dict):  # a language map: take its first value
        value = next(iter(value.values()), "")
    if not isinstance(value, str):
        return ""
    return clean_text(value, limit)


def is_public(document: dict) -> bool:
    """Addressed to everyone (public or unlisted): the special Public collection in to or cc."""
    return any(audience in PUBLIC_IDS for audience in ids_of(document.get("to")) + ids_of(document.get("cc")))


def content_of(document: dict) -> str:
    """An object's HTML content: `content`, else the first value of `contentMap`."""
    content = document.get("content")
    if isinstance(content, str) and content:
        return content
    mapping = document.get("contentMap")
    if isinstance(mapping, dict):
        for value in mapping.values():
            if isinstance(value, str):
                return value
    return ""


def language_of(document: dict) -> str:
    mapping = document.get("contentMap")
    if isinstance(mapping, dict) and mapping:
        key = next(iter(mapping))
        if isinstance(key, str) and len(key) <= 10:
            return key
    return ""
