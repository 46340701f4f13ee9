"""Our actors: the blog, and each author with published posts.

Each actor's ID is the URL of its HTML profile, which answers ActivityPub clients with the actor
document (content negotiation, federation/negotiation.py): the home page for the blog, the
author page for an author. Its key is `<id>#main-key`; its inbox, outbox and collections live
under /ap/.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.templatetags.static import static
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext, override

from core.origin import absolute_url
from federation.models import BLOG_OWNER, owner_for_user
from posts.models import Post, display_name


def webfinger_domain() -> str:
    """The host part of our handles: SITE_DOMAIN (with its port when it has one)."""
    return settings.SITE_DOMAIN.lower()


@dataclass(frozen=True)
class LocalActor:
    owner: str
    username: str
    user: object | None = None

    @property
    def is_blog(self) -> bool:
        return self.owner == BLOG_OWNER

    def _route(self, name: str) -> str:
        if self.is_blog:
            return absolute_url(reverse(f"federation:blog-{name}"))
        return absolute_url(reverse(f"federation:author-{name}", kwargs={"username": self.username}))

    @property
    def id(self) -> str:
        if self.is_blog:
            return absolute_url("/")
        return absolute_url(reverse("posts:author", kwargs={"username": self.username}))

    @property
    def key_id(self) -> str:
        return f"{self.id}#main-key"

    @property
    def handle(self) -> str:
        return f"@{self.username}@{webfinger_domain()}"

    @property
    def inbox(self) -> str:
        return self._route("inbox")

    @property
    def outbox(self) -> str:
        return self._route("outbox")

    @property
    def followers(self) -> str:
        return self._route("followers")

    @property
    def following(self) -> str:
        return self._route("following")

    @property
    def featured(self) -> str:
        return self._route("featured")

    @property
    def name(self) -> str:
        if self.is_blog:
            return settings.SITE_NAME
        return display_name(self.user)

    @property
    def summary(self) -> str:
        if self.is_blog:
            with override(settings.LANGUAGE_CODE):  # the same as the site's default description
                return gettext(
                    "A sector learning blog: notes, lessons and discussion from a community of practice."
                )
        profile = getattr(self.user, "profile", None)
        return profile.bio if profile else ""

    @property
    def icon_url(self) -> str:
        if self.is_blog:
            return absolute_url(static("img/blog-avatar.png"))
        profile = getattr(self.user, "profile", None)
        if profile is not None and profile.avatar:
            return absolute_url(profile.avatar.url)
        return ""


def blog_actor() -> LocalActor:
    return LocalActor(BLOG_OWNER, settings.FEDERATION_BLOG_USERNAME)


def author_actor(user) -> LocalActor:
    return LocalActor(owner_for_user(user), user.get_username(), user)


def published_authors():
    """Users with at least one published post: the authors who are actors."""
    User = get_user_model()
    return User.objects.filter(pk__in=Post.objects.published().values("authorships__user")).select_related(
        "profile"
    )


def author_by_username(username: str):
    """The author actor of that username, or None (staff who wrote nothing are not actors)."""
    if username.lower() == settings.FEDERATION_BLOG_USERNAME.lower():
        return None
    user = published_authors().filter(username=username).first()
    return author_actor(user) if user is not None else None


def actor_by_username(username: str) -> LocalActor | None:
    if username.lower() == settings.FEDERATION_BLOG_USERNAME.lower():
        return blog_actor()
    return author_by_username(username)


def actor_by_owner(owner: str) -> LocalActor | None:
    if owner == BLOG_OWNER:
        return blog_actor()
    if owner.startswith("user:") and owner[5:].isdigit():
        user = published_authors().filter(pk=int(owner[5:])).first()
        return author_actor(user) if user is not None else None
    return None


def actor_by_id(uri: str) -> LocalActor | None:
    """The local actor whose ID (or key ID) this URL is."""
    uri = uri.split("#", 1)[0]
    if uri == blog_actor().id:
        return blog_actor()

    parts = urlsplit(uri)
    if absolute_url(parts.path) != uri:
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.view_name != "posts:author":
        return None
    return author_by_username(match.kwargs["username"])


def post_actors(post: Post) -> list[LocalActor]:
    """The post's authors (byline order) as actors."""
    return [author_actor(a.user) for a in post.authorships.all()]
