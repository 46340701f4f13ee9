"""Articles and taxonomy: Post, Category, Tag and the author profile.

Every public surface starts from `Post.objects.published()`: that is the one publication rule.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from core.markup import excerpt_text, plain_text, render_markdown
from posts import embeds, images, permalinks
from posts.media import validate_library_image
from posts.oldurls import normalize_path
from posts.search import search_posts

EXCERPT_WORDS = 55
WORDS_PER_MINUTE = 220


class AuthorProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    bio = models.TextField(_("short bio"), blank=True, max_length=2000)
    website = models.URLField(_("website"), blank=True, max_length=500)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    # The square copies the worker made of `avatar` (posts/images.py, "author photos").
    avatar_variants = models.JSONField(default=dict, blank=True, editable=False)

    class CommentNotifications(models.TextChoices):
        ALL = "all", _("Every comment on my posts")
        HELD = "held", _("Only comments held for moderation")
        NONE = "none", _("None")

    comment_notifications = models.CharField(
        _("email me about comments"),
        max_length=4,
        choices=CommentNotifications.choices,
        default=CommentNotifications.ALL,
    )
    email_language = models.CharField(
        _("language of my emails"), max_length=10, choices=settings.LANGUAGES, default="en"
    )

    class Meta:
        verbose_name = _("author profile")
        verbose_name_plural = _("author profiles")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_full_name() or self.user.get_username()


def display_name(user) -> str:
    """The one name a person is shown under: on pages, in feeds, in emails and on the fediverse.
    Their profile's display name, else their full name, else their username."""
    if user is None:
        return ""
    try:
        profile = user.profile
    except AuthorProfile.DoesNotExist:
        profile = None
    if profile is not None and profile.display_name:
        return profile.display_name
    return user.get_full_name() or user.get_username()


def with_responsive_images(body_html: str) -> str:
    """The body with its media-library images made responsive (posts/images.py): one query, and
    only for a body that shows any."""
    names = images.library_names(body_html)
    if not names:
        return body_html
    library = {m.image.name: m for m in MediaImage.objects.filter(image__in=names)}
    return images.responsive_body(body_html, library)


def with_embed_cards(body_html: str) -> str:
    """Allow-listed video and fediverse addresses alone on a line as click-to-load cards
    (posts/embeds.py), with the titles and thumbnails fetched so far: one query, only for a
    body that has any."""
    found = embeds.embeds_in(body_html)
    if not found:
        return body_html
    meta = {m.url: m for m in EmbedMeta.objects.filter(url__in=[e.url for e in found])}
    return embeds.with_cards(body_html, meta)


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("posts:category", kwargs={"slug": self.slug})

    def descendant_ids(self) -> set[int]:
        """This category's id and all its sub-categories' ids (one query for the whole table)."""
        pairs = list(Category.objects.values_list("id", "parent_id"))
        children: dict[int | None, list[int]] = {}
        for cid, parent_id in pairs:
            children.setdefault(parent_id, []).append(cid)
        found, stack = set(), [self.pk]
        while stack:
            cid = stack.pop()
            if cid in found:
                continue
            found.add(cid)
            stack.extend(children.get(cid, []))
        return found


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("posts:tag", kwargs={"slug": self.slug})


class TermCount(models.Model):
    """How many visible posts a category (its whole subtree, each post once) or a tag has, as the
    live statement in posts/termcounts.py counts them: the sidebar and header read these instead
    of counting on every cold page, as WordPress keeps wp_term_taxonomy.count. Only terms with at
    least one visible post have a row. Rewritten by posts.termcounts.refresh(); whether they may
    be read is TermCountState's to say."""

    class Taxonomy(models.TextChoices):
        CATEGORY = "c", _("category")
        TAG = "t", _("tag")

    taxonomy = models.CharField(_("taxonomy"), max_length=1, choices=Taxonomy.choices)
    # The category's or tag's id. No foreign key: a term deleted by raw SQL needs no cascade here,
    # its deletion makes the counts stale (a trigger), and readers join the live term tables.
    term_id = models.BigIntegerField(_("term"))
    posts = models.PositiveIntegerField(_("visible posts"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["taxonomy", "term_id"], name="termcount_term_uniq")]
        verbose_name = _("term count")
        verbose_name_plural = _("term counts")

    def __str__(self) -> str:
        return f"{self.taxonomy}{self.term_id}: {self.posts}"


class TermCountState(models.Model):
    """The one row (pk 1) saying whether the stored TermCounts are current.

    `generation` is bumped by database triggers (migration 0016) in the same transaction as every
    write to a table the counts come from; `computed_generation` is the generation the stored
    counts were computed at, at `computed_at`; `valid_until` is when the next scheduled post goes
    live (None: none is scheduled). Readers use the stored counts only while generation ==
    computed_generation and computed_at <= now < valid_until, else they count live."""

    generation = models.BigIntegerField(default=1)
    computed_generation = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("term count state")
        verbose_name_plural = _("term count state")

    def __str__(self) -> str:
        return f"generation {self.generation}, counts of {self.computed_generation}"


