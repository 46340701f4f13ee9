"""The authoring admin ("the desk"): the writing screen for posts, with roles, a Markdown editor
and its media dialog, preview, scheduling, review, revisions and translations; and the library
around it. One module per part:

- rights.py   who may do what, and a post's state in words
- forms.py    the post form (the pressed button sets the status), the image and profile forms
- widgets.py  the editor widget (toolbar, live preview, status line, media dialog)
- views.py    the post admin's extra pages (autosave, upload, revisions, send back…)
- columns.py, actions.py  the list's columns and bulk actions
- post.py     PostAdmin itself;  library.py  images, categories, profiles, import records
- tags.py     tags: Authors add them, Editors rename, delete and merge them

Registered here, so `posts.admin.PostAdmin` and `posts.admin.POST_PANELS` stay where other apps
look for them.
"""

from __future__ import annotations

from django.contrib import admin

from posts.admin.library import (
    AuthorProfileAdmin,
    CategoryAdmin,
    ImportRecordAdmin,
    MediaImageAdmin,
    MediaReferenceAdmin,
    RedirectAdmin,
)
from posts.admin.post import POST_PANELS, PostAdmin, PostAuthorInline, StatusListFilter
from posts.admin.rights import can_edit_others, can_publish, is_author_of, slug_conflict, status_label
from posts.admin.tags import TagAdmin
from posts.models import (
    AuthorProfile,
    Category,
    ImportRecord,
    MediaImage,
    MediaReference,
    Post,
    Redirect,
    Tag,
)

admin.site.register(Post, PostAdmin)
admin.site.register(MediaImage, MediaImageAdmin)
admin.site.register(Category, CategoryAdmin)
admin.site.register(Tag, TagAdmin)
admin.site.register(AuthorProfile, AuthorProfileAdmin)
admin.site.register(Redirect, RedirectAdmin)
admin.site.register(ImportRecord, ImportRecordAdmin)
admin.site.register(MediaReference, MediaReferenceAdmin)

__all__ = [
    "POST_PANELS",
    "PostAdmin",
    "PostAuthorInline",
    "StatusListFilter",
    "can_edit_others",
    "can_publish",
    "is_author_of",
    "slug_conflict",
    "status_label",
]
