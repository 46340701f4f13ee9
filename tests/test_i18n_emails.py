"""Emails go out in the language of the page where the commenter posted.

A reader who comments on a page shown in Spanish gets the confirmation in Spanish; a French
reader who follows the thread gets the reply notification in French, whatever language the
replier used. The page language is the interface language (Accept-Language or the cookie).
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail

from comments.models import Comment

pytestmark = pytest.mark.django_db


def post_comment(client, post, comment_form_data, capture, **fields):
    data = comment_form_data(client, post, **fields)
    with capture(execute=True):
        response = client.post("/comments/post/", data)
    assert response.status_code == 302, response.content[:500]
    return response


def confirm_link(message) -> str:
    return re.search(r"https?://\S+(/comments/confirm/\S+/)", message.body).group(1)


def test_confirmation_and_follow_up_each_in_the_commenters_page_language(
    client, post, comment_form_data, immediate_tasks, django_capture_on_commit_callbacks
):
    # A French reader, on the page in French (Accept-Language), comments and follows the thread.
    french = client.__class__(HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    post_comment(
        french,
        post,
        comment_form_data,
        django_capture_on_commit_callbacks,
        name="Lucie",
        email="lucie@example.net",
        comment="Très utile.",
        followup="on",
    )
    assert Comment.objects.get(user_email="lucie@example.net").language == "fr"
    [confirm] = mail.outbox
    assert confirm.to == ["lucie@example.net"]
    assert confirm.subject == f"Veuillez confirmer votre commentaire sur « {post.title} »"
    assert confirm.body.startswith("Bonjour Lucie,")
    assert "Le lien ne fonctionne qu’une fois" in confirm.body
    assert confirm.extra_headers["Content-Language"] == "fr"
    with django_capture_on_commit_callbacks(execute=True):
        assert french.get(confirm_link(confirm)).status_code in (200, 302)
    assert Comment.objects.get(user_email="lucie@example.net").is_public

    # A Spanish reader, who chose Spanish with the switcher (the cookie), replies.
    mail.outbox.clear()
    spanish = client.__class__(REMOTE_ADDR="192.0.2.20")  # another reader, another address
    spanish.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    post_comment(
        spanish,
        post,
        comment_form_data,
        django_capture_on_commit_callbacks,
        name="Pablo",
        email="pablo@example.net",
        comment="Estoy de acuerdo.",
    )
    [confirm] = mail.outbox
    assert confirm.to == ["pablo@example.net"]
    assert confirm.subject == f"Confirma tu comentario en «{post.title}»"
    assert confirm.body.startswith("Hola, Pablo:")
    assert "Si no escribiste este comentario" in confirm.body
    assert confirm.extra_headers["Content-Language"] == "es"

    # Pablo confirms; Lucie hears about it in French, the language she posted in.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        spanish.get(confirm_link(confirm))
    followups = [m for m in mail.outbox if m.to == ["lucie@example.net"]]
    assert len(followups) == 1
    [note] = followups
    assert note.subject == f"Nouveau commentaire sur « {post.title} »"
    assert "Pablo a commenté" in note.body
    assert "Lire et répondre :" in note.body
    assert note.extra_headers["Content-Language"] == "fr"


def test_privacy_link_email_in_the_page_language(client, immediate_tasks, django_capture_on_commit_callbacks):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/comments/privacy/", {"email": "pablo@example.net"})
    assert response.status_code in (200, 302)
    [message] = mail.outbox
    assert message.subject == "Tus comentarios: verlos o borrarlos"
    assert message.body.startswith("Alguien, probablemente tú,")
    assert message.extra_headers["Content-Language"] == "es"
