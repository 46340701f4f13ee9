"""Moving a site between databases with export_site / import_site: a live SQLite site (gunicorn,
caches on) is archived, restored on PostgreSQL, archived again and restored on SQLite; every copy
serves the same public pages, compared by a digest of the rendered pages."""

from __future__ import annotations

import difflib
import os
import re
from urllib.parse import urlsplit

import pytest

from tests.live import LiveSite, needs_gunicorn
from tests.pagedigest import normalize, pages_digest

PG_URL = os.environ.get("DATABASE_URL", "") or "postgres://postgres@127.0.0.1:5432/postgres"


def _skip(reason: str) -> None:
    print(f"SKIPPED: {reason}")
    pytest.skip(reason)


def _need_postgres() -> str:
    if not PG_URL.startswith(("postgres://", "postgresql://")):
        _skip(f"DATABASE_URL is not PostgreSQL ({PG_URL.split(':')[0]}); the move needs a PostgreSQL server")
    try:
        import psycopg

        with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3):
            pass
    except Exception as exc:  # noqa: BLE001 - any failure to connect is a reason to skip
        _skip(f"no PostgreSQL server at {PG_URL.rsplit('@', 1)[-1]}: {exc}")
    return PG_URL


def public_pages(site: LiveSite) -> dict[str, bytes]:
    sitemap = site.get("/sitemap.xml")
    assert sitemap.status == 200
    paths = {urlsplit(loc).path for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap.text)}
    paths |= {"/", "/feed/", "/feed/atom/", "/comments/feed/", "/sitemap.xml"}
    pages = {}
    for path in sorted(paths):
        response = site.get(path)
        assert response.status == 200, (path, response.status)
        pages[path] = response.body
    return pages


def digest_of(pages: dict[str, bytes], origins: tuple[str, ...]) -> str:
    return pages_digest({path: normalize(body, origins) for path, body in pages.items()})


def assert_same(path: str, expected: bytes, got: bytes, origins: tuple[str, ...]) -> None:
    a, b = normalize(expected, origins).decode(), normalize(got, origins).decode()
    if a != b:
        diff = difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
        pytest.fail(f"{path} differs after the move:\n" + "\n".join(list(diff)[:40]))


def test_sqlite_to_postgresql_and_back(tmp_path, monkeypatch):
    if reason := needs_gunicorn():
        _skip(reason)
    pg = _need_postgres()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    source = LiveSite(tmp_path / "sqlite", workers=2)
    monkeypatch.setenv("DATABASE_URL", pg)
    target = LiveSite(tmp_path / "postgres", workers=2, seed=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    back = LiveSite(tmp_path / "sqlite-again", workers=2, seed=False)
    assert not source.database_url and target.database_url and not back.database_url
    origins = (source.origin, target.origin, back.origin)
    first = tmp_path / "from-sqlite.tar.gz"
    second = tmp_path / "from-postgres.tar.gz"
    with source:
        before = public_pages(source)
        assert len(before) > 10
        made = source.manage("export_site", str(first))
    digest = re.search(r"content digest \(SHA-256\): (\w+)", made.stdout)[1]
    target.prepare()
    restored = target.manage("import_site", str(first))
    assert digest in restored.stdout
    with target.start():
        on_postgres = public_pages(target)
        target.manage("export_site", str(second))
    back.prepare()
    back.manage("import_site", str(second))
    with back.start():
        again = public_pages(back)
    assert on_postgres.keys() == before.keys() == again.keys()
    for path in before:
        assert_same(path, before[path], on_postgres[path], origins)
    assert digest_of(on_postgres, origins) == digest_of(before, origins) == digest_of(again, origins)
