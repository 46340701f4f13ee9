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
    cache.clear()
    yield
    cache.clear()


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
