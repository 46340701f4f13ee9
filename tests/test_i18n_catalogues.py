"""The es and fr catalogues ship compiled, complete, and compile back to the same bytes.

A fresh machine needs no gettext: Django reads the committed .mo files. These tests check that
those files match their .po sources (msgfmt gives back the committed bytes), that every message
is translated, and that every translation keeps the placeholders of its English original.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGS = ["es", "fr"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{\s*\w+\s*\}\}")


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.mo"


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalogue_is_committed_and_complete(lang):
    po = mo_path(lang).with_suffix(".po")
    assert po.exists() and mo_path(lang).exists()
    text = po.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text, "fuzzy entries are skipped by msgfmt"
    catalogue = gettext.GNUTranslations(mo_path(lang).open("rb"))._catalog
    english = {key if isinstance(key, str) else key[0] for key in catalogue} - {""}
    # Every msgid of the .po is in the .mo, with a non-empty translation.
    po_ids = set(re.findall(r'^msgid "(.+)"$', text, flags=re.MULTILINE))
    single_line = {m.replace('\\"', '"') for m in po_ids}
    assert single_line <= english
    assert all(value for value in catalogue.values())
    assert len(english) > 400


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_every_placeholder(lang):
    catalogue = gettext.GNUTranslations(mo_path(lang).open("rb"))._catalog
    wrong = []
    for key, value in catalogue.items():
        msgid = key if isinstance(key, str) else key[0]
        if not msgid:
            continue
        wanted = set(PLACEHOLDER.findall(msgid))
        if isinstance(key, tuple):
            # Plural forms: the singular msgid may drop the count ("Delete this comment").
            got = set(PLACEHOLDER.findall(value))
            if not got <= wanted | {"counter", "n", "days", "hours", "minutes"}:
                wrong.append((msgid, value))
        elif set(PLACEHOLDER.findall(value)) != wanted:
            wrong.append((msgid, value))
    assert wrong == []


@pytest.mark.parametrize("lang", LANGS)
def test_msgfmt_reproduces_the_committed_mo(lang, tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (GNU gettext) is not installed, so the .mo cannot be rebuilt here")
    # The same call Django's compilemessages makes.
    out = tmp_path / "django.mo"
    result = subprocess.run(
        [msgfmt, "--check-format", "-o", str(out), str(mo_path(lang).with_suffix(".po"))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == mo_path(lang).read_bytes(), "run: DEBUG=1 manage.py compilemessages"
