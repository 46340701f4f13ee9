from django.contrib.sitemaps.views import sitemap
from django.urls import path

from posts import preview, views
from posts.sitemaps import SITEMAPS

# The yyyy, mm and postslug converters are registered by PostsConfig.ready (posts/converters.py).

app_name = "posts"
urlpatterns = [
    path("preview/<str:token>/", preview.shared_preview, name="preview"),
    path("", views.home, name="home"),
    path("page/<int:page>/", views.home, name="home-page"),
    path("search/", views.search, name="search"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("search/page/<int:page>/", views.search, name="search-page"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("category/<postslug:slug>/", views.category, name="category"),
    path("category/<postslug:slug>/page/<int:page>/", views.category, name="category-page"),
    path("tag/<postslug:slug>/", views.tag, name="tag"),
    path("tag/<postslug:slug>/page/<int:page>/", views.tag, name="tag-page"),
    path("author/<str:username>/", views.author, name="author"),
    path("author/<str:username>/page/<int:page>/", views.author, name="author-page"),
    path("<yyyy:year>/", views.archive, name="archive-year"),
    path("<yyyy:year>/page/<int:page>/", views.archive, name="archive-year-page"),
    path("<yyyy:year>/<mm:month>/", views.archive, name="archive-month"),
    path("<yyyy:year>/<mm:month>/page/<int:page>/", views.archive, name="archive-month-page"),
    path("<yyyy:year>/<mm:month>/<mm:day>/", views.archive, name="archive-day"),
    path("<yyyy:year>/<mm:month>/<mm:day>/page/<int:page>/", views.archive, name="archive-day-page"),
    path("<yyyy:year>/<mm:month>/<mm:day>/<postslug:slug>/", views.detail, name="detail"),
]
