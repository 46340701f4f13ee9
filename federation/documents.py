"""The JSON-LD documents we publish (ActivityStreams 2.0 vocabulary, compacted, with contexts
that every ActivityPub implementation knows by heart, so no one needs to fetch them).

- actors: AS2 section 4.1 actor types with ActivityPub section 4.1's inbox, outbox, followers,
  following; the Security vocabulary's publicKey; Mastodon's featured collection;
- a post: an `Article` (AS2 vocabulary section 3.3) with name, content, summary, url,
  attributedTo, published, updated, tag, attachment, replies and the language maps of section
  4.7 (contentMap, nameMap, summaryMap); its translations are extra `url` links with hreflang;
- a thread item (reader comment, linkback, author's answer): a `Note` in reply to what it
  answers, attributed to its author's actor (or to the blog for readers' comments);
- collections: `OrderedCollection` with a first `OrderedCollectionPage` (section 5.3).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html

from comments.models import Comment
from comments.thread import VISIBLE
from core.markup import plain_text
from core.origin import absolute_url
from federation.actors import LocalActor, author_actor, blog_actor, post_actors, published_authors
from federation.keys import actor_key
from posts.models import Post

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACTIVITY_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
CONTEXT = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "discoverable": "toot:discoverable",
    },
]
PAGE_SIZE = 20


def first_object_id(obj) -> str:
    """The ID of an activity's object, embedded or named."""
    if isinstance(obj, dict):
        return str(obj.get("id", ""))[:2000]
    return str(obj or "")[:2000]


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- actors ---------------------------------------------------------------------------------


def actor_document(actor: LocalActor) -> dict:
    key = actor_key(actor.owner)
    doc = {
        "@context": CONTEXT,
        "id": actor.id,
        "type": "Organization" if actor.is_blog else "Person",
        "preferredUsername": actor.username,
        "name": actor.name,
        "summary": format_html("<p>{}</p>", actor.summary) if actor.summary else "",
        "url": actor.id,
        "inbox": actor.inbox,
        "outbox": actor.outbox,
        "followers": actor.followers,
        "following": actor.following,
        "featured": actor.featured,
        "endpoints": {"sharedInbox": absolute_url("/inbox")},
        "manuallyApprovesFollowers": settings.FEDERATION_MANUAL_APPROVAL,
        "discoverable": True,
        "publicKey": {"id": actor.key_id, "owner": actor.id, "publicKeyPem": key.public_pem},
    }
    if actor.icon_url:
        doc["icon"] = {"type": "Image", "mediaType": _media_type(actor.icon_url), "url": actor.icon_url}
    return doc


def _media_type(url: str) -> str:
    lowered = url.lower().split("?", 1)[0]
    for ext, kind in ((".png", "image/png"), (".gif", "image/gif"), (".webp", "image/webp")):
        if lowered.endswith(ext):
            return kind
    return "image/jpeg"


# --- posts ----------------------------------------------------------------------------------


def hashtag_name(name: str) -> str:
    """A tag name as a hashtag: words joined in CamelCase, letters and digits only."""
    words = re.findall(r"\w+", name)
    joined = "".join(w[:1].upper() + w[1:] for w in words) if len(words) > 1 else "".join(words)
    return "#" + joined.replace("_", "")


_RELATIVE_URL = re.compile(r'(\s(?:href|src)=")(/(?!/)[^"]*)"')


def absolutized(html: str) -> str:
    """Post HTML with its site-relative links and images made absolute: other servers show the
    content away from our pages (the HTML is already sanitized; only the URL prefix changes)."""
    return _RELATIVE_URL.sub(lambda m: f'{m.group(1)}{absolute_url(m.group(2))}"', html)


def article_id(post: Post) -> str:
    return absolute_url(post.get_absolute_url())


def replies_url(*, post: Post | None = None, comment: Comment | None = None) -> str:
    if comment is not None:
        return absolute_url(reverse("federation:comment-replies", args=[comment.pk]))
    return absolute_url(reverse("federation:post-replies", args=[post.pk]))


def article_document(
    post: Post, *, translations: list[Post] | None = None, with_context: bool = True
) -> dict:
    """The post as an ActivityStreams Article. `translations` are its published translations."""
    authors = post_actors(post)
    url = article_id(post)
    summary = format_html("<p>{}</p>", post.summary) if post.summary else ""
    links = [{"type": "Link", "mediaType": "text/html", "href": url, "hreflang": post.language}]
    for other in translations or []:
        links.append(
            {
                "type": "Link",
                "mediaType": "text/html",
                "rel": "alternate",
                "href": article_id(other),
                "hreflang": other.language,
                "name": other.title,
            }
        )
    content = absolutized(post.body_html)
    doc = {
        "id": url,
        "type": "Article",
        "name": post.title,
        "content": content,
        "summary": summary,
        "url": links if len(links) > 1 else url,
        "attributedTo": [a.id for a in authors] or [blog_actor().id],
        "published": iso(post.published_at),
        "updated": iso(post.updated_at),
        "to": [PUBLIC],
        "cc": [blog_actor().followers] + [a.followers for a in authors],
        "nameMap": {post.language: post.title},
        "contentMap": {post.language: content},
        "summaryMap": {post.language: summary} if summary else {},
        "tag": [
            {"type": "Hashtag", "href": absolute_url(t.get_absolute_url()), "name": hashtag_name(t.name)}
            for t in post.tags.all()
        ],
        "attachment": [],
        "replies": {
            "id": replies_url(post=post),
            "type": "OrderedCollection",
            "totalItems": Comment.objects.filter(VISIBLE, post=post).count(),
            "first": replies_url(post=post) + "?page=1",
        },
        "sensitive": False,
    }
    if post.featured_image:
        image = {
            "type": "Image",
            "mediaType": _media_type(post.featured_image.name),
            "url": absolute_url(post.featured_image.url),
            "name": post.featured_image_alt,
        }
        doc["attachment"].append(image)
        doc["image"] = image
    if with_context:
        doc = {"@context": CONTEXT, **doc}
    return doc


