"""The post lists' cards and the byline, written directly in Python.

The same markup lives, readable, in templates/includes/_post_card.html and _byline.html;
tests/test_cards_render.py checks that both give the same HTML, apart from whitespace beside
block elements, in every language, with names and titles that need escaping, featured images,
several authors or none, posts without a category, search snippets and comment and mention
counts (singular and plural). `{% post_cards %}` and `{% post_byline %}`
(posts/templatetags/cards.py) call this module: every list page draws ten cards, and with the
fragment cache off or missing, the templates cost most of a cold list page's render.

What the templates do per card and this does once per render: the language, the URL patterns
(reversed once, each slug or username quoted as reverse() quotes it), the translations, and each
day's DATE_FORMAT text. Everything shown is escaped as the templates escape it; a search snippet
is the safe HTML posts.search made. Change the templates and this module together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.utils import dateformat, formats, timezone
from django.utils.html import conditional_escape
from django.utils.translation import get_language, gettext, ngettext

from core.cache import deps
from posts import images, permalinks
from posts.chrome import escape, value_url
from posts.models import Post, display_name

_USERNAME = re.compile(r"[^/]+")  # the <str:username> converter
# The format characters that depend on the day alone: DATE_FORMAT's text is then made once a day.
_DAY_FORMAT_CHARS = frozenset("bdDEFjlLmMnNoStwWyYz")
CARD_IMAGE_SIZES = "(max-width: 44rem) 100vw, (max-width: 72rem) 50vw, 24rem"


def _post_url() -> Callable[[Post, object], str]:
    """Post.get_absolute_url() for many posts, given each post's local publication time."""

    def url(post: Post, local) -> str:
        return (local is not None and permalinks.post_path(local, post.slug)) or post.get_absolute_url()

    return url


class CardWriter:
    """Cards and bylines for one render, in the active language and time zone."""

    def __init__(self):
        self.language = escape(get_language())
        self.zone = timezone.get_current_timezone()
        self._post_url: Callable[[Post, object], str] | None = None
        self._author_url: Callable[[str], str] | None = None
        self._category_url: Callable[[str], str] | None = None
        self.and_ = escape(gettext("and"))
        self.date_format = str(formats.get_format("DATE_FORMAT"))
        chars = {piece for i, piece in enumerate(dateformat.re_formatchars.split(self.date_format)) if i % 2}
        self.date_by_day = chars <= _DAY_FORMAT_CHARS
        self._dates: dict = {}

    def _local(self, when):
        """timezone.localtime() of an aware datetime (the templates' localtime); a naive one as is."""
        if when is None:
            return None
        return when.astimezone(self.zone) if timezone.is_aware(when) else when

    def _date(self, local) -> str:
        """`{{ when|date:"DATE_FORMAT" }}` of a datetime already in local time, escaped."""
        if not self.date_by_day:
            return escape(dateformat.format(local, self.date_format))
        day = local.date()
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = escape(dateformat.format(local, self.date_format))
        return text

    def post_url(self, post: Post, local) -> str:
        if self._post_url is None:
            self._post_url = _post_url()
        return self._post_url(post, local)

    def author_url(self, username: str) -> str:
        if self._author_url is None:
            self._author_url = value_url("posts:author", "username", _USERNAME)
        return self._author_url(username)

    def category_url(self, slug: str) -> str:
        if self._category_url is None:
            self._category_url = value_url("posts:category", "slug", permalinks.SLUG)
        return self._category_url(slug)

    def byline(self, post: Post, local=None) -> str:
        """includes/_byline.html: the authors in order, then the publication date."""
        authorships = list(post.authorships.all())
        last = len(authorships) - 1
        names = []
        for i, authorship in enumerate(authorships):
            if i:
                names.append(f" {self.and_} " if i == last else ", ")
            user = authorship.user
            names.append(
                f'<a class="p-author h-card" rel="author" href="{escape(self.author_url(user.username))}">'
                f"{escape(display_name(user))}</a>"
            )
        when = ""
        if post.published_at:
            if local is None:
                local = self._local(post.published_at)
            when = (
                '\n<span aria-hidden="true">·</span>\n'
                f'<time class="dt-published" datetime="{escape(local.isoformat(timespec="seconds"))}">'
                f"{self._date(local)}</time>"
            )
        return f'<p class="byline" lang="{self.language}">\n{"".join(names)}{when}\n</p>'

    def card(self, post: Post, *, eager_image: bool = False) -> str:
        """includes/_post_card.html (its `{% shows_discussion post.pk %}` is post_cards')."""
        published = self._local(post.published_at)
        local = published or self._local(post.created_at)
        url = escape(self.post_url(post, local))
        parts = [f'<article class="post-card h-entry" lang="{escape(post.language)}">\n']
        if post.featured_image:
            picture = images.picture_html(
                post.featured_image.url,
                alt="",
                info=images.info_from(post.featured_image_variants, post.featured_image.name),
                sizes=CARD_IMAGE_SIZES,
                lazy=not eager_image,
            )
            parts.append(
                f'<a class="card-image" href="{url}" tabindex="-1" aria-hidden="true">\n'
                f"{conditional_escape(picture)}\n</a>\n"
            )
        parts.append('<div class="card-body">\n')
        category_slug = getattr(post, "card_category_slug", None)
        if category_slug:
            category_url = escape(self.category_url(category_slug))
            parts.append(
                f'<p class="kicker" lang="{self.language}"><a href="{category_url}">'
                f"{escape(post.card_category_name)}</a></p>\n"
            )
        parts.append(
            f'<h2 class="p-name card-title"><a class="u-url" href="{url}">{escape(post.title)}</a></h2>\n'
        )
        if post.search_snippet:
            parts.append(f'<p class="snippet">{conditional_escape(post.search_snippet)}</p>\n')
        else:
            parts.append(f'<p class="p-summary">{escape(post.summary)}</p>\n')
        parts.append(self.byline(post, published))
        comments = post.comment_count
        parts.append(
            f'\n<p class="meta counts" lang="{self.language}">\n<a href="{url}#comments">'
            f"{_count('%(counter)s comment', '%(counter)s comments', comments)}</a>\n"
        )
        mentions = getattr(post, "mention_count", 0)
        if mentions:
            parts.append(
                f'<span aria-hidden="true">·</span>\n<a href="{url}#mentions">'
                f"{_count('%(counter)s mention', '%(counter)s mentions', mentions)}</a>\n"
            )
        parts.append("</p>\n</div>\n</article>")
        return "".join(parts)

    def cards(self, posts: Iterable[Post], *, eager_first: bool = False) -> str:
        """The cards of a list, one after another; the first one's image eager if asked."""
        return "\n".join(self.card(post, eager_image=eager_first and i == 0) for i, post in enumerate(posts))


def _count(singular: str, plural: str, number: int) -> str:
    """`{% blocktranslate count counter=number %}`: the translation, the number as the template
    shows a number (localised, escaped)."""
    return ngettext(singular, plural, number) % {"counter": conditional_escape(formats.localize(number))}


def post_cards(posts: Iterable[Post], *, eager_first: bool = False) -> str:
    """Each post's card; what is being rendered shows these posts' discussions (their counts)."""
    posts = list(posts)
    if posts:
        deps.discussion(*(post.pk for post in posts))
    return CardWriter().cards(posts, eager_first=eager_first)
