"""The reader's side of the newsletter: sign up, confirm, manage, unsubscribe. No account, no
JavaScript: every step is a plain form, and every link in an email is signed.

Bad input gets a clear page and changes nothing: an invalid form is shown again with its errors
(400), a flood from one address or to one address answers 429, a forged link 400, an expired one
410, and a link to a subscription that has gone 404.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from core.guards import client_ip
from newsletter import services, tasks
from newsletter.forms import AddressForm, PreferencesForm, SubscribeForm
from newsletter.throttle import rate_allow
from posts.follow import follow_page

HOUR = 3600


def _private(response):
    response["Cache-Control"] = "private, no-store"
    return response


def _message(request, title: str, text: str, *, status: int = 200, links=(), **extra):
    return _private(
        render(
            request,
            "newsletter/message.html",
            {"title": title, "text": text, "links": links, **extra},
            status=status,
        )
    )


def _link_failed(request, error: services.LinkError):
    texts = {
        "invalid": (_("This link is not valid. Please copy the whole link from the email."), 400),
        "expired": (_("This link has expired. Ask for a new one below."), 410),
        "gone": (_("This subscription no longer exists; perhaps you unsubscribed already."), 404),
    }
    text, status = texts[error.reason]
    return _message(
        request,
        _("Link not valid") if error.reason != "expired" else _("Link expired"),
        text,
        status=status,
        links=[
            (reverse("newsletter:manage-request"), _("Email me a new link to my subscription")),
            (reverse("newsletter:subscribe"), _("Subscribe")),
        ],
    )


def _language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]


def _flooded(request, email: str, *, bucket: str) -> bool:
    """True when this client or this address asked too often (before anything is sent)."""
    by_ip = rate_allow(
        bucket=f"{bucket}-ip",
        key=client_ip(request) or "unknown",
        limit=settings.NEWSLETTER_SUBSCRIBE_RATE_PER_IP,
        window=HOUR,
    )
    by_address = rate_allow(
        bucket=f"{bucket}-address",
        key=email,
        limit=settings.NEWSLETTER_SUBSCRIBE_RATE_PER_ADDRESS,
        window=24 * HOUR,
    )
    return not (by_ip and by_address)


def _too_many(request):
    response = _message(
        request,
        _("Please wait"),
        _("Too many requests came from here or for this address. Please try again in an hour."),
        status=429,
    )
    response["Retry-After"] = str(HOUR)
    return response


@require_http_methods(["GET", "POST"])
def subscribe(request):
    """The email form of /subscribe/ (and the one-field forms in the sidebar and under posts)
    posts here. A GET goes to the page."""
    if request.method == "GET":
        return redirect(reverse("posts:subscribe") + "#email")
    form = SubscribeForm(request.POST)
    if form.is_bot():
        return redirect("newsletter:sent")  # tell a bot nothing; send nothing
    if form.is_valid():
        email = form.cleaned_data["email"]
        if _flooded(request, email, bucket="subscribe"):
            return _too_many(request)
        tasks.subscription_request(choices=form.choices(email=email))
        return redirect("newsletter:sent")
    return _private(follow_page(request, replace={"email": {"form": form}}, status=400))


@require_GET
def sent(request):
    return _message(
        request,
        _("Check your email"),
        _(
            "We sent you an email with a link. Your subscription starts once you follow it. "
            "If nothing arrives, check your spam folder."
        ),
    )


@require_http_methods(["GET", "POST"])
def confirm(request, key):
    """GET shows one button (so a mail scanner that opens links subscribes nobody); POST stores."""
    if request.method == "GET":
        try:
            choices = services.confirmation_choices(key=key)
        except services.LinkError as error:
            return _link_failed(request, error)
        return _private(render(request, "newsletter/confirm.html", {"email": choices.email}))
    try:
        subscriber = services.subscription_confirm(key=key)
    except services.LinkError as error:
        return _link_failed(request, error)
    manage_url = reverse("newsletter:manage", args=[services.subscriber_key(subscriber=subscriber)])
    return _message(
        request,
        _("You are subscribed"),
        _("Thank you. New posts will reach %(email)s as you chose.") % {"email": subscriber.email},
        links=[(manage_url, _("Change what you receive"))],
        state="subscribed",
    )


@require_http_methods(["GET", "POST"])
def manage(request, key):
    try:
        subscriber = services.subscriber_from_key(key=key)
    except services.LinkError as error:
        return _link_failed(request, error)
    form = PreferencesForm.for_subscriber(subscriber, request.POST or None)
    saved = False
    if request.method == "POST" and form.is_valid():
        services.subscriber_update(subscriber=subscriber, choices=form.choices(email=subscriber.email))
        saved = True
        form = PreferencesForm.for_subscriber(subscriber)
    return _private(
        render(
            request,
            "newsletter/manage.html",
            {
                "form": form,
                "subscriber": subscriber,
                "saved": saved,
                "unsubscribe_url": reverse("newsletter:unsubscribe", args=[key]),
            },
            status=400 if form.errors else 200,
        )
    )


@csrf_exempt  # RFC 8058 §3.1: mail clients POST here without a cookie; the signed link is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request, key):
    """GET: a page with one button. POST (the button, or a mail client's RFC 8058 one-click
    `List-Unsubscribe=One-Click`): the subscription and its choices are deleted."""
    try:
        subscriber = services.subscriber_from_key(key=key)
    except services.LinkError as error:
        if request.method == "POST" and error.reason == "gone":
            return _message(request, _("Unsubscribed"), _("You will get no more emails from us."))
        return _link_failed(request, error)
    if request.method == "GET":
        return _private(render(request, "newsletter/unsubscribe.html", {"subscriber": subscriber}))
    services.subscriber_unsubscribe(subscriber=subscriber)
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return _private(HttpResponse(_("Unsubscribed."), content_type="text/plain; charset=utf-8"))
    return _message(
        request,
        _("Unsubscribed"),
        _("%(email)s will get no more emails from us, and your choices were deleted.")
        % {"email": subscriber.email},
        links=[(reverse("newsletter:subscribe"), _("Subscribe again"))],
        state="unsubscribed",
    )


@require_http_methods(["GET", "POST"])
def manage_request(request):
    """Ask for a fresh manage link by address (the answer never says whether it is subscribed)."""
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not form.is_bot():
        email = form.cleaned_data["email"]
        if _flooded(request, email, bucket="manage-link"):
            return _too_many(request)
        tasks.manage_link_request(email=email, language=_language())
        return redirect("newsletter:sent-link")
    status = 400 if request.method == "POST" else 200
    return _private(render(request, "newsletter/manage_request.html", {"form": form}, status=status))


@require_GET
def sent_link(request):
    return _message(
        request,
        _("Check your email"),
        _("If that address is subscribed, a link to change or end the subscription is on its way."),
    )
