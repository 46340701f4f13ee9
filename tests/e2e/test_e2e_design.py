"""Issue 23, the design: the four pages a newcomer meets first (home, the seed-like post with its
discussion, an author page, /subscribe/) at 1280 and 375 px, light and dark.

- Each is screenshotted to var/e2e/design/<page>-<width>-<scheme>.png (the record of how it
  looks), checked by axe-core (WCAG 2.x A/AA) in every combination and by vnu once, and must not
  scroll sideways.
- Lighthouse 12.2.3 (npm, pinned in package.json) runs on each, mobile preset, with Debian's
  Chromium: Performance >= 98 (the median of three runs when the first falls short: the score
  varies with the machine's load), Accessibility, Best Practices and SEO 100. Scores are printed
  ("[lighthouse] …") and the JSON reports kept as var/e2e/lighthouse-<page>.json.
"""

from __future__ import annotations

import json
import statistics
import subprocess

import pytest

from tests.e2e.conftest import (
    ARTIFACTS,
    CHROMIUM,
    DESKTOP,
    PHONE,
    ROOT,
    assert_no_horizontal_scroll,
    run_axe,
    run_vnu,
)

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
SHOTS = ARTIFACTS / "design"


def design_pages() -> list[tuple[str, str]]:
    from posts.models import Post

    return [
        ("home", "/"),
        ("post", Post.objects.get(slug="sector-learning-two-years-on").get_absolute_url()),
        ("author", "/author/amara/"),
        ("subscribe", "/subscribe/"),
    ]


def test_the_four_pages_look_right_at_two_widths_light_and_dark(open_page, live_server, site):
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: dict[str, object] = {}
    validated: set[str] = set()
    for scheme in ("light", "dark"):
        for viewport in (DESKTOP, PHONE):
            page = open_page(viewport, bypass_csp=True, color_scheme=scheme)
            for name, path in design_pages():
                response = page.goto(live_server.url + path)
                assert response.status == 200, path
                page.evaluate("document.fonts.ready")
                label = f"{name}-{viewport['width']}-{scheme}"
                page.screenshot(path=str(SHOTS / f"{label}.png"), full_page=True)
                violations = run_axe(page)
                errors = [] if name in validated else run_vnu(response.text())
                validated.add(name)
                print(f"\n[design] {label}: axe violations={len(violations)} vnu errors={len(errors)}")
                if violations or errors:
                    problems[label] = (
                        [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations],
                        [(e.get("lastLine"), e["message"]) for e in errors],
                    )
                assert_no_horizontal_scroll(page)
            page.context.close()
    assert problems == {}
    assert len(list(SHOTS.glob("*.png"))) >= 16


def test_the_post_page_shows_the_design_the_issue_asks_for(open_page, live_server, site):
    page = open_page()
    page.goto(live_server.url + design_pages()[1][1])
    # The text face is the self-hosted one, and nothing was fetched from another host.
    assert page.evaluate("document.fonts.check('1rem Literata')")
    heading = page.locator("#comments-heading").inner_text()
    assert heading.endswith("mentions") and "comments ·" in heading
    assert page.locator("section.mentioned h3").inner_text().lower() == "mentioned elsewhere"
    assert page.locator(".mentions .site").count() >= 1
    # Titles read as titles: not underlined, in the text colour.
    title = page.locator("h1.p-name")
    assert title.evaluate("el => getComputedStyle(el).textDecorationLine") == "none"
    page.goto(live_server.url + "/")
    card_title = page.locator(".card-title a").first
    assert card_title.evaluate("el => getComputedStyle(el).textDecorationLine") == "none"
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Subscribe").get_attribute("href") == "/subscribe/"
    assert nav.locator("a[href='/feed/']").count() == 0  # no raw XML from the main navigation


