"""Prepared statements on PostgreSQL (DB_PREPARE, on by default; core/statements.py).

- The site's connections prepare a statement they run a third time: the whole suite runs with
  server-side binding, and with prepared statements wherever a test repeats a query.
- After a migration changes the type of a column a prepared statement returns, a query in
  autocommit (every read-only page) still answers; in a transaction one query fails, and the
  rollback heals the connection.
"""

from __future__ import annotations

import os

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection

pytestmark = pytest.mark.django_db

PROBE = (
    'SELECT "binding_probe"."id", "binding_probe"."name" FROM "binding_probe" WHERE "binding_probe"."id" = %s'
)


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's: run with DATABASE_URL=postgres://…")
    if os.environ.get("DB_PREPARE", "1") in {"0", "false", "no", "off"}:
        pytest.skip("DB_PREPARE=0 turns prepared statements off")


def prepared_statements(cursor) -> list[str]:
    cursor.execute("SELECT statement FROM pg_prepared_statements")
    return [statement for (statement,) in cursor.fetchall()]


def test_a_query_run_three_times_is_prepared(postgresql):
    users = get_user_model().objects.filter(username="nobody")
    for _ in range(3):
        assert not users.exists()
    with connection.cursor() as cursor:
        statements = prepared_statements(cursor)
    assert any('FROM "auth_user"' in statement and "$1" in statement for statement in statements)


@pytest.fixture
def probe_table(postgresql):
    """A table of this test's own, and a second connection that alters it like a migration."""
    params = connection.get_connection_params()
    migrator = psycopg.connect(**params, autocommit=True)
    migrator.execute("CREATE TABLE binding_probe (id integer PRIMARY KEY, name varchar(10))")
    migrator.execute("INSERT INTO binding_probe VALUES (1, 'first')")
    site = psycopg.connect(**params, autocommit=True)
    for _ in range(3):
        site.cursor().execute(PROBE, [1])
    assert any("binding_probe" in s for s in prepared_statements(site.cursor()))
    yield site, migrator
    site.close()
    migrator.execute("DROP TABLE binding_probe")
    migrator.close()


def test_a_changed_column_type_fails_no_query_in_autocommit(probe_table):
    site, migrator = probe_table
    migrator.execute("ALTER TABLE binding_probe ALTER COLUMN name TYPE varchar(20)")
    assert site.cursor().execute(PROBE, [1]).fetchall() == [(1, "first")]
    assert site.cursor().execute(PROBE, [1]).fetchall() == [(1, "first")]


def test_in_a_transaction_one_query_fails_and_the_rollback_heals_the_connection(probe_table):
    site, migrator = probe_table
    migrator.execute("ALTER TABLE binding_probe ALTER COLUMN name TYPE varchar(20)")
    site.autocommit = False
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="cached plan"):
        site.cursor().execute(PROBE, [1])
    site.rollback()
    assert site.cursor().execute(PROBE, [1]).fetchall() == [(1, "first")]
