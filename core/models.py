"""Tables of the shared infrastructure: the rate-limit store used when there is no Redis."""

from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """One named counter in a time window, shared by every process that uses the database.

    Written only through core/ratelimit.py, with an atomic upsert; `expires` is in Unix
    milliseconds so the SQL compares plain integers the same way on SQLite and PostgreSQL.
    """

    key = models.CharField(max_length=200, primary_key=True)
    count = models.BigIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = "rate counter"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
