"""The caching subsystem: one contract for every cache the site keeps.

- `version`: the content version, one value that changes whenever anything a public page shows
  changes, and the watcher that renews it after every write to a table an app registered as
  content (`register_content`).
- `deps`: dependency tags. A comment renews its post's discussion tags, not the version; pages and
  fragments record which posts' discussions they show, and are served only while those are as
  they were (`changing`, `discussion`, `{% shows_discussion %}`).
- `policy`: whether a request may be served from or stored in the page cache (one rule, used by
  the fast path and the middleware alike), and the request flag a layer outside may set to make
  the caches step aside for one request (`BYPASS`).
- `pagecache`: whole pages for anonymous readers (the middleware), with per-visitor CSRF tokens
  and CSP nonces put back on every serve, and conditional GET.
- `fastpath`: a WSGI wrapper answering page-cache hits before Django's middleware.
- `fragments`: reader-independent parts of pages (`{% fragment %}`, core/templatetags), keyed by
  the content version.

Settings (defaults in sectorblog/settings.py, read here as settings.X): PAGE_CACHE,
FRAGMENT_CACHE, FAST_PATH, PAGE_CACHE_TIMEOUT, PAGE_CACHE_VARIANTS_PER_CLIENT,
PAGE_CACHE_SKIP_PREFIXES, PAGE_CACHE_SKIP_ACCEPT, PAGE_CACHE_NEAR_BYTES, PAGE_CACHE_VERSION_FILE.
"""
