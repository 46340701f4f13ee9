"""The fan-out benchmark runs, and proves its point at a small size: followers on one server cost
one delivery (bench/federation_fanout.py; the full-size figures are in bench/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_fanout_bench_delivers_once_per_server():
    result = subprocess.run(
        [sys.executable, "bench/federation_fanout.py", "--followers", "60", "--hosts", "6"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in __import__("os").environ.items() if not k.startswith("PYTEST")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(report)
    assert report["deliveries"] == {"delivered": 6, "pending": 0, "failed": 0, "skipped": 0}
    assert report["sink_requests"] == 6 and report["inboxes_reached"] == 6
    assert report["worker_peak_rss_mb"] > 0
