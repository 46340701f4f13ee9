"""A whole cluster on one machine, on loopback: PostgreSQL primary + streaming replica, Redis,
two gunicorn app servers and one task worker.

`make cluster-demo` runs it until Ctrl-C; tests/test_cluster.py drives the same class. Uses the
machine's PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) and redis-server; nothing else.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL binary {name!r} not found")
    return path


def missing_binaries() -> list[str]:
    missing = []
    for name in ("initdb", "pg_ctl", "pg_basebackup"):
        try:
            pg_bin(name)
        except RuntimeError:
            missing.append(name)
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    return missing


def _as_postgres(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root; run its tools as the postgres user when we are root."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)


def wait_for(check, timeout: float = 30.0, what: str = "service") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PgNode:
    datadir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/sectorblog"

    def ctl(self, *args: str) -> None:
        _as_postgres([pg_bin("pg_ctl"), "-D", str(self.datadir), "-w", "-t", "60", *args])

    def start(self) -> None:
        self.ctl("-l", str(self.datadir / "server.log"), "start")

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.ctl("-m", "fast", "stop")

    def sql(self, statement: str, database: str = "sectorblog") -> str:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname={database}", autocommit=True
        ) as conn:
            cursor = conn.execute(statement)
            row = cursor.fetchone() if cursor.description else None
            return row[0] if row else None


@dataclass
class Cluster:
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sectorblog-cluster-")))
    app_count: int = 2
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    _logs: list = field(default_factory=list)

    def __post_init__(self):
        self.base.mkdir(parents=True, exist_ok=True)
        self.primary = PgNode(self.base / "primary", free_port())
        self.replica = PgNode(self.base / "replica", free_port())
        self.redis_port = free_port()
        self.app_ports = [free_port() for _ in range(self.app_count)]
        self.var_dir = self.base / "var"

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, *, seed: bool = True, worker: bool = True) -> Cluster:
        self.start_databases()
        self.start_redis()
        self.manage("migrate", "--noinput")
        if seed:
            self.manage("seed_demo")
        self.manage("collectstatic", "--noinput", "-v0")
        for port in self.app_ports:
            self.start_app(port)
        if worker:
            self.start_worker()
        return self

    def start_databases(self) -> None:
        os.chmod(self.base, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
        _as_postgres(
            [
                pg_bin("initdb"),
                "-D",
                str(self.primary.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        with open(self.primary.datadir / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.primary.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.primary.datadir}'\nwal_level = replica\n"
                "max_wal_senders = 5\nhot_standby = on\nfsync = off\nsynchronous_commit = off\n"
                "full_page_writes = off\n"
            )
        with open(self.primary.datadir / "pg_hba.conf", "a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        self.primary.start()
        self.primary.sql("CREATE DATABASE sectorblog", database="postgres")
        _as_postgres(
            [
                pg_bin("pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary.port),
                "-U",
                "postgres",
                "-D",
                str(self.replica.datadir),
                "-R",
                "-X",
                "stream",
            ]
        )
        with open(self.replica.datadir / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.replica.port}\nunix_socket_directories = '{self.replica.datadir}'\n")
        self.replica.start()

    def start_redis(self) -> None:
        self.processes["redis"] = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _port_open(self.redis_port), what="redis")

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
        env.update(
            DEBUG="0",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="0",
            BEHIND_TLS_PROXY="0",
            SITE_SCHEME="http",
            SITE_DOMAIN=f"127.0.0.1:{self.app_ports[0]}",
            DATABASE_URL=self.primary.url,
            DATABASE_REPLICA_URLS=self.replica.url,
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            VAR_DIR=str(self.var_dir),
            EMAIL_URL=f"file://{self.var_dir / 'mail'}",
            TESTING="0",
            COMMENTS_CLOSE_AFTER_DAYS="0",
            SECURE_COOKIES="0",
            COMMENTS_FLOOD_SECONDS="3",
        )
        env.update(extra)
        return env

    def manage(self, *args: str, **extra_env: str) -> str:
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env(**extra_env),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start_app(self, port: int) -> None:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.processes[f"app-{port}"] = subprocess.Popen(
            [
                gunicorn,
                "sectorblog.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "2",
                "--timeout",
                "30",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=self._log(f"app-{port}.log"),
        )
        wait_for(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200,
            timeout=60,
            what=f"app server on {port}",
        )

    def start_worker(self) -> None:
        self.processes["worker"] = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "worker",
                "--no-reload",
                "--interval",
                "0.2",
                "--no-startup-delay",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=self._log("worker.log"),
        )

    def _log(self, name: str):
        handle = open(self.base / name, "w")  # noqa: SIM115 (kept open for the child's lifetime)
        self._logs.append(handle)
        return handle

    def stop_worker(self) -> None:
        self._stop("worker")

    def _stop(self, name: str) -> None:
        proc = self.processes.pop(name, None)
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        for name in list(self.processes):
            self._stop(name)
        self.replica.stop()
        self.primary.stop()

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}/" for port in self.app_ports]


def main() -> None:
    missing = missing_binaries()
    if missing:
        sys.exit(f"cluster-demo needs {', '.join(missing)} (Debian: postgresql, redis-server)")
    base = ROOT / "var" / "cluster"
    if base.exists():
        shutil.rmtree(base)
    cluster = Cluster(base=base)
    print("Starting PostgreSQL primary and replica, Redis, two app servers and a worker…", flush=True)
    try:
        cluster.start()
        print(f"primary   {cluster.primary.url}")
        print(f"replica   {cluster.replica.url}")
        print(f"redis     redis://127.0.0.1:{cluster.redis_port}/0")
        for url in cluster.urls():
            print(f"app       {url}")
        print(f"health    {cluster.urls()[0]}healthz")
        print("Ctrl-C stops everything.", flush=True)
        signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping…", flush=True)
        cluster.stop()


if __name__ == "__main__":
    main()
