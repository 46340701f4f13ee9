"""The site's public origin: the one place that turns SITE_SCHEME and SITE_DOMAIN into URLs that
readers, feed readers, email recipients and other sites can follow."""

from __future__ import annotations

from urllib.parse import urljoin

from django.conf import settings
from django.dispatch import Signal

# Sent when absolute URLs of this site that were stored earlier no longer lead anywhere: the public
# origin changed (`make run` on another PORT, a new SITE_DOMAIN), or a post moved to a new
# permalink. Keyword arguments: `moves`, a list of (old_prefix, new_prefix) absolute URL pairs, and
# `using`, the database alias. Apps that store such URLs rewrite them (comments: internal pingbacks).
urls_moved = Signal()


def public_origin() -> str:
    """scheme://host[:port] of the public site, with no trailing slash."""
    return f"{settings.SITE_SCHEME}://{settings.SITE_DOMAIN}"


def absolute_url(path: str = "/") -> str:
    """`path` made absolute against the public origin; absolute URLs pass through unchanged."""
    return urljoin(public_origin() + "/", path)