def run_lighthouse(url: str, report) -> None:
    """One Lighthouse run of `url` into `report`. Lighthouse's own Chrome session sometimes dies on a
    loaded 2-core machine (CI saw an exit 1 on /subscribe/ with nothing wrong with the page), so a
    failed run is tried once more, with what it printed shown; a second failure fails the test."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run",
    ]
    env = {"CHROME_PATH": CHROMIUM, "PATH": "/usr/bin:/bin", "HOME": str(ARTIFACTS)}
    for attempt in (1, 2):
        done = subprocess.run(command, env=env, timeout=180, capture_output=True, text=True)
        if done.returncode == 0:
            return
        said = (done.stderr or done.stdout).strip()[-2000:]
        print(f"\n[lighthouse] {url}: run {attempt} exited {done.returncode}:\n{said}")
    raise AssertionError(f"Lighthouse failed twice on {url} (exit {done.returncode}): {said}")


def lighthouse_scores(url: str, report) -> dict[str, int]:
    """The four category scores (0–100) of one mobile Lighthouse run."""
    run_lighthouse(url, report)
    result = json.loads(report.read_text())
    assert result["configSettings"]["formFactor"] == "mobile"
    return {key: round(cat["score"] * 100) for key, cat in result["categories"].items()}


@pytest.mark.skipif(not LIGHTHOUSE.exists(), reason="node_modules/.bin/lighthouse is missing: run `npm ci`")
def test_lighthouse_scores(live_server, site):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    scores = {}
    for name, path in design_pages():
        report = ARTIFACTS / f"lighthouse-{name}.json"
        runs = [lighthouse_scores(live_server.url + path, report)]
        # The performance score is simulated from timings that this shared 2-core machine makes
        # noisy (the same page scored 97 to 99 in CI). A score under the bar is measured twice
        # more and the median of the three counts, as Lighthouse's guidance on variability advises.
        if runs[0]["performance"] < 98:
            runs += [lighthouse_scores(live_server.url + path, report) for _ in range(2)]
        for run in runs:
            print(f"\n[lighthouse] {name} {path}: {run}")
            assert (run["accessibility"], run["best-practices"], run["seo"]) == (100, 100, 100), (name, run)
        scores[name] = {**runs[-1], "performance": statistics.median(run["performance"] for run in runs)}
    for name, got in scores.items():
        assert got["performance"] >= 98, (name, got)


def test_an_embed_asks_nothing_of_the_provider_before_the_click_and_is_sandboxed_after(
    open_page, live_server, transactional_db
):
    from tests.factories import PostFactory

    post = PostFactory(
        body="Watch the crews at work:\n\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n\nThat is all."
    )
    page = open_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    # The machine has no way out: the provider's frame is answered here, and recorded like any request.
    page.route(
        "https://www.youtube-nocookie.com/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>player</p>"),
    )
    page.goto(live_server.url + post.get_absolute_url())
    page.wait_for_load_state("networkidle")
    outside = [url for url in requests if not url.startswith(live_server.url)]
    assert outside == [], outside
    card = page.locator("figure.embed")
    assert card.locator("iframe").count() == 0
    button = card.get_by_role("button", name="Play here (loads YouTube)")
    button.click()
    frame = card.locator("iframe")
    frame.wait_for()
    assert frame.get_attribute("src") == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    assert set(frame.get_attribute("sandbox").split()) == {
        "allow-scripts",
        "allow-same-origin",
        "allow-popups",
        "allow-presentation",
    }
    page.wait_for_load_state("networkidle")
    outside = [url for url in requests if not url.startswith(live_server.url)]
    assert outside == ["https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"], outside
    print(f"\n[embed] requests to other hosts before the click: 0, after: {outside}")


def test_the_author_page_loads_the_webp_copy_of_the_photo_the_worker_made(
    open_page, live_server, transactional_db, settings, django_capture_on_commit_callbacks
):
    from io import BytesIO
    from pathlib import Path
    from urllib.parse import urlsplit

    from django.core.files.base import ContentFile
    from PIL import Image

    from tests.e2e.conftest import run_worker
    from tests.factories import PostFactory, UserFactory

    user = UserFactory(username="ada", first_name="Ada", last_name="Obi")
    PostFactory(authors=[user])
    buffer = BytesIO()
    Image.new("RGB", (900, 700), (180, 90, 40)).save(buffer, "JPEG")
    with django_capture_on_commit_callbacks(execute=True):
        user.profile.avatar = ContentFile(buffer.getvalue(), name="ada.jpg")
        user.profile.save()
    run_worker()  # the real worker makes the square WebP and JPEG copies

    # The live server serves no media (DEBUG is off, as in production, where the storage or the
    # proxy does): the browser's /media/ requests are answered from the storage the worker wrote.
    media_root = Path(settings.MEDIA_ROOT)
    loaded: list[tuple[str, int, str]] = []

    def serve_media(route):
        path = media_root / urlsplit(route.request.url).path.removeprefix(settings.MEDIA_URL)
        if path.is_file():
            route.fulfill(path=str(path))
        else:
            route.fulfill(status=404, body="")

    page = open_page(device_scale_factor=2)
    page.route(live_server.url + settings.MEDIA_URL + "**", serve_media)
    page.on("response", lambda r: loaded.append((r.url, r.status, r.headers.get("content-type", ""))))
    response = page.goto(live_server.url + "/author/ada/")
    assert run_vnu(response.text()) == []  # the <picture>, srcset and sizes are valid HTML
    photo = page.locator(".author-card picture img.author-photo")
    photo.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    current = photo.evaluate("img => img.currentSrc")
    # A 112 px box on a 2x screen: the 224 px WebP copy, and nothing else of the photo is fetched.
    assert current.endswith("/media/avatars/ada-224x224.webp"), current
    # 224 image pixels at density 2 (the w descriptor over the 112px slot): 112 CSS pixels.
    assert photo.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [112, 112]
    photos = [(url, status, kind) for url, status, kind in loaded if "/media/avatars/" in url]
    assert photos == [(current, 200, "image/webp")], photos
    print(f"\n[author photo] the author page loaded {urlsplit(current).path} and no other copy")
