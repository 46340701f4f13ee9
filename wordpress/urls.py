from django.contrib import admin
from django.urls import path

from wordpress import views

app_name = "wordpress"
urlpatterns = [
    path("export/", admin.site.admin_view(views.export_screen), name="export"),
]