def article_hash(post: Post) -> str:
    """A digest of what an Update would change (a save that changes none of it is not material)."""
    doc = article_document(post, with_context=False)
    for volatile in ("updated", "replies"):
        doc.pop(volatile, None)
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def tombstone(object_id: str, former_type: str = "Article") -> dict:
    return {
        "id": object_id,
        "type": "Tombstone",
        "formerType": former_type,
        "deleted": iso(timezone.now()),
    }


# --- thread items ----------------------------------------------------------------------------


def comment_note_id(comment: Comment) -> str:
    return absolute_url(comment.get_absolute_url())


def item_id(comment: Comment) -> str:
    """The ActivityPub ID of a thread item: a fediverse reply keeps its own, ours are permalinks."""
    note = getattr(comment, "remote_note", None) if comment.kind == "fediverse" else None
    return note.object_id if note is not None else comment_note_id(comment)


def speaking_actor(comment: Comment) -> LocalActor:
    """Who a local thread item is attributed to: its writer when they are an author, else the blog."""
    if comment.user_id and published_authors().filter(pk=comment.user_id).exists():
        return author_actor(comment.user)
    return blog_actor()


def note_document(comment: Comment, *, with_context: bool = True) -> dict:
    """A thread item of ours as a Note. Readers' comments and linkbacks are attributed to the
    blog, with the writer's name (or the linking page) leading the content."""
    actor = speaking_actor(comment)
    parent = None
    if comment.parent_id and comment.parent_id != comment.pk:
        parent = Comment.objects.filter(pk=comment.parent_id).select_related("remote_note").first()
    in_reply_to = item_id(parent) if parent is not None else article_id(comment.post)
    body = comment.body_html
    tags = []
    to = [PUBLIC]
    cc = [actor.followers]
    if comment.is_linkback:
        source = escape(comment.safe_source_url)
        title = escape(comment.source_title or comment.user_name or comment.source_url)
        body = f'<p><a href="{source}">{title}</a></p>{body}'
    elif actor.is_blog or comment.user_id is None:
        body = f"<p><strong>{escape(comment.user_name)}</strong></p>{body}"
    if parent is not None and parent.kind == "fediverse":
        note = getattr(parent, "remote_note", None)
        if note is not None:
            remote = note.actor
            tags.append({"type": "Mention", "href": remote.uri, "name": remote.handle})
            mention = (
                f'<p><span class="h-card"><a href="{escape(remote.profile_url or remote.uri)}" '
                f'class="u-url mention">{escape(remote.handle)}</a></span></p>'
            )
            body = mention + body
            cc.append(remote.uri)
    doc = {
        "id": comment_note_id(comment),
        "type": "Note",
        "attributedTo": actor.id,
        "inReplyTo": in_reply_to,
        "content": body,
        "url": absolute_url(comment.get_absolute_url()),
        "published": iso(comment.submit_date),
        "to": to,
        "cc": cc,
        "tag": tags,
        "replies": {
            "id": replies_url(comment=comment),
            "type": "OrderedCollection",
            "first": replies_url(comment=comment) + "?page=1",
        },
    }
    if comment.language:
        doc["contentMap"] = {comment.language: body}
    if with_context:
        doc = {"@context": CONTEXT, **doc}
    return doc


def note_summary(comment: Comment) -> str:
    return plain_text(comment.body_html)[:200]


# --- collections -----------------------------------------------------------------------------


def ordered_collection(collection_id: str, *, total: int, page: int | None, items_for_page) -> dict:
    """An OrderedCollection, or its page `page` (1-based) when one is asked for."""
    if page is None:
        return {
            "@context": CONTEXT,
            "id": collection_id,
            "type": "OrderedCollection",
            "totalItems": total,
            "first": f"{collection_id}?page=1",
        }
    items = items_for_page((page - 1) * PAGE_SIZE, PAGE_SIZE)
    doc = {
        "@context": CONTEXT,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": items,
    }
    if page * PAGE_SIZE < total:
        doc["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        doc["prev"] = f"{collection_id}?page={page - 1}"
    return doc
