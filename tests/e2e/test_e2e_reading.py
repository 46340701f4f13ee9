"""Journey 1 in a real browser: home → post → tag → archive, plus axe and vnu on those pages."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.e2e.conftest import run_axe, run_vnu


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())


def test_reader_goes_from_home_to_a_post_then_a_tag_then_an_archive(page, live_server, demo):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Two years of sector learning: what blogging taught our network").click()
    assert page.locator("article.post h1").inner_text().startswith("Two years of sector learning")
    page.get_by_role("link", name="blogging").first.click()
    assert "/tag/blogging/" in page.url
    assert page.locator("article.post-card").count() >= 1


@pytest.mark.parametrize("path", ["/", "/tag/blogging/"])
def test_pages_have_no_axe_violations_and_valid_html(audit_page, live_server, demo, path):
    response = audit_page.goto(live_server.url + path)
    assert response.status == 200
    violations = run_axe(audit_page)
    errors = run_vnu(response.text())
    print(f"\n[quality] {path}: axe violations={len(violations)} vnu errors={len(errors)}")
    assert violations == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations]
    assert errors == [], [(e.get("lastLine"), e["message"]) for e in errors]
