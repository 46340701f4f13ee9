"""Where the newsletter joins the apps below it, all through hooks they offer (called once from
NewsletterConfig.ready()):

- posts' post_save signal: a post saved live starts its mailing after commit (a scheduled post is
  found by the worker's `tick` when its time comes);
- comments' personal-data registry: the privacy page lists and deletes subscriptions;
- posts' admin panels: the send log and "send a test to me" on a post's change page;
- posts' /subscribe/ page: the email section.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from comments.privacy import PersonalDataProvider, personal_data_register
from newsletter import services, tasks
from newsletter.forms import SubscribeForm
from newsletter.models import Mailing
from posts import admin as posts_admin
from posts.follow import FollowSection, follow_section_register
from posts.models import Post


def queue_mailing_on_publish(sender, instance: Post, raw: bool = False, **kwargs) -> None:
    if raw or not services.post_is_newly_published(instance):
        return
    post_id = instance.pk
    transaction.on_commit(lambda: tasks.start_mailing.enqueue(post_id))


def _describe(email: str) -> list[str]:
    return [
        gettext("Subscribed to new posts (%(frequency)s), since %(date)s.")
        % {"frequency": s.get_frequency_display(), "date": f"{s.created_at:%Y-%m-%d}"}
        for s in services.subscriptions_by_email(email=email)
    ]


def _delete(email: str) -> int:
    return services.subscriptions_delete(email=email)


def post_panel(request, post: Post):
    """The post's newsletter: how its mailing went, and a test send to the editor."""
    if not request.user.has_perm("posts.view_post"):
        return ""
    mailing = Mailing.objects.filter(post=post).first()
    if mailing is not None:
        status = format_html(
            '<a id="newsletter-send-log" href="{}">{}</a>',
            reverse("admin:newsletter_mailing_change", args=[mailing.pk]),
            gettext("Sent to subscribers: see the send log"),
        )
    else:
        status = gettext("Not sent to subscribers yet: it goes out when the post is published.")
    return format_html(
        '<fieldset class="module aligned" id="newsletter-panel"><h2>{}</h2>'
        '<div class="form-row"><p>{}</p><p><a id="newsletter-test-link" href="{}">{}</a></p></div>'
        "</fieldset>",
        gettext("Newsletter"),
        status,
        reverse("admin:newsletter_send_test", args=[post.pk]),
        gettext("Send a test email to me"),
    )


def _email_section(request) -> dict:
    return {"form": SubscribeForm()}


def connect() -> None:
    post_save.connect(queue_mailing_on_publish, sender=Post, dispatch_uid="newsletter.queue_mailing")
    personal_data_register(
        PersonalDataProvider(
            key="newsletter",
            title=gettext_lazy("Email subscriptions"),
            describe=_describe,
            delete=_delete,
        )
    )
    if post_panel not in posts_admin.POST_PANELS:
        posts_admin.POST_PANELS.append(post_panel)
    follow_section_register(
        FollowSection(
            key="email", order=10, template="newsletter/_section_email.html", context=_email_section
        )
    )
