"""The product as it runs, for tests that must see it that way: real gunicorn with several workers
(reading gunicorn.conf.py), the real task worker, the page and fragment caches as configured, on a
scratch database of its own.

    with LiveSite(tmp_path, workers=2, task_worker=True) as site:     # task_worker=2: two of them
        response = site.get("/")
        site.manage("shell", "-c", "...")

`access_log=True` makes gunicorn log each request with the pid of the worker that answered it
(`site.requests_served()`), for tests that must show several workers took part.

The database is a new PostgreSQL database on the server of DATABASE_URL when that is set (as in CI),
else a SQLite file under the site's own VAR_DIR, the embedded default of `make run`. Either way it is
migrated and loaded with the demo content (`seed_demo`) before the site starts, and dropped after.

`tls=(certfile, keyfile)` serves HTTPS (gunicorn's own TLS) on https://localhost:<port>, for peers that
only speak HTTPS to a domain, as ActivityPub servers do (the certificate must name localhost).

`mode="dev"` runs the site as `make run` does (DEBUG=1, HOST and PORT exported); `mode="prod"` runs
it as a deployment does (DEBUG=0, a secret key, manifest static files collected first).
`LiveSite.make_run(...)` starts the README's own command instead of gunicorn directly.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# gunicorn's access log atoms: worker pid (as <pid>), method, path without the query, status.
ACCESS_FORMAT = "%(p)s %(m)s %(U)s %(s)s"


@dataclass
class AccessEntry:
    pid: int
    method: str
    path: str
    status: int


@dataclass
class LiveResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def cookies(self) -> dict[str, str]:
        found = {}
        for value in self.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            found[name.strip()] = rest.split(";", 1)[0]
        return found


class LiveSite:
    def __init__(
        self,
        tmp_path: Path,
        *,
        workers: int = 2,
        task_worker: bool | int = False,
        mode: str = "dev",
        seed: bool = True,
        env: dict[str, str] | None = None,
        access_log: bool = False,
        tls: tuple[Path, Path] | None = None,
    ):
        self.var = Path(tmp_path) / "var"
        self.var.mkdir(parents=True, exist_ok=True)
        self.workers = workers
        self.access_log = access_log
        self.task_worker = task_worker
        self.mode = mode
        self.seed = seed
        self.port = free_port()
        self.tls = tls
        self.host = f"{'localhost' if tls else '127.0.0.1'}:{self.port}"
        self.origin = f"{'https' if tls else 'http'}://{self.host}"
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.pg_admin_url, self.database_url = self._database()
        self._database_created = False
        self.env = self._env(env or {})

    # --- set-up -----------------------------------------------------------------------------
    def _database(self) -> tuple[str, str]:
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            return "", ""
        parts = urlsplit(url)
        name = f"sb_live_{uuid.uuid4().hex[:12]}"
        # Create and drop through the server's maintenance database: the one DATABASE_URL names
        # need not exist (pytest-django only creates test_<name>).
        return parts._replace(path="/postgres").geturl(), parts._replace(path="/" + name).geturl()

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        drop = {"PYTEST_CURRENT_TEST", "DEBUG", "TESTING", "DATABASE_URL", "REDIS_URL", "SITE_DOMAIN"}
        env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST_")}
        env.update(
            HOST="127.0.0.1",
            PORT=str(self.port),
            VAR_DIR=str(self.var),
            WEB_CONCURRENCY=str(self.workers),
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.mode == "dev":
            env["DEBUG"] = "1"
        else:
            env.update(
                DEBUG="0",
                SECRET_KEY="live-site-test-" + "k" * 40,
                ALLOWED_HOSTS="127.0.0.1,localhost",
                SECURE_SSL_REDIRECT="0",
                SECURE_COOKIES="0",
                BEHIND_TLS_PROXY="0",
                SITE_SCHEME="http",
            )
        env.update(extra)
        return env

    def _admin_connection(self):
        """A connection for CREATE/DROP DATABASE, to the server's maintenance database."""
        import psycopg

        return psycopg.connect(self.pg_admin_url, autocommit=True)

    def manage(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run a management command against this site's database and settings."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def create_database(self) -> None:
        """Create this site's PostgreSQL database (once; SQLite needs nothing)."""
        if self.database_url and not self._database_created:
            with self._admin_connection() as conn:
                conn.execute(f'CREATE DATABASE "{urlsplit(self.database_url).path[1:]}"')
            self._database_created = True

    def prepare(self) -> None:
        self.create_database()
        self.manage("migrate", "--noinput", "-v0")
        if self.seed:
            self.manage("seed_demo")
        if self.mode == "prod":
            self.manage("collectstatic", "--noinput", "-v0")

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = self.var / f"{name}.log"
        self.logs.append(log)
        handle = open(log, "wb")  # noqa: SIM115 (kept open for the child's lifetime)
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def start(self) -> LiveSite:
        self.prepare()
        bind = f"127.0.0.1:{self.port}"
        argv = [str(BIN / "gunicorn"), "sectorblog.wsgi", "--bind", bind, "--workers", str(self.workers)]
        if self.tls:
            argv += ["--certfile", str(self.tls[0]), "--keyfile", str(self.tls[1])]
        if self.access_log:
            argv += ["--access-logfile", str(self.var / "access.log"), "--access-logformat", ACCESS_FORMAT]
        self._spawn("gunicorn", argv)
        for index in range(int(self.task_worker)):
            name = "worker" if index == 0 else f"worker{index + 1}"
            self._spawn(name, [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "1"])
        self.wait_ready()
        return self

    def start_make_run(self) -> LiveSite:
        """`make run` itself (the README's command), on this site's port, VAR_DIR and database
        (which may already hold data: `make run` migrates and seeds it as it would a newcomer's)."""
        self.create_database()
        self._spawn(
            "make-run", ["make", "--no-print-directory", "run", f"PORT={self.port}", "HOST=127.0.0.1"]
        )
        self.wait_ready(timeout=240)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise AssertionError(f"site process exited ({proc.returncode}):\n{self.log_tail()}")
            try:
                if self.get("/healthz").status in (200, 503):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"site did not answer within {timeout} s:\n{self.log_tail()}")

    def requests_served(self) -> list[AccessEntry]:
        """What gunicorn's access log holds so far (start with `access_log=True`): which worker
        process answered which request, in the order they finished."""
        log = self.var / "access.log"
        if not log.exists():
            return []
        entries = []
        for line in log.read_text(errors="replace").splitlines():
            pid, method, path, status = line.split(" ", 3)
            entries.append(AccessEntry(int(pid.strip("<>")), method, path, int(status)))
        return entries

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for log in self.logs:
            if log.exists():
                out.append(f"--- {log.name}")
                out.extend(log.read_text(errors="replace").splitlines()[-lines:])
        return "\n".join(out)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.procs.clear()
        if self.database_url:
            name = urlsplit(self.database_url).path[1:]
            with self._admin_connection() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.database_url = ""

    def __enter__(self) -> LiveSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- HTTP ---------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.origin + path

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | str | dict | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> LiveResponse:
        """One request on a new connection, redirects not followed."""
        headers = dict(headers or {})
        if isinstance(body, dict):
            body = urlencode(body, doseq=True)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if isinstance(body, str):
            body = body.encode()
        if self.tls:
            import ssl

            context = ssl.create_default_context(cafile=str(self.tls[0]))
            conn = http.client.HTTPSConnection("localhost", self.port, timeout=timeout, context=context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return LiveResponse(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **kwargs) -> LiveResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict | bytes | str, **kwargs) -> LiveResponse:
        return self.request("POST", path, body=data, **kwargs)


