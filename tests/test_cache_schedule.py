"""A scheduled post appears the moment its time comes, with the page cache on.

No save happens at publication time: the content version carries the time of the next scheduled
publication and is renewed once it has passed (core/cache/version.py). These tests schedule a
post while a version already exists and pages are cached, as on a running site.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from tests import factories


def text_of(response) -> str:
    return BeautifulSoup(response.content, "html.parser").get_text(" ")


@pytest.mark.django_db
def test_a_post_scheduled_while_pages_are_cached_appears_when_its_time_comes(client, post, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"  # a version exists, nothing scheduled yet
    soon = timezone.now() + dt.timedelta(minutes=30)
    factories.PostFactory(title="Scheduled for later", published_at=soon, authors=[post.authors.first()])
    assert "Scheduled for later" not in text_of(client.get("/"))
    assert client.get("/")["X-Page-Cache"] == "hit"
    time_machine.move_to(soon + dt.timedelta(seconds=1), tick=False)
    assert "Scheduled for later" in text_of(client.get("/"))
    assert "Scheduled for later" in text_of(Client().get("/feed/"))


@pytest.mark.django_db(transaction=True)
def test_a_post_scheduled_while_a_reader_renews_the_version_is_not_forgotten(author, time_machine, settings):
    """A reader renews an expired version: it looks up the next scheduled publication, and
    before it stores the result an editor's transaction schedules a post, commits, and stores its
    own renewal. The reader's store must not make the site forget that publication time."""
    time_machine.move_to(timezone.now(), tick=False)
    factories.PostFactory(title="Already out", authors=[author])
    soon = timezone.now() + dt.timedelta(minutes=30)
    editor_done = threading.Event()

    def editor() -> None:
        try:
            factories.PostFactory(title="Scheduled meanwhile", published_at=soon, authors=[author])
        finally:
            connections.close_all()
            editor_done.set()

    def editor_commits_after_the_readers_lookup(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "published_at" in sql and not editor_done.is_set():
            threading.Thread(target=editor).start()  # its own connection, its own commit
            assert editor_done.wait(30)
        return result

    # The version as another process left it: expired (the previous scheduled time has passed).
    Path(settings.PAGE_CACHE_VERSION_FILE).write_text("expired 0")
    with connection.execute_wrapper(editor_commits_after_the_readers_lookup):
        Client().get("/")  # the reader renews the expired version
    assert editor_done.is_set()
    time_machine.move_to(soon + dt.timedelta(seconds=1), tick=False)
    assert "Scheduled meanwhile" in text_of(Client().get("/"))
