"""Discussion URLs: every way to read or write the discussion goes through comments/views.py.

django-comments-xtd's and django_comments' URL modules are not included (sectorblog/urls.py). The
paths of theirs that the site uses (post, reply, confirm, mute, approve, delete, cr) are served
here by views that apply the site's rules; the rest (the JSON API, like, dislike, flag, the
"done" pages) answer 404. tests/test_discussion_entry.py tries every one of their patterns."""

from django.urls import path

from comments import views

app_name = "comments"
urlpatterns = [
    path("comments/post/", views.post_comment, name="post"),
    path("comments/posted/<slug:state>/", views.posted, name="posted"),
    path("comments/reply/<int:cid>/", views.reply, name="reply"),
    path("comments/confirm/<str:key>/", views.confirm, name="confirm"),
    path("comments/mute/<str:key>/", views.mute, name="mute"),
    path("comments/c/<int:pk>/", views.permalink, name="permalink"),
    path(
        "comments/cr/<int:content_type_id>/<str:object_pk>/",
        views.content_object_redirect,
        name="content-object",
    ),
    path("comments/privacy/", views.privacy_request, name="privacy"),
    path("comments/privacy/<str:key>/", views.privacy_manage, name="privacy-manage"),
    path("comments/approve/<int:comment_id>/", views.approve, name="approve"),
    path("comments/delete/<int:comment_id>/", views.remove, name="remove"),
    path("comments/moderate/<int:comment_id>/", views.moderate, name="moderate"),
]
