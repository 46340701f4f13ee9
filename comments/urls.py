"""Discussion URLs. Included before xtd's and django_comments' URLs, so the paths that also
exist there (post, reply, confirm, mute, approve, delete) are served by comments/views.py."""

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
    path("comments/privacy/", views.privacy_request, name="privacy"),
    path("comments/privacy/<str:key>/", views.privacy_manage, name="privacy-manage"),
    path("comments/approve/<int:comment_id>/", views.approve, name="approve"),
    path("comments/delete/<int:comment_id>/", views.remove, name="remove"),
    path("comments/moderate/<int:comment_id>/", views.moderate, name="moderate"),
]
