"""The log of personal-data erasures made from the admin (backup/personal.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Erasure(models.Model):
    """One erase of one person's data: who asked, when, what went. The person is named only by a
    SHA-256 of their address or login, so the log itself holds no personal data of theirs."""

    class Subject(models.TextChoices):
        COMMENTER = "commenter", _("Commenter (by email)")
        AUTHOR = "author", _("Author account")

    subject = models.CharField(_("whose data"), max_length=10, choices=Subject.choices)
    subject_digest = models.CharField(_("address or login (SHA-256)"), max_length=64, db_index=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("erased by"),
    )
    reassigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("posts reassigned to"),
    )
    summary = models.JSONField(_("what was erased"), default=dict)
    created_at = models.DateTimeField(_("erased at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.subject_digest[:12]} ({self.created_at:%Y-%m-%d})"
