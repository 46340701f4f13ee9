from django.urls import path

from newsletter import views

app_name = "newsletter"
urlpatterns = [
    path("subscribe/email/", views.subscribe, name="subscribe"),
    path("subscribe/sent/", views.sent, name="sent"),
    path("subscribe/confirm/<str:key>/", views.confirm, name="confirm"),
    path("subscribe/manage/", views.manage_request, name="manage-request"),
    path("subscribe/manage/sent/", views.sent_link, name="sent-link"),
    path("subscribe/manage/<str:key>/", views.manage, name="manage"),
    path("subscribe/unsubscribe/<str:key>/", views.unsubscribe, name="unsubscribe"),
]
