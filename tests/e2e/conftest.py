"""Browser tests: Playwright driving Debian's Chromium against a live server.

Run with `pytest -m e2e` (.ci/run does). axe-core and vnu-jar come from npm (`npm ci`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
ARTIFACTS = ROOT / "var" / "e2e"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in this thread; the Django ORM calls made by the test
# body are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def _page(chromium, request, **options):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, **options)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(chromium, request):
    """A fresh desktop-size page; a screenshot is saved under var/e2e/ if the test fails."""
    yield from _page(chromium, request)


@pytest.fixture
def audit_page(chromium, request):
    """A page that lets the audit tools inject axe-core despite the site's CSP."""
    yield from _page(chromium, request, bypass_csp=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def run_axe(page, rules: list[str] | None = None) -> list[dict]:
    """Run axe-core in the page with the WCAG 2.x A and AA rules (or only the named `rules`);
    return the violations."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` (.ci/run does)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    if rules:
        run_only = {"type": "rule", "values": rules}
    else:
        run_only = {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
    result = page.evaluate("async runOnly => await axe.run(document, {runOnly})", run_only)
    return result["violations"]


def run_vnu(html: str) -> list[dict]:
    """Validate an HTML document with the Nu Html Checker (on stdin); return the errors."""
    java = shutil.which("java")
    if not java or not VNU_JAR.exists():
        pytest.fail("java and node_modules/vnu-jar are needed: `npm ci` (.ci/run does)")
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", "-"],
        input=html.encode(),
        capture_output=True,
        timeout=120,
    )
    messages = json.loads(result.stderr or result.stdout or b'{"messages": []}')["messages"]
    return [m for m in messages if m.get("type") == "error"]


# --- Quality (issue 9): journeys, accessibility and valid HTML ---------------------------------------

DESKTOP = {"width": 1280, "height": 800}
INTRO_TITLE = "Two years of sector learning: what blogging taught our network"
ARCHIVE_MONTH = (2025, 3)
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def open_page(chromium, request):
    """A factory for pages in fresh contexts (size and options per call), e.g. a second context
    with JavaScript disabled. Every page it opened is screenshotted under var/e2e/ on failure."""
    opened = []

    def open_(viewport=None, **options):
        context = chromium.new_context(viewport=viewport or DESKTOP, **options)
        page = context.new_page()
        opened.append(page)
        return page

    yield open_
    failed = getattr(request.node, "rep_call", None)
    for index, page in enumerate(opened):
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = f"FAILED-{request.node.name}-{index}.png".replace("/", "_")
            page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        page.context.close()


def audit(page, label: str, html: str) -> tuple[list[dict], list[dict]]:
    """axe-core (WCAG 2.x A/AA) in the page and vnu on its HTML; prints one line for the CI log."""
    violations = run_axe(page)
    errors = run_vnu(html)
    print(f"\n[quality] {label}: axe violations={len(violations)} vnu errors={len(errors)}")
    for v in violations:
        print(f"  axe {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}")
    for e in errors:
        print(f"  vnu line {e.get('lastLine')}: {e['message']}")
    return violations, errors


def assert_no_horizontal_scroll(page) -> None:
    # After a click that navigates, page.url changes when the new document commits, before it has
    # a scrolling element: wait for it to load first.
    page.wait_for_load_state("load")
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} scrolls sideways at {inner}px: content is {width}px wide"


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches `selector` (fails after `limit` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector!r} on {page.url}")


@pytest.fixture
def site(transactional_db, settings):
    """The demo blog, its roles, a full month of posts to page through, and no flood wait;
    returns the post that takes comments."""
    from django.core.management import call_command

    from posts.models import Post
    from tests import factories

    settings.COMMENTS_FLOOD_SECONDS = 0
    call_command("seed_demo", stdout=io.StringIO())
    call_command("sync_roles", stdout=io.StringIO())
    author = factories.UserFactory(username="ines", first_name="Inés", last_name="Soto")
    year, month = ARCHIVE_MONTH
    for day in range(1, 13):
        factories.PostFactory(
            title=f"March field diary, day {day}",
            slug=f"march-field-diary-{day}",
            authors=[author],
            published_at=dt.datetime(year, month, day, 12, tzinfo=dt.UTC),
        )
    return Post.objects.get(slug="share-your-field-notes")


def run_worker() -> None:
    """One real task-worker pass (emails go out after commit through django.tasks)."""
    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)


def confirm_path(address: str) -> str:
    """The path of the confirmation link in the newest email sent to `address`."""
    from django.core import mail

    message = [m for m in mail.outbox if address in m.to][-1]
    match = re.search(r"https?://[^/\s]+(/comments/confirm/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def seed_comment(post, **fields):
    """A comment stored as the site would store it (public unless told otherwise)."""
    from django.utils import timezone

    from tests.factories import make_comment

    values = dict(
        user_name="Grace Mwangi",
        user_email="grace@example.net",
        comment="Our district did the same with monthly write-ups.",
        when=timezone.now() - dt.timedelta(hours=3),
    )
    values.update(fields)
    return make_comment(post, **values)
