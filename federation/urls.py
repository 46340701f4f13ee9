from django.urls import path

from federation import views

app_name = "federation"
urlpatterns = [
    path(".well-known/webfinger", views.webfinger, name="webfinger"),
    path(".well-known/host-meta", views.host_meta, name="host-meta"),
    path(".well-known/nodeinfo", views.nodeinfo_index, name="nodeinfo-index"),
    path("nodeinfo/2.1", views.nodeinfo, name="nodeinfo"),
    path("inbox", views.inbox, {"shared": True}, name="shared-inbox"),
    path("ap/blog/inbox", views.inbox, name="blog-inbox"),
    path("ap/blog/outbox", views.outbox, name="blog-outbox"),
    path("ap/blog/followers", views.followers, name="blog-followers"),
    path("ap/blog/following", views.following, name="blog-following"),
    path("ap/blog/featured", views.featured, name="blog-featured"),
    path("ap/authors/<str:username>/inbox", views.inbox, name="author-inbox"),
    path("ap/authors/<str:username>/outbox", views.outbox, name="author-outbox"),
    path("ap/authors/<str:username>/followers", views.followers, name="author-followers"),
    path("ap/authors/<str:username>/following", views.following, name="author-following"),
    path("ap/authors/<str:username>/featured", views.featured, name="author-featured"),
    path("ap/posts/<int:pk>/replies", views.post_replies, name="post-replies"),
    path("ap/comments/<int:pk>/replies", views.comment_replies, name="comment-replies"),
    path("ap/activities/<uuid:uuid>", views.activity, name="activity"),
]
