"""A real server process for a test: a free port, a process that is always stopped, a wait until it
answers, and a cookie-keeping HTTP client for it.

For tests that need what the test client cannot give: another process (a count shared through Redis),
the production server itself (Daphne, DEBUG=0), or the README's RUN command.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis


def free_port() -> int:
    """A port nothing listens on now, chosen by the OS, for the server started next to bind."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(
    command: Sequence[str | os.PathLike[str]],
    *,
    log: Path,
    cwd: Path,
    env: dict[str, str],
    stop_timeout: float = 10,
) -> Iterator[subprocess.Popen]:
    """`command` in its own session, its output in `log`; stopped however the test ends.

    Its own session makes it a process group of its own, so stopping it stops what it started too
    (a script's servers and workers): SIGTERM to the group, SIGKILL if it is still running
    `stop_timeout` seconds later.
    """
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            # Not once it has been reaped (a test may stop it itself): its id could be another's by then.
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until_answering(
    probe: Callable[[], object],
    *,
    process: subprocess.Popen,
    log: Path,
    within: float = 60,
    interval: float = 0.2,
) -> None:
    """Call `probe` until it returns something true, failing the test with the end of `log` if the
    process ends or `within` seconds pass first. An OSError from `probe` means: not listening yet."""
    deadline = time.monotonic() + within
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if probe():
                return
        except OSError:
            pass  # not listening yet
        time.sleep(interval)
    pytest.fail(f"the server did not answer:\n{log.read_text()[-4000:]}")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> dict:
        return json.loads(self.body)


class Browser:
    """urllib with cookies: enough of a browser to sign in through Django's real login form.

    Redirects are not followed: a redirect is what the tests check (a sign-in answers 302).
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def request(self, path: str, *, data: dict | None = None, headers: dict | None = None) -> Answer:
        """GET `path`, or POST `data` form-encoded; an error status is an answer too."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=10) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def cookie(self, name: str) -> str:
        return next(cookie.value for cookie in self.cookies if cookie.name == name)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def start_redis_server(port: int) -> subprocess.Popen:
    """A throwaway redis-server on `port` (nothing kept on disk), answering once this returns.

    For tests that stop and start Redis under a running app; the caller terminates it.
    """
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.terminate()
    pytest.fail(f"redis-server did not start on port {port}")


# --- The app itself under Daphne, on this test run's database ------------------------------------

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_database_url() -> str:
    """A DATABASE_URL naming the database this test run uses (the one pytest-django created)."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    configured = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(configured._replace(path=f"/{name}"))


@dataclass
class AppServer:
    base: str  # http://127.0.0.1:<port>
    process: subprocess.Popen

    @property
    def url(self) -> str:  # as pytest-django's live_server names it
        return self.base

    @property
    def ws_base(self) -> str:
        return "ws" + self.base.removeprefix("http")


@contextmanager
def app_server(
    log: Path, *, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[AppServer]:
    """Daphne serving the app (HTTP and WebSockets) on the test database (on `port`, or a free one).

    Tests using it need committed data: `django_db(transaction=True)`.
    """
    port = port or free_port()
    command = [BIN / "daphne", "-b", "127.0.0.1", "-p", str(port), "contactsite.asgi:application"]
    with running(command, log=log, cwd=REPO, env=_app_env(env)) as process:
        base = f"http://127.0.0.1:{port}"
        client = Browser(base)
        wait_until_answering(lambda: client.request("/accounts/login/"), process=process, log=log)
        yield AppServer(base, process)


def run_async_value(scenario: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run `scenario()` to the end on an event loop of its own, in a thread of its own; its result.

    Not `asyncio.run` here: once a browser test has run, Playwright's sync API keeps an event
    loop running in the test thread for the rest of the session.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, scenario()).result()


def run_async(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    run_async_value(scenario)


def _app_env(env: dict[str, str] | None) -> dict[str, str]:
    """The environment of a process running the app on this test run's database and Redis."""
    return {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "contactsite.test_settings",
        "DATABASE_URL": test_database_url(),
        **(env or {}),
    }


@contextmanager
def celery_worker(
    log: Path, *, env: dict[str, str] | None = None, queue: str = "celery"
) -> Iterator[subprocess.Popen]:
    """A real Celery worker (one process, solo pool) on the test database and the test broker.

    Yields once the worker is consuming `queue`. Give a queue of the test's own where other
    tasks could be waiting on the shared test broker; SIGKILL its process group to crash it.
    """
    command = [
        BIN / "celery", "-A", "contactsite", "worker", "--pool", "solo", "--loglevel", "info",
        "--queues", queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with running(command, log=log, cwd=REPO, env=_app_env(env)) as process:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.1)
        yield process


def session_cookie(user: Any) -> str:
    """A `Cookie` header value signing `user` in (for WebSocket clients outside Django's test client)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def open_live_socket(server: AppServer, workspace_id: Any, cookie: str) -> tuple[Any, dict]:
    """A real WebSocket to the workspace's live address on `server`, and its "hello"."""
    from websockets.asyncio.client import connect

    socket = await connect(
        f"{server.ws_base}/ws/workspaces/{workspace_id}/",
        origin=server.base,
        additional_headers={"Cookie": cookie},
    )
    hello = json.loads(await asyncio.wait_for(socket.recv(), 5))
    assert hello["type"] == "hello"
    return socket, hello
