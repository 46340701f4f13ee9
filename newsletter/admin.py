"""The newsletter in the admin: subscribers (filters, counts by state, category and language, CSV
export), each post's send log, the digests and their schedule, and "send a test to me"."""

from __future__ import annotations

import csv
from collections import Counter

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from newsletter import services, tasks
from newsletter.models import Delivery, DigestRun, DigestSchedule, Mailing, Subscriber
from posts.models import Category, Post


def _csv_cell(value) -> str:
    """A cell a spreadsheet will not run as a formula (an address may start with "=")."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


class LanguageFilter(admin.SimpleListFilter):
    title = _("post language")
    parameter_name = "reads"

    def lookups(self, request, model_admin):
        return settings.LANGUAGES

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(post_languages__contains=f",{self.value()},")
        return queryset


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "state",
        "frequency",
        "content",
        "language",
        "post_languages_column",
        "categories_column",
        "hard_bounces",
        "confirmed_at",
    )
    list_filter = (
        "state",
        "frequency",
        "content",
        LanguageFilter,
        "language",
        "all_categories",
        "categories",
    )
    search_fields = ("email",)
    exclude = ("token",)
    readonly_fields = ("hard_bounces", "last_bounce", "created_at", "confirmed_at", "updated_at")
    filter_horizontal = ("categories",)
    actions = ("export_csv", "suspend_complaint", "reactivate")
    change_list_template = "admin/newsletter/subscriber/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("categories")

    @admin.display(description=_("post languages"))
    def post_languages_column(self, obj):
        names = dict(settings.LANGUAGES)
        return ", ".join(str(names.get(code, code)) for code in obj.languages)

    @admin.display(description=_("categories"))
    def categories_column(self, obj):
        if obj.all_categories:
            return gettext("all posts")
        return ", ".join(c.name for c in obj.categories.all())

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and "cl" in context:
            context["counts"] = self._counts(context["cl"].queryset)
        return response

    def _counts(self, queryset) -> dict:
        """Counts over the filtered subscribers: by state, frequency, language and category."""
        rows = queryset.order_by().values("pk", "state", "frequency", "post_languages", "all_categories")
        states, frequencies, languages, everything = Counter(), Counter(), Counter(), 0
        for row in rows:
            states[row["state"]] += 1
            frequencies[row["frequency"]] += 1
            for code in row["post_languages"].split(","):
                if code:
                    languages[code] += 1
            everything += row["all_categories"]
        names = dict(settings.LANGUAGES)
        by_category = (
            Category.objects.filter(newsletter_subscribers__in=queryset.order_by().values("pk"))
            .annotate(n=Count("newsletter_subscribers", distinct=True))
            .order_by("-n", "name")
        )
        return {
            "state": [(label, states[value]) for value, label in Subscriber.State.choices],
            "frequency": [(label, frequencies[value]) for value, label in Subscriber.Frequency.choices],
            "language": [(names[code], languages[code]) for code, _name in settings.LANGUAGES],
            "category": [(gettext("all posts"), everything)] + [(c.name, c.n) for c in by_category],
        }

    @admin.action(description=_("Export selected subscribers as CSV"))
    def export_csv(self, request, queryset):
        header = [
            "email",
            "state",
            "frequency",
            "content",
            "language",
            "post_languages",
            "categories",
            "hard_bounces",
            "confirmed_at",
        ]

        def rows():
            writer = csv.writer(_Echo())
            yield writer.writerow(header)
            for s in queryset.order_by("pk").iterator(chunk_size=500):
                categories = "*" if s.all_categories else " ".join(c.slug for c in s.categories.all())
                yield writer.writerow(
                    [
                        _csv_cell(v)
                        for v in (
                            s.email,
                            s.state,
                            s.frequency,
                            s.content,
                            s.language,
                            " ".join(s.languages),
                            categories,
                            s.hard_bounces,
                            s.confirmed_at.isoformat(),
                        )
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
        return response

    @admin.action(description=_("Suspend (the reader complained or asked us to stop)"))
    def suspend_complaint(self, request, queryset):
        n = sum(
            services.subscriber_complaint(email=email) for email in queryset.values_list("email", flat=True)
        )
        self.message_user(
            request, ngettext("Suspended %(n)d subscriber.", "Suspended %(n)d subscribers.", n) % {"n": n}
        )

    @admin.action(description=_("Reactivate"))
    def reactivate(self, request, queryset):
        n = queryset.update(state=Subscriber.State.ACTIVE, suspended_reason="", hard_bounces=0)
        self.message_user(
            request, ngettext("Reactivated %(n)d subscriber.", "Reactivated %(n)d subscribers.", n) % {"n": n}
        )


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Mailing)
class MailingAdmin(ReadOnly, admin.ModelAdmin):
    """The send log: one row per post sent, with its counts; its page lists the failures."""

    list_display = ("post", "created_at", "recipients", "queued", "sent", "failed", "bounced")
    list_select_related = ("post",)
    search_fields = ("post__title",)
    date_hierarchy = "created_at"
    change_form_template = "admin/newsletter/mailing/change_form.html"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        deliveries = "post__newsletter_deliveries"
        return qs.annotate(
            **{
                state: Count(
                    deliveries,
                    filter=Q(**{f"{deliveries}__state": state, f"{deliveries}__digest__isnull": True}),
                )
                for state in Delivery.State.values
            }
        )

    @admin.display(description=_("queued"), ordering="queued")
    def queued(self, obj):
        return obj.queued + obj.sending

    @admin.display(description=_("sent"), ordering="sent")
    def sent(self, obj):
        return obj.sent

    @admin.display(description=_("failed"), ordering="failed")
    def failed(self, obj):
        return obj.failed

    @admin.display(description=_("bounced"), ordering="bounced")
    def bounced(self, obj):
        return obj.bounced

    def change_view(self, request, object_id, form_url="", extra_context=None):
        mailing = get_object_or_404(self.get_queryset(request), pk=object_id)
        rows = Delivery.objects.filter(post_id=mailing.post_id, digest__isnull=True)
        labels = dict(Delivery.State.choices)
        reasons = [
            {**row, "state": labels.get(row["state"], row["state"])}
            for row in rows.exclude(error="")
            .values("state", "error")
            .annotate(n=Count("pk"))
            .order_by("-n")[:50]
        ]
        extra_context = {
            **(extra_context or {}),
            "mailing": mailing,
            "reasons": reasons,
            "deliveries_url": reverse("admin:newsletter_delivery_changelist")
            + f"?post__id__exact={mailing.post_id}&digest__isnull=True",
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "send-test/<int:post_id>/",
                self.admin_site.admin_view(self.send_test_view),
                name="newsletter_send_test",
            ),
            *super().get_urls(),
        ]

    def send_test_view(self, request, post_id):
        """ "Send a test to me": the post as subscribers will get it, to the signed-in user."""
        post = get_object_or_404(Post, pk=post_id)
        post_admin = self.admin_site._registry[Post]
        if not post_admin.has_view_permission(request, post):
            raise PermissionDenied
        language = request.POST.get("language") or post.language
        content = request.POST.get("content") or Subscriber.Content.FULL
        error = ""
        if request.method == "POST":
            if not request.user.email:
                error = gettext("Your account has no email address; add one to your user first.")
            elif language not in services.LANGUAGE_CODES or content not in Subscriber.Content.values:
                error = gettext("Choose a language and what the email holds.")
            else:
                args = (post.pk, request.user.email, language, content)
                transaction.on_commit(lambda: tasks.send_test.enqueue(*args))
                self.message_user(
                    request,
                    gettext("A test of “%(title)s” is on its way to %(email)s.")
                    % {"title": post.title, "email": request.user.email},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:posts_post_change", args=[post.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Send a test of “%(title)s”") % {"title": post.title},
            "post": post,
            "languages": settings.LANGUAGES,
            "language": language,
            "contents": Subscriber.Content.choices,
            "content": content,
            "error": error,
        }
        return TemplateResponse(
            request, "admin/newsletter/send_test.html", context, status=400 if error else 200
        )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "subscriber",
        "post",
        "digest",
        "state",
        "attempts",
        "error",
        "sent_at",
        "next_attempt_at",
    )
    list_filter = ("state", ("post", admin.RelatedOnlyFieldListFilter), "digest")
    list_select_related = ("subscriber", "post", "digest")
    search_fields = ("subscriber__email", "post__title", "error")
    raw_id_fields = ("subscriber", "post", "digest")


@admin.register(DigestRun)
class DigestRunAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("slot", "created_at", "recipients", "sent", "failed")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                sent=Count("deliveries", filter=Q(deliveries__state=Delivery.State.SENT)),
                failed=Count(
                    "deliveries",
                    filter=Q(deliveries__state__in=[Delivery.State.FAILED, Delivery.State.BOUNCED]),
                ),
            )
        )

    @admin.display(description=_("posts sent"), ordering="sent")
    def sent(self, obj):
        return obj.sent

    @admin.display(description=_("posts not delivered"), ordering="failed")
    def failed(self, obj):
        return obj.failed


@admin.register(DigestSchedule)
class DigestScheduleAdmin(admin.ModelAdmin):
    """One row: the list goes straight to it."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        schedule = DigestSchedule.current()
        return HttpResponseRedirect(reverse("admin:newsletter_digestschedule_change", args=[schedule.pk]))
