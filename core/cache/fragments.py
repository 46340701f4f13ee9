"""Cached fragments of pages, keyed by the content version (core.cache.version).

The page cache (core.cache.pagecache) stores whole pages for anonymous readers. A page it cannot
serve (a signed-in reader, a first request after any change, another language) is rendered by
the view, and most of that work is the same on every page: the sidebar widgets, a post's article
with its neighbours and related posts, a long comment thread. Those parts are stored here, under
a key that starts with the content version, so they follow the page cache's invalidation rule
exactly: any change to posts or taxonomy bumps the version and every fragment is rebuilt on its
next use; a comment renews only the fragments that show its post's discussion, which carry that
post's dependency tags (core.cache.deps), recorded while they were made.

Keys also carry the active language and a digest of the templates, translation catalogues and
Python modules, so a deploy never serves fragments rendered by the old code, even from a shared
Redis cache.

A fragment is never stored when its HTML contains a per-request value: the CSP nonce or a CSRF
form field. Fragments are on whenever the page cache is (`FRAGMENT_CACHE`, default `PAGE_CACHE`):
without it nothing bumps the content version.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.middleware.csp import get_nonce
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import get_language

from core.cache import deps
from core.cache.policy import fragments_bypassed
from core.cache.version import content_version
from core.origin import public_origin

logger = logging.getLogger(__name__)
FRAGMENT_SECONDS = 24 * 3600
_digest: dict[str, str] = {}


def enabled(request=None) -> bool:
    """Whether fragments are used (FRAGMENT_CACHE), for this request unless a layer outside asked
    every cache to step aside (core.cache.policy.BYPASS)."""
    return settings.FRAGMENT_CACHE and not fragments_bypassed(request)


def deploy_digest() -> str:
    """A digest of what renders pages: the code (every project template, compiled catalogue and
    Python module, tests aside) and the settings. Fragment and page keys carry it, so after a
    deploy or a configuration change a shared cache never serves what was rendered before (a
    new SITE_NAME or WEBSUB_HUB_URL; a new SECRET_KEY, which the page cache's placeholders
    derive from). The code is read once per process; the settings again after any change."""
    if "value" not in _digest:
        if "code" not in _digest:
            base = Path(settings.BASE_DIR)
            files = (
                sorted(base.glob("templates/**/*.html"))
                + sorted(base.glob("locale/*/LC_MESSAGES/*.mo"))
                + sorted(
                    p
                    for app in ("core", "sectorblog", "posts", "comments")
                    for p in (base / app).glob("**/*.py")
                )
            )
            code = hashlib.blake2b(digest_size=8)
            for path in files:
                code.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
            _digest["code"] = code.hexdigest()
        digest = hashlib.blake2b(_digest["code"].encode(), digest_size=8)
        digest.update(_settings_fingerprint().encode())
        _digest["value"] = digest.hexdigest()
    return _digest["value"]


class _NotPlain(Exception):
    pass


def _plain(value):
    """`value` as JSON-ready data that is the same in every process, or _NotPlain (objects such
    as a connection pool's callbacks, whose repr names a memory address)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Promise):
        with translation.override(None):  # the msgid itself, whatever language is active
            return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(item) for item in value), key=repr)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    raise _NotPlain


def _settings_fingerprint() -> str:
    values = {}
    for name in dir(settings):
        if name.isupper():
            try:
                values[name] = _plain(getattr(settings, name))
            except _NotPlain:
                continue  # not plain data (DATABASES with its pool): nothing a page shows
    return json.dumps(values, sort_keys=True, default=str)


@receiver(setting_changed)
def _settings_changed(**_signal_kwargs) -> None:
    _digest.pop("value", None)


def fragment_key(name: str, parts) -> str | None:
    """The key, or None when the content version can't be read (the cache is down).

    Fragments hold absolute links (share links, linkback endpoints), so the public origin is part
    of the key: a shared cache never serves a fragment made for another origin (another PORT)."""
    vary = hashlib.blake2b(repr((public_origin(), *parts)).encode(), digest_size=12).hexdigest()
    try:
        version = content_version()
    except Exception:  # noqa: BLE001
        logger.warning("fragment cache unavailable", exc_info=True)
        return None
    return f"frag:{version}:{get_language()}:{deploy_digest()}:{name}:{vary}"


