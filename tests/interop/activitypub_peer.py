"""A small, real ActivityPub peer on loopback for federation tests: it serves actor documents over
HTTP (tests/interop/loopback.py), signs the requests it sends to our inboxes, and records what our
server delivers to its inboxes (verifying our signatures with apsig, an independent library).
"""

from __future__ import annotations

import json
import uuid

from apsig.draft.sign import Signer
from apsig.draft.verify import Verifier

from federation.keys import generate_pem_pair, load_private_key
from tests.interop.loopback import LoopbackHTTP, Recorded, Reply

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


class Peer(LoopbackHTTP):
    """`with Peer() as peer:`; `peer.actor("ana")` publishes an actor and returns its id."""

    def __init__(self):
        super().__init__()
        self.keys: dict[str, tuple[str, str]] = {}
        self.inbox_posts: list[Recorded] = []
        self.routes["/inbox"] = self._inbox
        self.inbox_status = 202
        self.avatar_png: bytes | None = None

    # --- actors ---------------------------------------------------------------------------------
    def actor_id(self, name: str) -> str:
        return self.url(f"/users/{name}")

    def actor(self, name: str, *, document: dict | None = None, with_icon: bool = False) -> str:
        if name not in self.keys:
            self.keys[name] = generate_pem_pair()
        uri = self.actor_id(name)
        doc = {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": uri,
            "type": "Person",
            "preferredUsername": name,
            "name": name.title() + " Peer",
            "url": self.url(f"/@{name}"),
            "inbox": self.url(f"/users/{name}/inbox"),
            "endpoints": {"sharedInbox": self.url("/inbox")},
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": self.keys[name][1]},
        }
        if with_icon:
            doc["icon"] = {"type": "Image", "mediaType": "image/png", "url": self.url(f"/avatars/{name}.png")}
            self.routes[f"/avatars/{name}.png"] = Reply(
                200, self.avatar_png or _png(), content_type="image/png"
            )
        doc.update(document or {})
        self.routes[f"/users/{name}"] = Reply(
            200, json.dumps(doc).encode(), content_type="application/activity+json"
        )
        self.routes[f"/users/{name}/inbox"] = self._inbox
        return uri

    def _inbox(self, recorded: Recorded) -> Reply:
        if recorded.method == "POST":
            self.inbox_posts.append(recorded)
        return Reply(self.inbox_status, b"", content_type="text/plain")

    def received(self, kind: str | None = None) -> list[dict]:
        found = [json.loads(r.body) for r in self.inbox_posts]
        return [a for a in found if kind is None or a.get("type") == kind]

    def verify_delivery(self, recorded: Recorded, public_pem: str) -> str:
        """Check our signature on a delivery with apsig; returns the keyId."""
        return Verifier(public_pem, "POST", self.url(recorded.path), recorded.headers, recorded.body).verify(
            raise_on_fail=True
        )

    # --- sending ----------------------------------------------------------------------------------
    def new_id(self, name: str) -> str:
        return self.url(f"/users/{name}/activities/{uuid.uuid4().hex}")

    def signed(
        self,
        name: str,
        activity: dict,
        *,
        host: str = "testserver",
        path: str = "/inbox",
        key_name: str | None = None,
        body: bytes | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a POST to our inbox, signed by `key_name`'s key (default:
        the sender's own)."""
        body = body if body is not None else json.dumps(activity).encode()
        private = self.keys[key_name or name][0]
        headers = Signer(
            headers={"Content-Type": "application/activity+json", "Host": host},
            private_key=load_private_key(private),
            method="POST",
            url=f"http://{host}{path}",
            key_id=f"{self.actor_id(key_name or name)}#main-key",
            body=body,
        ).sign()
        headers.pop("Authorization", None)
        return body, headers


def client_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers for Django's test client (HTTP_… names), Host and Content-Type left to it."""
    out = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("host", "content-type", "content-length"):
            continue
        out["HTTP_" + lowered.upper().replace("-", "_")] = value
    return out


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 120), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()
