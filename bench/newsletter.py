"""`make bench-newsletter`: deliver one post to N subscribers through a real SMTP server.

The product runs as it runs in production (tests/live.py's LiveSite: gunicorn, the real
`manage.py worker`, a scratch database: PostgreSQL when DATABASE_URL is set, else SQLite), with
EMAIL_URL pointing at aiosmtpd on loopback (tests/interop/smtp.py), which counts what it accepts.
For each size (default 1,000 then 10,000) the script creates the subscribers, publishes one post
(a plain save, as the admin's Publish button does), and times from the save to the last message
accepted by the SMTP server. It reports wall time, emails per second, SMTP connections used and
the worker's peak RSS (VmHWM from /proc), and fails if any subscriber got the post twice or not
at all. Memory is flat when the 10,000 run's peak is close to the 1,000 run's.

    .venv/bin/python bench/newsletter.py [--sizes 1000,10000] [--workers 1] [--timeout 600]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.interop.smtp import SMTPServer  # noqa: E402
from tests.live import LiveSite, which_database  # noqa: E402

SETUP = """
from datetime import timedelta
from django.utils import timezone
from newsletter.models import Subscriber
now = timezone.now()
Subscriber.objects.bulk_create(
    [Subscriber(email=f"reader{{i}}@example.net", confirmed_at=now - timedelta(days=1)) for i in range({n})],
    batch_size=2000,
)
"""

PUBLISH = """
from django.utils import timezone
from posts.models import Post
Post.objects.create(
    title="Water points that last", slug="water-points-that-last", status="published",
    published_at=timezone.now(),
    body="We visited three towns.\\n\\n## What we saw\\n\\n" + "A paragraph of field notes. " * 120,
)
"""

STATES = """
import json
from django.db.models import Count
from newsletter.models import Delivery
print(json.dumps(dict(Delivery.objects.values_list("state").annotate(n=Count("pk")))))
"""


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_size(n: int, *, workers: int, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp, SMTPServer(keep=False) as smtp:
        env = {**smtp.environment(), "NEWSLETTER_TICK_SECONDS": "30"}
        with LiveSite(Path(tmp), workers=1, task_worker=workers, seed=False, env=env) as site:
            site.manage("shell", "-c", SETUP.format(n=n))
            worker_pids = [p.pid for p in site.procs[1:]]
            baseline = [peak_rss_mb(pid) for pid in worker_pids]
            started = time.monotonic()
            site.manage("shell", "-c", PUBLISH)
            deadline = started + timeout
            while smtp.accepted < n and time.monotonic() < deadline:
                time.sleep(0.05)
            wall = time.monotonic() - started
            peaks = [peak_rss_mb(pid) for pid in worker_pids]
            time.sleep(2)  # anything sent twice would arrive now
            states = json.loads(site.manage("shell", "-c", STATES).stdout.strip().splitlines()[-1])
        return {
            "subscribers": n,
            "accepted": smtp.accepted,
            "distinct_recipients": len(smtp.accepted_by_rcpt),
            "duplicates": sum(c - 1 for c in smtp.accepted_by_rcpt.values() if c > 1),
            "wall_seconds": round(wall, 2),
            "emails_per_second": round(smtp.accepted / wall, 1) if wall else 0,
            "smtp_connections": smtp.connections,
            "worker_rss_before_mb": [round(v, 1) for v in baseline],
            "worker_peak_rss_mb": [round(v, 1) for v in peaks],
            "ledger": states,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    print(f"newsletter bench on {which_database()}, {args.workers} task worker(s), aiosmtpd on loopback")
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        result = run_size(n, workers=args.workers, timeout=args.timeout)
        results.append(result)
        print(
            f"subscribers={n:>6}  wall={result['wall_seconds']:>7.2f}s  "
            f"rate={result['emails_per_second']:>7.1f} emails/s  "
            f"connections={result['smtp_connections']:>4}  "
            f"worker peak RSS={result['worker_peak_rss_mb']} MB "
            f"(before publish {result['worker_rss_before_mb']})  "
            f"accepted={result['accepted']} duplicates={result['duplicates']}  ledger={result['ledger']}",
            flush=True,
        )
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"newsletter-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"written to {path.relative_to(ROOT)}")
    ok = all(
        r["accepted"] == r["subscribers"] == r["distinct_recipients"] and not r["duplicates"] for r in results
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