class PostQuerySet(models.QuerySet):
    def published(self, now: datetime | None = None) -> PostQuerySet:
        """The one publication rule (`published_filter`): published status and a publication
        time that has passed (by `now`, default the present)."""
        return self.filter(published_filter(now=now))

    def search(self, q: str) -> PostQuerySet:
        """Word search over title, excerpt and body; full-text ranking on PostgreSQL."""
        return search_posts(self, q)


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        PUBLISHED = "published", _("Published")

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        SPANISH = "es", "Español"
        FRENCH = "fr", "Français"

    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=200, allow_unicode=True)
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="PostAuthor",
        related_name="posts",
        verbose_name=_("authors"),
    )
    body = models.TextField(_("body (Markdown)"), blank=True)
    body_html = models.TextField(editable=False, blank=True)
    # The body's plain-text excerpt (core.markup.excerpt_text), derived in save() with body_html:
    # lists and feeds show it without parsing the HTML on every read.
    body_excerpt = models.TextField(editable=False, blank=True, default="", db_default="")
    excerpt = models.TextField(
        _("excerpt"), blank=True, help_text=_("Optional. Otherwise the first 55 words.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(
        _("publication date"),
        null=True,
        blank=True,
        help_text=_("A future date schedules the post."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    categories = models.ManyToManyField(
        Category, blank=True, related_name="posts", verbose_name=_("categories")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts", verbose_name=_("tags"))
    allow_comments = models.BooleanField(_("allow comments"), default=True)
    allow_pings = models.BooleanField(_("allow pings"), default=True)
    featured = models.BooleanField(_("featured"), default=False)
    is_page = models.BooleanField(
        _("page"), default=False, help_text=_("A standalone page rather than a dated article.")
    )
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH
    )
    translation_group = models.UUIDField(
        _("translation group"), default=uuid.uuid4, db_index=True, editable=False
    )
    featured_image = models.ImageField(_("featured image"), upload_to="featured/", blank=True)
    featured_image_alt = models.CharField(_("featured image alt text"), max_length=300, blank=True)
    # The featured image's narrower and WebP copies, made by the worker (posts/images.py).
    featured_image_variants = models.JSONField(default=dict, blank=True, editable=False)
    trackback_urls = models.TextField(_("send trackbacks to"), blank=True, help_text=_("One URL per line."))
    word_count = models.PositiveIntegerField(default=0, editable=False)
    search_text = models.TextField(blank=True, editable=False)

    objects = PostQuerySet.as_manager()

    # A search result's matching passage (posts.search.attach_snippets sets it), empty elsewhere.
    # Defined here because a template's lookup of a missing attribute costs a dir() of the post.
    search_snippet = ""

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        get_latest_by = "published_at"
        constraints = [
            models.UniqueConstraint(
                models.F("slug"),
                models.functions.TruncDate("published_at"),
                name="post_slug_unique_per_date",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "published_at"], name="post_published_idx"),
            models.Index(fields=["slug"], name="post_slug_idx"),
            # Public lists walk these in order and stop after a page (tests/test_perf_indexes.py).
            models.Index(
                models.F("featured").desc(),
                models.F("published_at").desc(),
                models.F("id").desc(),
                condition=Q(status="published", is_page=False),
                name="post_home_order_idx",
            ),
            # updated_at rides along as a last key: the feeds' conditional-GET state (count,
            # newest, last change) reads this index alone instead of the whole table. A key, not
            # an INCLUDE column, which SQLite lacks (the deploy check warns of it).
            models.Index(
                models.F("published_at").desc(),
                models.F("id").desc(),
                "updated_at",
                condition=Q(status="published", is_page=False),
                name="post_date_order_idx",
            ),
        ]
        permissions = [
            ("publish_post", _("Can publish posts")),
            ("edit_others_posts", _("Can edit other authors' posts")),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.title, allow_unicode=True)[:200] or "post"
        self.body_html = with_embed_cards(with_responsive_images(render_markdown(self.body, "post")))
        self.body_excerpt = excerpt_text(self.body_html, EXCERPT_WORDS)
        text = plain_text(self.body_html)
        self.word_count = len(text.split())
        self.search_text = f"{self.title}\n{self.excerpt}\n{text}"
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "body_html",
                "body_excerpt",
                "word_count",
                "search_text",
                "slug",
            }
        super().save(*args, **kwargs)
        loaded = getattr(self, "_loaded_url_state", None)
        self._loaded_url_state = tuple(getattr(self, name) for name in self._URL_FIELDS)
        if loaded is not None:
            self._redirect_old_url(*loaded)

    def get_absolute_url(self) -> str:
        when = timezone.localtime(self.published_at or self.created_at or timezone.now())
        return permalinks.post_path(when, self.slug) or reverse("posts:detail", kwargs=self._date_kwargs())

    # What the post's public URL was made of when it was loaded or last saved: a slug or date
    # change then leaves the old URL behind as a redirect (as WordPress's old-slug redirect does).
    _URL_FIELDS = ("status", "published_at", "created_at", "slug")

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        post = super().from_db(db, field_names, values, **kwargs)
        if all(name in post.__dict__ for name in cls._URL_FIELDS):  # nothing deferred: no query
            post._loaded_url_state = tuple(post.__dict__[name] for name in cls._URL_FIELDS)
        return post

    def _redirect_old_url(self, status, published_at, created_at, slug) -> None:
        """Keep the URL a published post had before this save answering, with a 301 to the new one."""
        if status != self.Status.PUBLISHED or published_at is None or published_at > timezone.now():
            return  # it was not public at that URL
        was = Post(status=status, published_at=published_at, created_at=created_at, slug=slug)
        old_url = was.get_absolute_url()
        if old_url == self.get_absolute_url():
            return
        Redirect.objects.update_or_create(
            old_path=normalize_path(old_url),
            defaults={"post": self, "category": None, "tag": None, "author": None, "target_url": ""},
        )

    @property
    def is_published(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at > timezone.now()
        )

    def _date_kwargs(self) -> dict[str, str]:
        when = timezone.localtime(self.published_at or self.created_at or timezone.now())
        return {
            "year": f"{when.year:04d}",
            "month": f"{when.month:02d}",
            "day": f"{when.day:02d}",
            "slug": self.slug,
        }

    @property
    def summary(self) -> str:
        """The author's excerpt, or the body's first paragraphs up to 55 words (never headings,
        list items or table cells run together: core.markup.excerpt_text). Cards, meta
        descriptions and feeds all use it."""
        if self.excerpt:
            return self.excerpt
        loaded = self.__dict__
        if loaded.get("body_excerpt") or ("body_excerpt" in loaded and not loaded.get("body_html")):
            # Stored by save(); a list that leaves body_html unread has nothing else to go on.
            return loaded["body_excerpt"]
        return excerpt_text(self.body_html, EXCERPT_WORDS)

    @property
    def reading_minutes(self) -> int:
        return max(1, math.ceil(self.word_count / WORDS_PER_MINUTE))

    @property
    def has_toc(self) -> bool:
        return len(re.findall(r"<h[23][ >]", self.body_html)) >= 3


class PostAuthor(models.Model):
    """Ordered authorship: the author with the lowest position is the byline author."""

    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="authorships", verbose_name=_("post")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authorships", verbose_name=_("user")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="post_author_unique"),
        ]
        verbose_name = _("author")
        verbose_name_plural = _("authors")

    def __str__(self) -> str:
        return _("%(user)s on %(post)s") % {"user": self.user, "post": self.post}


