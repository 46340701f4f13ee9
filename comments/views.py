"""Discussion views: post a comment, reply without JS, confirm, mute, permalink, privacy, moderate.

These replace xtd's and django_comments' views at the same paths (their URL modules are not
included at all), so xtd's pickle-based confirm and mute links are never unpickled (XTD-NOTES trap
12), its moderation views, which check another permission, are not reachable (trap 7), and no
comment is created except through the form's rules in comments/services.py.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from comments import commenter, services
from comments.forms import CommentForm
from comments.models import Comment
from comments.moderation import MODERATE_PERMISSION, comments_open
from comments.privacy import personal_data, personal_data_providers
from comments.thread import avatar_for
from core.guards import client_ip
from posts.models import Post


def _message(request, title: str, text: str, *, status: int = 200, post: Post | None = None, **extra):
    response = render(
        request, "comments/message.html", {"title": title, "text": text, "post": post, **extra}, status=status
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _typed(data) -> dict:
    """What the commenter typed, as initial data for a fresh form."""
    typed = {name: data.get(name, "") for name in ("name", "email", "url", "comment")}
    typed["followup"] = data.get("followup", "")
    typed["reply_to"] = int(data["reply_to"]) if str(data.get("reply_to", "")).isdigit() else 0
    return typed


def _has_text(data) -> bool:
    """Whether the commenter sent any text (only then is there text to keep for them)."""
    return bool(str(data.get("comment", "") or "").strip())


def _form_page(request, *, form: CommentForm, post: Post, status: int = 200, reply_to=None, notice: str = ""):
    response = render(
        request,
        "comments/form_page.html",
        {
            "form": form,
            "post": post,
            "reply_to": reply_to,
            "notice": notice,
            "text_kept": form.is_bound and _has_text(form.data),
        },
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _target_post(request) -> Post | None:
    ct_label = request.POST.get("content_type", "")
    try:
        object_pk = int(request.POST.get("object_pk", ""))
    except ValueError:
        return None
    if ct_label != "posts.post":
        return None
    return Post.objects.published().filter(pk=object_pk).first()


@require_POST
def post_comment(request):
    """Validate, moderate and store one comment, then redirect (PRG) or explain plainly."""
    post = _target_post(request)
    if post is None:
        return _message(request, _("Comment not posted"), _("This post does not take comments."), status=400)
    form = CommentForm(post, data=request.POST, user=request.user)
    if not form.is_valid():
        return _invalid_form(request, form, post)
    if not comments_open(post):
        return _message(
            request, _("Comments are closed"), _("Comments are closed on this post."), status=403, post=post
        )
    comment = form.build_comment(request=request)
    context = {
        "ip": comment.ip_address,
        "user_agent": comment.user_agent,
        "referrer": request.headers.get("Referer", ""),
        "permalink": services.site_url(post.get_absolute_url()),
        "language": comment.language,
    }
    trusted = request.user.is_anonymous and commenter.trust_holds(request, email=comment.user_email)
    result = services.comment_submit(comment=comment, context=context, trusted=trusted)
    refused = _refused(request, form, post, result.outcome)
    if refused is not None:
        return refused
    if result.outcome == "public":
        _just_posted(request, result.comment)
        response = redirect(services.comment_page_url(comment=result.comment))
    else:
        state = "awaiting" if result.outcome == "awaiting" else "held"
        response = redirect(f"{reverse('comments:posted', args=[state])}?post={post.pk}")
    if form.user is None:
        if form.cleaned_data.get("remember"):
            commenter.remembered_write(
                response, name=comment.user_name, email=comment.user_email, url=comment.user_url
            )
        else:
            commenter.remembered_forget(request, response)
    return response


def _invalid_form(request, form: CommentForm, post: Post):
    """The answer to a form that did not validate: a plain message, a fresh form, or the form
    with its errors."""
    if "honeypot" in form.errors:
        return _message(request, _("Comment not posted"), _("Comment not posted."), status=400, post=post)
    if form.security_errors():
        # The page sat open too long (or was altered): a fresh form, keeping what was typed.
        fresh = CommentForm(post, user=request.user, initial=_typed(request.POST))
        return _form_page(
            request,
            form=fresh,
            post=post,
            status=400,
            notice=(
                _("The form had expired. Your text is kept below; please post it again.")
                if _has_text(request.POST)
                else _("The form had expired. Please write your comment again.")
            ),
        )
    if form.has_reply_error():
        return _message(request, _("Comment not posted"), form.errors["reply_to"][0], status=400, post=post)
    return _form_page(request, form=form, post=post, status=400, reply_to=form.reply_target)


def _refused(request, form: CommentForm, post: Post, outcome: str):
    """The answer when the comment was not stored (flood, rejected, duplicate), else None."""
    if outcome == "flood":
        form.add_error(
            None,
            _("You just posted a comment. Please wait %(s)d seconds before posting another.")
            % {"s": settings.COMMENTS_FLOOD_SECONDS},
        )
        response = _form_page(request, form=form, post=post, status=429, reply_to=form.reply_target)
        response["Retry-After"] = str(settings.COMMENTS_FLOOD_SECONDS)
        return response
    if outcome == "rejected":
        return _message(
            request,
            _("Comment not accepted"),
            _("Comments from this address are not accepted here."),
            status=403,
            post=post,
        )
    if outcome == "duplicate":
        form.add_error("comment", _("You have already posted this comment."))
        return _form_page(request, form=form, post=post, status=409, reply_to=form.reply_target)
    return None


def _just_posted(request, comment: Comment) -> None:
    """A one-time note for the next page: the discussion shows it above the thread and marks the
    comment (comments/templatetags/discussion.py). Flash messages travel in a cookie that the page
    cache steps aside for, so that page is rendered for this reader."""
    state = "published" if comment.is_public else "held"
    messages.info(request, state, extra_tags=f"{commenter.JUST_POSTED_TAG} {comment.pk}")


POSTED_TEXT = {
    "awaiting": (
        gettext_lazy("Check your email"),
        gettext_lazy(
            "We sent you an email with a link. Your comment appears once you follow that link. "
            "If nothing arrives, check your spam folder."
        ),
    ),
    "held": (
        gettext_lazy("Held for moderation"),
        gettext_lazy("Thank you. Your comment is waiting for a moderator and will appear once approved."),
    ),
}


@require_GET
def posted(request, state):
    if state not in POSTED_TEXT:
        raise Http404
    post = None
    if (request.GET.get("post") or "").isdigit():
        post = Post.objects.published().filter(pk=int(request.GET["post"])).first()
    title, text = POSTED_TEXT[state]
    return _message(request, str(title), str(text), post=post, state=state)


@require_GET
def reply(request, cid):
    """The reply form without JavaScript: the comment being answered, then the form."""
    comment = get_object_or_404(
        Comment.objects.select_related("post"), pk=cid, is_public=True, is_removed=False, is_spam=False
    )
    post = comment.post
    if post is None or not post.is_published:
        raise Http404
    if not comments_open(post):
        return _message(request, _("Comments are closed"), _("Comments are closed on this post."), post=post)
    initial = {"reply_to": comment.pk}
    if request.user.is_anonymous:
        remembered = commenter.remembered_read(request)
        if remembered:
            initial.update(remembered, remember=True)
    form = CommentForm(post, user=request.user, initial=initial)
    comment.avatar = _avatar(comment)
    return _form_page(request, form=form, post=post, reply_to=comment)


def _avatar(comment):
    return avatar_for(comment)


@require_GET
def confirm(request, key):
    """The link in the confirmation email. Single-use in effect, expiring, tamper-proof."""
    try:
        comment = services.comment_confirm(key=key)
    except services.ConfirmationError as exc:
        texts = {
            "invalid": _("This confirmation link is not valid. Please copy the whole link from the email."),
            "expired": _("This confirmation link has expired. Please post your comment again."),
            "gone": _("This comment no longer exists."),
        }
        status = {"invalid": 400, "expired": 410, "gone": 404}[exc.reason]
        return _message(request, _("Confirmation failed"), texts[exc.reason], status=status)
    state = services.comment_state(comment)
    if state == "removed":
        return _message(
            request, _("Comment removed"), _("This comment was removed by a moderator."), status=410
        )
    # The reader lands on their comment, marked, with a note saying where it stands; held ones
    # are shown to them alone, above the thread (a spam verdict is not revealed).
    _just_posted(request, comment)
    if comment.is_public:
        response = redirect(services.comment_page_url(comment=comment))
    else:
        response = redirect(f"{comment.post.get_absolute_url()}#c{comment.pk}")
    # This browser has now proved it reads this address: its later comments skip this step.
    commenter.trust_issue(request, response, email=comment.user_email)
    return response


@require_http_methods(["GET", "POST"])
def mute(request, key):
    """One click stops follow-up emails for this post (GET from the email, or RFC 8058 POST)."""
    try:
        post = services.followup_mute(key=key)
    except (signing.BadSignature, Post.DoesNotExist):
        return _message(request, _("Link not valid"), _("This link is not valid."), status=400)
    if request.method == "POST" and "List-Unsubscribe" in request.POST:
        return HttpResponse(status=204)
    return _message(
        request,
        _("Notifications stopped"),
        _("You will get no more emails about new comments on “%(title)s”.") % {"title": post.title},
        post=post,
    )


@require_GET
def permalink(request, pk):
    """A comment's stable address: redirects to the right page of the discussion."""
    comment = get_object_or_404(
        Comment.objects.select_related("post"), pk=pk, is_public=True, is_removed=False, is_spam=False
    )
    if comment.post is None or not comment.post.is_published:
        raise Http404
    return redirect(services.comment_page_url(comment=comment))


