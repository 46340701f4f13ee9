"""Every feed URL: RSS 2.0 at `…/feed/`, Atom 1.0 at `…/feed/atom/`, plus WordPress's old feed paths.

Included by sectorblog/urls.py before the posts URLs. The date converters (`yyyy`, `mm`,
`postslug`) are registered once, by posts (posts/converters.py). A language-only feed is `?lang=es` on the
site, taxonomy or all-comments feed (an unknown language is a 404). WordPress's query form
(`/?feed=rss2`) is redirected by `wordpress.feedredirects.FeedMiddleware`.
"""

from django.urls import path
from django.views.generic import RedirectView

from feeds import comments as comment_feeds
from feeds import posts as post_feeds


def _moved(pattern_name: str) -> RedirectView:
    """A 301 to another feed, keeping the query string (e.g. ?lang=es)."""
    return RedirectView.as_view(pattern_name=pattern_name, permanent=True, query_string=True)


POST_DATE = "<yyyy:year>/<mm:month>/<mm:day>/<postslug:slug>"

app_name = "feeds"
urlpatterns = [
    path("feed/", post_feeds.PostFeed(), name="site"),
    path("feed/atom/", post_feeds.PostAtomFeed(), name="site-atom"),
    path("feed/rss/", _moved("feeds:site")),
    path("feed/rss2/", _moved("feeds:site")),
    path("feed/rdf/", _moved("feeds:site")),
    path("comments/feed/", comment_feeds.CommentFeed(), name="comments"),
    path("comments/feed/atom/", comment_feeds.CommentAtomFeed(), name="comments-atom"),
    path("comments/feed/rss2/", _moved("feeds:comments")),
    path("category/<postslug:slug>/feed/", post_feeds.CategoryFeed(), name="category"),
    path("category/<postslug:slug>/feed/atom/", post_feeds.CategoryAtomFeed(), name="category-atom"),
    path("tag/<postslug:slug>/feed/", post_feeds.TagFeed(), name="tag"),
    path("tag/<postslug:slug>/feed/atom/", post_feeds.TagAtomFeed(), name="tag-atom"),
    path("author/<str:username>/feed/", post_feeds.AuthorFeed(), name="author"),
    path("author/<str:username>/feed/atom/", post_feeds.AuthorAtomFeed(), name="author-atom"),
    path(f"{POST_DATE}/feed/", comment_feeds.PostCommentFeed(), name="post-comments"),
    path(f"{POST_DATE}/feed/atom/", comment_feeds.PostCommentAtomFeed(), name="post-comments-atom"),
]