def published_filter(prefix: str = "", now: datetime | None = None) -> Q:
    """The publication rule as a Q object: `Post.objects.published()`, and related lookups
    (`prefix="post__"`, counts on categories) use it; `Post.is_published` is its Python twin for
    one loaded post. `now` is given by prepared queries (core.prepared), whose builders take the
    time as a parameter."""
    if now is None:
        now = timezone.now()
    return Q(**{f"{prefix}status": Post.Status.PUBLISHED, f"{prefix}published_at__lte": now})


def public_authors():
    """The accounts that have an author page and an author feed: those credited on at least one
    published post. Anyone else's username (staff who never wrote, readers) stays private, and
    both surfaces answer 404 for it alike."""

    credited = PostAuthor.objects.filter(
        published_filter("post__"), user=models.OuterRef("pk"), post__is_page=False
    )
    return get_user_model().objects.filter(models.Exists(credited))


# --- Authoring: revisions and the media library ---------------------------------------------


class PostRevision(models.Model):
    """A saved copy of a post's title and body, kept on every save that changes them.

    One autosave slot per post and user is kept with `is_autosave=True` and updated in place.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("post"))
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body (Markdown)"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("saved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="post_revisions",
    )
    created_at = models.DateTimeField(_("saved at"), default=timezone.now, db_index=True)
    is_autosave = models.BooleanField(_("autosave"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("post revision")
        verbose_name_plural = _("post revisions")

    def __str__(self) -> str:
        return f"{self.title} ({self.created_at:%Y-%m-%d %H:%M})"


class ReviewNote(models.Model):
    """An editor's note on a post sent back to its author instead of being published."""

    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="review_notes", verbose_name=_("post")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent back by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="review_notes",
    )
    note = models.TextField(_("note"), max_length=5000)
    created_at = models.DateTimeField(_("sent back"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("review note")
        verbose_name_plural = _("review notes")

    def __str__(self) -> str:
        return f"{self.post} ({self.created_at:%Y-%m-%d})"


class MediaImage(models.Model):
    """An uploaded image in the media library, inserted into posts as a Markdown snippet."""

    image = models.ImageField(
        _("image"),
        upload_to="library/%Y/%m/",
        width_field="width",
        height_field="height",
        validators=[validate_library_image],
        help_text=_("JPEG, PNG, GIF or WebP, at most 10 MB."),
    )
    alt_text = models.CharField(
        _("alt text"), max_length=300, help_text=_("Describe the image for readers who cannot see it.")
    )
    caption = models.CharField(_("caption"), max_length=300, blank=True)
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    # The narrower and WebP copies the worker made (posts/images.py): {"name", "width", "height",
    # "widths", "ext"}; empty until it has run.
    variants = models.JSONField(default=dict, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="media_images",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self) -> str:
        return self.alt_text

    @property
    def markdown_snippet(self) -> str:
        alt = self.alt_text.replace("[", "(").replace("]", ")")
        return f"![{alt}]({self.image.url})"


class EmbedMeta(models.Model):
    """The title and thumbnail of an embedded video or fediverse post (posts/embeds.py), fetched
    by the worker from the provider's oEmbed endpoint; the thumbnail is our own copy."""

    url = models.CharField(_("address"), max_length=2000, unique=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    thumbnail = models.CharField(_("thumbnail"), max_length=300, blank=True)  # a storage name
    fetched_at = models.DateTimeField(_("fetched"), auto_now=True)

    class Meta:
        verbose_name = _("embed")
        verbose_name_plural = _("embeds")

    def __str__(self) -> str:
        return self.title or self.url

    @property
    def thumbnail_url(self) -> str:
        return default_storage.url(self.thumbnail) if self.thumbnail else ""


class Redirect(models.Model):
    """An old URL (a WordPress permalink, `/?p=<id>`, `/?cat=<id>`, a nested category path, a
    post's URL before its slug or date changed, ...) that now answers 301.

    `old_path` is normalised by `posts.redirects.normalize_path`: decoded, single slashes, a trailing
    slash, no `index.php`, and for WordPress's query URLs the one query parameter that names the
    object. The target is computed from `post`, `category`, `tag` or `author` on every hit, so a
    later slug change is followed; `target_url` is used when there is none of them.
    """

    old_path = models.CharField(_("old path"), max_length=1000, unique=True)
    post = models.ForeignKey(
        Post,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="redirects",
        verbose_name=_("post"),
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("category"),
    )
    tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("tag")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("author"),
    )
    target_url = models.CharField(
        _("target URL"), max_length=2000, blank=True, help_text=_("Used when there is no post.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["old_path"]
        verbose_name = _("redirect")
        verbose_name_plural = _("redirects")

    def __str__(self) -> str:
        return self.old_path


class ImportRecord(models.Model):
    """Provenance of an imported object: which source site and WordPress object it came from.

    Importing the same file again finds each object here by (source, kind, wp_id) and updates it
    in place instead of creating a duplicate.
    """

    source = models.CharField(_("source"), max_length=500, help_text=_("The exported blog's URL."))
    kind = models.CharField(_("WordPress kind"), max_length=20)
    wp_id = models.CharField(_("WordPress ID"), max_length=300)
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    object_id = models.CharField(_("object ID"), max_length=64)
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("import record")
        verbose_name_plural = _("import records")
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "wp_id"], name="import_record_unique"),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="import_record_object_idx")]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.wp_id}"


class MediaReference(models.Model):
    """A WordPress attachment: the file stays where it was, and its original URL is kept here."""

    post = models.ForeignKey(
        Post,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="media_references",
        verbose_name=_("post"),
    )
    original_url = models.URLField(_("original URL"), max_length=2000)
    page_url = models.URLField(_("attachment page URL"), max_length=2000, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    caption = models.TextField(_("caption"), blank=True)
    alt_text = models.CharField(_("alternative text"), max_length=500, blank=True)
    wp_parent_id = models.BigIntegerField(null=True, blank=True, editable=False)
    uploaded_at = models.DateTimeField(_("uploaded"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("media reference")
        verbose_name_plural = _("media references")

    def __str__(self) -> str:
        return self.original_url


def next_scheduled_publication(using: str) -> float | None:
    """When the next published post with a future date goes live (a timestamp), or None: the
    content version lasts until then (core.cache.version.register_schedule)."""
    when = (
        Post.objects.using(using)
        .filter(status=Post.Status.PUBLISHED, published_at__gt=timezone.now())
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    return when.timestamp() if when else None
