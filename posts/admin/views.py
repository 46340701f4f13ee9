"""The post admin's own pages beyond add/change/list: autosave, revisions, translations, send back
with a note, the editor's image upload, and the preview's light/dark stylesheet. A mixin of
PostAdmin (posts/admin/post.py), which wires them in get_urls()."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from django.contrib import admin, messages
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext

from posts import preview
from posts.admin.forms import MediaImageForm
from posts.admin.rights import sends_back
from posts.models import Post, PostRevision
from posts.revisions import autosave_store, revision_history, revision_restore
from posts.templatetags.blog import human_datetime
from posts.translations import missing_languages, post_translate
from posts.workflow import post_send_back

MAX_NOTE_CHARS = 5000
DARK_QUERY = re.compile(r"@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)")
RELATIVE_URL = re.compile(r"""url\(\s*(['"]?)(?![a-z]+:|/)([^'")]+)\1\s*\)""")


class PostViewsMixin:
    def desk_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("preview/", wrap(preview.render_preview), name="posts_post_preview"),
            path("preview/<str:scheme>.css", wrap(self.preview_css_view), name="posts_post_preview_css"),
            path("media/upload/", wrap(self.media_upload_view), name="posts_post_media_upload"),
            path("<int:pk>/autosave/", wrap(self.autosave_view), name="posts_post_autosave"),
            path("<int:pk>/revisions/", wrap(self.revisions_view), name="posts_post_revisions"),
            path(
                "<int:pk>/revisions/<int:revision_pk>/restore/",
                wrap(self.restore_view),
                name="posts_post_restore",
            ),
            path("<int:pk>/translate/", wrap(self.translate_view), name="posts_post_translate"),
            path("<int:pk>/send-back/", wrap(self.send_back_view), name="posts_post_send_back"),
        ]

    def _get_post(self, request, pk, *, change: bool) -> Post:
        post = get_object_or_404(Post, pk=pk)
        allowed = (
            self.has_change_permission(request, post) if change else self.has_view_permission(request, post)
        )
        if not allowed:
            raise PermissionDenied
        return post

    def _page(self, request, template: str, title: str, status: int = 200, **extra):
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}
        return TemplateResponse(request, f"admin/posts/post/{template}", context, status=status)

    # --- the editor -------------------------------------------------------------------------

    def autosave_view(self, request, pk):
        """Keep the editor's unsaved title and body in this user's autosave slot (JSON)."""
        if request.method != "POST":
            return JsonResponse({"error": gettext("Use POST.")}, status=405)
        post = self._get_post(request, pk, change=True)
        if preview.rate_limited(user=request.user, bucket="autosave"):
            return JsonResponse({"error": gettext("Too many autosaves; wait a minute.")}, status=429)
        title = request.POST.get("title", "")[:300]
        body = request.POST.get("body", "")
        if len(body) > preview.MAX_PREVIEW_CHARS:
            return JsonResponse({"error": gettext("The text is too long.")}, status=413)
        slot = autosave_store(post=post, user=request.user, title=title, body=body)
        return JsonResponse({"saved_at": slot.created_at.isoformat()})

    def media_upload_view(self, request):
        """The editor's media dialog: one image and its alt text in, its Markdown snippet out (JSON).
        The library's own checks apply (Pillow, formats, size); no alt text, no upload."""
        if request.method != "POST":
            return JsonResponse({"error": gettext("Use POST.")}, status=405)
        if not request.user.has_perm("posts.add_mediaimage"):
            return JsonResponse({"error": gettext("You cannot add images to the library.")}, status=403)
        if preview.rate_limited(user=request.user, bucket="upload"):
            return JsonResponse({"error": gettext("Too many uploads; wait a minute.")}, status=429)
        form = MediaImageForm(request.POST, request.FILES)
        if not form.is_valid():
            errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
            first = next(iter(errors.values()))[0]
            return JsonResponse({"error": first, "errors": errors}, status=400)
        image = form.save(commit=False)
        image.uploaded_by = request.user
        image.save()
        return JsonResponse(
            {
                "id": image.pk,
                "url": image.image.url,
                "alt": image.alt_text,
                "snippet": image.markdown_snippet,
            },
            status=201,
        )

    def preview_css_view(self, request, scheme: str):
        """The site's own stylesheet with its colour scheme fixed, for the preview's light/dark
        toggle (a frame can't be told to prefer dark)."""
        if scheme not in ("light", "dark"):
            raise Http404
        found = finders.find("css/site.css")
        if not found:
            raise Http404
        with open(found, encoding="utf-8") as handle:
            css = handle.read()
        css = DARK_QUERY.sub("@media all" if scheme == "dark" else "@media not all", css)
        css = css.replace("color-scheme: light dark", f"color-scheme: {scheme}")
        # Served from the admin's address: its relative url()s (the fonts) must not resolve there.
        here = static("css/site.css")
        css = RELATIVE_URL.sub(lambda m: f'url("{urljoin(here, m.group(2))}")', css)
        response = HttpResponse(css, content_type="text/css; charset=utf-8")
        response["Cache-Control"] = "private, max-age=300"
        return response

    # --- revisions and translations -------------------------------------------------------

    def revisions_view(self, request, pk):
        post = self._get_post(request, pk, change=False)
        autosave = PostRevision.objects.filter(post=post, author=request.user, is_autosave=True).first()
        return self._page(
            request,
            "revisions.html",
            gettext("Revisions of “%(title)s”") % {"title": post.title},
            post=post,
            history=revision_history(post),
            autosave=autosave,
            can_restore=self.has_change_permission(request, post),
        )

    def restore_view(self, request, pk, revision_pk):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:posts_post_revisions", args=[pk]))
        post = self._get_post(request, pk, change=True)
        revision = PostRevision.objects.filter(post=post, pk=revision_pk).first()
        if revision is None:
            raise Http404(gettext("No such revision."))
        revision_restore(post=post, revision=revision, user=request.user)
        self.message_user(
            request,
            gettext("Restored the revision saved %(when)s.") % {"when": human_datetime(revision.created_at)},
        )
        return HttpResponseRedirect(reverse("admin:posts_post_change", args=[post.pk]))

    def translate_view(self, request, pk):
        post = self._get_post(request, pk, change=False)
        if not self.has_add_permission(request):
            raise PermissionDenied
        choices = missing_languages(post)
        error = ""
        if request.method == "POST":
            language = request.POST.get("language", "")
            if language in {code for code, _label in choices}:
                copy = post_translate(post=post, language=language, user=request.user)
                self.message_user(
                    request,
                    gettext("Created a %(language)s draft; translate it and save.")
                    % {"language": copy.get_language_display()},
                )
                return HttpResponseRedirect(reverse("admin:posts_post_change", args=[copy.pk]))
            error = gettext("Choose a language this post has no translation in yet.")
        title = gettext("Add a translation of “%(title)s”") % {"title": post.title}
        return self._page(
            request,
            "translate.html",
            title,
            status=400 if error else 200,
            post=post,
            choices=choices,
            error=error,
        )

    # --- review: send back with a note ----------------------------------------------------

    def has_send_back_permission(self, request) -> bool:
        return sends_back(request.user)

    def send_back_view(self, request, pk):
        post = self._get_post(request, pk, change=True)
        if not sends_back(request.user):
            raise PermissionDenied
        return self._send_back(request, [post] if post.status == Post.Status.REVIEW else [])

    def _send_back(self, request, posts):
        if not posts:
            self.message_user(
                request, gettext("Only posts in review can be sent back."), level=messages.WARNING
            )
            return HttpResponseRedirect(reverse("admin:posts_post_changelist"))
        note = request.POST.get("note", "").strip() if "note" in request.POST else None
        error = ""
        if note is not None:
            error = self._note_error(note)
            if not error:
                return self._sent_back(request, posts, note)
        return self._page(
            request,
            "send_back.html",
            gettext("Send back with a note"),
            status=400 if error else 200,
            posts=posts,
            note=note or "",
            error=error,
            action_checkbox_name=admin.helpers.ACTION_CHECKBOX_NAME,
        )

    @staticmethod
    def _note_error(note: str) -> str:
        if not note:
            return gettext("Write a note: it tells the author what to change.")
        if len(note) > MAX_NOTE_CHARS:
            return gettext("Keep the note under 5,000 characters.")
        return ""

    def _sent_back(self, request, posts, note: str):
        for post in posts:
            post_send_back(post=post, by=request.user, note=note)
        self.message_user(
            request,
            ngettext(
                "Sent %(n)d post back to its author.",
                "Sent %(n)d posts back to their authors.",
                len(posts),
            )
            % {"n": len(posts)},
        )
        if len(posts) == 1:
            return HttpResponseRedirect(reverse("admin:posts_post_change", args=[posts[0].pk]))
        return HttpResponseRedirect(reverse("admin:posts_post_changelist"))
