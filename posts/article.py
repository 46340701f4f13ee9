"""The post page's article (the post, its byline, author box, share links, neighbours and related
posts), written directly in Python.

The same markup lives, readable, in templates/posts/_article.html with the includes it uses
(includes/_byline.html, includes/_author_box.html, includes/_author_photo.html,
includes/_share.html); tests/test_article_render.py checks that both give the same HTML, apart
from indentation and blank lines, in every language, with names and titles that need escaping.
The post page uses this module because, when the fragment cache is off or misses, the article is
drawn on every request. The benchmark's long-discussion post (one author, one tag, three related
posts), its data in hand, median of 200 renders on the 2-core machine beside other work
(2026-12-07, load average near 5):

    python (posts/article.py)         0.32 ms
    templates (posts/_article.html)   0.79 ms

Every value is escaped as a template escapes it; interface text is the translation as
{% translate %} and {% blocktranslate %} give it. Change the templates and this module together.
"""

from __future__ import annotations

import html

from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import formats
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from posts import cards
from posts.models import Post, display_name
from posts.templatetags import blog


def escape(value) -> str:
    """What a template shows for {{ value }} (or value|stringformat:'s'): str() of it, escaped
    unless already safe (render_value_in_context). comments/formhtml.py uses it too: a bound
    field is drawn by str(), as its widget."""
    if not isinstance(value, str):
        value = str(value)
    if isinstance(value, SafeData):
        return value
    return html.escape(value)


def _author_url(username: str) -> str:
    return reverse("posts:author", args=[username])


def byline(post: Post) -> str:
    """includes/_byline.html, as the cards write it (posts/cards.py), in the active language."""
    return cards.CardWriter().byline(post) + "\n"


def _author_photo(user, size: int) -> str:
    """includes/_author_photo.html (lazy: the post page never passes `eager`)."""
    profile = getattr(user, "profile", None)
    if profile is not None and profile.avatar:
        return str(blog.author_photo(profile, size, eager=False))
    initials = blog.initials(display_name(user))
    return (
        f'<span class="author-photo initials" data-initials="{escape(initials)}" aria-hidden="true"></span>'
    )


def author_box(post: Post, language: str) -> str:
    """includes/_author_box.html."""
    authorships = list(post.authorships.all())
    title = gettext("About the authors") if len(authorships) > 1 else gettext("About the author")
    parts = [
        f'<section class="author-box" aria-labelledby="author-box-title" lang="{escape(language)}">\n'
        f'  <h2 id="author-box-title" class="visually-hidden">{title}</h2>\n'
    ]
    for authorship in authorships:
        user = authorship.user
        url = escape(_author_url(user.username))
        profile = getattr(user, "profile", None)
        bio = ""
        if profile is not None and profile.bio:
            bio = f'        <p class="p-note bio">{linebreaksbr(profile.bio, autoescape=True)}</p>\n'
        parts.append(
            '    <div class="author-card h-card">\n'
            f"      {_author_photo(user, 72)}\n"
            '      <div class="author-text">\n'
            f'        <p class="author-name"><a class="p-name u-url" href="{url}">'
            f"{escape(display_name(user))}</a></p>\n"
            f"{bio}"
            "      </div>\n"
            "    </div>\n"
        )
    parts.append("</section>\n")
    return "".join(parts)


def share(post: Post, language: str) -> str:
    """includes/_share.html with {% share_links post %}'s data."""
    data = blog.share_links(post)
    links = "".join(
        f'      <li><a class="share-{escape(key)}" href="{escape(href)}" rel="nofollow noopener" '
        f'target="_blank">{escape(label)}</a></li>\n'
        for key, label, href in data["share_links"]
    )
    return (
        f'<section class="share" lang="{escape(language)}" aria-labelledby="share-title">\n'
        f'  <h2 id="share-title">{gettext("Share this post")}</h2>\n'
        "  <ul>\n"
        f"{links}"
        "    <li>\n"
        f'      <button type="button" class="copy-link" data-url="{escape(data["share_url"])}" '
        f'data-done="{gettext("Link copied")}" '
        f'data-failed="{gettext("Copy failed: select the address and copy it.")}" hidden>'
        f"{gettext('Copy link')}</button>\n"
        '      <span class="copy-status" role="status" aria-live="polite"></span>\n'
        "    </li>\n"
        "  </ul>\n"
        "</section>\n"
    )


