"""Extension points for apps above comments (the federation app's likes and boosts row), which
register here in their AppConfig.ready(); comments never imports them.

A thread header provider is `provider(post) -> str` returning safe HTML (built with format_html)
shown above the thread, or "". Its output is cached with the page's fragments under the content
version, so a provider's writes must renew it (post_save/post_delete → content_version_bump).
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import SafeString, mark_safe

_thread_headers: list[Callable] = []


def register_thread_header(provider: Callable) -> None:
    if provider not in _thread_headers:
        _thread_headers.append(provider)


def thread_header_html(post) -> SafeString:
    # Each provider returns format_html output (already safe); joining keeps it safe.
    return mark_safe("".join(str(provider(post)) for provider in _thread_headers))  # noqa: S308