@require_GET
def content_object_redirect(request, content_type_id, object_pk):
    """django_comments' "cr" shortcut (/comments/cr/<type>/<pk>/) for published posts only.

    The stock view redirected to any object's URL, so counting up the pk revealed the slug and
    planned date of every draft and scheduled post.
    """
    post_type = ContentType.objects.get_for_model(Post)
    if content_type_id != post_type.pk or not object_pk.isdigit():
        raise Http404
    post = get_object_or_404(Post.objects.published(), pk=int(object_pk))
    return redirect(post.get_absolute_url())


class PrivacyRequestForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Your email address"))


@require_http_methods(["GET", "POST"])
def privacy_request(request):
    form = PrivacyRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The same flood window as comments, so the form can't be used to bomb an inbox.
        if not services.comment_flood_claim(
            ip=client_ip(request), email=form.cleaned_data["email"], scope="privacy"
        ):
            response = _message(
                request,
                _("Please wait a moment"),
                _("A link was just requested. Please wait %(s)d seconds before asking again.")
                % {"s": settings.COMMENTS_FLOOD_SECONDS},
                status=429,
            )
            response["Retry-After"] = str(settings.COMMENTS_FLOOD_SECONDS)
            return response
        services.privacy_request(email=form.cleaned_data["email"])
        return _message(
            request,
            _("Check your email"),
            _(
                "If we hold comments made with that address, a link to see and delete them is on "
                "its way. The link works for %(h)d hours."
            )
            % {"h": max(1, settings.COMMENTS_PRIVACY_MAX_AGE // 3600)},
        )
    return render(
        request, "comments/privacy_request.html", {"form": form}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def privacy_manage(request, key):
    try:
        email = services.privacy_email_from_key(key=key)
    except signing.SignatureExpired:
        return _message(
            request, _("Link expired"), _("This link has expired; ask for a new one."), status=410
        )
    except signing.BadSignature:
        return _message(request, _("Link not valid"), _("This link is not valid."), status=400)
    if request.method == "POST" and request.POST.get("confirm") == "delete":
        count = services.privacy_delete(email=email)
        # Other apps' data for the address (e.g. newsletter subscriptions) goes too.
        others = sum(provider.delete(email) for provider in personal_data_providers())
        text = ngettext(
            "%(n)d comment made with %(email)s was deleted.",
            "%(n)d comments made with %(email)s were deleted.",
            count,
        ) % {"n": count, "email": email}
        if others:
            text += " " + ngettext(
                "%(n)d other item was deleted.", "%(n)d other items were deleted.", others
            ) % {"n": others}
        return _message(request, _("Comments deleted"), text)
    comments = list(services.comments_by_email(email=email))
    if request.GET.get("format") == "json":
        response = JsonResponse(personal_data(email, comments=comments), json_dumps_params={"indent": 1})
        response["Content-Disposition"] = 'attachment; filename="my-comments.json"'
        response["Cache-Control"] = "private, no-store"
        return response
    for comment in comments:
        comment.state = services.comment_state(comment)
        comment.state_label = services.COMMENT_STATE_LABELS[comment.state]
    sections = [(p.title, p.describe(email)) for p in personal_data_providers()]
    sections = [(title, lines) for title, lines in sections if lines]
    response = render(
        request,
        "comments/privacy_manage.html",
        {"email": email, "comments": comments, "sections": sections, "has_data": bool(comments or sections)},
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _may_moderate(user, comment: Comment) -> bool:
    """Moderators everywhere; a post's authors on their own post (the links in their emails)."""
    if user.has_perm(MODERATE_PERMISSION):
        return True
    return comment.post_id is not None and user.authorships.filter(post_id=comment.post_id).exists()


def _moderator_action(request, comment_id, action):
    comment = get_object_or_404(Comment, pk=comment_id)
    if not _may_moderate(request.user, comment):
        return HttpResponseForbidden(_("You may not moderate comments."))
    action(comment=comment)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("admin:comments_comment_changelist")
    return redirect(target)


@login_required
@require_POST
def approve(request, comment_id):
    return _moderator_action(request, comment_id, services.comment_approve)


@login_required
@require_POST
def remove(request, comment_id):
    return _moderator_action(request, comment_id, services.comment_remove)


@login_required
@require_GET
def moderate(request, comment_id):
    """Where the links in an author's email lead: the comment, with Approve and Remove buttons
    (POST, so that opening the link changes nothing)."""
    comment = get_object_or_404(Comment.objects.select_related("post"), pk=comment_id)
    if not _may_moderate(request.user, comment):
        return HttpResponseForbidden(_("You may not moderate comments."))
    state = services.comment_state(comment)
    response = render(
        request,
        "comments/moderate.html",
        {
            "comment": comment,
            "post": comment.post,
            "state": state,
            "state_label": services.COMMENT_STATE_LABELS[state],
            "back": request.path,
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response
