"""The full-site archive: every row of every table, plus the media files, in one .tar.gz.

Format (version 1; documented in the README, "Export, backup and moving"):

    manifest.json                      always the first member
    data/<app_label>.<model>.jsonl     one per archived model, in load order
    media/<storage name>               every file a FileField/ImageField names

`manifest.json` holds the format name and version, when and from which database the archive was
made, the migrations it was made at, and for each data file its model, row count, byte size and
SHA-256; `digest` is the SHA-256 of those per-file lines, the archive's content digest. Each line
of a data file is one row: a JSON array of the table's own (local) column values, in the order the
manifest's `columns` names them. Dates are ISO 8601, binary values base64, durations as Django
writes them.

Which models: every concrete, managed model in the app registry (auto-created many-to-many tables
included), in dependency order, except those in `EXCLUDED`, each with its reason. A new model is
archived without anyone having to remember it; tests/test_backup_archive.py fails when a model is
neither archived nor excluded with a reason.

Restore (`archive_import`) reads the archive as a stream (one pass, bounded memory), into a
database that holds no content yet (a fresh `migrate`), in one transaction: a wrong version,
a corrupt or truncated file, a digest that does not match, or a database that is not empty stops it
with a clear message and nothing is written. Media files are written to storage only after every
row has been checked, just before the commit.

The archive holds secrets: password hashes, two-factor authenticator secrets, federation private
keys. Keep it as you keep the database itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import io
import json
import os
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.duration import duration_string

FORMAT = "sectorblog-archive"
VERSION = 1
BATCH = 500

# Not archived, and why. Everything else in the app registry is.
EXCLUDED: dict[str, str] = {
    "sessions.session": "sign-in sessions: everyone signs in again on the restored site",
    "usersessions.usersession": "the list of signed-in sessions, which are not carried over",
    "django_tasks_database.dbtaskresult": (
        "the task queue's working state; deliveries and linkback attempts keep their own records"
    ),
    "core.ratecounter": "rate-limit counters, which expire within minutes",
    "axes.accessattempt": "sign-in lockout counters, which expire",
    "axes.accessattemptexpiration": "sign-in lockout expiry times, which go with the counters",
    "axes.accessfailurelog": "the sign-in failure log of the lockout, a short-lived security log",
    "axes.accesslog": "the sign-in access log, a short-lived security log",
    "posts.termcount": "the categories' and tags' post counts, counted again after the restore",
    "posts.termcountstate": "whether those counts are current (posts/termcounts.py)",
}

# Rows that `migrate` itself creates (content types, permissions, the roles' groups, the site):
# a fresh database has them, and the archive's replace them, keeping the archive's ids (generic
# relations and permissions refer to them).
SEEDED = {
    "contenttypes.contenttype",
    "auth.permission",
    "auth.group",
    "auth.group_permissions",
    "sites.site",
}


class ArchiveError(Exception):
    """The archive cannot be restored; the message says why. Nothing was written."""


@dataclass
class ArchiveReport:
    counts: dict[str, int] = field(default_factory=dict)
    media_files: int = 0
    media_bytes: int = 0
    digest: str = ""

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def _label(model) -> str:
    return model._meta.label_lower


def archived_models() -> list[type[models.Model]]:
    """Every model the archive holds, parents and referenced tables before the tables that
    refer to them."""
    candidates = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and _label(m) not in EXCLUDED
    ]
    chosen = {_label(m): m for m in candidates}
    ordered: list = []
    state: dict[str, int] = {}

    def visit(model) -> None:
        label = _label(model)
        if state.get(label) == 2:
            return
        if state.get(label) == 1:
            return  # a cycle (nullable on one side): the deferred constraints allow any order
        state[label] = 1
        for f in model._meta.local_concrete_fields:
            target = getattr(f, "related_model", None)
            if f.is_relation and target is not None and target is not model:
                target = target._meta.concrete_model
                if _label(target) in chosen:
                    visit(chosen[_label(target)])
        state[label] = 2
        ordered.append(model)

    for model in sorted(candidates, key=_label):
        visit(model)
    return ordered


def _columns(model) -> list:
    return list(model._meta.local_concrete_fields)


def _encode(value):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_string(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decode(f, value):
    if value is None:
        return None
    if isinstance(f, models.JSONField):
        return value
    if isinstance(f, models.BinaryField):
        return base64.b64decode(value)
    if f.is_relation:
        f = f.target_field
        while f.is_relation:
            f = f.target_field
    return f.to_python(value)


def _applied_migrations(using: str) -> list[str]:
    recorder = MigrationRecorder(connections[using])
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())


def _file_fields(model) -> list:
    return [f for f in _columns(model) if isinstance(f, models.FileField)]


# --- export ---------------------------------------------------------------------------------


def archive_export(
    path: str | os.PathLike,
    *,
    using: str = DEFAULT_DB_ALIAS,
    on_progress: Callable[[str, int], None] | None = None,
) -> ArchiveReport:
    """Write the archive to `path` (a .tar.gz), atomically: a `.part` file renamed at the end.

    Rows are read in batches by primary key inside one read transaction (a consistent snapshot on
    PostgreSQL's REPEATABLE READ is not needed for a quiet site; on a busy one, prefer pg_dump)."""
    path = Path(path)
    report = ArchiveReport()
    files: list[dict] = []
    media: dict[str, None] = {}
    with tempfile.TemporaryDirectory(prefix="sb-archive-") as tmp, transaction.atomic(using=using):
        for model in archived_models():
            columns = _columns(model)
            label = _label(model)
            name = f"data/{label}.jsonl"
            digest = hashlib.sha256()
            count = size = 0
            file_fields = [(i, f) for i, f in enumerate(columns) if isinstance(f, models.FileField)]
            with open(Path(tmp) / f"{label}.jsonl", "wb") as out:
                for row in _rows(model, columns, using):
                    for index, _f in file_fields:
                        if row[index]:
                            media[row[index]] = None
                    line = (json.dumps([_encode(v) for v in row], ensure_ascii=False) + "\n").encode()
                    out.write(line)
                    digest.update(line)
                    count += 1
                    size += len(line)
            report.counts[label] = count
            files.append(
                {
                    "name": name,
                    "model": label,
                    "columns": [f.attname for f in columns],
                    "rows": count,
                    "bytes": size,
                    "sha256": digest.hexdigest(),
                }
            )
            if on_progress:
                on_progress(label, count)
        media_entries = []
        for name in sorted(media):
            if not default_storage.exists(name):
                continue
            digest = hashlib.sha256()
            size = 0
            with default_storage.open(name, "rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 16), b""):
                    digest.update(chunk)
                    size += len(chunk)
            media_entries.append({"name": f"media/{name}", "bytes": size, "sha256": digest.hexdigest()})
            report.media_files += 1
            report.media_bytes += size
        report.digest = _content_digest(files, media_entries)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": timezone.now().isoformat(),
            "database": connections[using].vendor,
            "migrations": _applied_migrations(using),
            "digest": report.digest,
            "counts": report.counts,
            "files": files,
            "media": media_entries,
            "excluded": EXCLUDED,
        }
        partial = path.with_name(path.name + ".part")
        try:
            with tarfile.open(partial, "w:gz") as tar:
                blob = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
                _add_bytes(tar, "manifest.json", blob)
                for entry in files:
                    tar.add(Path(tmp) / f"{entry['model']}.jsonl", arcname=entry["name"], recursive=False)
                for entry in media_entries:
                    info = tarfile.TarInfo(entry["name"])
                    info.size = entry["bytes"]
                    info.mtime = int(timezone.now().timestamp())
                    with default_storage.open(entry["name"][len("media/") :], "rb") as fh:
                        tar.addfile(info, fh)
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return report


def _rows(model, columns, using: str) -> Iterator[tuple]:
    attnames = [f.attname for f in columns]
    pk = model._meta.pk.attname
    qs = model._base_manager.using(using).order_by(pk).values_list(*attnames)
    pk_index = attnames.index(pk)
    last = None
    while True:
        batch = list((qs.filter(**{f"{pk}__gt": last}) if last is not None else qs)[:BATCH])
        if not batch:
            return
        yield from batch
        last = batch[-1][pk_index]


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


def _content_digest(files: list[dict], media: list[dict]) -> str:
    lines = [f"{e['name']} {e['bytes']} {e['sha256']}\n" for e in [*files, *media]]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


# --- import ---------------------------------------------------------------------------------


def content_rows(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Rows in the tables an archive fills, other than what `migrate` seeds: a restore needs none."""
    found = {}
    for model in archived_models():
        if _label(model) in SEEDED:
            continue
        count = model._base_manager.using(using).count()
        if count:
            found[_label(model)] = count
    return found


def archive_import(
    path: str | os.PathLike,
    *,
    using: str = DEFAULT_DB_ALIAS,
    on_progress: Callable[[str, int], None] | None = None,
) -> ArchiveReport:
    path = Path(path)
    if not path.is_file():
        raise ArchiveError(f"{path}: no such file")
    busy = content_rows(using)
    if busy:
        listed = ", ".join(f"{n} {label}" for label, n in sorted(busy.items(), key=lambda kv: -kv[1])[:5])
        raise ArchiveError(
            f"the database is not empty ({listed}{', …' if len(busy) > 5 else ''}); restore into a new "
            "database: create it, run `manage.py migrate`, then `manage.py import_site`"
        )
    report = ArchiveReport()
    try:
        with tarfile.open(path, "r|gz") as tar, tempfile.TemporaryDirectory(prefix="sb-restore-") as tmp:
            _restore(tar, Path(tmp), report, using, on_progress)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ArchiveError(
            f"{path.name}: the file is corrupt or truncated ({exc or type(exc).__name__})"
        ) from None
    return report


def _check_migrations(manifest: dict, using: str) -> None:
    here = _applied_migrations(using)
    missing = sorted(set(manifest["migrations"]) - set(here))
    newer = sorted(set(here) - set(manifest["migrations"]))
    if missing or newer:
        detail = []
        if missing:
            detail.append(
                f"the archive's site had migrations this one has not applied: {', '.join(missing[:5])}"
            )
        if newer:
            detail.append(f"this site has migrations the archive's had not: {', '.join(newer[:5])}")
        raise ArchiveError(
            "the archive was made by another version of sectorblog ("
            + "; ".join(detail)
            + "). Restore it with the version that made it (same migrations), then upgrade."
        )


def _extract_media(tar, member, entry: dict, target: Path) -> int:
    digest = hashlib.sha256()
    size = 0
    with open(target, "wb") as out:
        source = tar.extractfile(member)
        for chunk in iter(lambda: source.read(1 << 16), b""):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if digest.hexdigest() != entry["sha256"] or size != entry["bytes"]:
        raise ArchiveError(f"{member.name}: its content does not match the manifest's digest")
    return size


def _store_media(media_written: list[tuple[Path, str]]) -> None:
    for source, name in media_written:
        if default_storage.exists(name):
            default_storage.delete(name)
        with open(source, "rb") as fh:
            saved = default_storage.save(name, File(fh, name=name))
        if saved != name:
            raise ArchiveError(f"media file {name} could not be stored under its own name")


def _check_constraints(using: str) -> None:
    connection = connections[using]
    try:
        connection.check_constraints()
    except Exception as exc:  # IntegrityError on SQLite, whatever the backend raises
        raise ArchiveError(f"the archive's rows do not fit together: {exc}") from None


def _restore(tar, tmp: Path, report: ArchiveReport, using: str, on_progress) -> None:
    members = iter(tar)
    first = next(members, None)
    if first is None or first.name != "manifest.json":
        raise ArchiveError("not a sectorblog archive: manifest.json is not its first file")
    manifest = _manifest(tar.extractfile(first).read())
    _check_migrations(manifest, using)
    by_name = {e["name"]: e for e in manifest["files"]}
    media_expected = {e["name"]: e for e in manifest["media"]}
    if _content_digest(manifest["files"], manifest["media"]) != manifest["digest"]:
        raise ArchiveError(
            "the manifest's content digest does not match its file list: the archive is corrupt"
        )
    known = {_label(m): m for m in archived_models()}
    unknown = sorted({e["model"] for e in manifest["files"]} - set(known))
    if unknown:
        raise ArchiveError(f"the archive holds tables this site does not have: {', '.join(unknown)}")
    seen: set[str] = set()
    media_written: list[tuple[Path, str]] = []
    with transaction.atomic(using=using):
        for model in known.values():
            if _label(model) in SEEDED:
                model._base_manager.using(using).all()._raw_delete(using)
        for member in members:
            if member.name in by_name:
                entry = by_name[member.name]
                model = known[entry["model"]]
                count = _load(tar.extractfile(member), model, entry, using)
                report.counts[entry["model"]] = count
                if on_progress:
                    on_progress(entry["model"], count)
            elif member.name in media_expected:
                target = tmp / f"m{len(media_written)}"
                report.media_bytes += _extract_media(tar, member, media_expected[member.name], target)
                media_written.append((target, member.name[len("media/") :]))
            else:
                raise ArchiveError(f"unexpected file in the archive: {member.name}")
            seen.add(member.name)
        absent = sorted((set(by_name) | set(media_expected)) - seen)
        if absent:
            raise ArchiveError(
                f"the archive is truncated: {len(absent)} file(s) the manifest lists are missing "
                f"(first: {absent[0]})"
            )
        _reset_sequences([known[e["model"]] for e in manifest["files"]], using)
        _check_constraints(using)
        _store_media(media_written)
        report.media_files = len(media_written)
        report.digest = manifest["digest"]
    ContentType.objects.clear_cache()


def _manifest(raw: bytes) -> dict:
    try:
        manifest = json.loads(raw)
    except ValueError:
        raise ArchiveError("manifest.json is not valid JSON: the archive is corrupt") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("not a sectorblog archive (manifest.json names another format)")
    version = manifest.get("version")
    if version != VERSION:
        raise ArchiveError(
            f"archive format version {version!r} is not supported here (this site reads version {VERSION})"
        )
    for key in ("files", "media", "migrations", "digest"):
        if key not in manifest:
            raise ArchiveError(f"manifest.json has no {key!r}: the archive is corrupt")
    return manifest


def _load(stream, model, entry: dict, using: str) -> int:
    columns = _columns(model)
    by_attname = {f.attname: f for f in columns}
    if set(entry["columns"]) - set(by_attname):
        extra = sorted(set(entry["columns"]) - set(by_attname))
        raise ArchiveError(f"{entry['model']}: columns {', '.join(extra)} do not exist here")
    fields = [by_attname[name] for name in entry["columns"]]
    digest = hashlib.sha256()
    count = size = 0
    batch: list = []
    connection = connections[using]
    for line in stream:
        digest.update(line)
        size += len(line)
        try:
            values = json.loads(line)
        except ValueError:
            raise ArchiveError(
                f"{entry['name']}, line {count + 1}: not valid JSON: the archive is corrupt"
            ) from None
        if not isinstance(values, list) or len(values) != len(fields):
            raise ArchiveError(f"{entry['name']}, line {count + 1}: wrong number of values")
        obj = model.__new__(model)
        obj._state = models.base.ModelState()
        obj._state.db = using
        for f, value in zip(fields, values, strict=True):
            obj.__dict__[f.attname] = _decode(f, value)
        batch.append(obj)
        count += 1
        if len(batch) >= BATCH:
            _insert(model, fields, batch, using, connection)
            batch = []
    if batch:
        _insert(model, fields, batch, using, connection)
    if digest.hexdigest() != entry["sha256"] or count != entry["rows"] or size != entry["bytes"]:
        raise ArchiveError(f"{entry['name']}: its content does not match the manifest (rows or digest)")
    return count


def _insert(model, fields, objs, using, connection) -> None:
    size = max(1, connection.ops.bulk_batch_size(fields, objs))
    for start in range(0, len(objs), size):
        model._base_manager.using(using)._insert(
            objs[start : start + size], fields=fields, raw=True, using=using
        )


def _reset_sequences(model_list, using: str) -> None:
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