def redis_unavailable(url: str) -> str | None:
    """Why a test variant that needs Redis at `url` cannot run here, or None when it answers."""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 (any failure means: no Redis here)
        return f"no Redis at {url} ({exc.__class__.__name__}): the Redis variant needs one"
    return None


class Browser:
    """A client with its own cookie jar, like one visitor's browser (redirects not followed).

    browser = Browser()
    browser.login(site.origin + "/", "editor", "password")
    status, html, headers = browser.get(site.url("/admin/"))
    """

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, url: str, data: dict | None = None) -> tuple[int, str, dict]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, data=body, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def get(self, url: str) -> tuple[int, str, dict]:
        return self.request(url)

    def login(self, base: str, username: str, password: str, totp_secret: str | None = None) -> None:
        """Sign in through the admin's login form (base ends with "/"), and when the account has an
        authenticator app, through the second step with a code made from totp_secret."""
        from bs4 import BeautifulSoup

        status, html, _ = self.get(base + "admin/login/")
        token = BeautifulSoup(html, "html.parser").select_one("input[name=csrfmiddlewaretoken]")["value"]
        status, _, headers = self.request(
            base + "admin/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"},
        )
        if totp_secret and status == 302 and headers["Location"] == "/accounts/2fa/authenticate/":
            status, headers = self._second_step(base, totp_secret)
        assert status == 302 and headers["Location"] == "/admin/", status

    def _second_step(self, base: str, totp_secret: str) -> tuple[int, dict]:
        """Send the current code; a code is accepted once, so on refusal wait for the next one."""
        import pyotp
        from bs4 import BeautifulSoup

        url = base + "accounts/2fa/authenticate/"
        for _ in range(2):
            _, html, _ = self.get(url)
            token = BeautifulSoup(html, "html.parser").select_one("input[name=csrfmiddlewaretoken]")["value"]
            status, _, headers = self.request(
                url, {"csrfmiddlewaretoken": token, "code": pyotp.TOTP(totp_secret).now()}
            )
            if status == 302:
                break
            time.sleep(30.5 - time.time() % 30)
        return status, headers

    def comment(self, base: str, path: str, text: str, **fields) -> tuple[int, str, dict]:
        """Read the comment form on the post page and send it, as a browser would."""
        from bs4 import BeautifulSoup

        status, html, _ = self.get(base + path.lstrip("/"))
        assert status == 200
        form = BeautifulSoup(html, "html.parser").select_one("form#comment-form")
        data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
        data.update(name="Ama Reader", email="ama@example.net", url="", comment=text)
        data.update(fields)
        return self.request(base + form["action"].lstrip("/"), data)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def which_database() -> str:
    """What LiveSite will run on, for test output."""
    url = os.environ.get("DATABASE_URL", "")
    return "PostgreSQL" if url.startswith(("postgres://", "postgresql://")) else "SQLite"


def needs_gunicorn() -> str | None:
    """A skip reason when gunicorn isn't installed beside this Python, else None."""
    return None if shutil.which("gunicorn", path=str(BIN)) else f"gunicorn not installed in {BIN}"
