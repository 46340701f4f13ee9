"""Markup details the browser audits found (issue 9), pinned without a browser.

A `<time datetime>` must be a valid HTML date-time: at most three fraction digits, so a comment or
post stamped with microseconds must not leak them (the Nu Html Checker rejects six).
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from django.utils import timezone

# HTML "valid global date and time string", as this site writes it (no fraction at all).
MACHINE_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def test_time_elements_carry_valid_datetimes_to_the_second(client, post, make_comment):
    post.published_at = timezone.now().replace(microsecond=123456) - timezone.timedelta(hours=1)
    post.save()
    make_comment(post, when=timezone.now().replace(microsecond=654321))
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    stamps = [t["datetime"] for t in page.select("time[datetime]")]
    assert len(stamps) >= 2  # the byline and the comment
    assert all(MACHINE_DATETIME.match(s) for s in stamps), stamps
