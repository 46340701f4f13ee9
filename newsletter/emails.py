"""The emails subscribers receive: a post, a weekly digest, the confirmation and manage links.

Post emails are rendered once per (post, language, full or excerpt) and reused for every
subscriber of that kind; only the two signed links differ, put in by plain substitution of
placeholders (signed values are URL-safe, so they need no escaping in HTML or text).

Every link and image is absolute on the public origin, and each list email carries `List-Id`,
`List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 2919; RFC 2369 §3.2; RFC 8058 §3.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from core.mail import templated_email
from core.origin import absolute_url, public_origin
from posts.models import Post, display_name

MANAGE_MARK = "__NEWSLETTER_MANAGE_URL__"
UNSUBSCRIBE_MARK = "__NEWSLETTER_UNSUBSCRIBE_URL__"
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre", "blockquote", "figure", "table"}


def list_id() -> str:
    """RFC 2919 List-Id: a name and a dot-atom identifier under the site's host (no port)."""
    host = urlsplit(public_origin()).hostname or "localhost"
    return f"{settings.SITE_NAME} <posts.{host}>"


def from_email() -> str:
    return settings.NEWSLETTER_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL


def absolute_html(fragment: str) -> str:
    """The fragment with every href, src and srcset made absolute on the public origin."""
    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    root.rewrite_links(lambda link: absolute_url(link) if not link.startswith(("#", "mailto:")) else link)
    for element in root.iter("img", "source"):
        srcset = element.get("srcset")
        if srcset:
            parts = []
            for candidate in srcset.split(","):
                url, _, descriptor = candidate.strip().partition(" ")
                parts.append(f"{absolute_url(url)} {descriptor}".strip())
            element.set("srcset", ", ".join(parts))
    inner = (root.text or "") + "".join(
        lxml.html.tostring(child, encoding="unicode", method="html") for child in root
    )
    return inner


def html_to_text(fragment: str) -> str:
    """Readable plain text of sanitized post HTML: paragraphs, list items, links as <url>."""
    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for link in root.iter("a"):
        href = link.get("href", "")
        text = link.text_content().strip()
        if href and href != text and not href.startswith("#"):
            link.tail = f" <{href}>" + (link.tail or "")
    for image in root.iter("img"):
        alt = image.get("alt", "").strip()
        image.tail = f"[{alt}] <{image.get('src', '')}>" + (image.tail or "")
    for item in root.iter("li"):
        item.text = "- " + (item.text or "")
        item.tail = "\n" + (item.tail or "").strip()
    for block in root.iter(*_BLOCKS):
        block.tail = "\n\n" + (block.tail or "")
    text = root.text_content()
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass
class Rendered:
    """One email's parts with the two per-subscriber links still as placeholders."""

    subject: str
    text: str
    html: str
    language: str

    def message(self, *, to: str, manage_url: str, unsubscribe_url: str) -> EmailMultiAlternatives:
        def fill(value: str) -> str:
            return value.replace(MANAGE_MARK, manage_url).replace(UNSUBSCRIBE_MARK, unsubscribe_url)

        message = EmailMultiAlternatives(
            self.subject,
            fill(self.text),
            from_email(),
            [to],
            headers={
                "List-Id": list_id(),
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Content-Language": self.language,
            },
        )
        message.attach_alternative(fill(self.html), "text/html")
        return message


def _byline(post: Post) -> str:
    names = []
    for authorship in post.authorships.all():
        names.append(display_name(authorship.user))
    return ", ".join(names)


def _post_context(post: Post, *, full: bool) -> dict:
    body_html = absolute_html(post.body_html) if full else ""
    return {
        "post": post,
        "post_url": absolute_url(post.get_absolute_url()),
        "full": full,
        "body_html": body_html,
        "body_text": html_to_text(body_html) if full else "",
        "summary": post.summary,
        "image_url": absolute_url(post.featured_image.url) if post.featured_image else "",
        "byline": _byline(post),
    }


def _frame() -> dict:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_ORIGIN": public_origin(),
        "manage_url": MANAGE_MARK,
        "unsubscribe_url": UNSUBSCRIBE_MARK,
    }


def _rendered(name: str, context: dict, language: str) -> Rendered:
    subject = " ".join(render_to_string(f"newsletter/email/{name}_subject.txt", context).split())
    return Rendered(
        subject=subject,
        text=render_to_string(f"newsletter/email/{name}.txt", context),
        html=render_to_string(f"newsletter/email/{name}.html", context),
        language=language,
    )


def render_post(post: Post, *, language: str, full: bool) -> Rendered:
    """A new post, for one language and content choice."""
    with translation.override(language):
        item = _post_context(post, full=full)
        return _rendered("post", {**_frame(), **item, "post_item": item}, language)


def render_digest(posts: list[Post], *, language: str, full: bool) -> Rendered:
    """The weekly digest of `posts`, for one language and content choice."""
    with translation.override(language):
        items = [_post_context(p, full=full) for p in posts]
        return _rendered("digest", {**_frame(), "items": items, "count": len(posts)}, language)


def transactional(*, to: str, language: str, template: str, context: dict):
    """A one-off email (confirm, manage link) in `language`, plain text."""
    return templated_email(
        to=to,
        language=language,
        subject_template=f"newsletter/email/{template}_subject.txt",
        body_template=f"newsletter/email/{template}.txt",
        context=context,
        from_email=from_email(),
    )
