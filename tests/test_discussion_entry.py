"""One set of rules for every way in: no URL but the site's own writes to the discussion.

django-comments-xtd's URL module (with its JSON API and django_comments' views) used to be
included whole under /comments/. Its API took anonymous comments without CSRF, flood, duplicate,
spam or closed-post checks and emailed a "confirmation request" to any address; a signed-in
Contributor posted public comments on a draft with comments closed; its "cr" shortcut redirected
to drafts and scheduled posts; its list endpoint published the MD5 of commenters' emails. The
tests below walk every pattern of the installed package, so a pattern added by an upgrade is
tried too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.test import Client
from django.urls import Resolver404, URLResolver, resolve
from django.utils import timezone
from django.utils.regex_helper import normalize
from django_comments_xtd.models import CommentFlag

from comments.forms import CommentForm
from comments.models import Comment
from posts.models import Post
from tests import factories

PREFIX = "/comments/"  # where sectorblog/urls.py included django_comments_xtd.urls


def xtd_patterns() -> list[list[str]]:
    """Every URL pattern of django_comments_xtd.urls (and the URL modules it includes), each as
    the list of regexes from the include's root down to the view."""
    import django_comments_xtd.urls

    found: list[list[str]] = []

    def walk(patterns, chain):
        for pattern in patterns:
            regexes = [*chain, pattern.pattern.regex.pattern]
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, regexes)
            else:
                found.append(regexes)

    walk(django_comments_xtd.urls.urlpatterns, [])
    return found


def sample_paths(chain: list[str], values: dict[str, list[str]], positional: list[str]) -> list[str]:
    """Concrete paths that match one pattern chain: each named group takes its candidates from
    `values`, each unnamed group any of `positional`; only full matches are kept."""
    paths = [""]
    for regex in chain:
        compiled = re.compile(regex)
        pieces = []
        for template, params in normalize(regex):
            choices = [values.get(p, positional) if not p.startswith("_") else positional for p in params]
            for combo in itertools.product(*choices):
                text = template % dict(zip(params, combo, strict=True))
                match = compiled.match(text)
                if match and match.end() == len(text):
                    pieces.append(text)
        paths = [head + piece for head in paths for piece in pieces]
    return [PREFIX + path for path in dict.fromkeys(paths)]


@pytest.fixture
def targets(db, make_comment):
    """A draft with comments closed, a scheduled post, a published post with comments closed,
    and a published open post with one public comment."""
    author = factories.UserFactory(username="amara")
    draft = factories.PostFactory(
        authors=[author], status=Post.Status.DRAFT, allow_comments=False, slug="secret-draft"
    )
    scheduled = factories.PostFactory(
        authors=[author],
        slug="secret-launch",
        published_at=timezone.now() + dt.timedelta(days=9),
    )
    closed = factories.PostFactory(authors=[author], allow_comments=False, slug="closed-post")
    open_post = factories.PostFactory(authors=[author], slug="open-post")
    comment = make_comment(open_post, user_email="ama@example.net", comment="First!")
    return {
        "draft": draft,
        "scheduled": scheduled,
        "closed": closed,
        "open": open_post,
        "comment": comment,
    }


def hostile_payload(post) -> dict[str, str]:
    """What the form would send for this post (valid security hash), with links in the text."""
    data = CommentForm(post).generate_security_data()
    data.update(
        name="Spammer",
        email="victim@example.org",
        url="https://spam.example/",
        comment="Cheap pumps at https://spam.example/ and https://spam.example/more",
        followup="on",
        reply_to="0",
        honeypot="",
        flag="flag",
        comment_id="",
    )
    return data


@pytest.fixture
def contributor_client(db):
    user = factories.UserFactory(username="cont", is_staff=True)
    user.groups.add(Group.objects.get(name="Contributor"))
    client = Client()
    client.force_login(user)
    return client


def test_every_url_the_xtd_include_exposed_is_gone_or_applies_the_forms_rules(
    targets, contributor_client, immediate_tasks, django_capture_on_commit_callbacks
):
    """Each pattern of the old include, GET and POST (form and JSON), anonymous and as a signed-in
    Contributor, aimed at a draft with comments closed and at a closed published post: nothing is
    created, flagged, changed or emailed, and a path still answered is one of the site's views."""
    comment, draft = targets["comment"], targets["draft"]
    post_type = ContentType.objects.get_for_model(Post)
    positional = [str(comment.pk), str(post_type.pk), str(draft.pk), str(targets["scheduled"].pk)]
    values = {
        "key": ["not-a-key"],
        "format": ["json", ".json", "api"],
        "content_type": ["posts-post"],
        "object_pk": [str(targets["open"].pk), str(draft.pk)],
        "cid": [str(comment.pk)],
        "comment_id": [str(comment.pk)],
    }
    chains = xtd_patterns()
    assert len(chains) >= 40, chains  # the whole include was walked, API and django_comments too
    before = Comment.objects.count()
    answered = {}
    for chain in chains:
        paths = sample_paths(chain, values, positional)
        assert paths, f"no sample path for {chain}"
        for path in paths:
            try:
                view = resolve(path).func
                served_by = f"{view.__module__}.{view.__name__}"
            except Resolver404:
                served_by = None
            for target in (draft, targets["closed"]):
                payload = hostile_payload(target)
                for client in (Client(), contributor_client):
                    with django_capture_on_commit_callbacks(execute=True):
                        responses = [
                            client.get(path),
                            client.post(path, payload),
                            client.post(path, json.dumps(payload), content_type="application/json"),
                        ]
                    for response in responses:
                        if served_by is None and response.status_code == 301:
                            # APPEND_SLASH: the same path with a slash, answered below by its view.
                            assert response["Location"] == path + "/", (path, response["Location"])
                            view = resolve(path + "/").func
                            answered[path + "/"] = f"{view.__module__}.{view.__name__}"
                        elif served_by is None:
                            assert response.status_code == 404, (path, response.status_code)
                        assert response.status_code < 500, (path, response.status_code)
                        location = response.headers.get("Location", "")
                        assert "secret" not in location, (path, location)
            answered[path] = served_by
    # Whatever still answers at those paths is the site's own discussion view.
    ours = {path: view for path, view in answered.items() if view is not None}
    assert all(view.startswith("comments.views.") for view in ours.values()), ours
    assert Comment.objects.count() == before
    assert not Comment.objects.filter(post__in=[draft, targets["closed"]]).exists()
    assert not CommentFlag.objects.exists()
    comment.refresh_from_db()
    assert comment.is_public and not comment.is_removed
    assert mail.outbox == []
    print(
        f"[entry] {len(answered)} paths from {len(chains)} xtd patterns; still served by the site: "
        f"{sorted(set(ours.values()))}"
    )


