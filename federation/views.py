"""Federation endpoints: discovery (WebFinger, NodeInfo, host-meta), actor collections, replies
collections, sent activities, and the inboxes.

Every JSON answer is `application/activity+json` (or `application/jrd+json` for WebFinger, the
NodeInfo profile for NodeInfo), readable from any origin, and never stored by the page cache
(the /.well-known/, /nodeinfo/ and /ap/ answers are all anonymous GETs, so they send their own
short `Cache-Control`).
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from comments.models import Comment
from comments.thread import VISIBLE
from core.origin import absolute_url
from federation import documents
from federation.actors import (
    LocalActor,
    actor_by_id,
    actor_by_username,
    author_by_username,
    blog_actor,
    published_authors,
    webfinger_domain,
)
from federation.inbox import inbox_receive
from federation.models import Activity, FederatedPost, Follower
from posts.models import Post

JRD = "application/jrd+json"
NODEINFO_PROFILE = "http://nodeinfo.diaspora.software/ns/schema/2.1"


def activity_json(document: dict, status: int = 200) -> HttpResponse:
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False),
        status=status,
        content_type=f"{documents.ACTIVITY_JSON}; charset=utf-8",
    )
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "max-age=60"
    return response


def _enabled() -> None:
    if not settings.FEDERATION_ENABLED:
        raise Http404(_("Federation is turned off on this site."))


def _page(request) -> int | None:
    value = request.GET.get("page")
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) < 100_000:
        raise Http404(_("No such page."))
    return int(value)


# --- content negotiation (federation/negotiation.py) ------------------------------------------


def negotiated(request, view_name: str, kwargs: dict) -> HttpResponse | None:
    """The JSON-LD answer for a negotiated URL, or None to let the HTML view answer (a 404 for
    drafts and non-authors, the staff preview for staff)."""
    if view_name == "posts:home":
        return activity_json(documents.actor_document(blog_actor()))
    if view_name == "posts:author":
        actor = author_by_username(kwargs["username"])
        return activity_json(documents.actor_document(actor)) if actor is not None else None
    if view_name == "posts:detail":
        post = _published_post(kwargs)
        if post is None:
            url = absolute_url(request.path)
            if FederatedPost.objects.filter(object_id=url, deleted=True).exists():
                return activity_json({"@context": documents.CONTEXT, **documents.tombstone(url)}, 410)
            return None
        translations = list(
            Post.objects.published()
            .filter(translation_group=post.translation_group)
            .exclude(pk=post.pk)
            .order_by("language")
        )
        return activity_json(documents.article_document(post, translations=translations))
    if view_name == "comments:permalink":
        comment = (
            Comment.objects.filter(VISIBLE, pk=kwargs["pk"], post__isnull=False)
            .exclude(kind="fediverse")
            .select_related("post", "user")
            .first()
        )
        if comment is None or not comment.post.is_published:
            return None
        return activity_json(documents.note_document(comment))
    return None


def _published_post(kwargs: dict) -> Post | None:
    try:
        day = dt.date(int(kwargs["year"]), int(kwargs["month"]), int(kwargs["day"]))
    except ValueError:
        return None
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return (
        Post.objects.published()
        .filter(slug=kwargs["slug"], published_at__gte=start, published_at__lt=start + dt.timedelta(days=1))
        .prefetch_related("authorships__user__profile", "tags")
        .first()
    )


# --- discovery -------------------------------------------------------------------------------


def _jrd(actor: LocalActor) -> dict:
    return {
        "subject": f"acct:{actor.username}@{webfinger_domain()}",
        "aliases": [actor.id],
        "links": [
            {"rel": "self", "type": documents.ACTIVITY_JSON, "href": actor.id},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor.id},
            *([{"rel": "http://webfinger.net/rel/avatar", "href": actor.icon_url}] if actor.icon_url else []),
        ],
    }


@require_safe
def webfinger(request):
    """RFC 7033 section 4: `resource` is acct:user@domain or an actor's URL."""
    _enabled()
    resource = request.GET.get("resource", "").strip()
    if not resource:
        return JsonResponse({"error": "the resource parameter is required"}, status=400)
    actor = None
    if resource.lower().startswith("acct:"):
        user, _sep, domain = resource[5:].lstrip("@").rpartition("@")
        if user and domain.lower() == webfinger_domain():
            actor = actor_by_username(user)
    elif resource.startswith(("http://", "https://")):
        actor = actor_by_id(resource)
    if actor is None:
        return JsonResponse({"error": "no such resource here"}, status=404)
    response = HttpResponse(json.dumps(_jrd(actor)), content_type=JRD)
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "max-age=300"
    return response


