"""Prepared statements on PostgreSQL (`DB_PREPARE`, settings), and the one way they fail.

With `DB_PREPARE` psycopg sends the parameters apart from the SQL (server-side binding) and
prepares a statement the third time a connection runs it; from then on PostgreSQL neither
parses nor analyses it again on that connection, and plans it again only where a plan for these
parameter values pays (PostgreSQL's plan cache decides, per statement).

A prepared statement is bound to the columns it returns. Once a migration changes the type of one
of them (varchar(100) to varchar(200), say), every connection that prepared the statement before
gets "cached plan must not change result type" each time it runs it, until the connection forgets
its statements. psycopg forgets them on a ROLLBACK, so in a transaction one request fails and the
connection heals; in autocommit, where the pages of core/reads.py run their queries, nothing
would roll back and the pool would keep the connection failing for up to an hour (its
max_lifetime). This cursor forgets the connection's statements there and runs the query again:
a statement refused at that point never ran, so running it again is safe.
"""

from __future__ import annotations

from django.db.backends.postgresql.base import ServerBindingCursor
from psycopg import errors

# PostgreSQL's function that raises "cached plan must not change result type" (diag.source_function
# is not translated, the message is).
REVALIDATION = "RevalidateCachedQuery"


class Cursor(ServerBindingCursor):
    """Django's server-side binding cursor, which survives a stale prepared statement in autocommit."""

    def execute(self, query, params=None, **kwargs):
        try:
            return super().execute(query, params, **kwargs)
        except errors.FeatureNotSupported as error:
            if not self.connection.autocommit or error.diag.source_function != REVALIDATION:
                raise
            self.connection.execute("DEALLOCATE ALL")
            return super().execute(query, params, **kwargs)
