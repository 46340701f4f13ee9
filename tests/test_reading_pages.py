"""What a reader sees on the list pages, the archives, taxonomy and author pages, and a post."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.core.files.base import ContentFile

from posts.models import AuthorProfile, Post
from tests.factories import CategoryFactory, PostFactory, TagFactory, UserFactory

UTC = dt.UTC
ORIGIN = "http://127.0.0.1:8000"
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def get_page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url[:80], response.status_code)
    return BeautifulSoup(response.content, "html.parser")


def card_titles(page):
    return [a.get_text(strip=True) for a in page.select("article.post-card h2 a")]


def at(year, month, day, hour=12):
    return dt.datetime(year, month, day, hour, tzinfo=UTC)


# --- Home and pagination ---------------------------------------------------------------------


@pytest.fixture
def twenty_three_posts(db, author):
    start = at(2025, 1, 1)
    return [
        PostFactory(title=f"Post {n:02d}", published_at=start + dt.timedelta(days=n), authors=[author])
        for n in range(23)
    ]


def test_home_shows_ten_posts_a_page_and_links_pages_by_path(client, twenty_three_posts):
    first = get_page(client, "/")
    assert card_titles(first) == [f"Post {n:02d}" for n in range(22, 12, -1)]
    nav = first.select_one("nav.pagination")
    assert nav.select_one("a[rel=next]")["href"] == "/page/2/"
    assert nav.select_one("a[rel=prev]") is None
    assert first.select_one("head link[rel=next]")["href"] == f"{ORIGIN}/page/2/"

    second = get_page(client, "/page/2/")
    assert card_titles(second) == [f"Post {n:02d}" for n in range(12, 2, -1)]
    assert second.select_one("nav.pagination a[rel=prev]")["href"] == "/"
    assert second.select_one("nav.pagination a[rel=next]")["href"] == "/page/3/"
    assert second.select_one("head link[rel=prev]")["href"] == f"{ORIGIN}/"
    assert second.select_one("head link[rel=canonical]")["href"] == f"{ORIGIN}/page/2/"

    third = get_page(client, "/page/3/")
    assert card_titles(third) == ["Post 02", "Post 01", "Post 00"]
    assert third.select_one("nav.pagination a[rel=next]") is None
    for page in (first, second, third):
        assert not any("page=" in a["href"] for a in page.select("nav.pagination a"))

    get_page(client, "/page/4/", status=404)
    response = client.get("/page/1/")
    assert response.status_code == 301 and response["Location"] == "/"


def test_featured_posts_are_pinned_first_on_the_home_page(client, author):
    PostFactory(title="Newest", published_at=at(2025, 5, 2), authors=[author])
    PostFactory(title="Old but featured", published_at=at(2024, 1, 1), featured=True, authors=[author])
    assert card_titles(get_page(client, "/")) == ["Old but featured", "Newest"]


def test_reading_pages_answer_head_and_refuse_post(client, post):
    for url in ("/", post.get_absolute_url(), "/search/?q=field", "/author/amara/"):
        assert client.head(url).status_code == 200, url
        assert client.post(url).status_code == 405, url


# --- Archives --------------------------------------------------------------------------------


@pytest.fixture
def dated_posts(db, author):
    return {
        when: PostFactory(
            title=f"Written {when}", published_at=at(*map(int, when.split("-"))), authors=[author]
        )
        for when in ("2025-03-14", "2025-03-20", "2025-07-01", "2024-12-31")
    }


def test_year_archive_lists_its_posts_and_the_months_that_have_posts(client, dated_posts):
    page = get_page(client, "/2025/")
    assert page.h1.get_text(strip=True) == "2025"
    assert card_titles(page) == ["Written 2025-07-01", "Written 2025-03-20", "Written 2025-03-14"]
    months = [a["href"] for a in page.select("nav.archive-months a")]
    assert months == ["/2025/07/", "/2025/03/"]


def test_month_and_day_archives(client, dated_posts):
    march = get_page(client, "/2025/03/")
    assert march.h1.get_text(strip=True) == "March 2025"
    assert card_titles(march) == ["Written 2025-03-20", "Written 2025-03-14"]
    day = get_page(client, "/2025/03/14/")
    assert card_titles(day) == ["Written 2025-03-14"]
    assert "March 14, 2025" in day.h1.get_text()


def test_archive_pages_paginate_by_path(client, author):
    for n in range(12):
        PostFactory(title=f"March {n}", published_at=at(2025, 3, 1) + dt.timedelta(hours=n), authors=[author])
    first = get_page(client, "/2025/03/")
    assert len(card_titles(first)) == 10
    assert first.select_one("nav.pagination a[rel=next]")["href"] == "/2025/03/page/2/"
    second = get_page(client, "/2025/03/page/2/")
    assert card_titles(second) == ["March 1", "March 0"]
    assert second.select_one("nav.pagination a[rel=prev]")["href"] == "/2025/03/"


def test_empty_periods_are_404(client, dated_posts):
    for url in ("/2025/02/", "/2023/", "/2025/03/15/"):
        page = get_page(client, url, status=404)
        assert page.h1.get_text(strip=True) == "Page not found"


@pytest.mark.parametrize(
    "url",
    [
        "/0000/",
        "/0000/01/",
        "/2025/13/",
        "/2025/00/",
        "/2025/02/30/",
        "/2025/13/01/some-post/",
        "/2025/02/30/some-post/",
        "/0000/01/01/some-post/",
        "/9999/12/31/",
        "/9999/12/31/some-post/",
        "/2025/03/14/" + "a" * 5000 + "/",
        "/tag/unknown-tag/",
        "/tag/" + "t" * 5000 + "/",
        "/category/unknown/",
        "/category/" + "c" * 5000 + "/",
        "/author/nobody/",
        "/author/" + "u" * 5000 + "/",
        "/page/0/",
        "/page/99999999999999999999999/",
        "/tag/unknown/page/2/",
        "/2025/03/page/0/",
        "/search/page/0/?q=water",
    ],
)
def test_bad_url_parts_are_404_never_500(client, dated_posts, url):
    page = get_page(client, url, status=404)
    assert page.h1.get_text(strip=True) == "Page not found"


# --- Taxonomy and authors --------------------------------------------------------------------


def test_category_page_shows_its_description_sub_categories_and_their_posts(client, author):
    water = CategoryFactory(name="Water", slug="water", description="Pumps, pipes and kiosks.")
    rural = CategoryFactory(name="Rural water", slug="rural-water", parent=water)
    deep = CategoryFactory(name="Boreholes", slug="boreholes", parent=rural)
    other = CategoryFactory(name="Hygiene", slug="hygiene")
    PostFactory(title="On water", categories=[water], authors=[author], published_at=at(2025, 1, 3))
    PostFactory(title="On rural water", categories=[rural], authors=[author], published_at=at(2025, 1, 2))
    PostFactory(title="On boreholes", categories=[deep], authors=[author], published_at=at(2025, 1, 1))
    PostFactory(title="On soap", categories=[other], authors=[author])
    PostFactory(title="In both", categories=[water, rural], authors=[author], published_at=at(2024, 1, 1))

    page = get_page(client, "/category/water/")
    assert page.h1.get_text(strip=True) == "Water"
    assert page.select_one(".list-header .description").get_text() == "Pumps, pipes and kiosks."
    assert card_titles(page) == ["On water", "On rural water", "On boreholes", "In both"]
    assert [a["href"] for a in page.select("nav.subcategories a")] == ["/category/rural-water/"]

    assert card_titles(get_page(client, "/category/boreholes/")) == ["On boreholes"]


def test_tag_page_lists_tagged_posts_with_the_tag_description(client, author):
    tag = TagFactory(name="solar", slug="solar", description="Solar-powered pumping.")
    PostFactory(title="Solar pumps", tags=[tag], authors=[author])
    PostFactory(title="Hand pumps", authors=[author])
    page = get_page(client, "/tag/solar/")
    assert page.h1.get_text(strip=True) == "solar"
    assert page.select_one(".list-header .description").get_text() == "Solar-powered pumping."
    assert card_titles(page) == ["Solar pumps"]


def test_author_page_shows_bio_avatar_website_and_their_posts(client, db):
    user = UserFactory(username="nadia", first_name="Nadia", last_name="Haddad")
    profile = AuthorProfile.objects.get(user=user)
    profile.bio = "Sanitation engineer.\nWrites about faecal sludge."
    profile.website = "https://nadia.example.org/"
    profile.avatar.save("nadia.png", ContentFile(TINY_PNG))
    other = UserFactory(username="other")
    PostFactory(title="Solo post", authors=[user], published_at=at(2025, 2, 1))
    PostFactory(title="Co-written", authors=[other, user], published_at=at(2025, 1, 1))
    PostFactory(title="Not hers", authors=[other])

    page = get_page(client, "/author/nadia/")
    card = page.select_one(".author-card")
    assert card.h1.get_text(strip=True) == "Nadia Haddad"
    assert card.select_one(".bio").get_text() == "Sanitation engineer.Writes about faecal sludge."
    assert card.select_one(".bio br") is not None
    assert card.select_one(".website a")["href"] == "https://nadia.example.org/"
    assert card.select_one("img.author-photo")["src"].startswith("/media/avatars/nadia")
    assert card_titles(page) == ["Solo post", "Co-written"]


def test_a_user_with_nothing_published_has_no_author_page(client, db):
    user = UserFactory(username="drafty")
    PostFactory(title="Draft only", authors=[user], status=Post.Status.DRAFT)
    get_page(client, "/author/drafty/", status=404)


# --- The post page ---------------------------------------------------------------------------


def test_post_page_byline_date_reading_time_categories_and_tags(client, db):
    users = [
        UserFactory(username="amara", first_name="Amara", last_name="Okafor"),
        UserFactory(username="tomas", first_name="Tomás", last_name="Beaulieu"),
        UserFactory(username="li", first_name="Li", last_name="Wei"),
    ]
    cat = CategoryFactory(name="Field notes", slug="field-notes")
    tags = [TagFactory(name="pumps", slug="pumps"), TagFactory(name="finance", slug="finance")]
    post = PostFactory(
        title="Who pays for repairs",
        body="word " * 300,
        published_at=at(2025, 4, 9, 8),
        authors=users,
        categories=[cat],
        tags=tags,
    )
    response = client.get(post.get_absolute_url())
    assert response.wsgi_request.viewed_post == post
    page = BeautifulSoup(response.content, "html.parser")
    article = page.select_one("article.post")
    assert article.h1.get_text() == "Who pays for repairs"
    byline = article.select_one(".byline")
    assert [a.get_text() for a in byline.select("a[rel=author]")] == [
        "Amara Okafor",
        "Tomás Beaulieu",
        "Li Wei",
    ]
    assert [a["href"] for a in byline.select("a[rel=author]")] == [
        "/author/amara/",
        "/author/tomas/",
        "/author/li/",
    ]
    assert byline.time["datetime"] == "2025-04-09T08:00:00+00:00"
    assert article.select_one(".reading-time").get_text() == "2 minutes read"
    assert [a["href"] for a in article.select(".categories a")] == ["/category/field-notes/"]
    assert sorted(a.get_text() for a in article.select(".tags a[rel=tag]")) == ["finance", "pumps"]


def test_long_posts_get_a_table_of_contents_linking_to_heading_anchors(client, author):
    body = (
        "Intro.\n\n## First part\n\nText.\n\n### A detail\n\nMore.\n\n"
        "## Second part\n\nText.\n\n## Last part\n"
    )
    post = PostFactory(body=body, authors=[author])
    page = get_page(client, post.get_absolute_url())
    toc = page.select_one("nav.toc")
    top = [li.a.get_text() for li in toc.select(":scope > ol > li")]
    assert top == ["First part", "Second part", "Last part"]
    assert [a.get_text() for a in toc.select("ol ol a")] == ["A detail"]
    content = page.select_one(".e-content")
    for link in toc.select("a"):
        assert content.select_one(f"[id='{link['href'][1:]}']") is not None

    short = PostFactory(body="Short.\n\n## Only heading\n", authors=[author])
    assert get_page(client, short.get_absolute_url()).select_one("nav.toc") is None


def test_previous_and_next_links_follow_publication_order(client, author):
    first = PostFactory(title="First", published_at=at(2025, 1, 1), authors=[author])
    second = PostFactory(title="Second", published_at=at(2025, 2, 1), authors=[author])
    third = PostFactory(title="Third", published_at=at(2025, 3, 1), authors=[author])
    nav = get_page(client, second.get_absolute_url()).select_one("nav.post-nav")
    assert nav.select_one("a[rel=prev]")["href"] == first.get_absolute_url()
    assert nav.select_one("a[rel=next]")["href"] == third.get_absolute_url()
    nav = get_page(client, first.get_absolute_url()).select_one("nav.post-nav")
    assert nav.select_one("a[rel=prev]") is None
    assert nav.select_one("a[rel=next]")["href"] == second.get_absolute_url()


def test_neighbours_are_published_articles_with_ties_broken_by_id(client, author):
    """Both neighbours come from one query: pages, drafts and scheduled posts are skipped, and
    posts published at the same moment follow each other by id."""
    older = PostFactory(title="Older", published_at=at(2025, 1, 1), authors=[author])
    PostFactory(title="A page", published_at=at(2025, 1, 2), is_page=True, authors=[author])
    PostFactory(title="A draft", published_at=at(2025, 1, 3), status="draft", authors=[author])
    tied_first = PostFactory(title="Tied one", published_at=at(2025, 1, 4), authors=[author])
    tied_second = PostFactory(title="Tied two", published_at=at(2025, 1, 4), authors=[author])
    PostFactory(title="Scheduled", published_at=at(2999, 1, 1), authors=[author])

    def neighbours(post):
        nav = get_page(client, post.get_absolute_url()).select_one("nav.post-nav")
        return [(a["rel"][0], a["href"]) for a in nav.select("a")]

    assert neighbours(tied_first) == [
        ("prev", older.get_absolute_url()),
        ("next", tied_second.get_absolute_url()),
    ]
    assert neighbours(tied_second) == [("prev", tied_first.get_absolute_url())]
    assert neighbours(older) == [("next", tied_first.get_absolute_url())]


def test_translation_links_leave_out_unpublished_translations_and_other_posts(client, author):
    """The post and its translations come from one query; only the post's own group counts,
    and only its published members."""
    english = PostFactory(title="Wells", slug="wells", published_at=at(2025, 5, 1), authors=[author])
    PostFactory(
        title="Puits (brouillon)",
        language="fr",
        status="draft",
        translation_group=english.translation_group,
        authors=[author],
    )
    PostFactory(
        title="Puits",
        language="fr",
        published_at=at(2999, 1, 1),
        translation_group=english.translation_group,
        authors=[author],
    )
    spanish = PostFactory(
        title="Pozos", language="es", translation_group=english.translation_group, authors=[author]
    )
    other_day = PostFactory(title="Wells again", slug="wells", published_at=at(2025, 5, 2), authors=[author])
    page = get_page(client, english.get_absolute_url())
    assert page.select_one("h1.p-name").get_text() == "Wells"
    assert [a["href"] for a in page.select("nav.translations a")] == [spanish.get_absolute_url()]
    other_page = get_page(client, other_day.get_absolute_url())
    assert other_page.select_one("h1.p-name").get_text() == "Wells again"
    assert other_page.select_one("nav.translations") is None


def test_related_posts_are_the_three_sharing_most_tags(client, author):
    t1, t2, t3 = (TagFactory(name=f"t{n}", slug=f"t{n}") for n in range(3))
    post = PostFactory(title="Main", tags=[t1, t2, t3], authors=[author])
    PostFactory(title="Shares three", tags=[t1, t2, t3], published_at=at(2020, 1, 1), authors=[author])
    PostFactory(title="Shares two", tags=[t1, t2], published_at=at(2021, 1, 1), authors=[author])
    PostFactory(title="Shares one, newer", tags=[t3], published_at=at(2024, 1, 1), authors=[author])
    PostFactory(title="Shares one, older", tags=[t1], published_at=at(2023, 1, 1), authors=[author])
    PostFactory(title="Shares none", authors=[author])
    related = get_page(client, post.get_absolute_url()).select(".related li a")
    assert [a.get_text() for a in related] == ["Shares three", "Shares two", "Shares one, newer"]


def test_related_posts_and_neighbours_from_one_query_keep_their_own_rules(client, author):
    """A neighbour sharing a tag is related only if it is among the three sharing most;
    same-language posts rank first; pages, drafts, scheduled posts and the post's translations
    are never related."""
    t1, t2, t3 = (TagFactory(name=f"t{n}", slug=f"t{n}") for n in range(3))
    post = PostFactory(title="Main", tags=[t1, t2, t3], published_at=at(2025, 6, 1), authors=[author])
    PostFactory(title="Before, one tag", tags=[t1], published_at=at(2025, 5, 31), authors=[author])
    PostFactory(title="After, no tags", published_at=at(2025, 6, 2), authors=[author])
    PostFactory(title="Three, Spanish", tags=[t1, t2, t3], language="es", published_at=at(2020, 1, 1))
    PostFactory(title="Two", tags=[t1, t2], published_at=at(2021, 1, 1), authors=[author])
    PostFactory(title="Two, older", tags=[t2, t3], published_at=at(2019, 1, 1), authors=[author])
    PostFactory(title="Three, older", tags=[t1, t2, t3], published_at=at(2018, 1, 1), authors=[author])
    PostFactory(title="Page", tags=[t1, t2, t3], is_page=True, published_at=at(2022, 1, 1))
    PostFactory(title="Draft", tags=[t1, t2, t3], status="draft", published_at=at(2022, 1, 1))
    PostFactory(title="Scheduled", tags=[t1, t2, t3], published_at=at(2999, 1, 1))
    PostFactory(
        title="Translation",
        tags=[t1, t2, t3],
        language="fr",
        translation_group=post.translation_group,
        published_at=at(2022, 1, 1),
    )
    page = get_page(client, post.get_absolute_url())
    assert [a.get_text() for a in page.select(".related li a")] == ["Three, older", "Two", "Two, older"]
    nav = page.select_one("nav.post-nav")
    assert "Before, one tag" in nav.select_one("a[rel=prev]").get_text()
    assert "After, no tags" in nav.select_one("a[rel=next]").get_text()


def test_translation_links_name_each_language_in_that_language(client, author):
    english = PostFactory(title="Learning together", language="en", authors=[author])
    spanish = PostFactory(
        title="Aprender juntos", language="es", translation_group=english.translation_group, authors=[author]
    )
    french = PostFactory(
        title="Apprendre ensemble",
        language="fr",
        translation_group=english.translation_group,
        authors=[author],
    )
    page = get_page(client, english.get_absolute_url())
    links = page.select("nav.translations a")
    assert [(a.get_text(), a["lang"], a["href"]) for a in links] == [
        ("español", "es", spanish.get_absolute_url()),
        ("français", "fr", french.get_absolute_url()),
    ]
    alternates = {
        link["hreflang"]: link["href"] for link in page.select("head link[rel=alternate][hreflang]")
    }
    assert alternates == {
        "en": ORIGIN + english.get_absolute_url(),
        "es": ORIGIN + spanish.get_absolute_url(),
        "fr": ORIGIN + french.get_absolute_url(),
    }
    spanish_page = get_page(client, spanish.get_absolute_url())
    assert [a.get_text() for a in spanish_page.select("nav.translations a")] == ["English", "français"]


def test_share_links_are_plain_urls_and_the_copy_button_uses_a_nonced_script(client, post):
    response = client.get(post.get_absolute_url())
    page = BeautifulSoup(response.content, "html.parser")
    url = ORIGIN + post.get_absolute_url()
    share = page.select_one("section.share")

    mail = urlsplit(share.select_one("a.share-email")["href"])
    assert mail.scheme == "mailto"
    assert parse_qs(mail.query) == {"subject": [post.title], "body": [url]}
    mastodon = urlsplit(share.select_one("a.share-mastodon")["href"])
    assert mastodon.path == "/share" and url in parse_qs(mastodon.query)["text"][0]
    linkedin = urlsplit(share.select_one("a.share-linkedin")["href"])
    assert linkedin.netloc == "www.linkedin.com" and parse_qs(linkedin.query)["url"] == [url]
    x = urlsplit(share.select_one("a.share-x")["href"])
    assert x.netloc == "x.com" and parse_qs(x.query)["url"] == [url]

    button = share.select_one("button.copy-link")
    assert button["data-url"] == url and button.has_attr("hidden")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    scripts = page.select("script[src]")
    assert scripts and all(s["src"].startswith("/static/") for s in scripts)
    assert all(s["nonce"] == nonce for s in page.select("script"))
    assert any(s["src"] == "/static/js/share.js" for s in scripts)


def test_json_ld_blog_posting_is_escaped_and_carries_the_nonce(client, author):
    post = PostFactory(title="</script><script>alert(1)</script> & more", authors=[author])
    post.featured_image.save("pump.png", ContentFile(TINY_PNG))
    post.featured_image_alt = "A pump"
    post.save()
    response = client.get(post.get_absolute_url())
    page = BeautifulSoup(response.content, "html.parser")
    blocks = page.select('script[type="application/ld+json"]')
    assert len(blocks) == 1
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert blocks[0]["nonce"] == nonce
    data = json.loads(blocks[0].string)
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == post.title
    assert data["author"] == [{"@type": "Person", "name": "Amara Okafor", "url": f"{ORIGIN}/author/amara/"}]
    assert dt.datetime.fromisoformat(data["datePublished"]) == post.published_at.replace(microsecond=0)
    assert data["image"] == ORIGIN + post.featured_image.url
    assert b"<script>alert(1)" not in response.content
    assert page.select_one("figure.featured-image img")["alt"] == "A pump"


# --- Staff preview ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "scheduled"])
def test_staff_preview_unpublished_posts_on_the_detail_page_only_never_cached(
    client, staff_client, author, state
):
    fields = (
        {"status": Post.Status.DRAFT, "published_at": None}
        if state == "draft"
        else {"published_at": dt.datetime.now(UTC) + dt.timedelta(days=3)}
    )
    post = PostFactory(title="Not yet", authors=[author], **fields)
    url = post.get_absolute_url()

    from django.test import Client

    assert Client().get(url).status_code == 404
    response = staff_client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    page = BeautifulSoup(response.content, "html.parser")
    assert page.select_one(".notice").get_text(strip=True) == "Preview: this post is not published yet."
    assert page.select_one("meta[name=robots]")["content"] == "noindex, nofollow"
    assert card_titles(get_page(staff_client, "/")) == []


def test_published_posts_are_not_marked_private(staff_client, post):
    response = staff_client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_each_card_names_its_first_category_by_name_on_every_list(client, db):
    """The kicker comes from the list's own query (posts.views.listing_queryset), not a prefetch."""
    water = CategoryFactory(name="Water", slug="water")
    audits = CategoryFactory(name="Audits", slug="audits")
    tagged = TagFactory(slug="pumps")
    PostFactory(title="Two categories", categories=[water, audits], tags=[tagged])
    PostFactory(title="No category", tags=[tagged])

    def kickers(url):
        page = BeautifulSoup(client.get(url).content, "html.parser")
        return {
            card.select_one(".card-title").get_text(strip=True): [
                (a.get_text(), a["href"]) for a in card.select(".kicker a")
            ]
            for card in page.select("article.post-card")
        }

    for url in ("/", "/tag/pumps/", "/category/water/", "/search/?q=categories"):
        found = kickers(url)
        assert found["Two categories"] == [("Audits", "/category/audits/")], url
    assert kickers("/")["No category"] == []


def test_an_unknown_category_is_a_404_and_a_known_one_shows_its_description(client, db):
    CategoryFactory(name="Water", slug="water", description="Wells, pumps and pipes.")
    assert client.get("/category/nope/").status_code == 404
    assert client.get("/category/Water/").status_code == 404  # slugs match exactly
    page = get_page(client, "/category/water/")
    assert page.select_one(".list-header h1").get_text() == "Water"
    assert page.select_one(".list-header .description").get_text() == "Wells, pumps and pipes."
