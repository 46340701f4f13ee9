// An independent ActivityPub peer for sectorblog's interop test, built on Fedify (the framework
// Ghost's federation runs on). It serves one actor, "peer", over HTTPS on localhost, verifies
// every activity it receives (Fedify checks the HTTP signature and that the key's owner is the
// actor before calling a listener), and takes orders from the test through /control/ endpoints:
// follow a handle, reply, like, boost, edit, delete. It records what it received at
// /control/received. Started by tests/test_federation_fedify.py with Node 22 from this folder.
//
// Environment: PORT, TLS_CERT, TLS_KEY (PEM files), NODE_EXTRA_CA_CERTS (to trust the blog).
import { readFileSync } from "node:fs";
import { Temporal } from "@js-temporal/polyfill";
import { createServer } from "node:https";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import {
  Accept, Announce, Create, Delete, Endpoints, Follow, Like, Mention, Note, Person,
  PUBLIC_COLLECTION, Reject, Tombstone, Undo, Update,
} from "@fedify/vocab";

const port = Number(process.env.PORT);
const origin = `https://localhost:${port}`;
const received = [];
const notes = new Map();
let keyPairs = null;
let counter = 0;

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin,
  allowPrivateAddress: true, // both servers run on loopback in the test
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== "peer") return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify Peer",
      url: new URL(`/@${identifier}`, origin),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher(async (ctx, identifier) => {
    if (identifier !== "peer") return [];
    keyPairs ??= [await generateCryptoKeyPair("RSASSA-PKCS1-v1_5")];
    return keyPairs;
  });

function record(kind) {
  return async (ctx, activity) => {
    const object = await activity.getObject().catch(() => null);
    const json = await activity.toJsonLd({ format: "compact" });
    received.push({
      kind,
      id: activity.id?.href ?? null,
      actor: activity.actorId?.href ?? null,
      object: object == null ? null : await object.toJsonLd({ format: "compact" }).catch(() => null),
      raw: json,
      // Listeners run only for requests whose signature Fedify verified.
      verified: true,
    });
  };
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, record("Accept"))
  .on(Reject, record("Reject"))
  .on(Create, record("Create"))
  .on(Update, record("Update"))
  .on(Delete, record("Delete"))
  .on(Announce, record("Announce"));

const ctx = () => federation.createContext(new URL(origin), undefined);

async function lookup(target) {
  const found = await ctx().lookupObject(target);
  if (found == null) throw new Error(`cannot look up ${target}`);
  return found;
}

async function send(recipient, activity) {
  await ctx().sendActivity({ identifier: "peer" }, recipient, activity, { preferSharedInbox: true });
}

function newId(kind) {
  counter += 1;
  return new URL(`/users/peer/${kind}/${Date.now()}-${counter}`, origin);
}

const control = {
  async follow({ handle }) {
    const actor = await lookup(handle);
    const id = newId("follows");
    await send(actor, new Follow({ id, actor: ctx().getActorUri("peer"), object: actor.id }));
    return { id: id.href, actor: actor.id.href, name: actor.name?.toString() ?? null };
  },
  async reply({ to, inReplyTo, content }) {
    const recipient = await lookup(to);
    const id = newId("notes");
    const note = new Note({
      id,
      attribution: ctx().getActorUri("peer"),
      replyTarget: new URL(inReplyTo),
      content,
      url: id,
      published: Temporal.Now.instant(),
      to: PUBLIC_COLLECTION,
      ccs: [recipient.id],
      tags: [new Mention({ href: recipient.id, name: to })],
    });
    notes.set(id.href, note);
    await send(recipient, new Create({ id: newId("creates"), actor: ctx().getActorUri("peer"), object: note, to: PUBLIC_COLLECTION, ccs: [recipient.id] }));
    return { id: id.href };
  },
  async edit({ to, id, content }) {
    const recipient = await lookup(to);
    const note = notes.get(id).clone({ content, updated: Temporal.Now.instant() });
    notes.set(id, note);
    await send(recipient, new Update({ id: newId("updates"), actor: ctx().getActorUri("peer"), object: note, to: PUBLIC_COLLECTION }));
    return { id };
  },
  async delete({ to, id }) {
    const recipient = await lookup(to);
    notes.delete(id);
    await send(recipient, new Delete({ id: newId("deletes"), actor: ctx().getActorUri("peer"), object: new Tombstone({ id: new URL(id) }), to: PUBLIC_COLLECTION }));
    return { id };
  },
  async like({ to, object }) {
    const recipient = await lookup(to);
    const id = newId("likes");
    await send(recipient, new Like({ id, actor: ctx().getActorUri("peer"), object: new URL(object) }));
    return { id: id.href };
  },
  async announce({ to, object }) {
    const recipient = await lookup(to);
    const id = newId("announces");
    await send(recipient, new Announce({ id, actor: ctx().getActorUri("peer"), object: new URL(object), to: PUBLIC_COLLECTION }));
    return { id: id.href };
  },
  async undo({ to, id, kind }) {
    const recipient = await lookup(to);
    const inner = kind === "Like"
      ? new Like({ id: new URL(id), actor: ctx().getActorUri("peer") })
      : new Follow({ id: new URL(id), actor: ctx().getActorUri("peer") });
    await send(recipient, new Undo({ id: newId("undos"), actor: ctx().getActorUri("peer"), object: inner }));
    return { id };
  },
};

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const server = createServer(
  { cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) },
  async (req, res) => {
    try {
      const url = new URL(req.url, origin);
      const body = await readBody(req);
      if (url.pathname === "/control/received") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(received));
        return;
      }
      if (url.pathname.startsWith("/control/")) {
        const action = control[url.pathname.slice("/control/".length)];
        if (!action) { res.writeHead(404).end(); return; }
        const result = await action(JSON.parse(body.toString() || "{}"));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(result));
        return;
      }
      const request = new Request(url, {
        method: req.method,
        headers: Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]])),
        body: ["GET", "HEAD"].includes(req.method) ? undefined : body,
      });
      const response = await federation.fetch(request, { contextData: undefined });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      console.error(error);
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error?.stack ?? error));
    }
  },
);
server.listen(port, "127.0.0.1", () => console.log(`fedify peer on ${origin}`));
