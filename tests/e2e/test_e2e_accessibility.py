"""Issue 9 accessibility and valid HTML: axe-core (WCAG 2.x A and AA) and the Nu Html Checker on
every kind of reader page, plus the checks axe does not do: a visible focus indicator, a working
skip link, form errors tied to their fields, comment threads as nested lists, and contrast in dark
mode. Each audited page prints "[quality] <page>: axe violations=N vnu errors=M" for the CI log.
"""

from __future__ import annotations

import re

import pytest

from posts.models import Post
from tests.e2e.conftest import (
    ARCHIVE_MONTH,
    PHONE,
    assert_no_horizontal_scroll,
    audit,
    run_axe,
    run_vnu,
    seed_comment,
    tab_to,
)

INTRO_SLUG = "sector-learning-two-years-on"


def reader_pages(open_post) -> list[tuple[str, str]]:
    """(label, path) for every page type the issue names, on the demo data."""
    year, month = ARCHIVE_MONTH
    intro = Post.objects.get(slug=INTRO_SLUG).get_absolute_url()
    return [
        ("home", "/"),
        ("post with comments", intro),
        ("post with a comment and the comment form", open_post.get_absolute_url()),
        ("year archive", f"/{year}/"),
        ("month archive", f"/{year}/{month:02d}/"),
        ("day archive", f"/{year}/{month:02d}/05/"),
        ("category", "/category/learning/"),
        ("tag", "/tag/blogging/"),
        ("author", "/author/amara/"),
        ("search results", "/search/?q=handwashing"),
        ("admin login", "/admin/login/"),
    ]


def submit_empty_comment(page, live_server, post):
    """Post the comment form with nothing typed; returns the HTML the server answered with."""
    page.goto(live_server.url + post.get_absolute_url())
    with page.expect_response(lambda r: r.url.endswith("/comments/post/")) as answer:
        page.locator("#comment-form").get_by_role("button", name="Post comment").click()
    page.wait_for_load_state()
    assert answer.value.status == 400
    return answer.value.text()


def test_axe_and_vnu_find_nothing_on_any_page(open_page, live_server, site):
    comment = seed_comment(site)
    page = open_page(bypass_csp=True)  # lets axe-core be injected despite the site's CSP
    problems = {}
    more = [
        ("reply form without JS", f"/comments/reply/{comment.pk}/", 200),
        ("check your email", f"/comments/posted/awaiting/?post={site.pk}", 200),
        ("not found", "/no/such/page/", 404),
    ]
    for label, path, status in [(label, path, 200) for label, path in reader_pages(site)] + more:
        response = page.goto(live_server.url + path)
        assert response.status == status, path
        violations, errors = audit(page, label, response.text())
        if violations or errors:
            problems[label] = (
                [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations],
                [(e.get("lastLine"), e["message"]) for e in errors],
            )
    html = submit_empty_comment(page, live_server, site)
    violations, errors = audit(page, "comment form with a validation error", html)
    if violations or errors:
        problems["comment form"] = (
            [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations],
            [(e.get("lastLine"), e["message"]) for e in errors],
        )
    assert problems == {}


def test_phone_size_pages_pass_too(open_page, live_server, site):
    """At 375×740 the layout reflows (WCAG 1.4.10) and targets stay large enough (2.5.8)."""
    seed_comment(site)
    page = open_page(PHONE, bypass_csp=True)
    found = {}
    for label, path in [("home", "/"), ("post with a comment and the comment form", site.get_absolute_url())]:
        response = page.goto(live_server.url + path)
        violations, errors = audit(page, f"{label} (phone)", response.text())
        if violations or errors:
            found[label] = ([v["id"] for v in violations], [e["message"] for e in errors])
        assert_no_horizontal_scroll(page)
    assert found == {}


def test_contrast_holds_in_dark_mode(open_page, live_server, site):
    seed_comment(site)
    page = open_page(bypass_csp=True, color_scheme="dark")
    page.goto(live_server.url + "/")
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(22, 21, 19)", "the dark palette did not apply"
    failures = {}
    for label, path in reader_pages(site):
        page.goto(live_server.url + path)
        contrast = run_axe(page, rules=["color-contrast"])
        print(f"\n[quality] {label} (dark): axe color-contrast violations={len(contrast)}")
        if contrast:
            failures[label] = [n["target"] for v in contrast for n in v["nodes"]][:5]
    submit_empty_comment(page, live_server, site)
    contrast = run_axe(page, rules=["color-contrast"])
    label = "comment form with a validation error (dark)"
    print(f"\n[quality] {label}: axe color-contrast violations={len(contrast)}")
    if contrast:
        failures["comment form"] = [n["target"] for v in contrast for n in v["nodes"]][:5]
    assert failures == {}


