"""The foundation: settings that fail loudly, health checks, demo content, deployment files."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command

from posts.models import Post

ROOT = Path(__file__).resolve().parent.parent


def run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run Python in a fresh process with the project's settings and a given environment."""
    drop = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    full_env = {k: v for k, v in os.environ.items() if k not in drop}
    full_env.update(env)
    full_env.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


SETUP = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'sectorblog.settings');"
    " django.setup()"
)


def test_production_without_secret_key_exits_with_one_clear_line():
    result = run_django(SETUP, DEBUG="0", ALLOWED_HOSTS="blog.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_production_without_allowed_hosts_exits_with_one_clear_line():
    result = run_django(SETUP, DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_settings_start_with_secrets():
    result = run_django(
        SETUP + "; from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)",
        DEBUG="0",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="blog.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_healthz_is_200_when_the_database_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["primary"]["status"] == "ok"


def test_pages_answer_503_with_retry_after_when_the_database_is_down():
    code = SETUP + (
        "; from django.test import Client; c = Client(raise_request_exception=False);"
        "r = c.get('/healthz'); print(r.status_code);"
        "r = c.get('/'); print(r.status_code, r.get('Retry-After'), b'Traceback' in r.content)"
    )
    result = run_django(
        code,
        DEBUG="0",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere",
        DB_POOL="0",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0] == "503"
    assert lines[1] == "503 30 False"


def test_seed_demo_is_idempotent_and_builds_the_seed_page(client, db):
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Post.objects.count(), _comment_count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Post.objects.count(), _comment_count()) == counts

    intro = Post.objects.get(slug="sector-learning-two-years-on")
    response = client.get(intro.get_absolute_url())
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    article = page.select_one("article.post")
    assert article.h1.get_text(strip=True) == intro.title
    assert article.select_one(".byline a[rel=author]").get_text() == "Amara Okafor"
    assert article.select("h2") and article.select("ul li")

    comments = page.select("li.kind-comment")
    assert len(comments) == 3
    with_site = [c for c in comments if c.select_one(".comment-author a")]
    assert len(with_site) == 1
    assert with_site[0].select_one(".comment-author a")["rel"] == ["nofollow", "ugc"]
    reply = page.select_one("li.kind-comment ol.children li.kind-comment")
    assert reply is not None and reply["aria-level"] == "2"

    pingbacks = page.select("li.kind-pingback")
    assert len(pingbacks) == 4
    for pingback in pingbacks:
        text = pingback.select_one(".comment-body").get_text(strip=True)
        assert re.fullmatch(r"\[…\] .+ \[…\]", text), text
    sources = [p.select_one("a.source")["href"] for p in pingbacks]
    assert any(".es/" in s for s in sources) and any(".fr/" in s for s in sources)
    assert sum(intro.get_absolute_url() not in s and "example" not in s for s in sources) == 2


def _comment_count():
    from comments.models import Comment

    return Comment.objects.count()


def test_seed_demo_volume_adds_posts_and_a_threaded_discussion(db):
    call_command("seed_demo", posts=30, comments=40, pingbacks=3, stdout=io.StringIO())
    from comments.models import Comment

    long_post = Post.objects.get(slug="a-long-discussion")
    assert Post.objects.filter(slug__startswith="field-note-").count() == 30
    assert Comment.objects.filter(post=long_post, kind="comment").count() == 40
    assert Comment.objects.filter(post=long_post, kind="pingback").count() == 3
    assert Comment.objects.filter(post=long_post, level__gt=0).exists()


def test_home_lists_published_posts_only(client, post, author):
    from tests.factories import PostFactory

    PostFactory(title="A draft nobody should see", status=Post.Status.DRAFT, authors=[author])
    page = BeautifulSoup(client.get("/").content, "html.parser")
    titles = [h.get_text(strip=True) for h in page.select("article.post-card h2")]
    assert titles == [post.title]


@pytest.mark.parametrize("name", ["Dockerfile", "compose.yaml"])
def test_deployment_files_name_only_paths_and_commands_that_exist(name):
    text = (ROOT / name).read_text()
    for src in re.findall(r"^COPY (?:--\S+ )*(\S+) ", text, re.M):
        if not src.startswith("/"):
            assert (ROOT / src).exists(), f"{name} copies {src}, which is not in the repo"
    for module in re.findall(r"\b(sectorblog\.wsgi)\b", text):
        assert (ROOT / (module.replace(".", "/") + ".py")).exists()
    for command in re.findall(r"manage\.py\"?,? \"?(\w+)", text):
        result = subprocess.run(
            [sys.executable, "manage.py", "help", command],
            cwd=ROOT,
            capture_output=True,
            env={**os.environ, "DEBUG": "1"},
            timeout=60,
        )
        assert result.returncode == 0, f"{name} runs manage.py {command}, which does not exist"
    assert "/healthz" in text