@require_safe
def host_meta(request):
    """RFC 6415: the WebFinger template, for clients that look here first."""
    _enabled()
    template = absolute_url("/.well-known/webfinger") + "?resource={uri}"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/xrd+xml" template="{template}"/>\n'
        "</XRD>\n"
    )
    response = HttpResponse(body, content_type="application/xrd+xml; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def nodeinfo_index(request):
    _enabled()
    href = absolute_url(reverse("federation:nodeinfo"))
    response = JsonResponse({"links": [{"rel": NODEINFO_PROFILE, "href": href}]})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def nodeinfo(request):
    """NodeInfo 2.1: what this server is, and how much it holds."""
    _enabled()
    authors = published_authors().count()
    document = {
        "version": "2.1",
        "software": {
            "name": "sectorblog",
            "version": "0.1.0",
            "homepage": absolute_url("/"),
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        "openRegistrations": False,
        "usage": {
            "users": {"total": authors + 1, "activeHalfyear": authors + 1, "activeMonth": authors + 1},
            "localPosts": Post.objects.published().count(),
            "localComments": Comment.objects.filter(VISIBLE, post__isnull=False)
            .exclude(kind="fediverse")
            .count(),
        },
        "metadata": {"nodeName": settings.SITE_NAME},
    }
    response = HttpResponse(
        json.dumps(document), content_type=f'application/json; profile="{NODEINFO_PROFILE}#"'
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- actor collections -----------------------------------------------------------------------


def _actor(username: str | None) -> LocalActor:
    _enabled()
    actor = blog_actor() if username is None else author_by_username(username)
    if actor is None:
        raise Http404(_("No such actor."))
    return actor


def _actor_posts(actor: LocalActor):
    posts = Post.objects.published().prefetch_related("authorships__user__profile", "tags")
    if not actor.is_blog:
        posts = posts.filter(authorships__user=actor.user)
    return posts.order_by("-published_at", "-id")


@require_safe
def outbox(request, username: str | None = None):
    """The actor's posts as the Create activities that published them, newest first."""
    actor = _actor(username)
    posts = _actor_posts(actor)
    blog = blog_actor()

    def items(offset, limit):
        return [
            {
                "id": f"{documents.article_id(p)}#create",
                "type": "Create",
                "actor": blog.id,
                "published": documents.iso(p.published_at),
                "to": [documents.PUBLIC],
                "object": documents.article_document(p, with_context=False),
            }
            for p in posts[offset : offset + limit]
        ]

    return activity_json(
        documents.ordered_collection(
            actor.outbox, total=posts.count(), page=_page(request), items_for_page=items
        )
    )


@require_safe
def followers(request, username: str | None = None):
    """How many follow the actor; who they are is not published (as Mastodon's default)."""
    actor = _actor(username)
    total = Follower.objects.filter(owner=actor.owner, state=Follower.State.ACCEPTED).count()
    return activity_json(
        {
            "@context": documents.CONTEXT,
            "id": actor.followers,
            "type": "OrderedCollection",
            "totalItems": total,
        }
    )


@require_safe
def following(request, username: str | None = None):
    actor = _actor(username)
    return activity_json(
        {
            "@context": documents.CONTEXT,
            "id": actor.following,
            "type": "OrderedCollection",
            "totalItems": 0,
            "orderedItems": [],
        }
    )


@require_safe
def featured(request, username: str | None = None):
    """Featured posts (Mastodon's pinned posts), newest first."""
    actor = _actor(username)
    posts = list(_actor_posts(actor).filter(featured=True)[:20])
    return activity_json(
        {
            "@context": documents.CONTEXT,
            "id": actor.featured,
            "type": "OrderedCollection",
            "totalItems": len(posts),
            "orderedItems": [documents.article_document(p, with_context=False) for p in posts],
        }
    )


# --- replies collections ---------------------------------------------------------------------


def _replies(request, collection_id: str, queryset):
    queryset = queryset.select_related("remote_note").order_by("submit_date", "pk")
    return activity_json(
        documents.ordered_collection(
            collection_id,
            total=queryset.count(),
            page=_page(request),
            items_for_page=lambda offset, limit: [
                documents.item_id(c) for c in queryset[offset : offset + limit]
            ],
        )
    )


@require_safe
def post_replies(request, pk: int):
    """The items answering the post directly: readers' comments, linkbacks, fediverse replies."""
    _enabled()
    post = get_object_or_404(Post.objects.published(), pk=pk)
    top = Comment.objects.filter(VISIBLE, post=post, parent_id=F("pk"))
    return _replies(request, documents.replies_url(post=post), top)


@require_safe
def comment_replies(request, pk: int):
    _enabled()
    comment = get_object_or_404(Comment.objects.filter(VISIBLE, post__isnull=False), pk=pk)
    if not comment.post.is_published:
        raise Http404(_("No such item."))
    children = Comment.objects.filter(VISIBLE, parent_id=comment.pk).exclude(pk=comment.pk)
    return _replies(request, documents.replies_url(comment=comment), children)


@require_safe
def activity(request, uuid):
    """An activity we sent, as sent (public ones only)."""
    _enabled()
    found = get_object_or_404(Activity, uuid=uuid, public=True)
    return activity_json(found.payload)


# --- inboxes ---------------------------------------------------------------------------------


@csrf_exempt
@transaction.non_atomic_requests  # remote keys are fetched before any write (SQLite's lock)
@require_http_methods(["POST"])
def inbox(request, username: str | None = None, shared: bool = False):
    """ActivityPub section 7: a signed POST from another server (federation/inbox.py)."""
    _enabled()
    target = None if shared else _actor(username)
    return inbox_receive(request=request, target=target)