# Stored fragments carry what they show of the discussion (core.cache.deps): (MARK, value, tags,
# as_of). A read checks the tags and adds them to the page being rendered.
MARK = "deps1"


def _unwrap(stored, fresh: dict[str, int] | None = None):
    """The value of a stored fragment, or None when a discussion it shows changed since."""
    if not (isinstance(stored, tuple) and len(stored) == 4 and stored[0] == MARK):
        return None  # written by older code
    _mark, value, tags, as_of = stored
    if tags:
        if fresh is None:
            ok = deps.fresh(tags, as_of)
        else:
            ok = all(tag in fresh and fresh[tag] <= as_of for tag in tags)
        if not ok:
            return None
        deps.depend(tags)
    return value


def get(key: str | None):
    if key is None:
        return None
    try:
        return _unwrap(cache.get(key))
    except Exception:  # noqa: BLE001 (a cache outage costs a render, never the page)
        logger.warning("fragment cache unavailable", exc_info=True)
        return None


def is_shareable(html: str, request) -> bool:
    """False when the HTML carries something of this request's: its CSP nonce or a CSRF field."""
    if "csrfmiddlewaretoken" in html:
        return False
    nonce = get_nonce(request) if request is not None else None
    return not (nonce and str(nonce) in html)  # LazyNonce is false until something rendered it


def _wrapped(value, recorder: deps.Recorder | None, tags) -> tuple | None:
    """`value` as stored, with its tags: `tags` when given (() for a key that names its content,
    such as a digest), else what `recorder` saw while it was made. None when it must not be
    stored: a change committed while it was made, or nothing recorded what it shows."""
    if tags is not None:
        return (MARK, value, tuple(tags), 0)
    if recorder is None:
        return None
    final = recorder.final_tags()
    if deps.storable(final, recorder.as_of) is None:
        return None
    return (MARK, value, tuple(sorted(final)), recorder.as_of)


def put(
    key: str | None,
    value,
    request=None,
    html: str | None = None,
    *,
    recorder: deps.Recorder | None = None,
    tags=None,
) -> None:
    """Store a fragment. Its dependencies are `tags` if given, else those `recorder` (by default
    the page being rendered) collected."""
    if key is None or (html is not None and not is_shareable(html, request)):
        return
    try:
        stored = _wrapped(value, recorder or deps.current(), tags)
        if stored is not None:
            cache.set(key, stored, FRAGMENT_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("fragment cache unavailable", exc_info=True)


def remember(name: str, parts, compute, request=None):
    """`compute()`, kept as fragment `name` for `parts` while fragments are on; a None result is
    not stored (it is computed again next time). What compute() shows of the discussion is
    recorded while it runs (core.cache.deps.discussion or declare; nothing said: any comment)."""
    if not enabled(request):
        return compute()
    key = fragment_key(name, parts)
    value = get(key)
    if value is None:
        with deps.recording() as recorder:
            value = compute()
        if value is not None:
            put(key, value, recorder=recorder)
    return value


def get_many(keys: list[str]) -> dict:
    """The fragments found under `keys` and still current."""
    try:
        stored = cache.get_many(keys)
        tags = {tag for entry in stored.values() if isinstance(entry, tuple) for tag in entry[2]}
        fresh = deps.values(tags)
        found = {key: _unwrap(entry, fresh) for key, entry in stored.items()}
        return {key: value for key, value in found.items() if value is not None}
    except Exception:  # noqa: BLE001
        logger.warning("fragment cache unavailable", exc_info=True)
        return {}


def put_many(values: dict, *, tags) -> None:
    """Store fragments that all show the same part of the discussion (`tags`; () for none)."""
    try:
        cache.set_many({key: _wrapped(value, None, tags) for key, value in values.items()}, FRAGMENT_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("fragment cache unavailable", exc_info=True)
