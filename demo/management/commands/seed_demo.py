"""Demo content in the shape of the sector learning blog: `manage.py seed_demo`.

Idempotent: running it again changes nothing. `--posts N --comments M` adds volume for benchmarks
(N extra posts, and one post carrying M threaded comments).

The demo's dates are relative to the day it is seeded: the seed-like post (an article with reader
comments and pingbacks) is INTRO_AGE_DAYS old, so its discussion is open and a newcomer can reply
to its commenters, and the later posts that link to it come after it. Its comments close after
COMMENTS_CLOSE_AFTER_DAYS, so a run on a demo database old enough for that to be near moves the
demo posts (and their comments) forward to the same layout; their old addresses answer 301.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from comments.models import Comment
from core.markup import plain_text, render_markdown
from core.origin import absolute_url, urls_moved
from posts.models import AuthorProfile, Category, Post, PostAuthor, Redirect, Tag
from posts.oldurls import normalize_path

AUTHORS = [
    ("amara", "Amara", "Okafor", "Amara Okafor",
     "Knowledge manager for a WASH network; writes about how practitioners learn from each other.",
     "https://example.org/amara"),
    ("lucia", "Lucía", "Fernández", "Lucía Fernández",
     "Sanitation engineer working on rural water supply and faecal sludge management.",
     ""),
    ("tomas", "Tomás", "Beaulieu", "Tomás Beaulieu",
     "Monitoring and evaluation adviser; keeps an eye on what the numbers really say.", ""),
]  # fmt: skip

CATEGORIES = [
    ("learning", "Sector learning", None, "How the network shares lessons, failures included."),
    ("sanitation", "Sanitation", None, "Toilets, sludge, sewers and everything after the flush."),
    ("fsm", "Faecal sludge management", "sanitation", "Emptying, transport and treatment."),
    ("water-supply", "Water supply", None, "Rural and small-town water services."),
    ("hygiene", "Hygiene", None, "Handwashing, menstrual hygiene and behaviour change."),
]
TAGS = [
    ("knowledge-management", "knowledge management"),
    ("communities-of-practice", "communities of practice"),
    ("monitoring", "monitoring"),
    ("rural", "rural"),
    ("handwashing", "handwashing"),
    ("blogging", "blogging"),
]

INTRO_BODY = """\
Two years ago a handful of us started writing short posts about what we were learning on the
job. Nobody asked us to. It simply seemed wasteful that so many lessons from field visits, pilots
and evaluations stayed inside trip reports that three people would ever read.

## Why a blog and not another report

Reports are written for funders and filed away. A blog post is written for peers, and peers
answer back. The discussion under a post often teaches more than the post itself.

## What changed for us

- We write **shorter**, and we publish sooner, before the lesson goes stale.
- Colleagues from other organisations link to our posts from their own blogs, in Spanish and
  French as well as English.
- Failures get discussed openly, because a blog post feels less final than a report.
- New staff read the archive to find out how the network thinks.

## What we still struggle with

Finding time to write remains the hardest part. We now block one afternoon a month for it, and
we pair a reluctant writer with an editor who asks questions instead of correcting prose.

