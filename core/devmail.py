"""Development mail: Django's file backend, plus a readable note on the console for each message.

The files under var/mail/ stay exactly as Django's file backend writes them (raw MIME, which tools
and tests parse), but a person can't copy a link out of quoted-printable text broken every 76
characters. So each message is also summarised, decoded, on the standard output of the process
that sends it: under `make run` that is the task worker, whose output is the `make run` console.
Used only with DEBUG on and no EMAIL_URL (sectorblog/settings.py); production mail is unchanged.
"""

from __future__ import annotations

import re
import sys

from django.core.mail.backends.filebased import EmailBackend as FileBackend

_LINK = re.compile(r"https?://[^\s<>\"')\]]+")


def message_summary(message, *, saved_in: str) -> str:
    """Recipients, subject and every link of a message, decoded, one per line."""
    texts = [message.body or ""]
    texts += [content for content, mimetype in getattr(message, "alternatives", []) if "text" in mimetype]
    links = list(dict.fromkeys(link.rstrip(".,;:") for text in texts for link in _LINK.findall(str(text))))
    lines = [
        f"[mail] To: {', '.join(message.recipients())}",
        f"[mail] Subject: {message.subject}",
        *(f"[mail] Link: {link}" for link in links),
        f"[mail] Saved under {saved_in}",
    ]
    return "\n".join(lines)


class EmailBackend(FileBackend):
    """The file backend that also prints `message_summary()` of each message to stdout."""

    def write_message(self, message):
        super().write_message(message)
        print(message_summary(message, saved_in=self.file_path), file=sys.stdout, flush=True)
