"""Shared fixtures. Tests run against DATABASE_URL when set (PostgreSQL in CI), SQLite otherwise."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from tests import factories


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"
    # Machine-wide semaphores (core/semaphore.py) per test, not shared by parallel test processes.
    settings.SEMAPHORE_DIR = tmp_path / "semaphores"
    # The page and fragment caches are on, as in production; each test gets its own content
    # version (the file shared by processes), so parallel test workers never bump each other's.
    settings.PAGE_CACHE_VERSION_FILE = str(tmp_path / "content-version")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def uncached_render(settings):
    """The page and fragment caches off, for a test that pins the queries (or templates) of a
    page rendered from scratch. They are on by default, as in production, where a cached page
    costs no queries at all; such a test says why it turns them off."""
    settings.PAGE_CACHE = False
    settings.FRAGMENT_CACHE = False


@pytest.fixture
def redis_cache(settings):
    """The shared-cache set-up (REDIS_URL), on a scratch database and a key prefix of its own;
    yields a client for that database and the prefix, and deletes its keys afterwards."""
    import uuid

    import redis
    from django.test import override_settings

    url = "redis://127.0.0.1:6379/15"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379: the shared-cache variant needs one")
    # A prefix of its own and no clear(): Redis's clear() is FLUSHDB, and this Redis may be shared.
    prefix = f"sb-test-{uuid.uuid4().hex}"
    config = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "TIMEOUT": 60}
    with override_settings(CACHES={"default": {**config, "KEY_PREFIX": prefix}}):
        yield client, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.fixture
def author(db):
    return factories.UserFactory(username="amara", first_name="Amara", last_name="Okafor")


@pytest.fixture
def post(db, author):
    return factories.PostFactory(authors=[author])


@pytest.fixture
def make_comment(db):
    """Create a public comment (or linkback) on a post, as the site would store it."""

    return factories.make_comment


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_user(
        "editor", "editor@example.org", "pw-editor-123", is_staff=True
    )
    client.force_login(user)
    return client


# --- Discussion (issue 5) --------------------------------------------------------------------------


@pytest.fixture
def immediate_tasks(settings):
    """Run django.tasks tasks inline when enqueued (wrap requests in captureOnCommitCallbacks)."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def comment_form_data():
    """The comment form's fields as a reader's browser would send them, read from the post page."""
    from bs4 import BeautifulSoup

    def read(client, post, **fields):
        page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
        form = page.select_one("form#comment-form")
        data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
        data.update(name="Ama Reader", email="ama@example.net", url="", comment="Useful notes.")
        data.update(fields)
        return data

    return read


# --- Email through a real SMTP server (tests/interop/smtp.py) --------------------------------------


@pytest.fixture
def smtp_server(settings):
    """aiosmtpd on loopback, and the site's mail going to it through Django's SMTP backend."""
    from tests.interop.smtp import SMTPServer

    with SMTPServer() as server:
        settings.MAILERS = server.mailers()
        yield server
