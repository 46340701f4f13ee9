"""The site's public origin: the one place that turns SITE_SCHEME and SITE_DOMAIN into URLs that
readers, feed readers, email recipients and other sites can follow."""

from __future__ import annotations

from urllib.parse import urljoin

from django.conf import settings


def public_origin() -> str:
    """scheme://host[:port] of the public site, with no trailing slash."""
    return f"{settings.SITE_SCHEME}://{settings.SITE_DOMAIN}"


def absolute_url(path: str = "/") -> str:
    """`path` made absolute against the public origin; absolute URLs pass through unchanged."""
    return urljoin(public_origin() + "/", path)
