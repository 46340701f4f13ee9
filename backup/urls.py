from django.contrib import admin
from django.urls import path

from backup import views

app_name = "backup"
urlpatterns = [
    path("personal-data/", admin.site.admin_view(views.personal_data_screen), name="personal-data"),
]
