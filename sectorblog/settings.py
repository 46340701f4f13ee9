"""Settings for sectorblog: one file, read from the environment (see .env.example).

With DEBUG off, missing secrets stop startup with a one-line message instead of falling back to
development values.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


class MissingSetting(SystemExit):
    """Stops startup with one line on stderr, not a traceback."""

    def __init__(self, message: str):
        super().__init__(f"sectorblog: configuration error: {message}")


DEBUG = env_bool("DEBUG", False)
TESTING = "pytest" in sys.modules or env_bool("TESTING")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "dev-only-insecure-key-never-used-in-production"  # noqa: S105
    else:
        raise MissingSetting(
            "SECRET_KEY is not set. With DEBUG off it is required; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )


def served_domain(host: str, port: str) -> str:
    """The host[:port] that `make run` serves on, as a browser or another site can use it.

    A wildcard bind address (0.0.0.0, ::) is no address anyone can open, so it is advertised as
    loopback; to be reached from other machines, set SITE_DOMAIN (and ALLOWED_HOSTS) to their name.
    """
    host = host.strip().strip("[]") or "127.0.0.1"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal in a URL (RFC 3986 section 3.2.2)
    return f"{host}:{port}" if port.strip() else host


# The public origin, used in emails, feeds and linkbacks (the Site object follows it on migrate).
# SITE_DOMAIN wins; unset, it is the HOST and PORT that `make run` serves on and exports to
# gunicorn, the task worker and manage.py alike, so every process advertises the same origin.
SITE_DOMAIN = os.environ.get("SITE_DOMAIN", "").strip() or served_domain(
    os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if DEBUG or TESTING:
        ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
        # `HOST=my-laptop.local make run` answers on that name too.
        _served_host = SITE_DOMAIN.rsplit(":", 1)[0] if not SITE_DOMAIN.endswith("]") else SITE_DOMAIN
        if _served_host not in ALLOWED_HOSTS:
            ALLOWED_HOSTS.append(_served_host)
    else:
        raise MissingSetting(
            "ALLOWED_HOSTS is not set. With DEBUG off it is required, e.g. ALLOWED_HOSTS=blog.example.org"
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

SITE_NAME = os.environ.get("SITE_NAME", "Sector Learning")
SITE_SCHEME = os.environ.get("SITE_SCHEME", "http" if DEBUG or TESTING else "https")
SITE_ID = 1

INSTALLED_APPS = [
    # First, so its admin and sign-in templates override Django's and allauth's.
    "accounts",
    # django.contrib.admin with accounts.admin_site.DeskAdminSite as `admin.site`.
    "accounts.apps.DeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_comments_xtd",
    "django_comments",
    "rest_framework",
    "django_tasks_db",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "core",
    "sectorblog",
    "posts",
    "comments",
    "feeds",
    "newsletter",
    "federation",
    "wordpress",
    "demo",
    "backup",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "wordpress.feedredirects.FeedMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "core.guards.HostileInputMiddleware",
    "core.replicas.ReplicaRoutingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff sessions: last seen and address, at most every SESSION_ACTIVITY_SECONDS; then the
    # two-factor requirement for staff (STAFF_REQUIRE_2FA).
    "accounts.middleware.SessionActivityMiddleware",
    "accounts.middleware.StaffTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
    # After the session, language, CSRF secret, user and CSP nonce (see its docstring), and
    # outside the two below so that a cached post page keeps its X-Pingback/Link headers.
    # ActivityPub requests for post, author and blog URLs get JSON-LD (federation/negotiation.py),
    # before the page cache, which never stores or serves them (PAGE_CACHE_SKIP_ACCEPT).
    "federation.negotiation.ActivityPubNegotiationMiddleware",
    "core.cache.pagecache.PageCacheMiddleware",
    "comments.linkbacks.middleware.LinkbackHeadersMiddleware",
    # Old WordPress permalinks and ?p=<id> links answer 301 (only on 404s and ?p= queries).
    "posts.redirects.WordPressRedirectMiddleware",
]

ROOT_URLCONF = "sectorblog.urls"
WSGI_APPLICATION = "sectorblog.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
                "federation.context_processors.fediverse",
            ],
            # {% url %} with argument-less names reversed once per process (core/templatetags/urls.py).
            "builtins": ["core.templatetags.urls"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# PostgreSQL through psycopg 3 and Django's native connection pool when DATABASE_URL is set: the
# pool hands out already-open connections and checks them on checkout, which is cheaper than
# CONN_MAX_AGE's per-request health check and survives a database restart. SQLite otherwise.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "10000"))
if DATABASE_URL:
    from psycopg_pool import ConnectionPool

    from core.statements import Cursor

    # Server-side binding and prepared statements (core/statements.py), on the primary and the
    # replicas: a statement a connection runs a third time is prepared, so it is parsed once and
    # planned again only when its parameters call for it. DB_PREPARE=0 sends every query with its
    # parameters inlined, as a transaction-mode pooler (PgBouncer before 1.21) needs.
    _prepared_statements = (
        {"server_side_binding": True, "cursor_factory": Cursor, "prepare_threshold": 2}
        if env_bool("DB_PREPARE", True)
        else {}
    )
    _db = dj_database_url.parse(DATABASE_URL)
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db.setdefault("OPTIONS", {})
        _db["CONN_MAX_AGE"] = 0
        _db["OPTIONS"]["options"] = f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
        _db["OPTIONS"].update(_prepared_statements)
        if env_bool("DB_POOL", not TESTING):
            _db["OPTIONS"]["pool"] = {
                "min_size": int(os.environ.get("DB_POOL_MIN", "1")),
                "max_size": int(os.environ.get("DB_POOL_MAX", "8")),
                "timeout": 5,
                # Give up a failing reconnect chain after 2 s: its backoff otherwise grows to 30 s
                # and more, and the site kept answering 503 for 15 s after a 45 s outage ended.
                "reconnect_timeout": 2,
                # Test each connection as it is handed out, so a database restart costs nothing.
                "check": ConnectionPool.check_connection,
            }
        else:
            _db["CONN_HEALTH_CHECKS"] = True
else:
    (VAR_DIR).mkdir(parents=True, exist_ok=True)
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "sectorblog.sqlite3",
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
# Each view runs in one transaction, except views that only read (core/reads.py: the blog's pages
# and feeds), which skip its BEGIN/COMMIT and, on SQLite, its write lock.
_db["ATOMIC_REQUESTS"] = True
DATABASES = {"default": _db}

# Read replicas (PostgreSQL streaming standbys): DATABASE_REPLICA_URLS, comma-separated. Requests
# read from one replica; writes, migrations and the task worker use the primary. A client that
# wrote reads from the primary for DATABASE_PIN_SECONDS (read-your-writes).
DATABASE_PIN_SECONDS = int(os.environ.get("DATABASE_PIN_SECONDS", "10"))
DATABASE_REPLICA_RETRY_SECONDS = int(os.environ.get("DATABASE_REPLICA_RETRY_SECONDS", "15"))
for _index, _url in enumerate(env_list("DATABASE_REPLICA_URLS")):
    _replica = dj_database_url.parse(_url)
    _replica["OPTIONS"] = {
        **_replica.get("OPTIONS", {}),
        "options": f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
        "connect_timeout": 2,
        **_prepared_statements,
    }
    if "pool" in _db.get("OPTIONS", {}):
        _replica["OPTIONS"]["pool"] = {**_db["OPTIONS"]["pool"], "timeout": 2}
    else:
        _replica["CONN_HEALTH_CHECKS"] = True
    _replica["ATOMIC_REQUESTS"] = False
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_index}"] = _replica
if len(DATABASES) > 1:
    DATABASE_ROUTERS = ["core.routers.PrimaryReplicaRouter"]
# Prepared queries (core/prepared.py) compare their SQL with the ORM's own build of every call:
# on in the tests, so the suite proves no prepared query runs with a value frozen at first use.
PREPARED_QUERY_CHECK = env_bool("PREPARED_QUERY_CHECK", TESTING)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "sectorblog"),
            "TIMEOUT": 600,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "sectorblog",
            "TIMEOUT": 600,
            # Entries per process (Django's default is 300): pages, fragments, feed state. Culling
            # drops the least recently used third. A crawl of 1,000 posts grew a worker from 88
            # to 114 MB with 1,000 (109 MB with 300, 128 MB with 3,000).
            "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("LOCAL_CACHE_MAX_ENTRIES", "1000"))},
        }
    }

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Tasks ----------------------------------------------------------------------------------
# django.tasks with the database backend: `manage.py db_worker` runs the queue. Tests may set
# TASKS_IMMEDIATE=1 to run tasks inline.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Periodic tasks enqueued by `manage.py worker`: dotted path of a django.tasks task -> seconds.
# The newsletter's tick starts the mailing of a scheduled post once it is live (no cron needed),
# the weekly digest at its hour, and resumes interrupted mailings.
PERIODIC_TASKS: dict[str, int] = {
    "newsletter.tasks.tick": int(os.environ.get("NEWSLETTER_TICK_SECONDS", "60")),
}
if env_bool("TASKS_IMMEDIATE"):
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# --- Email ----------------------------------------------------------------------------------
# EMAIL_URL: smtp://user:pass@host:587 (STARTTLS), smtps://…:465, or file:///path. Unset: files
# under var/mail/ so a person or a test can read them (and, with DEBUG, a summary on the console).
# `?tls=0` sends in plain text without STARTTLS (a relay on loopback, the test SMTP server);
# port 25 is plain too. `?timeout=` seconds.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Sector Learning <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if EMAIL_URL.startswith(("smtp://", "smtps://")):
    from urllib.parse import parse_qs, unquote, urlsplit

    _mail = urlsplit(EMAIL_URL)
    _mail_query = {k: v[-1] for k, v in parse_qs(_mail.query).items()}
    _port = _mail.port or (465 if _mail.scheme == "smtps" else 587)
    _starttls = (
        _mail.scheme == "smtp" and _port != 25 and _mail_query.get("tls", "1") not in ("0", "false", "no")
    )
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _mail.hostname or "localhost",
                "port": _port,
                "username": unquote(_mail.username or ""),
                "password": unquote(_mail.password or ""),
                "use_ssl": _mail.scheme == "smtps",
                "use_tls": _starttls,
                "timeout": float(_mail_query.get("timeout", "10")),
            },
        }
    }
else:
    MAIL_DIR = (
        Path(EMAIL_URL.removeprefix("file://")) if EMAIL_URL.startswith("file://") else VAR_DIR / "mail"
    )
    MAILERS = {
        "default": {
            # In development (no EMAIL_URL), core.devmail also prints each message's recipients,
            # subject and links, decoded, on the console of the process that sends it.
            "BACKEND": (
                "core.devmail.EmailBackend"
                if DEBUG and not EMAIL_URL
                else "django.core.mail.backends.filebased.EmailBackend"
            ),
            "OPTIONS": {"file_path": str(MAIL_DIR)},
        }
    }

# --- Auth, passwords, brute force, second factor (accounts/) ---------------------------------
# Sign-in, two-factor (TOTP, recovery codes, passkeys), password reset and the sessions list are
# django-allauth's (account, mfa, usersessions); the admin's login page is its login form.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Lockout (django-axes, database handler, so every process and server shares the counts): failures
# per client address across usernames (password spraying) and per username across addresses, each
# up to AXES_FAILURE_LIMIT within AXES_COOLOFF_TIME. Wrong second-factor codes count too. The
# answer is the same whichever limit fired (accounts.lockout.lockout_response).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# allauth's login form names its field "login"; ours keeps Django's "username" (accounts.forms).
AXES_USERNAME_FORM_FIELD = "username"
# Only trust X-Forwarded-For when a proxy is configured (TRUSTED_PROXY_COUNT >= 1).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
)
# django-ipware is not installed, so axes ignores the AXES_IPWARE_* settings: name the client
# address ourselves (REMOTE_ADDR, or the trusted proxy's X-Forwarded-For entry).
AXES_CLIENT_IP_CALLABLE = "core.guards.client_ip"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/admin/"

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "accounts.forms.LoginForm", "reset_password": "accounts.forms.ResetPasswordForm"}
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]  # signup is closed
ACCOUNT_EMAIL_VERIFICATION = "none"  # staff accounts are made by an administrator
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False  # a reset password still needs the second factor
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # the other sessions end; this one stays signed in
# Reset requests per client address and per email address (accounts.limits, accounts.forms);
# allauth's own per-process counters are off for these so there is one rule.
PASSWORD_RESET_RATE_PER_IP = int(os.environ.get("PASSWORD_RESET_RATE_PER_IP", "10"))
PASSWORD_RESET_RATE_PER_EMAIL = int(os.environ.get("PASSWORD_RESET_RATE_PER_EMAIL", "3"))
PASSWORD_RESET_RATE_WINDOW = int(os.environ.get("PASSWORD_RESET_RATE_WINDOW", "3600"))
# How long a password-reset link works, in seconds (Django's default is three days).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", "3600"))
# allauth's own counters are per process without Redis; the lockout above covers sign-in (and the
# second step), accounts.forms covers reset requests.
ACCOUNT_RATE_LIMITS = {"login_failed": None, "reset_password": None, "reset_password_from_key": "20/m/ip"}
# Emails to the account owner when their password or second factor changes.
ACCOUNT_EMAIL_NOTIFICATIONS = True

MFA_ADAPTER = "accounts.adapter.MFAAdapter"
MFA_FORMS = {
    "authenticate": "accounts.forms.MFAAuthenticateForm",
    "authenticate_webauthn": "accounts.forms.MFAAuthenticateWebAuthnForm",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = SITE_NAME
# Passkeys are a second factor here, never a way around the password and the lockout.
MFA_PASSKEY_LOGIN_ENABLED = False
# WebAuthn needs https, except on loopback addresses during development and tests.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or TESTING
# Every account in a staff group must set up a second factor before doing anything else. On in
# production; off under DEBUG and tests unless set (tests that check it set it).
STAFF_REQUIRE_2FA = env_bool("STAFF_REQUIRE_2FA", not (DEBUG or TESTING))
# Staff sessions record their last activity and address at most this often (sessions list).
SESSION_ACTIVITY_SECONDS = int(os.environ.get("SESSION_ACTIVITY_SECONDS", "300"))
USERSESSIONS_TRACK_ACTIVITY = False  # accounts.middleware does it, throttled

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
# The header's language switcher stores the choice in this cookie for a year (Django's default
# would forget it when the browser closes); Accept-Language decides until then.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = not (DEBUG or TESTING)
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site root: /favicon.ico, which pages without an icon link (the
# admin, a feed opened in a tab) make them request. Served by WhiteNoise, before any view.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", not DEBUG) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not (DEBUG or TESTING))
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG or TESTING else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Secure cookies by default in production; SECURE_COOKIES=0 only for plain-http loopback setups.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not (DEBUG or TESTING))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "https:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    # Exactly the frame origins of the allow-listed embeds (posts/embeds.py), added below.
    "frame-src": ["https://www.youtube-nocookie.com", "https://player.vimeo.com"],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# Safe embeds (posts/embeds.py): a video or fediverse post alone on a line in a post becomes a
# click-to-load card. YouTube and Vimeo always; PeerTube instances and Mastodon servers by name.
EMBED_PEERTUBE_HOSTS = [h.lower() for h in env_list("EMBED_PEERTUBE_HOSTS", "framatube.org")]
EMBED_MASTODON_HOSTS = [h.lower() for h in env_list("EMBED_MASTODON_HOSTS", "mastodon.social")]
# Hosts embedded over plain http (tests on loopback only).
EMBED_INSECURE_HOSTS = [h.lower() for h in env_list("EMBED_INSECURE_HOSTS")]
SECURE_CSP["frame-src"] += [
    f"{'http' if host in EMBED_INSECURE_HOSTS else 'https'}://{host}"
    for host in (*EMBED_PEERTUBE_HOSTS, *EMBED_MASTODON_HOSTS)
]

# --- Comments (django-comments-xtd); see shared/design/XTD-NOTES.md --------------------------
COMMENTS_APP = "django_comments_xtd"
COMMENTS_XTD_MODEL = "comments.models.Comment"
COMMENTS_XTD_FORM_CLASS = "comments.forms.CommentForm"
# A reply keeps its true parent at any depth (a WordPress import can be deeper than this site
# draws), so xtd's cap on what it stores is only the column's limit (level is a smallint).
COMMENTS_XTD_MAX_THREAD_LEVEL = 32_000
# The deepest level drawn nested (0-based: 3 draws four levels). Deeper replies are drawn at that
# level after the reply they answer, "in reply to <name>", as WordPress draws them.
COMMENTS_MAX_THREAD_LEVEL = int(os.environ.get("COMMENTS_MAX_THREAD_LEVEL", "3"))
COMMENTS_XTD_CONFIRM_EMAIL = True
COMMENTS_XTD_THREADED_EMAILS = False
COMMENTS_XTD_SALT = (os.environ.get("COMMENTS_XTD_SALT", "") or "sectorblog-" + SECRET_KEY[:16]).encode()
COMMENTS_XTD_FROM_EMAIL = DEFAULT_FROM_EMAIL
COMMENTS_XTD_CONTACT_EMAIL = DEFAULT_FROM_EMAIL
COMMENTS_XTD_LIST_ORDER = ("thread_id", "order")
COMMENTS_XTD_SEND_HTML_EMAIL = False
COMMENTS_XTD_APP_MODEL_OPTIONS = {
    "default": {
        "who_can_post": "all",
        "allow_flagging": True,
        "allow_feedback": False,
        "show_feedback": False,
    }
}
# Comment text cap, checked before rendering. (Not django_comments' COMMENT_MAX_LENGTH: that one
# is baked into its model and would need a migration of the third-party app.)
COMMENTS_MAX_CHARS = int(os.environ.get("COMMENTS_MAX_CHARS", "10000"))
# Days after publication that comments stay open (0 = forever).
COMMENTS_CLOSE_AFTER_DAYS = int(os.environ.get("COMMENTS_CLOSE_AFTER_DAYS", "60"))
# Show linkbacks inside the thread (True) or apart, under "Mentioned elsewhere" (the default).
COMMENTS_LINKBACKS_IN_THREAD = env_bool("COMMENTS_LINKBACKS_IN_THREAD", False)
COMMENTS_HOLD_FIRST_COMMENT = env_bool("COMMENTS_HOLD_FIRST_COMMENT", False)
COMMENTS_USE_GRAVATAR = env_bool("COMMENTS_USE_GRAVATAR", False)
AKISMET_API_KEY = os.environ.get("AKISMET_API_KEY", "")

# --- Linkbacks ------------------------------------------------------------------------------
# Exact host:port pairs that the outbound client may reach even though they are loopback or
# private. Empty in production; tests and local interop runs set it.
LINKBACK_ALLOWED_HOSTS = env_list("LINKBACK_ALLOWED_HOSTS")
# Ports the outbound linkback client may connect to.
LINKBACK_ALLOWED_PORTS = [int(p) for p in env_list("LINKBACK_ALLOWED_PORTS", "80,443,8080")]
# Total time for one outbound fetch (DNS, connect, headers, body), in seconds.
LINKBACK_FETCH_DEADLINE = float(os.environ.get("LINKBACK_FETCH_DEADLINE", "5"))
# Hold an external linkback the first time its source's origin appears (pingbacks, webmentions).
LINKBACK_HOLD_FIRST_FROM_SOURCE = env_bool("LINKBACK_HOLD_FIRST_FROM_SOURCE", True)
# Incoming linkbacks allowed per client IP and per source host in each window (seconds).
LINKBACK_RATE_PER_IP = int(os.environ.get("LINKBACK_RATE_PER_IP", "20"))
LINKBACK_RATE_PER_SOURCE_HOST = int(os.environ.get("LINKBACK_RATE_PER_SOURCE_HOST", "10"))
LINKBACK_RATE_WINDOW = int(os.environ.get("LINKBACK_RATE_WINDOW", "600"))
# Sending: tries per target, first retry delay (doubling each time), webmention re-verify age.
LINKBACK_SEND_MAX_TRIES = int(os.environ.get("LINKBACK_SEND_MAX_TRIES", "5"))
LINKBACK_RETRY_BASE_SECONDS = int(os.environ.get("LINKBACK_RETRY_BASE_SECONDS", "300"))
LINKBACK_REVERIFY_DAYS = int(os.environ.get("LINKBACK_REVERIFY_DAYS", "30"))
# Pingback verifications (a fetch of the source while the caller waits) running at once on this
# machine, all web workers together; past it a ping gets fault 0x32 and its sender retries later.
# Default: a third of the web slots (workers x threads, counted as gunicorn.conf.py does), at least 1.
_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
_WEB_SLOTS = int(os.environ.get("WEB_CONCURRENCY") or _CPUS + 1) * int(
    os.environ.get("GUNICORN_THREADS") or 1
)
LINKBACK_VERIFY_CONCURRENCY = int(os.environ.get("LINKBACK_VERIFY_CONCURRENCY") or max(1, _WEB_SLOTS // 3))
# Lock files of the machine-wide semaphores (core/semaphore.py); must be on a local disk.
SEMAPHORE_DIR = Path(os.environ.get("SEMAPHORE_DIR", VAR_DIR / "semaphores"))
# Seconds between two notifications to one site (WordPress refuses a second one within 15 s).
LINKBACK_SEND_SPACING_SECONDS = int(os.environ.get("LINKBACK_SEND_SPACING_SECONDS", "20"))
# An extra CA bundle the outbound client trusts besides the system's (tests with a private CA).
LINKBACK_TLS_CA_FILE = os.environ.get("LINKBACK_TLS_CA_FILE", "")
WEBSUB_HUB_URL = os.environ.get("WEBSUB_HUB_URL", "")

# --- Feeds ----------------------------------------------------------------------------------
# Full post HTML in feeds (content:encoded / Atom content); off sends the summary only.
FEED_FULL_TEXT = env_bool("FEED_FULL_TEXT", True)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

# --- Discussion (issue 5): moderation, abuse control, spam, privacy --------------------------
# Seconds a second comment from the same IP address or email must wait (0 disables).
COMMENTS_FLOOD_SECONDS = int(os.environ.get("COMMENTS_FLOOD_SECONDS", "15"))
# A comment with at least this many links is held for a moderator.
COMMENTS_HOLD_LINKS = int(os.environ.get("COMMENTS_HOLD_LINKS", "2"))
# Words (or phrases) that hold a comment for a moderator, comma-separated.
COMMENTS_MODERATION_WORDS = env_list("COMMENTS_MODERATION_WORDS")
# Plain functions `check(comment, context) -> Verdict`, run in order (see comments/spam.py).
COMMENTS_SPAM_CHECKS = ["comments.spam.link_stuffing_check", "comments.spam.akismet_check"]
AKISMET_ENDPOINT = os.environ.get("AKISMET_ENDPOINT", "https://rest.akismet.com/1.1/comment-check")
AKISMET_TIMEOUT = float(os.environ.get("AKISMET_TIMEOUT", "3"))
# When the spam service fails, the comment is held and checked again after this many seconds.
COMMENTS_SPAM_RECHECK_SECONDS = int(os.environ.get("COMMENTS_SPAM_RECHECK_SECONDS", "600"))
# Email a post's authors about comments held for moderation (each author also chooses, in their
# profile: every comment, only held ones, or none). 0 turns held-comment emails off site-wide.
COMMENTS_NOTIFY_AUTHORS_OF_HELD = env_bool("COMMENTS_NOTIFY_AUTHORS_OF_HELD", True)
# At most one email per author per post in this many seconds; a burst is listed in one email.
COMMENTS_NOTIFY_AUTHOR_WINDOW = int(os.environ.get("COMMENTS_NOTIFY_AUTHOR_WINDOW", "600"))
# Held linkbacks are told to a post's authors in one digest per post at most this often (seconds).
LINKBACK_HELD_DIGEST_SECONDS = int(os.environ.get("LINKBACK_HELD_DIGEST_SECONDS", "900"))
# Top-level threads per page of a long discussion.
COMMENTS_THREADS_PER_PAGE = int(os.environ.get("COMMENTS_THREADS_PER_PAGE", "50"))
# How long email confirmation and privacy links stay valid, in seconds.
COMMENTS_CONFIRM_MAX_AGE = int(os.environ.get("COMMENTS_CONFIRM_MAX_AGE", str(3 * 24 * 3600)))
COMMENTS_PRIVACY_MAX_AGE = int(os.environ.get("COMMENTS_PRIVACY_MAX_AGE", str(24 * 3600)))
# How long a browser that confirmed an address stays trusted for it (its later comments skip the
# confirmation email; comments/commenter.py), in seconds.
COMMENTS_TRUST_MAX_AGE = int(os.environ.get("COMMENTS_TRUST_MAX_AGE", str(365 * 24 * 3600)))
# --- Authoring (admin editor, previews, media library) ----------------------------------------
# Media storage backend: FileSystemStorage by default; e.g. storages.backends.s3.S3Storage.
STORAGES["default"]["BACKEND"] = os.environ.get(
    "MEDIA_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
)
MEDIA_MAX_UPLOAD_BYTES = int(os.environ.get("MEDIA_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
PREVIEW_RATE_PER_MINUTE = int(os.environ.get("PREVIEW_RATE_PER_MINUTE", "60"))
PREVIEW_LINK_MAX_AGE = int(os.environ.get("PREVIEW_LINK_MAX_AGE", str(7 * 24 * 3600)))
# --- Caches (core/cache/; every default is here, the modules read settings.X) -----------------
# Full pages for anonymous readers. On by default everywhere, tests included: the suite runs the
# way production runs (a test that needs it off says so, and why).
PAGE_CACHE = env_bool("PAGE_CACHE", True)
# Reader-independent parts of pages (sidebar, article, comment thread, blank comment form) kept
# in the cache under the content version, for the requests the page cache can't answer.
FRAGMENT_CACHE = env_bool("FRAGMENT_CACHE", PAGE_CACHE)
# Page-cache hits for anonymous readers answered before the middleware (core/cache/fastpath.py).
FAST_PATH = env_bool("FAST_PATH", True)
PAGE_CACHE_TIMEOUT = int(os.environ.get("PAGE_CACHE_TIMEOUT", "600"))
# Pages with a query string (searches, comment pages) one client may add per PAGE_CACHE_TIMEOUT:
# a flood of made-up variants can't fill the cache (core/cache/pagecache.py, cache_query).
PAGE_CACHE_VARIANTS_PER_CLIENT = int(os.environ.get("PAGE_CACHE_VARIANTS_PER_CLIENT", "30"))
# (/ap/, /.well-known/ and /nodeinfo/ answer federation peers: counts that change without a
# content-version bump, e.g. followers.)
PAGE_CACHE_SKIP_PREFIXES = (
    "/admin/",
    "/accounts/",
    "/healthz",
    "/ap/",
    "/.well-known/",
    "/nodeinfo/",
)
# Requests whose Accept header names one of these media types are neither served from the page
# cache (nor its fast path) nor stored in it: the same URL answers JSON-LD to ActivityPub peers.
PAGE_CACHE_SKIP_ACCEPT = ("application/activity+json", "application/ld+json")
# With Redis: bytes of pages each process also keeps in memory (keys include the version, so
# never stale). 0 turns it off.
PAGE_CACHE_NEAR_BYTES = int(os.environ.get("PAGE_CACHE_NEAR_BYTES", str(16 << 20)))
# Where the content version lives when the cache is per-process (local memory). Default: VAR_DIR.
PAGE_CACHE_VERSION_FILE = os.environ.get("PAGE_CACHE_VERSION_FILE", "")
# `make bench` runs with bench/settings.py on top of these (its /bench/floor and X-Bench-Nocache).

# --- Newsletter: subscriptions to new posts and weekly digests (newsletter/) -------------------
# From address of newsletter emails (default DEFAULT_FROM_EMAIL).
NEWSLETTER_FROM_EMAIL = os.environ.get("NEWSLETTER_FROM_EMAIL", "")
# Lifetime of the confirmation link, and of manage/unsubscribe links in emails, in seconds.
NEWSLETTER_CONFIRM_MAX_AGE = int(os.environ.get("NEWSLETTER_CONFIRM_MAX_AGE", str(3 * 24 * 3600)))
NEWSLETTER_LINK_MAX_AGE = int(os.environ.get("NEWSLETTER_LINK_MAX_AGE", str(365 * 24 * 3600)))
# A post goes to subscribers only if it went live less than this many hours ago (old and
# imported posts never do).
NEWSLETTER_SEND_WINDOW_HOURS = int(os.environ.get("NEWSLETTER_SEND_WINDOW_HOURS", "24"))
# Emails per batch (one SMTP connection each), and batch chains run side by side per mailing.
NEWSLETTER_BATCH_SIZE = int(os.environ.get("NEWSLETTER_BATCH_SIZE", "200"))
NEWSLETTER_PARALLEL = int(os.environ.get("NEWSLETTER_PARALLEL", "2"))
# Most emails per second to the outgoing server, over all workers (0 = no limit; counted in
# core/ratelimit.py's shared store).
NEWSLETTER_SEND_RATE = float(os.environ.get("NEWSLETTER_SEND_RATE", "0"))
# Temporary (4xx) failures: tries per email, and the first retry delay in seconds (doubling).
NEWSLETTER_MAX_ATTEMPTS = int(os.environ.get("NEWSLETTER_MAX_ATTEMPTS", "5"))
NEWSLETTER_RETRY_BASE_SECONDS = int(os.environ.get("NEWSLETTER_RETRY_BASE_SECONDS", "300"))
# Permanent (5xx) failures that suspend an address.
NEWSLETTER_MAX_HARD_BOUNCES = int(os.environ.get("NEWSLETTER_MAX_HARD_BOUNCES", "3"))
# Minutes after which a row a dead worker left half-sent is marked failed (never resent).
NEWSLETTER_STALE_MINUTES = int(os.environ.get("NEWSLETTER_STALE_MINUTES", "15"))
# Sign-up and manage-link requests allowed per client IP per hour and per address per day.
NEWSLETTER_SUBSCRIBE_RATE_PER_IP = int(os.environ.get("NEWSLETTER_SUBSCRIBE_RATE_PER_IP", "10"))
NEWSLETTER_SUBSCRIBE_RATE_PER_ADDRESS = int(os.environ.get("NEWSLETTER_SUBSCRIBE_RATE_PER_ADDRESS", "3"))
# --- Federation (ActivityPub; federation/, README "Federation") ---------------------------------
# The blog and every author with published posts are fediverse actors (@blog@SITE_DOMAIN, …).
FEDERATION_ENABLED = env_bool("FEDERATION_ENABLED", True)
# The blog actor's username (its handle is @<this>@<SITE_DOMAIN's host>).
FEDERATION_BLOG_USERNAME = os.environ.get("FEDERATION_BLOG_USERNAME", "blog")
# Hold new followers for approval in the admin (Follow → pending) instead of accepting them.
FEDERATION_MANUAL_APPROVAL = env_bool("FEDERATION_MANUAL_APPROVAL", False)
# Exact host:port pairs the outbound client may reach although loopback or private (tests only).
FEDERATION_ALLOWED_HOSTS = env_list("FEDERATION_ALLOWED_HOSTS")
# Largest inbox request body accepted, in bytes.
FEDERATION_INBOX_MAX_BYTES = int(os.environ.get("FEDERATION_INBOX_MAX_BYTES", str(256 * 1024)))
# Seconds for one outbound delivery or fetch; parallel deliveries per task.
FEDERATION_DELIVERY_DEADLINE = float(os.environ.get("FEDERATION_DELIVERY_DEADLINE", "10"))
FEDERATION_DELIVERY_CONCURRENCY = int(os.environ.get("FEDERATION_DELIVERY_CONCURRENCY", "8"))
# Retries: first delay in seconds, doubling, for up to this many hours; an inbox failing that
# long is marked dead and skipped until its server answers again.
FEDERATION_RETRY_BASE_SECONDS = int(os.environ.get("FEDERATION_RETRY_BASE_SECONDS", "60"))
FEDERATION_RETRY_HOURS = int(os.environ.get("FEDERATION_RETRY_HOURS", "48"))
# A post first published (or imported) with a date older than this many days is not sent to
# followers as new; later edits of it are not sent either.
FEDERATION_ANNOUNCE_MAX_AGE_DAYS = int(os.environ.get("FEDERATION_ANNOUNCE_MAX_AGE_DAYS", "7"))
# Remote actor documents are fetched again after this many seconds.
FEDERATION_ACTOR_TTL = int(os.environ.get("FEDERATION_ACTOR_TTL", str(24 * 3600)))
# Follows accepted from one domain per window (seconds), counted across processes.
FEDERATION_FOLLOWS_PER_DOMAIN = int(os.environ.get("FEDERATION_FOLLOWS_PER_DOMAIN", "30"))
FEDERATION_FOLLOW_WINDOW = int(os.environ.get("FEDERATION_FOLLOW_WINDOW", "3600"))
# Hold a fediverse reply for a moderator when its sender has no approved reply yet.
COMMENTS_HOLD_FIRST_FEDIVERSE_REPLY = env_bool("COMMENTS_HOLD_FIRST_FEDIVERSE_REPLY", True)
if FEDERATION_ENABLED:
    PERIODIC_TASKS["federation.tasks.revive_dead_inboxes"] = 6 * 3600
    PERIODIC_TASKS["federation.tasks.forget_old_receipts"] = 3600