def test_the_comment_api_sends_no_confirmation_email_to_any_address(
    targets, immediate_tasks, django_capture_on_commit_callbacks
):
    """The old API mailed a "confirmation request" with the attacker's text to any address, ten in
    half a second. Now nothing answers there and nothing is sent."""
    client = Client(enforce_csrf_checks=True)
    for n in range(10):
        payload = hostile_payload(targets["open"])
        payload.update(email=f"victim{n}@example.org", comment=f"Visit https://spam.example/{n}")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                PREFIX + "api/comment/", json.dumps(payload), content_type="application/json"
            )
        assert response.status_code == 404
    assert mail.outbox == []
    assert not Comment.objects.filter(user_email__startswith="victim").exists()


def test_the_comment_redirect_shortcut_reveals_no_unpublished_post(client, targets):
    post_type = ContentType.objects.get_for_model(Post)
    for name in ("draft", "scheduled"):
        response = client.get(f"{PREFIX}cr/{post_type.pk}/{targets[name].pk}/")
        assert response.status_code == 404, name
        assert "Location" not in response.headers
        assert targets[name].slug.encode() not in response.content
    # Counting through the pks finds nothing else either: only published posts resolve.
    found = {}
    for pk in range(1, max(p.pk for p in Post.objects.all()) + 3):
        response = client.get(f"{PREFIX}cr/{post_type.pk}/{pk}/")
        if response.status_code == 302:
            found[pk] = response["Location"]
        else:
            assert response.status_code == 404
    published = Post.objects.published()
    assert found == {p.pk: p.get_absolute_url() for p in published}
    # Other kinds of objects (a user, a comment) have no public address through it.
    user_type = ContentType.objects.get_for_model(targets["draft"].authors.first())
    assert client.get(f"{PREFIX}cr/{user_type.pk}/{targets['draft'].authors.first().pk}/").status_code == 404


def test_no_page_or_endpoint_publishes_a_commenters_email_digest(client, targets, make_comment):
    """The form promises the email is never shown; xtd's list API showed its MD5 (a Gravatar URL)."""
    post = targets["open"]
    make_comment(post, user_name="Ana", user_email="Ana.Private@example.net", comment="Hello")
    email = "ana.private@example.net"
    digests = {hashlib.md5(email.encode()).hexdigest(), hashlib.sha256(email.encode()).hexdigest()}
    post_type = "posts-post"
    paths = [
        post.get_absolute_url(),
        post.get_absolute_url() + "feed/",
        "/comments/feed/",
        f"{PREFIX}api/{post_type}/{post.pk}/",
        f"{PREFIX}api/{post_type}/{post.pk}/count/",
        f"{PREFIX}api/{post_type}/{post.pk}.json",
    ]
    for path in paths:
        response = client.get(path)
        body = response.content.decode()
        assert not any(d in body for d in digests), path
        assert email not in body.lower(), path
    assert client.get(f"{PREFIX}api/{post_type}/{post.pk}/").status_code == 404


def test_model_urls_name_the_sites_own_views(targets):
    comment = targets["comment"]
    assert comment.get_reply_url() == f"{PREFIX}reply/{comment.pk}/"
    assert Client().get(comment.get_content_object_url())["Location"] == targets["open"].get_absolute_url()


def test_the_admin_view_on_site_redirect_reveals_no_draft_the_user_may_not_see(client, targets):
    """The same shortcut behind /admin/r/: any staff user, a Contributor too, was sent to any
    draft's URL. Now it answers only for objects the user may see in the admin."""
    post_type = ContentType.objects.get_for_model(Post)
    contributor = factories.UserFactory(username="cont", is_staff=True)
    contributor.groups.add(Group.objects.get(name="Contributor"))
    own = factories.PostFactory(authors=[contributor], status=Post.Status.DRAFT, slug="my-own-draft")
    client.force_login(contributor)
    for name in ("draft", "scheduled"):
        response = client.get(f"/admin/r/{post_type.pk}/{targets[name].pk}/")
        assert response.status_code == 404, name
        assert "secret" not in response.headers.get("Location", "")
    assert client.get(f"/admin/r/{post_type.pk}/{own.pk}/")["Location"].endswith(own.get_absolute_url())
    editor = factories.UserFactory(username="ed", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    client.force_login(editor)
    response = client.get(f"/admin/r/{post_type.pk}/{targets['draft'].pk}/")
    assert response.status_code == 302 and response["Location"].endswith(targets["draft"].get_absolute_url())