If you run a similar network, tell us in the comments how you keep the learning going.
"""

OTHER_POSTS = [
    ("fsm-lessons-from-three-towns", "Emptying pits in three towns: what the operators told us", "lucia",
     ["fsm"], ["rural", "monitoring"], 3,
     "We spent a week with pit-emptying crews. Their biggest complaint was not the work itself "
     "but the roads: trucks cannot reach half the households.\n\n## The numbers\n\n"
     "| town | households | reachable by truck |\n|---|---|---|\n| A | 4,200 | 51 % |\n"
     "| B | 2,900 | 38 % |\n| C | 6,100 | 64 % |\n\nManual emptying fills the gap, with all "
     "the health risks that brings."),
    ("measuring-handwashing", "Measuring handwashing without fooling ourselves", "tomas",
     ["hygiene"], ["handwashing", "monitoring"], 6,
     "Self-reported handwashing is always higher than observed handwashing. We compared three "
     "methods and the gap was wider than we feared.\n\n1. Household surveys\n2. Structured "
     "observation\n3. Sensor-equipped soap dispensers\n\nThe sensors were the most honest and "
     "the least popular with the households."),
    ("writing-for-peers", "Writing for peers: a year of the sector learning blog", "amara",
     ["learning"], ["knowledge-management", "blogging"], 10,
     "Since [our look back at two years of sector learning]({intro}), we counted: 48 posts, 31 "
     "authors, and more comments than we can reply to.\n\nThe most read post was about a "
     "failed pilot. People trust a network that admits what went wrong."),
    ("solar-pumps-maintenance", "Solar pumps need maintenance budgets too", "lucia",
     ["water-supply"], ["rural"], 14,
     "Solar pumping cuts running costs, but panels get stolen, inverters fail and nobody "
     "budgets for either. Plan for a replacement fund from day one."),
    ("community-of-practice-checklist", "A checklist for starting a community of practice", "tomas",
     ["learning"], ["communities-of-practice", "knowledge-management"], 17,
     "Before you launch one, answer these questions. The idea came from our "
     "[sector learning experience]({intro}).\n\n- Who is it for?\n- What will members get "
     "that they cannot get elsewhere?\n- Who moderates, and for how long?\n- Where do "
     "discussions live, and who owns the archive?"),
]  # fmt: skip

READER_COMMENTS = [
    # (key, name, email, url, days after intro, text, parent key)
    ("c1", "Grace Mwangi", "grace@example.net", "", 1,
     "This matches our experience. The posts that get discussed are the ones where someone "
     "admits a mistake. How do you handle posts that need clearance from management?", None),
    ("r1", "Amara Okafor", "amara@example.org", "", 2,
     "We agreed on a simple rule: personal views, no confidential data, and a second pair of "
     "eyes from the network. No formal clearance, otherwise nobody would ever publish.", "c1"),
    ("c2", "Pieter van Dam", "pieter@example.com", "https://example.com/pieter", 4,
     "Thanks for sharing. We tried something similar with a newsletter and it died after six "
     "issues. The blog format with open comments seems to be the difference.", None),
]  # fmt: skip

EXTERNAL_PINGBACKS = [
    ("https://blog.example.es/2026/03/aprendizaje-sectorial/", "Aprendizaje sectorial en red",
     "Agua y Saneamiento en Red", 3, "es",
     "La red de conocimiento publicó un balance de dos años de aprendizaje sectorial que "
     "recomendamos leer con calma"),
    ("https://carnets.example.fr/2026/03/apprendre-entre-pairs/", "Apprendre entre pairs",
     "Carnets de l'assainissement", 10, "fr",
     "un retour d'expérience très utile sur la manière dont un réseau du secteur partage ses "
     "leçons apprises"),
]  # fmt: skip


INTRO_SLUG = "sector-learning-two-years-on"
OPEN_SLUG = "share-your-field-notes"
# Age of the seed-like post, in days; every other demo date is an offset from it, at most 90 % of
# it, so the later posts stay in the past. Offsets shrink with it when comments close sooner.
INTRO_AGE_DAYS = 20
OPEN_POST_DAYS = 18  # "share your field notes", two days old with the default age


class Command(BaseCommand):
    help = "Create demo content in the shape of the sector learning blog (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, default=0, help="extra generated posts")
        parser.add_argument("--comments", type=int, default=0, help="threaded comments on one volume post")
        parser.add_argument("--pingbacks", type=int, default=0, help="pingbacks on that post")

    @transaction.atomic
    def handle(self, *args, posts: int, comments: int, pingbacks: int, **options):
        self.now = timezone.now().replace(second=0, microsecond=0)
        users = self._authors()
        cats = self._categories()
        tags = self._tags()
        layout = self._layout()
        intro_date = layout[INTRO_SLUG]
        intro = self._post(
            INTRO_SLUG,
            "Two years of sector learning: what blogging taught our network",
            INTRO_BODY,
            [users["amara"]],
            [cats["learning"]],
            [tags["knowledge-management"], tags["communities-of-practice"], tags["blogging"]],
            intro_date,
        )
        later = []
        for slug, title, author, cat_slugs, tag_slugs, _days, body in OTHER_POSTS:
            later.append(
                self._post(
                    slug,
                    title,
                    body.format(intro=intro.get_absolute_url()),
                    [users[author]],
                    [cats[c] for c in cat_slugs],
                    [tags[t] for t in tag_slugs],
                    layout[slug],
                )
            )
        open_post = self._post(
            OPEN_SLUG,
            "Share your field notes with the network",
            "We are collecting short field notes for the next round of posts. Reply below with "
            "one thing you learned this quarter, however small.\n\nGood notes are:\n\n"
            "- specific: a place, a date, a number;\n- honest about what did not work;\n"
            "- short enough to read on a phone.",
            [users["amara"], users["tomas"]],
            [cats["learning"]],
            [tags["communities-of-practice"]],
            layout[OPEN_SLUG],
        )
        self._redate(layout, Comment)
        self._discussion(intro, later, Comment)
        if posts:
            self._volume_posts(posts, users, cats, tags)
        if comments or pingbacks:
            self._volume_comments(comments, pingbacks, users, cats, tags, Comment)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo content ready: {Post.objects.count()} posts, "
                f"{Comment.objects.count()} comments. "
                f"Open {_absolute(open_post.get_absolute_url())} to comment."
            )
        )

    def _layout(self) -> dict[str, dt.datetime]:
        """When each demo post is published, counted back from now."""
        window = settings.COMMENTS_CLOSE_AFTER_DAYS
        age = float(INTRO_AGE_DAYS) if not window else max(1.0, min(INTRO_AGE_DAYS, window / 2))
        self.scale = age / INTRO_AGE_DAYS
        intro = self.now - dt.timedelta(days=age)
        layout = {INTRO_SLUG: intro, OPEN_SLUG: intro + self._days(OPEN_POST_DAYS)}
        for slug, *_rest, days, _body in OTHER_POSTS:
            layout[slug] = intro + self._days(days)
        return layout

    def _days(self, days: float) -> dt.timedelta:
        return dt.timedelta(days=days * self.scale)

    def _redate(self, layout: dict[str, dt.datetime], Comment) -> None:
        """On a demo database whose seed-like post is about to close for comments (or has), move
        the demo posts to today's layout, their comments with them (never into the future).

        Their old addresses answer 301 (Redirect rows), links between them follow, and internal
        pingbacks stored under the old addresses are moved (`core.origin.urls_moved`)."""
        window = settings.COMMENTS_CLOSE_AFTER_DAYS
        intro = Post.objects.filter(slug=INTRO_SLUG).first()
        if not window or intro is None or intro.published_at is None:
            return
        closes = intro.published_at + dt.timedelta(days=window)
        if closes - self.now > dt.timedelta(days=min(7, window / 4)):
            return
        shift = layout[INTRO_SLUG] - intro.published_at
        posts = list(Post.objects.filter(slug__in=layout).exclude(published_at=None))
        paths = {post.pk: post.get_absolute_url() for post in posts}
        moved = []
        for post in posts:
            delta = layout[post.slug] - post.published_at
            post.published_at = layout[post.slug]
            for pk, when in Comment.objects.filter(post=post).values_list("pk", "submit_date"):
                Comment.objects.filter(pk=pk).update(submit_date=min(when + delta, self.now))
            moved.append((post, paths[post.pk], post.get_absolute_url()))
        for post in posts:
            for _post, old, new in moved:
                post.body = post.body.replace(f"]({old})", f"]({new})")
            post.save()
        for post, old, _new in moved:
            Redirect.objects.update_or_create(old_path=normalize_path(old), defaults={"post": post})
        urls_moved.send(sender=Post, moves=[(_absolute(old), _absolute(new)) for _post, old, new in moved])
        self.stdout.write(
            f"The demo posts moved forward {shift.days} days so that their discussion is open again; "
            "their old addresses redirect."
        )

    def _authors(self):
        User = get_user_model()
        users = {}
        for username, first, last, display, bio, website in AUTHORS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.org",
                    "is_staff": True,
                },
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            AuthorProfile.objects.get_or_create(
                user=user, defaults={"display_name": display, "bio": bio, "website": website}
            )
            users[username] = user
        return users

    def _categories(self):
        cats = {}
        for slug, name, parent, description in CATEGORIES:
            cats[slug], _ = Category.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "description": description,
                    "parent": cats.get(parent) if parent else None,
                },
            )
        return cats

    def _tags(self):
        return {slug: Tag.objects.get_or_create(slug=slug, defaults={"name": name})[0] for slug, name in TAGS}

    def _post(self, slug, title, body, authors, categories, tags, when, **extra):
        post = Post.objects.filter(slug=slug).first()
        if post is not None:
            return post
        post = Post.objects.create(
            slug=slug,
            title=title,
            body=body,
            status=Post.Status.PUBLISHED,
            published_at=when,
            **extra,
        )
        for position, user in enumerate(authors):
            PostAuthor.objects.create(post=post, user=user, position=position)
        post.categories.set(categories)
        post.tags.set(tags)
        return post

    def _discussion(self, intro, later, Comment):
        ct = ContentType.objects.get_for_model(Post)
        site = Site.objects.get_current()
        if Comment.objects.filter(post=intro).exists():
            return
        created = {}
        for when, kind, data in self._discussion_entries(intro, later):
            common = dict(
                content_type=ct,
                object_pk=str(intro.pk),
                site=site,
                post=intro,
                submit_date=when,
                is_public=True,
            )
            if kind == "comment":
                key, name, email, url, text, parent = data
                comment = Comment(
                    user_name=name,
                    user_email=email,
                    user_url=url,
                    comment=text,
                    parent_id=created[parent].pk if parent else 0,
                    **common,
                )
                comment.save()
                created[key] = comment
            else:
                url, title, blog, excerpt, internal = data
                Comment.objects.create(
                    kind=Comment.Kind.PINGBACK,
                    user_name=blog,
                    user_url=url,
                    source_url=url,
                    source_title=title,
                    excerpt=excerpt,
                    comment=excerpt,
                    is_internal=internal,
                    parent_id=0,
                    **common,
                )

    def _discussion_entries(self, intro, later) -> list[tuple]:
        """(when, kind, data) for each reader comment and pingback on the intro, oldest first."""
        base = intro.published_at
        entries = []
        for key, name, email, url, days, text, parent in READER_COMMENTS:
            entries.append(
                (
                    base + self._days(days) + dt.timedelta(hours=3 * self.scale),
                    "comment",
                    (key, name, email, url, text, parent),
                )
            )
        for url, title, blog, days, _lang, excerpt in EXTERNAL_PINGBACKS:
            entries.append(
                (
                    base + self._days(days) + dt.timedelta(hours=6 * self.scale),
                    "pingback",
                    (url, title, blog, excerpt, False),
                )
            )
        for post in later:
            if intro.get_absolute_url() in post.body:
                excerpt = _internal_excerpt(post.body)
                entries.append(
                    (
                        post.published_at,
                        "pingback",
                        (
                            _absolute(post.get_absolute_url()),
                            post.title,
                            self._site_name(),
                            excerpt,
                            True,
                        ),
                    )
                )
        return sorted(entries, key=lambda e: e[0])

    def _site_name(self):
        return settings.SITE_NAME

    def _volume_posts(self, count, users, cats, tags):
        existing = Post.objects.filter(slug__startswith="field-note-").count()
        rng = random.Random(42)
        user_list, cat_list, tag_list = (
            list(users.values()),
            list(cats.values()),
            list(tags.values()),
        )
        start = self.now - dt.timedelta(days=3 * 365)
        for i in range(existing, count):
            when = start + dt.timedelta(hours=i * 26 % (3 * 365 * 24))
            post = self._post(
                f"field-note-{i + 1}",
                f"Field note {i + 1}: {rng.choice(VOLUME_TOPICS)}",
                VOLUME_BODY.format(n=i + 1),
                [rng.choice(user_list)],
                [rng.choice(cat_list)],
                rng.sample(tag_list, 2),
                when.replace(microsecond=0),
            )
            del post

    def _volume_comments(self, count, pingbacks, users, cats, tags, Comment):
        post = self._post(
            "a-long-discussion",
            "A long discussion: what would you change in our sector?",
            "This post collects a long, threaded discussion, used to test and measure the site.",
            [users["tomas"]],
            [cats["learning"]],
            [tags["communities-of-practice"]],
            (self.now - dt.timedelta(days=5)).replace(microsecond=0),
        )
        ct = ContentType.objects.get_for_model(Post)
        site = Site.objects.get_current()
        have = Comment.objects.filter(post=post, kind=Comment.Kind.COMMENT).count()
        rng = random.Random(7)
        ids = list(Comment.objects.filter(post=post, kind="comment").values_list("pk", "level"))
        for i in range(have, count):
            parents = [pk for pk, level in ids if level < 3]
            parent = rng.choice(parents) if parents and i % 3 else 0
            c = Comment(
                content_type=ct,
                object_pk=str(post.pk),
                site=site,
                post=post,
                user_name=f"Reader {i + 1}",
                user_email=f"reader{i + 1}@example.net",
                comment=f"Comment number {i + 1}. *Markdown* works, and so do [links](https://example.net/{i}).",
                submit_date=post.published_at + dt.timedelta(minutes=i + 1),
                is_public=True,
                parent_id=parent,
            )
            c.save()
            ids.append((c.pk, c.level))
        have = Comment.objects.filter(post=post, kind=Comment.Kind.PINGBACK).count()
        for i in range(have, pingbacks):
            url = f"https://blog{i + 1}.example.net/2026/01/reply-{i + 1}/"
            Comment.objects.create(
                content_type=ct,
                object_pk=str(post.pk),
                site=site,
                post=post,
                kind="pingback",
                user_name=f"Blog {i + 1}",
                user_url=url,
                source_url=url,
                source_title=f"A reply from blog {i + 1}",
                excerpt="another blog discussed this post and added its own view",
                comment="",
                submit_date=post.published_at + dt.timedelta(hours=i + 1),
                is_public=True,
                parent_id=0,
            )


VOLUME_TOPICS = [
    "latrine design",
    "water kiosks",
    "school WASH",
    "menstrual hygiene",
    "borehole drilling",
    "tariffs",
    "sludge treatment",
    "chlorination",
]
VOLUME_BODY = (
    "Note {n} from the field. We visited a small town and talked with the utility, the "
    "district office and a women's group.\n\n## What we saw\n\n- Water runs four days a week.\n"
    "- Tariffs cover about half the running costs.\n- Nobody owns the maintenance plan.\n\n"
    "## What we learned\n\nAsk who pays for repairs before asking who built the system."
)


def _absolute(path: str) -> str:
    return absolute_url(path)


def _internal_excerpt(body: str) -> str:
    return plain_text(render_markdown(body))[:160].rsplit(" ", 1)[0]
