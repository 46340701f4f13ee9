"""A loopback blog that answers pingbacks the way WordPress does, for tests of our sender.

What it copies from WordPress (wordpress-develop, checked in its source):
- Autodiscovery: each post page names the XML-RPC server in an ``X-Pingback`` header.
- ``pingback.ping`` stores the ping as a comment, and WordPress's comment-flood check refuses a
  second comment from the same IP address within 15 s of the last one it stored
  (``wp_check_comment_flood`` with the ``wp_throttle_comment_flood`` filter). Inside XML-RPC that
  refusal is ``wp_die(..., 429)``, which becomes fault 429 with "You are posting comments too
  quickly. Slow down." (``_xmlrpc_wp_die_handler``).
- Every other refusal goes through ``wp_xmlrpc_server::pingback_error``, and WordPress's default
  ``xmlrpc_pingback_error`` filter replaces all of them but 48 with fault 0 and an empty string.
- A repeated ping is fault 48.

The flood window is a parameter so tests can scale it down (WordPress: 15 s).
"""

from __future__ import annotations

import threading
import time
import xmlrpc.client

from tests.interop.loopback import LoopbackHTTP, Recorded, Reply

FLOOD_MESSAGE = "You are posting comments too quickly. Slow down."


class WordPressLike(LoopbackHTTP):
    def __init__(self, *, flood_seconds: float = 15.0):
        super().__init__()
        self.flood_seconds = flood_seconds
        self.refused: set[str] = set()  # target paths answered with fault 0 and ""
        self.accepted: list[tuple[float, str, str]] = []  # (monotonic time, source, target)
        self.floods: list[tuple[float, str]] = []  # (monotonic time, target) of 429 answers
        self._registered: set[tuple[str, str]] = set()
        self._last_stored = 0.0
        self._lock = threading.Lock()
        self.routes["/xmlrpc.php"] = self._xmlrpc

    def add_post(self, path: str, title: str = "A WordPress post") -> str:
        """A post page advertising the XML-RPC server; returns its URL."""
        self.routes[path] = Reply(
            body=f"<html><head><title>{title}</title></head><body><p>{title}</p></body></html>".encode(),
            headers=[("X-Pingback", self.url("/xmlrpc.php"))],
        )
        return self.url(path)

    def _xmlrpc(self, rec: Recorded) -> Reply:
        try:
            params, method = xmlrpc.client.loads(rec.body)
        except Exception:  # noqa: BLE001 - a malformed call is a parse error, as in any XML-RPC server
            return self._fault(-32700, "parse error. not well formed")
        if method != "pingback.ping" or len(params) != 2:
            return self._fault(-32601, "server error. requested method does not exist.")
        source, target = params
        path = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
        with self._lock:
            now = time.monotonic()
            if (source, target) in self._registered:
                return self._fault(48, "The pingback has already been registered.")
            if path in self.refused:
                return self._fault(0, "")
            if self._last_stored and now - self._last_stored < self.flood_seconds:
                self.floods.append((now, target))
                return self._fault(429, FLOOD_MESSAGE)
            self._registered.add((source, target))
            self._last_stored = now
            self.accepted.append((now, source, target))
        body = xmlrpc.client.dumps((f"Pingback from {source} to {target} stored.",), methodresponse=True)
        return Reply(body=body.encode(), content_type="text/xml; charset=UTF-8")

    @staticmethod
    def _fault(code: int, message: str) -> Reply:
        body = xmlrpc.client.dumps(xmlrpc.client.Fault(code, message), methodresponse=True)
        return Reply(body=body.encode(), content_type="text/xml; charset=UTF-8")