def _called(value):
    """A context value as a template resolves it: callables (views' Lazy values) are called."""
    return value() if callable(value) else value


def article(
    post: Post,
    *,
    translations=(),
    is_preview: bool = False,
    previous_post=None,
    next_post=None,
    related_posts=(),
) -> SafeString:
    """templates/posts/_article.html: the article, the previous/next links and related posts."""
    language = get_language()
    lang = escape(language)
    out = [f'<article class="post h-entry" lang="{escape(post.language)}">\n  <header class="post-header">\n']
    categories = list(post.categories.all())
    if categories:
        links = ", ".join(
            f'<a class="p-category" href="{escape(c.get_absolute_url())}">{escape(c.name)}</a>'
            for c in categories
        )
        out.append(
            f'      <p class="kicker categories" lang="{lang}">\n'
            f'        <span class="visually-hidden">{gettext("Filed under")}</span>\n'
            f"        {links}\n"
            "      </p>\n"
        )
    minutes = post.reading_minutes
    reading = ngettext("%(minutes)s minute read", "%(minutes)s minutes read", minutes) % {
        "minutes": escape(formats.localize(minutes))
    }
    out.append(
        f'    <h1 class="p-name">{escape(post.title)}</h1>\n'
        f"{byline(post)}"
        f'    <p class="meta" lang="{lang}">\n'
        f'      <span class="reading-time">{reading}</span>\n'
        "    </p>\n"
    )
    if translations:
        items = "".join(
            f'          <li><a href="{escape(t["post"].get_absolute_url())}" hreflang="{escape(t["code"])}" '
            f'lang="{escape(t["code"])}" rel="alternate">{escape(t["name"])}</a></li>\n'
            for t in translations
        )
        out.append(
            f'      <nav class="translations" lang="{lang}" aria-label="{gettext("Translations")}">\n'
            f"        <span>{gettext('Also in:')}</span>\n"
            f"        <ul>\n{items}        </ul>\n"
            "      </nav>\n"
        )
    out.append("  </header>\n")
    if post.featured_image:
        picture = blog.featured_image(
            post, "(max-width: 42rem) 100vw, 40rem", eager=True, css_class="u-photo"
        )
        out.append(f'    <figure class="featured-image">\n      {escape(picture)}\n    </figure>\n')
    play = gettext("Play here (loads %(provider)s)") % {"provider": "{provider}"}
    out.append(
        f"  {escape(blog.post_toc(post))}\n"
        f'  <div class="e-content" data-embed-load="{play}">{post.body_html}</div>\n'
    )
    tags = list(post.tags.all())
    if tags:
        links = ", ".join(
            f'<a class="p-category" rel="tag" href="{escape(t.get_absolute_url())}">{escape(t.name)}</a>'
            for t in tags
        )
        out.append(f'    <p class="tags" lang="{lang}">{gettext("Tags:")} {links}</p>\n')
    out.append(author_box(post, language))
    if not is_preview:
        out.append(share(post, language))
    out.append(f'</article>\n<nav class="post-nav" aria-label="{gettext("More posts")}">\n')
    previous_post = _called(previous_post)
    if previous_post:
        out.append(
            f'    <a rel="prev" href="{escape(previous_post.get_absolute_url())}">'
            '<span class="visually-hidden">'
            f"{gettext('Previous post:')} </span>← {escape(previous_post.title)}</a>\n"
        )
    next_post = _called(next_post)
    if next_post:
        out.append(
            f'    <a rel="next" href="{escape(next_post.get_absolute_url())}"><span class="visually-hidden">'
            f"{gettext('Next post:')} </span>{escape(next_post.title)} →</a>\n"
        )
    out.append("</nav>\n")
    related_posts = _called(related_posts)
    if related_posts:
        items = "".join(
            f'        <li><a href="{escape(r.get_absolute_url())}" lang="{escape(r.language)}">'
            f"{escape(r.title)}</a></li>\n"
            for r in related_posts
        )
        out.append(
            '  <section class="related" aria-labelledby="related-title">\n'
            f'    <h2 id="related-title">{gettext("Related posts")}</h2>\n'
            f"    <ul>\n{items}    </ul>\n"
            "  </section>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped; the body is sanitised HTML)
