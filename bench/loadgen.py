"""A small HTTP/1.1 load generator for `make bench` when wrk is not installed.

N keep-alive connections, each sending one request after another for a fixed time (a closed
loop, as wrk does), over asyncio streams in one process. It reads Content-Length framed and
chunked bodies (RFC 9112 §6-7). Being Python, it tops out at a few thousand requests/s on one
core: results near that ceiling measure the generator, not the site, so prefer wrk.
"""

from __future__ import annotations

import asyncio
import random
import time
from urllib.parse import urlsplit


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, chunked, close = None, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, close


def _request_bytes(host: str, target: dict) -> bytes:
    headers = {"Host": host, "Connection": "keep-alive", **target.get("headers", {})}
    if target.get("post"):
        text = f"Bench comment {random.randrange(10**9)} from loadgen".replace(" ", "+")
        body = (target["post"]["body_prefix"] + text).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Content-Length"] = str(len(body))
        method = "POST"
    else:
        body, method = b"", "GET"
    head = f"{method} {target['path']} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + body


async def _connection(host, port, target, stop_at, latencies, statuses, errors):
    reader = writer = None
    while time.monotonic() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            started = time.perf_counter()
            writer.write(_request_bytes(f"{host}:{port}", target))
            await writer.drain()
            status, close = await asyncio.wait_for(_read_response(reader), timeout=10)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if close:
                writer.close()
                writer = None
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            errors.append(1)
            if writer is not None:
                writer.close()
            writer = None
    if writer is not None:
        writer.close()


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def run(base: str, target: dict, *, connections: int, seconds: int) -> dict:
    """Same result shape as bench.run.run_wrk."""
    parts = urlsplit(base)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[int] = []

    async def main():
        stop_at = time.monotonic() + seconds
        await asyncio.gather(
            *(
                _connection(parts.hostname, parts.port, target, stop_at, latencies, statuses, errors)
                for _ in range(connections)
            )
        )

    started = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - started
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 50), 3),
        "p99_ms": round(_percentile(latencies, 99), 3),
        "requests": len(latencies),
        "non_2xx_3xx": sum(n for code, n in statuses.items() if not 200 <= code < 400),
        "socket_errors": f"{len(errors)} errors" if errors else "",
    }
