"""The caching subsystem's contract (core/cache/): what it relies on from Django, pinned here, and
the rules that keep it one subsystem (one cacheability rule, defaults only in settings.py, no
benchmark names in production code)."""

from __future__ import annotations

import re
from pathlib import Path

from django.middleware.csrf import get_token

from core.cache import policy
from core.cache.pagecache import masked_csrf_token, token_matches

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "sectorblog", "posts", "comments", "accounts", "newsletter", "federation", "wordpress")
PRODUCTION = [path for app in APPS for path in (ROOT / app).glob("**/*.py")]


def test_token_matches_reads_the_tokens_django_makes(rf):
    # The page cache finds a page's CSRF tokens by unmasking them as Django masks them; it does
    # not call Django's private _does_token_match, so this pins that Django's masking is the one
    # it undoes (a Django upgrade that changes it fails here).
    request = rf.get("/")
    tokens = [get_token(request) for _ in range(20)]
    secret = request.META["CSRF_COOKIE"]
    assert all(token_matches(token, secret) for token in tokens)
    assert all(token_matches(masked_csrf_token(request), secret) for _ in range(20))
    other = rf.get("/")
    get_token(other)
    assert not any(token_matches(token, other.META["CSRF_COOKIE"]) for token in tokens)
    assert not token_matches("x" * 64, secret) and not token_matches(tokens[0][:40], secret)


def test_one_rule_decides_what_may_be_cached(settings):
    base = {"method": "GET", "path": "/", "accept": "text/html", "cookies": {}, "environ": {}}
    assert policy.verdict(**base) is policy.Verdict.YES
    assert policy.verdict(**{**base, "method": "POST"}) is policy.Verdict.NO
    assert policy.verdict(**{**base, "path": "/admin/"}) is policy.Verdict.NO
    assert policy.verdict(**{**base, "accept": "application/activity+json"}) is policy.Verdict.NO
    assert policy.verdict(**{**base, "cookies": {"messages": "x"}}) is policy.Verdict.NO
    assert policy.verdict(**{**base, "environ": {policy.BYPASS: "page"}}) is policy.Verdict.NO
    session = {settings.SESSION_COOKIE_NAME: "abc"}
    assert policy.verdict(**{**base, "cookies": session}) is policy.Verdict.IF_ANONYMOUS
    settings.PAGE_CACHE = False
    assert policy.verdict(**base) is policy.Verdict.NO
    for module in ("fastpath", "pagecache"):
        assert "policy.verdict(" in (ROOT / "core" / "cache" / f"{module}.py").read_text(), module


def test_defaults_live_in_settings_and_bench_names_stay_out_of_production():
    for path in sorted((ROOT / "core" / "cache").glob("*.py")):
        text = path.read_text()
        assert not re.search(r"getattr\(settings, \"(PAGE_CACHE|FRAGMENT_CACHE|FAST_PATH)", text), path
    for path in PRODUCTION:
        text = path.read_text()
        for name in ("settings.BENCH", "bench_cold", "benchview", "X_BENCH_NOCACHE"):
            assert name not in text, (path, name)