FOCUS_STYLE = """el => { const s = getComputedStyle(el);
  return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(' | '); }"""


@pytest.mark.parametrize(
    "selector", ["main a[href]", "#search-q", ".search-form button", "#comment-form textarea"]
)
def test_keyboard_focus_is_visible(open_page, live_server, site, selector):
    page = open_page()
    page.goto(live_server.url + site.get_absolute_url())
    element = page.locator(selector).first
    unfocused = element.evaluate(FOCUS_STYLE)
    tab_to(page, selector, limit=120)
    focused = page.evaluate(f"({FOCUS_STYLE})(document.activeElement)")
    assert focused != unfocused, f"{selector}: focus looks the same as no focus ({focused})"
    style, width = focused.split(" | ")[:2]
    assert style != "none" and float(width.removesuffix("px")) >= 2, focused


def test_skip_link_is_first_visible_on_focus_and_lands_in_main(open_page, live_server, site):
    page = open_page()
    page.goto(live_server.url + Post.objects.get(slug=INTRO_SLUG).get_absolute_url())
    skip = page.locator("a.skip-link")
    assert not skip.evaluate("el => el.getBoundingClientRect().right > 0")  # off-screen until focused
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert skip.inner_text() == "Skip to content"
    box = skip.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["width"] > 0, box
    page.keyboard.press("Enter")
    # The fragment navigation settles after the key event: wait for it rather than race it.
    page.wait_for_url(re.compile(r"#main$"), timeout=5000)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'main'", timeout=5000)
    # The next Tab continues inside the content, past the header's links.
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('main')")


def test_form_errors_are_tied_to_their_fields(open_page, live_server, site):
    page = open_page()
    submit_empty_comment(page, live_server, site)
    form = page.locator("#comment-form")
    checked = 0
    for field in form.locator(".field.has-error").all():
        control = field.locator("input:not([type=hidden]), textarea").first
        error = field.locator("p.error")
        described = (control.get_attribute("aria-describedby") or "").split()
        assert error.get_attribute("id") in described, (control.get_attribute("name"), described)
        assert error.inner_text().strip()
        checked += 1
    assert checked >= 3  # name, email and comment are all required
    textarea = form.locator("textarea[name=comment]")
    description = textarea.evaluate(
        "el => el.getAttribute('aria-describedby').split(' ')"
        ".map(id => document.getElementById(id).textContent.trim()).join(' ')"
    )
    assert form.locator("#id_comment_error").inner_text().strip() in description
    assert "required" in description
    # The page tells the reader something went wrong, in a live region.
    assert "correct the highlighted fields" in page.get_by_role("alert").first.inner_text()


def test_comment_threads_are_nested_lists_with_depth(open_page, live_server, site):
    top = seed_comment(site, user_name="Top Level", user_email="top@example.net", comment="First.")
    reply = seed_comment(site, user_name="Second Level", comment="Second.", parent_id=top.pk)
    deeper = seed_comment(site, user_name="Third Level", comment="Third.", parent_id=reply.pk)
    page = open_page()
    page.goto(live_server.url + site.get_absolute_url())
    for comment, depth in [(top, 1), (reply, 2), (deeper, 3)]:
        item = page.locator(f"#c{comment.pk}")
        lists = item.evaluate(
            "el => { const out = []; for (let n = el; n; n = n.parentElement)"
            " if (n.tagName === 'OL') out.push(n.className); return out; }"
        )
        assert item.evaluate("el => el.tagName") == "LI"
        assert len(lists) == depth, lists
        assert item.get_attribute("aria-level") == str(depth)
        assert lists[-1] == "thread"
    # What a screen reader gets: lists inside list items, three deep.
    tree = page.locator("#comments ol.thread").aria_snapshot()
    lines = [line for line in tree.splitlines() if line.lstrip().startswith("- list")]
    indents = sorted({len(line) - len(line.lstrip()) for line in lines})
    assert len(indents) >= 3, tree


def test_the_audit_tools_do_report_problems(open_page):
    """A guard against a silent audit: a broken page must give axe violations and vnu errors."""
    page = open_page()
    broken = (
        "<!DOCTYPE html><html><head><title>x</title></head><body><img src=a.png><p><div></p></body></html>"
    )
    page.set_content(broken)
    assert "image-alt" in [v["id"] for v in run_axe(page)]
    assert run_vnu(broken), "vnu found no error in broken HTML"
