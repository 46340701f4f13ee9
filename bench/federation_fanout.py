"""Fan-out of one post to many fediverse followers, through the real task worker.

    python bench/federation_fanout.py [--followers 10000] [--hosts 500] [--concurrency 8]

Builds a scratch database (SQLite under a temporary VAR_DIR, or a new PostgreSQL database when
DATABASE_URL is set) holding the blog, one author and N followers spread over H servers, each
server with its own shared inbox on its own loopback address (127.0.x.y, one listener per
address, all in a separate sink process that answers 202 and counts what it received and from
whom). Then it publishes one post and runs `manage.py db_worker --batch` once, as a deployment's
worker would: the worker fans the Create out and delivers it, signed, once per inbox.

Prints one JSON line: followers, hosts, deliveries made, requests the sink received, distinct
inboxes reached, the worker's wall time, deliveries per second and the worker's peak RSS (from
getrusage of the finished child). Traffic goes only to loopback addresses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def host_address(index: int) -> str:
    """The loopback address of server `index` (127.0.1.0 upwards; never 127.0.0.x)."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


# --- the sink: H loopback servers in one process --------------------------------------------------


def sink(hosts: int, port: int, ready, results) -> None:
    counts: dict[str, int] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            signed = b"\r\nsignature:" in head.lower()
            address = writer.get_extra_info("sockname")[0]
            if signed:
                counts[address] = counts.get(address, 0) + 1
            writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [
            await asyncio.start_server(handle, host_address(i), port, backlog=64) for i in range(hosts)
        ]
        ready.set()
        while True:
            await asyncio.sleep(0.2)
            results["counts"] = dict(counts)
            if results.get("stop"):
                break
        for server in servers:
            server.close()

    asyncio.run(main())


# --- set-up in this process -------------------------------------------------------------------------


def prepare(env: dict[str, str], followers: int, hosts: int, port: int) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "sectorblog.settings"
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    from federation.models import Follower, RemoteActor
    from tests import factories

    author = factories.UserFactory(username="amara", first_name="Amara", last_name="Okafor")
    # An older post makes the author an actor; it is too old to be announced to followers.
    factories.PostFactory(
        authors=[author], title="An older post", published_at=timezone.now() - timedelta(days=30)
    )
    now = timezone.now()
    actors = []
    for index in range(followers):
        server = index % hosts
        origin = f"http://{host_address(server)}:{port}"
        actors.append(
            RemoteActor(
                uri=f"{origin}/users/reader{index}",
                domain=host_address(server),
                preferred_username=f"reader{index}",
                inbox=f"{origin}/users/reader{index}/inbox",
                shared_inbox=f"{origin}/inbox",
                key_id=f"{origin}/users/reader{index}#main-key",
                public_key_pem="(not used)",
                fetched_at=now,
            )
        )
    RemoteActor.objects.bulk_create(actors, batch_size=2000)
    ids = RemoteActor.objects.values_list("pk", flat=True)
    Follower.objects.bulk_create([Follower(owner="blog", actor_id=pk) for pk in ids], batch_size=2000)
    # Published now: the post_save hook queues its fan-out for the worker.
    factories.PostFactory(authors=[author], title="Water points after the rains")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="fanout-"))
    port = 18000 + os.getpid() % 1000
    env = {
        "VAR_DIR": str(var),
        "DEBUG": "1",
        "LOG_LEVEL": "ERROR",
        "SITE_DOMAIN": "blog.example",
        "FEDERATION_ALLOWED_HOSTS": ",".join(f"{host_address(i)}:{port}" for i in range(args.hosts)),
        "FEDERATION_DELIVERY_CONCURRENCY": str(args.concurrency),
        "DB_POOL": "0",
    }
    admin_url = os.environ.get("DATABASE_URL", "")
    if admin_url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"fanout_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = urlsplit(admin_url)._replace(path="/" + name).geturl()
    else:
        os.environ.pop("DATABASE_URL", None)

    manager = multiprocessing.Manager()
    results = manager.dict()
    ready = manager.Event()
    listener = multiprocessing.Process(target=sink, args=(args.hosts, port, ready, results), daemon=True)
    listener.start()
    ready.wait(30)
    try:
        setup = multiprocessing.Process(target=prepare, args=(env, args.followers, args.hosts, port))
        setup.start()
        setup.join()
        assert setup.exitcode == 0, "set-up failed"
        worker_env = {**os.environ, **env}
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--batch",
                "--no-reload",
                "--no-startup-delay",
                "-v",
                "0",
            ],
            cwd=ROOT,
            env=worker_env,
            check=True,
            timeout=1800,
        )
        wall = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        time.sleep(0.5)
        counts = dict(results.get("counts", {}))
        check = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django, json; django.setup(); from django.db.models import Max; "
                "from federation.models import Activity, Delivery; "
                "states = {s: Delivery.objects.filter(state=s).count() "
                "for s in ('delivered', 'pending', 'failed', 'skipped')}; "
                "a = Activity.objects.get(); last = Delivery.objects.aggregate(m=Max('updated_at'))['m']; "
                "phase = (last - a.created_at).total_seconds(); "
                "states['fanout_to_last_delivery_seconds'] = round(phase, 2); "
                "print(json.dumps(states))",
            ],
            cwd=ROOT,
            env={**worker_env, "DJANGO_SETTINGS_MODULE": "sectorblog.settings"},
            capture_output=True,
            text=True,
            check=True,
        )
        states = json.loads(check.stdout.strip().splitlines()[-1])
        phase = states.pop("fanout_to_last_delivery_seconds")
        received = sum(counts.values())
        print(
            json.dumps(
                {
                    "followers": args.followers,
                    "hosts": args.hosts,
                    "concurrency": args.concurrency,
                    "database": "PostgreSQL" if "DATABASE_URL" in env else "SQLite",
                    "deliveries": states,
                    "sink_requests": received,
                    "inboxes_reached": len(counts),
                    "worker_wall_seconds": round(wall, 2),
                    "fanout_to_last_delivery_seconds": phase,
                    "deliveries_per_second": round(received / phase, 1) if phase else None,
                    "worker_peak_rss_mb": round(peak_kb / 1024, 1),
                }
            )
        )
    finally:
        results["stop"] = True
        listener.join(5)
        if listener.is_alive():
            listener.terminate()
        if "DATABASE_URL" in env:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(
                    f'DROP DATABASE IF EXISTS "{urlsplit(env["DATABASE_URL"]).path[1:]}" WITH (FORCE)'
                )


if __name__ == "__main__":
    main()
