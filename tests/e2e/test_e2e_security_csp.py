"""CSP in a real browser (issue 11, case 7): markup that slipped past the sanitizer still cannot run.

A post's stored HTML is overwritten behind the sanitizer's back with an inline script, an event
handler and a javascript: link; Chromium loads the page under the site's nonce-based CSP and none of
them runs, while the page's own nonce-bearing script does load.
"""

from __future__ import annotations

import pytest

from posts.models import Post

pytestmark = pytest.mark.e2e


# The browser comes from tests/e2e/conftest.py (`page`: Debian's Chromium, one per session).


@pytest.fixture
def injected_post_url(live_server, post):
    """The URL of a post whose stored HTML holds script the sanitizer would never have let in.
    (Set up before Playwright starts: its event loop forbids ORM calls in the same thread.)"""
    injected = (
        "<p id='injected'>Injected</p>"
        "<script>window.__xss = 'inline';</script>"
        "<img src='data:,' onerror=\"window.__xss_handler = 'onerror'\">"
        "<a id='js-link' href=\"javascript:window.__xss_link='clicked'\">click</a>"
    )
    Post.objects.filter(pk=post.pk).update(body_html=injected)
    return live_server.url + post.get_absolute_url()


def test_an_injected_inline_script_without_the_nonce_does_not_run(injected_post_url, page):
    browser_page = page
    violations, scripts_loaded = [], []
    browser_page.on(
        "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
    )
    browser_page.on(
        "requestfinished", lambda r: scripts_loaded.append(r.url) if r.url.endswith("site.js") else None
    )

    response = browser_page.goto(injected_post_url)
    assert response.status == 200
    assert "nonce-" in response.headers["content-security-policy"]
    assert browser_page.locator("#injected").count() == 1  # the markup is there...
    browser_page.click("#js-link")
    browser_page.wait_for_timeout(200)
    # ...but none of it ran.
    assert browser_page.evaluate("window.__xss") is None
    assert browser_page.evaluate("window.__xss_handler") is None
    assert browser_page.evaluate("window.__xss_link") is None
    assert violations, "Chromium reported no CSP violation"
    assert scripts_loaded, "the page's own nonce-bearing script did not load"
    nonce_ok = browser_page.evaluate("document.querySelector('script[src$=\"site.js\"]').nonce.length > 0")
    assert nonce_ok
