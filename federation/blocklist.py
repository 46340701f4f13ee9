"""Importing a shared domain block list.

Accepted formats: the CSV Mastodon exports from Moderation → Federation (a header row starting
with `#domain`, then `domain,severity,reject_media,reject_reports,public_comment,obfuscate`; rows
with severity `noop` are skipped), or a plain list with one domain per line (`#` comments and
blank lines ignored). Wildcard (`*.example`) and obfuscated (`exa*ple.com`) entries are skipped:
a block names a real domain, and it covers its subdomains.
"""

from __future__ import annotations

import csv
import io
import re

from django.db import transaction

from federation.models import DomainBlock

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def domain_blocks_import(*, text: str, source: str = "") -> tuple[int, int]:
    """Add the domains of a block list; returns (added, skipped lines). Idempotent."""
    added = skipped = 0
    rows = list(csv.reader(io.StringIO(text)))
    is_csv = bool(rows) and rows[0] and rows[0][0].strip().lower() in ("#domain", "domain")
    with transaction.atomic():
        for index, row in enumerate(rows):
            if not row or not row[0].strip():
                continue
            cell = row[0].strip().lower().rstrip(".")
            if is_csv and index == 0:
                continue
            if not is_csv and cell.startswith("#"):
                continue
            severity = row[1].strip().lower() if is_csv and len(row) > 1 else "suspend"
            comment = row[4].strip()[:500] if is_csv and len(row) > 4 else ""
            if severity == "noop" or not _DOMAIN.match(cell):
                skipped += 1
                continue
            _block, created = DomainBlock.objects.get_or_create(
                domain=cell, defaults={"reason": comment, "imported_from": source[:300]}
            )
            added += created
    return added, skipped
