"""Every page a reader, commenter or peer sees, walked in Spanish and French: no English left.

Each page is rendered twice, once with `Accept-Language: en` and once in the target language. The
visible text (text nodes, the attributes people hear or see: aria-label, title, placeholder, alt,
button values and the messages JS shows from data-* attributes, <title> and the meta description)
is cut into chunks. Content from the database is seeded with words that all start with "zq", so
it is removed before comparing. A chunk that reads the same in English and in the target
language is untranslated, unless the catalogue itself translates that msgid to the same word
("Pingback", "Archives" in French). A short list of English function words is checked too,
to catch strings that only appear in one of the renders.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Declaration, Doctype, ProcessingInstruction
from bs4 import Comment as HtmlComment
from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone, translation

from comments import services
from comments.models import Comment, IncomingWebmention
from newsletter import services as newsletter_services
from posts.models import AuthorProfile, Post
from posts.preview import preview_url
from tests import factories

pytestmark = pytest.mark.django_db

LANGS = ["es", "fr"]
LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
# The names of things that are the same in every language: brands, formats, endonyms.
PROPER_NAMES = {"rss", "atom", "mastodon", "linkedin", "x", "english", "español", "français"}
# Admin strings that are not ours: Django 6.1's own es catalogue leaves a few admin strings empty
# ("Run", "- Select an option -"), "Search %s" is new in 6.1, and django-comments-xtd's model
# fields have no es/fr labels. They are Django's and xtd's to translate; everything else is ours.
NOT_OURS_IN_ADMIN = {
    "select an option",
    "run",
    "search",
    "filter by",
    "total",
    "false",
    "true",
    "followup",
    "level",
    "nested count",
    "order",
    "parent id",
    "thread id",
    "notify follow up comments",
    "site",
}
# English words that never appear in Spanish or French interface text.
ENGLISH_MARKERS = re.compile(
    r"\b(the|and|of|your|with|this|for|by|is|are|was|not|you|reply|search|posts|older|newer|"
    r"share|leave|skip|read|found|nothing|please|optional|responses?|page not found)\b",
    re.IGNORECASE,
)
DB_WORD = re.compile(r"\S*zq\S*", re.IGNORECASE)  # every seeded database string contains "zq"
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
URL = re.compile(r"(https?://|mailto:)\S+|\S+@\S+\.\w+")
VISIBLE_ATTRS = ("aria-label", "title", "placeholder", "alt")
MESSAGE_DATA_ATTRS = ("data-done", "data-failed", "data-replying", "data-attached")


def catalogue_same_as_english(lang: str) -> set[str]:
    """msgids that the catalogue deliberately leaves as they are in this language."""
    translation_ = translation.trans_real.translation(lang)
    same = set()
    for msgid, msgstr in translation_._catalog.items():
        if isinstance(msgid, tuple):  # plural forms: (msgid, index)
            continue
        if msgid and msgid == msgstr:
            same.add(normalise(msgid))
    return same


def normalise(text: str) -> str:
    """Drop database words, URLs, numbers and punctuation; what is left is interface text."""
    text = DB_WORD.sub(" ", text)
    text = URL.sub(" ", UUID.sub(" ", text))
    text = text.replace(settings.SITE_NAME, " ")
    text = re.sub(r"[\W\d_]+", " ", text)
    return " ".join(text.split()).lower()


def chunks_of_html(content: bytes) -> list[str]:
    soup = BeautifulSoup(content, "html.parser")
    for hidden in soup.select("script, style, template"):
        hidden.decompose()
    found = []
    for node in soup.find_all(string=True):
        if isinstance(
            node, (HtmlComment, Doctype, Declaration, ProcessingInstruction)
        ) or node.parent.name in ("script", "style"):
            continue
        found.append(str(node))
    for tag in soup.find_all(True):
        for attr in VISIBLE_ATTRS + MESSAGE_DATA_ATTRS:
            if tag.get(attr):
                found.append(tag[attr])
        if tag.name == "input" and tag.get("type") in ("submit", "button") and tag.get("value"):
            found.append(tag["value"])
    description = soup.select_one("meta[name=description]")
    if description is not None:
        found.append(description["content"])
    return found


def chunks_of_text(text: str) -> list[str]:
    return text.splitlines()


def untranslated(english: list[str], other: list[str], lang: str, also_allowed=frozenset()) -> list[str]:
    allowed = catalogue_same_as_english(lang) | PROPER_NAMES | also_allowed
    english_set = {normalise(c) for c in english} - {""}
    problems = []
    for chunk in other:
        clean = normalise(chunk)
        if len(clean) < 2 or clean in allowed:  # a lone letter is an avatar's initial
            continue
        if clean in english_set or ENGLISH_MARKERS.search(clean):
            problems.append(chunk.strip())
    return sorted(set(problems))


# --- The site, seeded with "zq" words -------------------------------------------------------------


@pytest.fixture
def site(db, settings):
    settings.COMMENTS_THREADS_PER_PAGE = 2
    now = timezone.now()
    writer = factories.UserFactory(username="zqana", first_name="Zqana", last_name="Zqruiz")
    AuthorProfile.objects.update_or_create(
        user=writer,
        defaults={"display_name": "Zqana Zqruiz", "bio": "Zqbio zqagua.", "website": "https://zq.example/"},
    )
    second = factories.UserFactory(username="zqluc", first_name="Zqluc")
    parent = factories.CategoryFactory(name="Zqagua", slug="zqagua", description="Zqdescripcion.")
    child = factories.CategoryFactory(name="Zqpozos", slug="zqpozos", parent=parent)
    tag = factories.TagFactory(name="zqbombas", slug="zqbombas", description="Zqetiqueta.")
    older = factories.PostFactory(
        title="Zqantes",
        slug="zqantes",
        body="Zqtexto zqviejo.",
        published_at=now - dt.timedelta(days=40),
        authors=[writer],
        categories=[child],
        tags=[tag],
    )
    lead = factories.PostFactory(
        title="Zqbombas zqmanuales",
        slug="zqbombas-zqmanuales",
        body=(
            "Zqintro zqtexto.\n\n## Zqseccion\n\nZqpárrafo [zqenlace](https://zq.example/).\n\n"
            "## Zqotra\n\nZqfin.\n\n## Zqtercera\n\nZqfinal."
        ),
        excerpt="Zqresumen zqcorto.",
        published_at=now - dt.timedelta(days=2),
        authors=[writer, second],
        categories=[parent],
        tags=[tag],
    )
    twin = factories.PostFactory(
        title="Zqpompes",
        slug="zqpompes",
        body="Zqcorps.",
        language="fr",
        translation_group=lead.translation_group,
        published_at=now - dt.timedelta(days=1),
        authors=[writer],
        tags=[tag],
    )
    closed = factories.PostFactory(
        title="Zqcerrada",
        slug="zqcerrada",
        body="Zqnada.",
        allow_comments=False,
        published_at=now - dt.timedelta(days=3),
        authors=[writer],
    )
    draft = factories.PostFactory(
        title="Zqborrador", slug="zqborrador", body="Zqpronto.", status=Post.Status.DRAFT, authors=[writer]
    )

    def comment(post, *, parent=None, kind="comment", minutes=5, **fields):
        values = dict(
            user_name="Zqlector",
            user_email="zqlector@example.net",
            user_url="https://zqlector.example/",
            comment=f"Zqcomentario zq{minutes}.",
        )
        values.update(fields)
        return factories.make_comment(
            post, parent=parent, kind=kind, when=now - dt.timedelta(minutes=minutes), **values
        )

    first = comment(lead, minutes=50)
    comment(lead, parent=first, user_name="Zqmarta", user_url="", minutes=40)
    comment(lead, minutes=30, user_name="Zqpedro")
    comment(lead, minutes=20, user_name="Zqsara")
    for kind in ("pingback", "trackback", "webmention"):
        comment(
            lead,
            kind=kind,
            user_name="Zqblog",
            user_url=f"https://zqblog.example/zq{kind}",
            comment=f"[…] Zqextracto zq{kind} […]",
            source_url=f"https://zqblog.example/zq{kind}",
            source_title="Zqfuente",
            minutes=10,
        )
    held = comment(lead, is_public=False, user_name="Zqretenido", minutes=1)
    # A fediverse reply (shown with its handle and origin) and a like and a boost of the post.
    from django.utils import timezone as tz

    from federation.models import Reaction, RemoteActor

    comment(
        lead,
        kind="fediverse",
        user_name="Zqfedi",
        user_url="https://zqmasto.example/@zqfedi",
        author_handle="@zqfedi@zqmasto.example",
        source_url="https://zqmasto.example/@zqfedi/1",
        comment="<p>Zqrespuesta zqfederada.</p>",
        minutes=5,
    )
    fan = RemoteActor.objects.create(
        uri="https://zqmasto.example/users/zqfan",
        domain="zqmasto.example",
        preferred_username="zqfan",
        name="Zqfan",
        inbox="https://zqmasto.example/inbox",
        key_id="https://zqmasto.example/users/zqfan#main-key",
        public_key_pem="-",
        fetched_at=tz.now(),
    )
    for kind in ("like", "announce"):
        Reaction.objects.create(post=lead, kind=kind, actor=fan, activity_id=f"{fan.uri}/{kind}")
    incoming = IncomingWebmention.objects.create(
        source="https://zqblog.example/zq",
        target="https://example.org" + lead.get_absolute_url(),
        status=IncomingWebmention.Status.REJECTED,
        reason="The source could not be fetched or does not link to the target.",
    )
    from newsletter.models import Delivery, Mailing, Subscriber

    subscriber = Subscriber.objects.create(
        email="zqsub@example.net", confirmed_at=now, post_languages=",en,es,"
    )
    Mailing.objects.create(post=lead, recipients=1)
    Delivery.objects.create(subscriber=subscriber, post=lead, state="bounced", error="550 zqbuzon")
    return dict(
        subscriber=subscriber,
        lead=lead,
        older=older,
        twin=twin,
        closed=closed,
        draft=draft,
        first=first,
        held=held,
        tag=tag,
        parent=parent,
        incoming=incoming,
    )


def get_pages(site) -> dict[str, tuple[str, str, dict]]:
    lead = site["lead"]
    subscription_key = newsletter_services.subscriber_key(subscriber=site["subscriber"])
    day = lead.published_at
    return {
        "home": ("get", "/", {}),
        "post with comments and linkbacks": ("get", lead.get_absolute_url(), {}),
        "second comment page": ("get", lead.get_absolute_url() + "?cpage=2", {}),
        "post in French": ("get", site["twin"].get_absolute_url(), {}),
        "post with comments closed": ("get", site["closed"].get_absolute_url(), {}),
        "year archive": ("get", f"/{day:%Y}/", {}),
        "month archive": ("get", f"/{day:%Y/%m}/", {}),
        "day archive": ("get", f"/{day:%Y/%m/%d}/", {}),
        "category": ("get", "/category/zqagua/", {}),
        "tag": ("get", "/tag/zqbombas/", {}),
        "author": ("get", "/author/zqana/", {}),
        "subscribe": ("get", "/subscribe/", {}),
        "search form": ("get", "/search/", {}),
        "search results": ("get", "/search/?q=zqbombas", {}),
        "search without results": ("get", "/search/?q=zqninguno", {}),
        "search too long": ("get", "/search/?q=" + "zqlargo " * 60, {}),
        "404": ("get", "/zqno-existe/", {}),
        "reply page": ("get", f"/comments/reply/{site['first'].pk}/", {}),
        "held page": ("get", f"/comments/posted/held/?post={lead.pk}", {}),
        "awaiting page": ("get", f"/comments/posted/awaiting/?post={lead.pk}", {}),
        "bad confirmation link": ("get", "/comments/confirm/zqmalo/", {}),
        "bad mute link": ("get", "/comments/mute/zqmalo/", {}),
        "mute link": (
            "get",
            "/comments/mute/" + services.mute_key(email="zq@example.net", post_id=lead.pk) + "/",
            {},
        ),
        "privacy request": ("get", "/comments/privacy/", {}),
        "privacy request with error": ("post", "/comments/privacy/", {"email": "zq-no-es-correo"}),
        "privacy manage": (
            "get",
            "/comments/privacy/" + services.privacy_key(email="zqlector@example.net") + "/",
            {},
        ),
        "webmention status": ("get", f"/webmention/{site['incoming'].token}/", {}),
        "shared preview": ("get", preview_url(site["draft"]), {}),
        "bad preview link": ("get", "/preview/zqmalo/", {}),
        "subscribe with errors": ("post", "/subscribe/email/", {"email": "zq-mal", "scope": "some"}),
        "subscribe sent": ("get", "/subscribe/sent/", {}),
        "confirm subscription": (
            "get",
            "/subscribe/confirm/"
            + newsletter_services.confirmation_key(
                choices=newsletter_services.Choices(email="zq@example.net", post_languages=["en"])
            )
            + "/",
            {},
        ),
        "bad subscription link": ("get", "/subscribe/manage/zqmalo/", {}),
        "manage subscription": ("get", f"/subscribe/manage/{subscription_key}/", {}),
        "unsubscribe page": ("get", f"/subscribe/unsubscribe/{subscription_key}/", {}),
        "manage link request": ("get", "/subscribe/manage/", {}),
        "manage link request with error": ("post", "/subscribe/manage/", {"email": "zq-mal"}),
        "manage link sent": ("get", "/subscribe/manage/sent/", {}),
    }


def fetch(client: Client, method: str, path: str, data: dict, lang: str):
    response = getattr(client, method)(path, data, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code < 500, (path, response.status_code)
    assert response["Content-Language"] == lang, path
    return response


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_is_translated(site, lang):
    english_client, client = Client(), Client()
    problems = {}
    for name, (method, path, data) in get_pages(site).items():
        english = fetch(english_client, method, path, data, "en")
        other = fetch(client, method, path, data, lang)
        left = untranslated(chunks_of_html(english.content), chunks_of_html(other.content), lang)
        if left:
            problems[name] = left
    assert problems == {}


@pytest.mark.parametrize("lang", LANGS)
def test_comment_form_with_errors_is_translated(site, lang, comment_form_data):
    pages = {}
    for code in ("en", lang):
        client = Client(HTTP_ACCEPT_LANGUAGE=code)
        data = comment_form_data(client, site["lead"], comment="", email="zq-mal", url="zq://mal")
        response = client.post("/comments/post/", data)
        assert response.status_code == 400 or response.status_code == 200
        pages[code] = BeautifulSoup(response.content, "html.parser")
        assert pages[code].select(".field.has-error"), "the form shows its errors"
    left = untranslated(chunks_of_html(pages["en"].encode()), chunks_of_html(pages[lang].encode()), lang)
    assert left == []


@pytest.mark.parametrize("lang", LANGS)
def test_moderation_page_from_an_authors_email_is_translated(site, lang):
    pages = {}
    writer = site["lead"].authorships.first().user
    for code in ("en", lang):
        client = Client(HTTP_ACCEPT_LANGUAGE=code)
        client.force_login(writer)
        response = client.get(f"/comments/moderate/{site['held'].pk}/")
        assert response.status_code == 200
        pages[code] = chunks_of_html(response.content)
    assert untranslated(pages["en"], pages[lang], lang) == []


@pytest.mark.parametrize("lang", LANGS)
def test_signed_in_comment_form_and_privacy_deletion_are_translated(site, lang):
    pages = {}
    for code in ("en", lang):
        client = Client(HTTP_ACCEPT_LANGUAGE=code)
        client.force_login(factories.UserFactory(username=f"zqfirmado{code}"))
        form = client.get(site["lead"].get_absolute_url())
        key = services.privacy_key(email="zqlector@example.net")
        deleted = client.post(f"/comments/privacy/{key}/", {"confirm": "delete"}) if code == lang else None
        pages[code] = chunks_of_html(form.content) + (chunks_of_html(deleted.content) if deleted else [])
    assert untranslated(pages["en"], pages[lang], lang) == []


RETRY = {
    "retry": {
        "action": "/comments/post/",
        "hidden": [("object_pk", "1")],
        "visible": [("name", "Zqana"), ("email", "zq@example.net"), ("url", ""), ("comment", "Zqtexto.")],
    }
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", ["500.html", "503.html", "503_retry.html"])
def test_error_pages_without_database_are_translated(lang, template):
    with translation.override("en"):
        english = render_to_string(template, RETRY)
    with translation.override(lang):
        other = render_to_string(template, RETRY)
    assert f'lang="{lang}"' in other
    assert untranslated(chunks_of_html(english.encode()), chunks_of_html(other.encode()), lang) == []


@pytest.mark.parametrize("lang", LANGS)
def test_feed_channels_are_translated(site, client, lang):
    from lxml import etree

    paths = [
        "/feed/",
        "/feed/atom/",
        "/comments/feed/",
        "/category/zqagua/feed/",
        "/tag/zqbombas/feed/",
        "/author/zqana/feed/",
    ]
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    for path in paths:
        texts = {}
        for code in ("en", lang):
            root = etree.fromstring(client.get(f"{path}?lang={code}").content)
            if root.tag == "rss":
                channel = root.find("channel")
                texts[code] = [channel.findtext("title"), channel.findtext("description")]
                texts[code] += [item.findtext("title") for item in channel.findall("item")]
            else:
                texts[code] = [
                    root.findtext("atom:title", namespaces=ns),
                    root.findtext("atom:subtitle", namespaces=ns),
                ]
                texts[code] += [
                    e.findtext("atom:title", namespaces=ns) for e in root.findall("atom:entry", ns)
                ]
        texts = {code: [t for t in values if t] for code, values in texts.items()}
        assert untranslated(texts["en"], texts[lang], lang) == [], path


@pytest.mark.parametrize("lang", LANGS)
def test_emails_are_translated(site, lang, immediate_tasks, django_capture_on_commit_callbacks, settings):
    """Every email the site sends, rendered in English and in the target language."""
    from comments import tasks

    settings.COMMENTS_NOTIFY_AUTHOR_WINDOW = 0
    lead, first = site["lead"], site["first"]
    bodies = {}
    for code in ("en", lang):
        mail.outbox.clear()
        AuthorProfile.objects.filter(user__authorships__post=lead).update(email_language=code)
        Comment.objects.filter(pk=first.pk).update(followup=True, language=code)
        reply = Comment.objects.create(
            content_type=first.content_type,
            object_pk=first.object_pk,
            site=first.site,
            parent_id=first.pk,
            user_name="Zqnuevo",
            user_email=f"zqnuevo-{code}@example.net",
            comment="Zqrespuesta.",
            is_public=False,
            awaiting_confirmation=True,
            language=code,
            hold_reason="zqmotivo",
        )
        lead.language = code
        lead.save()
        with translation.override(code):
            tasks.send_confirmation_request.call(reply.pk)
            Comment.objects.filter(pk=reply.pk).update(is_public=True, awaiting_confirmation=False)
            tasks.notify_followers.call(reply.pk)
            Comment.objects.filter(pk=reply.pk).update(is_public=False)
            reply.refresh_from_db()
            services.author_notices_queue(comment=reply)
            tasks.send_author_notices.call(lead.authorships.first().user_id, lead.pk)
            Comment.objects.filter(post=lead, kind="trackback").update(is_public=False)
            tasks.notify_authors_of_held_linkbacks.call(lead.pk)
            tasks.send_privacy_link.call("zqlector@example.net", code)
            _newsletter_and_workflow_emails(site, code)
        assert len(mail.outbox) >= 15, [m.subject for m in mail.outbox]
        bodies[code] = [line for m in mail.outbox for line in [m.subject, *chunks_of_text(m.body)]]
        assert {m.extra_headers.get("Content-Language") for m in mail.outbox} == {code}
    assert untranslated(bodies["en"], bodies[lang], lang) == []


def _newsletter_and_workflow_emails(site, code):
    """The newsletter's emails and the review workflow's, in `code` (the recipients' language)."""
    from django.contrib.auth.models import Permission

    from newsletter import emails as newsletter_emails
    from newsletter import tasks as newsletter_tasks
    from posts import tasks as post_tasks
    from posts.models import ReviewNote

    subscriber = site["subscriber"]
    subscriber.language = code
    subscriber.save()
    newsletter_tasks.send_confirmation.call("zq@example.net", code, "zqclave")
    newsletter_tasks.send_manage_link.call(subscriber.email, code)
    for full in (True, False):
        newsletter_emails.render_post(site["lead"], language=code, full=full).message(
            to="zq@example.net", manage_url="https://zq.example/m", unsubscribe_url="https://zq.example/u"
        ).send()
    newsletter_emails.render_digest([site["lead"], site["older"]], language=code, full=False).message(
        to="zq@example.net", manage_url="https://zq.example/m", unsubscribe_url="https://zq.example/u"
    ).send()
    newsletter_tasks.send_test.call(site["lead"].pk, "zq@example.net", code, "excerpt")
    # The review workflow: an editor hears of a submission, the author of each decision.
    editor = factories.UserFactory(username=f"zqeditor{code}", email=f"zqeditor{code}@example.net")
    editor.user_permissions.add(Permission.objects.get(codename="edit_others_posts"))
    AuthorProfile.objects.update(email_language=code)  # every recipient reads this language
    Post.objects.filter(pk=site["draft"].pk).update(status=Post.Status.REVIEW)
    post_tasks.notify_editors_of_review.call(site["draft"].pk, None)
    note = ReviewNote.objects.create(post=site["draft"], author=editor, note="Zqnota.")
    for decision in ("published", "scheduled", "sent_back"):
        post_tasks.notify_authors_of_decision.call(site["draft"].pk, editor.pk, decision, note.pk)


@pytest.mark.parametrize("lang", LANGS)
def test_admin_pages_we_add_are_translated(site, lang):
    """The admin screens for our models: Django translates its own words, we translate ours."""
    from comments.models import LinkbackAttempt

    lead = site["lead"]
    LinkbackAttempt.objects.create(post=lead, target_url="https://zqblog.example/zqdestino")
    superuser = factories.UserFactory(username="zqjefa", is_superuser=True)
    from newsletter.models import DigestRun, DigestSchedule
    from posts.models import ReviewNote

    DigestSchedule.current()
    DigestRun.objects.create(slot=timezone.now())
    ReviewNote.objects.create(post=site["draft"], author=superuser, note="Zqnota.")
    site["in_review"] = factories.PostFactory(
        title="Zqrevision",
        slug="zqrevision",
        status=Post.Status.REVIEW,
        published_at=None,
        authors=[lead.authorships.first().user],
    )
    held = site["held"]
    # In the admin the stored reason is data, like any other field value.
    IncomingWebmention.objects.update(reason="Zqmotivo.")
    paths = [
        "/admin/posts/post/",
        "/admin/posts/post/add/",
        f"/admin/posts/post/{lead.pk}/change/",
        f"/admin/posts/post/{lead.pk}/revisions/",
        f"/admin/posts/post/{lead.pk}/translate/",
        "/admin/posts/category/",
        "/admin/posts/tag/",
        "/admin/posts/authorprofile/",
        "/admin/posts/mediaimage/",
        "/admin/posts/mediaimage/add/",
        "/admin/comments/comment/",
        "/admin/comments/comment/?state=held",
        f"/admin/comments/comment/{held.pk}/change/",
        "/admin/comments/linkbackattempt/",
        "/admin/comments/incomingwebmention/",
        f"/admin/comments/incomingwebmention/{site['incoming'].pk}/change/",
        "/admin/posts/authorprofile/me/",
        f"/admin/posts/post/{site['draft'].pk}/change/",
        f"/admin/posts/post/{site['in_review'].pk}/send-back/",
        "/admin/newsletter/subscriber/",
        f"/admin/newsletter/subscriber/{site['subscriber'].pk}/change/",
        "/admin/newsletter/mailing/",
        f"/admin/newsletter/mailing/{lead.newsletter_mailing.pk}/change/",
        f"/admin/newsletter/mailing/send-test/{lead.pk}/",
        "/admin/newsletter/delivery/",
        "/admin/newsletter/digestrun/",
        "/admin/newsletter/digestschedule/1/change/",
    ]
    problems = {}
    for path in paths:
        renders = {}
        for code in ("en", lang):
            client = Client(HTTP_ACCEPT_LANGUAGE=code)
            client.force_login(superuser)
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            # Only the page's own content: the sidebar also lists third-party apps (axes, xtd).
            content = BeautifulSoup(response.content, "html.parser").select_one("#content")
            renders[code] = chunks_of_html(str(content).encode())
        # "Search categorías", "Filter by fecha": Django's half of such a phrase is not ours.
        ours = [re.sub(r"^(Search|Filter by) ", "", chunk.strip()) for chunk in renders[lang]]
        left = untranslated(renders["en"], ours, lang, also_allowed=NOT_OURS_IN_ADMIN)
        if left:
            problems[path] = left
    assert problems == {}


@pytest.mark.parametrize("lang", LANGS)
def test_the_note_on_a_just_confirmed_comment_is_translated(site, lang, settings):
    """The note a reader sees on their own comment after confirming it (published, and held)."""
    settings.COMMENTS_FLOOD_SECONDS = 0
    pages = {}
    for code in ("en", lang):
        chunks = []
        for text in ("Zqpublicado.", "Zqretenido https://zq.example/a https://zq.example/b"):
            comment = factories.make_comment(
                site["lead"],
                user_name="Zqlectora",
                user_email=f"zq{code}@example.net",
                comment=text,
                is_public=False,
            )
            Comment.objects.filter(pk=comment.pk).update(awaiting_confirmation=True, hold_reason="")
            if "Zqretenido" in text:
                Comment.objects.filter(pk=comment.pk).update(hold_reason="zqmotivo")
            client = Client(HTTP_ACCEPT_LANGUAGE=code)
            landed = client.get(f"/comments/confirm/{services.confirmation_key(comment=comment)}/")
            page = client.get(landed["Location"])
            note = BeautifulSoup(page.content, "html.parser").select_one("#just-posted")
            assert note is not None, (code, text)
            chunks += chunks_of_html(str(note).encode())
        pages[code] = chunks
    assert untranslated(pages["en"], pages[lang], lang) == []
