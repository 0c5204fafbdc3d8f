"""What the read cache buys: list page, API list and detail page, warm and off, in process and over HTTP.

Run: `.venv/bin/python bench/bench_cache.py [--contacts 10000] [--seconds 5] [--concurrency 8]`
(DATABASE_URL or --database-url picks the database; default: a fresh SQLite file in a temporary
folder). Needs a Redis server; the run keeps to its own database number (--redis-db, default 9).

One workspace of --contacts contacts (with tags, bulk-inserted, then one version bump), one signed-in
member, production settings (DEBUG=0, a random SECRET_KEY, ALLOWED_HOSTS=127.0.0.1,localhost,
static files collected into a temporary STATIC_ROOT, the default database and cache settings; only
the API throttle's window is shortened, see `bench_environment`). Four endpoints, each with the read cache warm (CONTACTS_CACHE_ENABLED=1, after warm-up
requests) and off (CONTACTS_CACHE_ENABLED=0):

- floor: `/bench/floor/` (bench/urls.py), a signed-in no-op through the same middleware stack;
- the list page `/w/<slug>/contacts/`, the API list `/api/v1/workspaces/<id>/contacts/` and the
  detail page `/w/<slug>/contacts/<id>/` of the list's first contact.

Three ways, in one run:

1. in process, Django's test Client, one request after another (the endpoints take turns, so a
   noisy machine slows them alike): p50 and p99 per request and the ratio to the floor;
2. over HTTP under Daphne (the Dockerfile's command, bench/settings.py): one process with
   ASGI_THREADS unset, 1, 4 and 8; two processes with a port each (the clients split evenly over
   them, as a proxy's round robin would); on request (--servers daphne-fd2) two processes adopting
   one listening socket (`--fd`);
3. over HTTP under Uvicorn: `--workers 1`, `--workers 2` (one shared socket) and two processes with
   a port each.

Over HTTP, --concurrency clients (asyncio, HTTP/1.1 keep-alive, one connection each) send requests
for --seconds per endpoint after --warmup seconds of the same load: requests/s, p50, p99, and the
servers' CPU time per request (read from /proc: it moves far less than latency when other programs
share the machine). Every answer must be 200; others (and connection errors) are counted and
reported. The app's `Server-Timing` header gives each answer's query count and whether its main read
was a cache hit. Every server started is stopped at the end, however the run ends.

Prints a Markdown table and writes it to --output (default bench/bench_cache_results.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import datetime
import gc
import http.client
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SETTINGS_MODULE = "bench.settings"
ASGI_APP = "contactsite.asgi:application"
HOST = "127.0.0.1"
SLUG = "bench-cache"
BIN = Path(sys.executable).parent  # the virtualenv's daphne and uvicorn
DEFAULT_OUTPUT = REPO / "bench" / "bench_cache_results.md"
TAG_NAMES = (
    "prospect",
    "newsletter",
    "customer",
    "follow-up",
    "decision maker",
    "partner",
    "vip",
    "supplier",
    "trade show 2025",
    "event 2026",
    "referral",
    "enterprise",
    "renewal q3",
    "churn risk",
    "press",
)
IN_PROCESS = "in process (test Client, 1 client)"


# --- what is measured ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    path: str


@dataclass(frozen=True)
class Server:
    key: str
    label: str
    kind: str  # "daphne" or "uvicorn"
    processes: int = 1
    # False: a port per process, the clients split evenly over them (a proxy's round robin). True: the
    # processes share one listening socket and the kernel hands out connections (Uvicorn's
    # --workers; Daphne's --fd on a socket this benchmark opens).
    shared_socket: bool = False
    asgi_threads: int | None = None


SERVERS = {
    server.key: server
    for server in (
        Server("daphne", "Daphne, 1 process", "daphne"),
        Server("daphne-t1", "Daphne, 1 process, ASGI_THREADS=1", "daphne", asgi_threads=1),
        Server("daphne-t4", "Daphne, 1 process, ASGI_THREADS=4", "daphne", asgi_threads=4),
        Server("daphne-t8", "Daphne, 1 process, ASGI_THREADS=8", "daphne", asgi_threads=8),
        Server("daphne-x2", "Daphne, 2 processes, a port each", "daphne", processes=2),
        Server("daphne-fd2", "Daphne, 2 processes on one socket (--fd)", "daphne", 2, shared_socket=True),
        Server("uvicorn-w1", "Uvicorn --workers 1", "uvicorn"),
        Server("uvicorn-w2", "Uvicorn --workers 2", "uvicorn", processes=2, shared_socket=True),
        Server("uvicorn-x2", "Uvicorn, 2 processes, a port each", "uvicorn", processes=2),
    )
}
# daphne-fd2 is left out by default: whichever process wakes first accepts all 8 connections at
# once, so its figures depend on chance (see the connection spread it reports).
DEFAULT_SERVERS = [key for key in SERVERS if key != "daphne-fd2"]


_CACHE_METRIC = re.compile(r'\bcache;[^,]*desc="?(\w+)')
_DB_METRIC = re.compile(r'\bdb;[^,]*desc="?(\d+) quer')


@dataclass
class Timing:
    """What the app's `Server-Timing` header said (contacts/server_timing.py), added up over answers."""

    answers: int = 0  # answers that carried the header
    queries: int = 0
    outcomes: Counter = field(default_factory=Counter)  # the main read: hit, miss, or none (uncached)

    def add(self, header: str | None) -> None:
        if header is None:
            return
        self.answers += 1
        if queries := _DB_METRIC.search(header):
            self.queries += int(queries.group(1))
        outcome = _CACHE_METRIC.search(header)
        self.outcomes[outcome.group(1) if outcome else "none"] += 1

    def describe_reads(self) -> str:
        if not self.answers:
            return "n/a"
        shares = [
            f"{name} {count / self.answers:.0%}"
            for name, count in self.outcomes.most_common()
            if name != "none"
        ]
        return ", ".join(shares) if shares else "—"

    def describe_queries(self) -> str:
        return f"{self.queries / self.answers:.1f}" if self.answers else "n/a"


@dataclass
class Measure:
    """One endpoint, one cache mode, one way of serving it."""

    endpoint: Endpoint
    cached: bool
    way: str
    latencies_ms: list[float]
    seconds: float  # wall time of the measured requests
    statuses: Counter = field(default_factory=Counter)  # status (or error name) → count
    timing: Timing = field(default_factory=Timing)  # what the app's Server-Timing said
    cpu_seconds: float = math.nan  # CPU time the server (or this process, in process) spent on them

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else math.nan

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    @property
    def cpu_ms(self) -> float:
        """CPU per request: unlike latency, it hardly moves when other programs share the machine."""
        return self.cpu_seconds / self.requests * 1000 if self.requests else math.nan

    @property
    def not_ok(self) -> int:
        return sum(count for status, count in self.statuses.items() if status != 200)


def percentile(values: list[float], rank: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


# --- environment, database, data ------------------------------------------------------------------


def bench_environment(args: argparse.Namespace, folder: Path) -> dict[str, str]:
    """The variables of a production deployment, pointed at this run's database, Redis and static files."""
    from contactsite.envparse import redis_db_url

    redis_url = redis_db_url(args.redis_url, args.redis_db)
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        "REDIS_URL": redis_url,
        "CACHE_REDIS_URL": redis_url,
        "CHANNELS_REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "STATIC_ROOT": str(folder / "static"),
        # The API's per-user throttle stays on (one Redis read and write per call, as in production),
        # but 8 clients of one user would hit the production 600/min within a second. A one-second
        # window keeps its request history (a list the throttle stores in Redis) about as long as a
        # user at the production limit has it.
        "API_THROTTLE_RATE": "1000000/s",
        "CONTACTS_CACHE_ENABLED": "1",
    }


def setup_django(environment: dict[str, str]) -> None:
    os.environ.pop("CONTACTS_TESTING", None)  # the testing switch moves Redis databases and rates
    os.environ.update(environment)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # DEBUG=0 serves the hashed, compressed copies that collectstatic writes (WhiteNoise's manifest).
    call_command("collectstatic", interactive=False, verbosity=0)


def seed(count: int):
    """One workspace of `count` contacts with tags, its member signed in, bulk-loaded like seed_contacts."""
    import factory.random

    from contacts import services
    from contacts.factories import ContactFactory, MembershipFactory, UserFactory, WorkspaceFactory
    from contacts.models import Contact, ContactTag, Role, Tag, Workspace

    if Workspace.objects.filter(slug=SLUG).exists():
        raise SystemExit(f"workspace {SLUG!r} already exists: point the benchmark at an empty database")
    factory.random.reseed_random("bench-cache")  # the same people on every run
    membership = MembershipFactory(
        workspace=WorkspaceFactory(slug=SLUG, name="Bench cache"),
        user=UserFactory(username="bench-cache"),
        role=Role.MEMBER,
    )
    workspace = membership.workspace
    contacts = ContactFactory.build_batch(count, workspace=workspace)
    for contact in contacts:
        contact.refresh_derived_fields()  # what save() does and bulk_create skips
    Contact.objects.bulk_create(contacts, batch_size=1000)
    tags = [Tag.objects.create(workspace=workspace, name=name) for name in TAG_NAMES]
    links = [
        ContactTag(contact=contact, tag=tags[(7 * n + 5 * k) % len(tags)])
        for n, contact in enumerate(contacts)
        for k in range(n % 4)  # 0 to 3 tags each
    ]
    ContactTag.objects.bulk_create(links, batch_size=1000)
    services.workspace_bump_version(workspace=workspace)
    from django.db import connection

    if connection.vendor in {"postgresql", "sqlite"}:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # statistics a live database would have
    first = Contact.objects.filter(workspace=workspace).order_by("last_name", "first_name", "id").first()
    return membership, first


def endpoints_for(workspace, contact) -> list[Endpoint]:
    return [
        Endpoint("floor", "floor: signed-in no-op view", "/bench/floor/"),
        Endpoint("list", "page: /w/<slug>/contacts/", f"/w/{workspace.slug}/contacts/"),
        Endpoint(
            "api", "API: /api/v1/workspaces/<id>/contacts/", f"/api/v1/workspaces/{workspace.id}/contacts/"
        ),
        Endpoint("detail", "page: /w/<slug>/contacts/<id>/", f"/w/{workspace.slug}/contacts/{contact.id}/"),
    ]


def forget_cached_reads(workspace) -> int:
    """Delete the workspace's keys from the read cache, so each server run starts cold; how many there were."""
    from django.conf import settings
    from django.core.cache import caches

    store = caches[getattr(settings, "CONTACTS_CACHE_ALIAS", "default")]
    if not hasattr(store, "delete_pattern"):
        return 0
    return store.delete_pattern(f"*ws:{workspace.pk.hex}:*") or 0


def count_cached_reads(workspace) -> int | None:
    from django.conf import settings
    from django.core.cache import caches

    store = caches[getattr(settings, "CONTACTS_CACHE_ALIAS", "default")]
    if not hasattr(store, "keys"):
        return None
    return len([key for key in store.keys(f"*ws:{workspace.pk.hex}:*") if not key.endswith(":lock")])


# --- 1. in process ------------------------------------------------------------------------------


def measure_in_process(endpoints: list[Endpoint], client, *, rounds: int, warmup: int) -> list[Measure]:
    from django.test import override_settings

    results = []
    for cached in (True, False):
        with override_settings(CONTACTS_CACHE_ENABLED=cached):
            for _ in range(warmup):
                for endpoint in endpoints:
                    answer = client.get(endpoint.path)
                    if answer.status_code != 200:
                        raise SystemExit(f"{endpoint.path} answered {answer.status_code} in process, not 200")
            measures = {e.key: Measure(e, cached, IN_PROCESS, [], 0.0, cpu_seconds=0.0) for e in endpoints}
            for _ in range(rounds):
                for endpoint in endpoints:  # the endpoints take turns: drift hits them alike
                    measure = measures[endpoint.key]
                    cpu = time.process_time()
                    started = time.perf_counter()
                    answer = client.get(endpoint.path)
                    elapsed = time.perf_counter() - started
                    measure.cpu_seconds += time.process_time() - cpu
                    measure.latencies_ms.append(elapsed * 1000)
                    measure.seconds += elapsed
                    measure.statuses[answer.status_code] += 1
                    measure.timing.add(answer.headers.get("Server-Timing"))
        results.extend(measures.values())
    return results


# --- 2 and 3. over HTTP -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM to the process's group (a Uvicorn supervisor and its workers), SIGKILL if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def serving(
    server: Server, environment: dict[str, str], *, cached: bool, logs: Path, probe: tuple[str, str]
) -> Iterator[tuple[list[int], list[subprocess.Popen]]]:
    """Start `server` with the cache on or off; yield its ports once it answers; always stop it."""
    env = {**os.environ, **environment, "CONTACTS_CACHE_ENABLED": "1" if cached else "0"}
    if server.asgi_threads is not None:
        env["ASGI_THREADS"] = str(server.asgi_threads)
    else:
        env.pop("ASGI_THREADS", None)
    shared: socket.socket | None = None
    uvicorn = [str(BIN / "uvicorn"), ASGI_APP, "--lifespan", "off", "--no-server-header"]
    daphne = [str(BIN / "daphne"), "--no-server-name"]
    if server.kind == "uvicorn" and server.shared_socket:
        ports = [free_port()]
        commands = [[*uvicorn, "--host", HOST, "--port", str(ports[0]), "--workers", str(server.processes)]]
    elif server.kind == "uvicorn":
        ports = [free_port() for _ in range(server.processes)]
        commands = [[*uvicorn, "--host", HOST, "--port", str(port)] for port in ports]
    elif not server.shared_socket:
        ports = [free_port() for _ in range(server.processes)]
        commands = [[*daphne, "-b", HOST, "-p", str(port), ASGI_APP] for port in ports]
    else:  # several Daphne processes adopt one listening socket
        shared = socket.socket()
        shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        shared.bind((HOST, 0))
        shared.listen(1024)
        shared.set_inheritable(True)
        ports = [shared.getsockname()[1]]
        fd = str(shared.fileno())
        commands = [[*daphne, "--fd", fd, ASGI_APP]] * server.processes
    processes: list[subprocess.Popen] = []
    log = logs / f"{server.key}-{'warm' if cached else 'off'}.log"
    try:
        with log.open("w") as out:
            for command in commands:
                processes.append(
                    subprocess.Popen(
                        command,
                        cwd=REPO,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        pass_fds=(shared.fileno(),) if shared else (),
                        # Uvicorn's supervisor stops its workers on SIGTERM; Daphne can hang on a SIGTERM
                        # with requests in flight (seen here), and has nothing to pass it on to.
                        preexec_fn=die_with_parent_sigterm
                        if server.kind == "uvicorn"
                        else die_with_parent_sigkill,
                    )
                )
        if shared is not None:
            shared.close()  # the servers hold their own copies
            shared = None
        for port in ports:
            wait_until_answering(port, probe, processes, log)
        yield ports, processes
    finally:
        if shared is not None:
            shared.close()
        for process in processes:
            stop(process)


def _die_with_parent(signum: int) -> None:
    """In the server's process before it starts: get `signum` when this benchmark dies, even by SIGKILL.

    Linux only (PR_SET_PDEATHSIG); elsewhere the try/finally around the servers is all there is.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signum)  # 1: PR_SET_PDEATHSIG


def die_with_parent_sigterm() -> None:
    _die_with_parent(signal.SIGTERM)


def die_with_parent_sigkill() -> None:
    _die_with_parent(signal.SIGKILL)


def wait_until_answering(port: int, probe: tuple[str, str], processes: list, log: Path) -> None:
    path, cookie = probe
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            break
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", path, headers={"Cookie": cookie})
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return
            raise SystemExit(f"{path} answered {status} at start, not 200; see {log}")
        except OSError:
            time.sleep(0.2)  # not listening yet
    raise SystemExit(f"the server did not answer:\n{log.read_text()[-3000:]}")


@dataclass
class Load:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    timing: Timing = field(default_factory=Timing)
    seconds: float = 0.0


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bool, bytes | None]:
    """One HTTP/1.1 response: status, whether the connection stays open, the Server-Timing value."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    version, status = lines[0].split(b" ", 2)[:2]
    headers = {}
    for line in lines[1:]:
        if b":" in line:
            name, value = line.split(b":", 1)
            headers[name.strip().lower()] = value.strip()
    keep_alive = version == b"HTTP/1.1" and headers.get(b"connection", b"").lower() != b"close"
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
    else:
        await reader.read()  # the body ends with the connection
        keep_alive = False
    return int(status), keep_alive, headers.get(b"server-timing")


async def one_client(port: int, request: bytes, until: float, load: Load, timeout: float) -> None:
    writer = None
    try:
        while time.perf_counter() < until:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            started = time.perf_counter()
            try:
                writer.write(request)
                status, keep_alive, timing = await asyncio.wait_for(read_answer(reader), timeout)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
                load.statuses[type(error).__name__] += 1
                writer.close()
                writer = None
                continue
            load.latencies_ms.append((time.perf_counter() - started) * 1000)
            load.statuses[status] += 1
            load.timing.add(timing.decode("latin-1") if timing is not None else None)
            if not keep_alive:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


async def generate_load(
    ports: list[int], path: str, cookie: str, *, clients: int, seconds: float, on_half_time=None
) -> Load:
    """`clients` keep-alive connections, spread evenly over `ports`, each sending `path` until time is up."""
    requests = {
        port: (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nCookie: {cookie}\r\n"
            "Accept: text/html,application/json\r\nUser-Agent: bench-cache\r\n\r\n"
        ).encode()
        for port in ports
    }
    load = Load()
    if on_half_time is not None:
        asyncio.get_running_loop().call_later(seconds / 2, on_half_time)
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(
        *(
            one_client(port, requests[port], until, load, timeout=30)
            for port in (ports[n % len(ports)] for n in range(clients))
        )
    )
    load.seconds = time.perf_counter() - started
    return load


def measure_server(
    server: Server,
    endpoints: list[Endpoint],
    environment: dict[str, str],
    *,
    cookie: str,
    workspace,
    args: argparse.Namespace,
    logs: Path,
    notes: list[str],
) -> list[Measure]:
    results = []
    generator_cpu = [0.0, 0.0]  # the load generator's CPU seconds, and wall seconds of load
    keys, spreads = [], []
    for cached in (True, False):
        mode = "warm" if cached else "off"
        forget_cached_reads(workspace)
        probe = (endpoints[0].path, cookie)
        with serving(server, environment, cached=cached, logs=logs, probe=probe) as (ports, processes):
            for endpoint in endpoints:
                progress(f"  {server.label}, cache {mode}: {endpoint.label}")
                load_args = {"clients": args.concurrency}
                asyncio.run(generate_load(ports, endpoint.path, cookie, seconds=args.warmup, **load_args))
                spread = []
                if len(ports) < server.processes:  # processes share a socket: which got the connections?
                    load_args["on_half_time"] = lambda spread=spread: spread.append(
                        connection_spread(processes, ports[0])
                    )
                server_cpu, own_cpu = group_cpu_seconds(processes), time.process_time()
                load = asyncio.run(
                    generate_load(ports, endpoint.path, cookie, seconds=args.seconds, **load_args)
                )
                server_cpu = group_cpu_seconds(processes) - server_cpu
                generator_cpu[0] += time.process_time() - own_cpu
                generator_cpu[1] += load.seconds
                spreads += [f"{endpoint.key} {mode} {value}" for value in spread]
                results.append(
                    Measure(
                        endpoint,
                        cached,
                        server.label,
                        load.latencies_ms,
                        load.seconds,
                        load.statuses,
                        load.timing,
                        server_cpu,
                    )
                )
        count = count_cached_reads(workspace)
        keys.append(f"{count if count is not None else 'n/a'} with the cache {mode}")
    note = (
        f"{server.label}: read-cache keys of the workspace in Redis after the run: {', '.join(keys)}; "
        f"the load generator used {generator_cpu[0] / generator_cpu[1]:.0%} of a CPU"
    )
    if spreads:
        note += f"; connections per server process, mid-measure: {', '.join(spreads)}"
    notes.append(note)
    return results


def group_stats(processes: list[subprocess.Popen]) -> Iterator[tuple[int, list[str]]]:
    """(pid, /proc/<pid>/stat fields after the command name) of every process in the servers' groups."""
    groups = {process.pid for process in processes}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) in groups:  # fields: state, ppid, pgrp, ...
            yield int(stat.parent.name), fields


def group_cpu_seconds(processes: list[subprocess.Popen]) -> float:
    """User + system CPU seconds of every process in the servers' process groups (Uvicorn's workers too)."""
    ticks = sum(int(fields[11]) + int(fields[12]) for _, fields in group_stats(processes))  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def connection_spread(processes: list[subprocess.Popen], port: int) -> str:
    """How the open connections to `port` are spread over the processes serving it, e.g. "5+3" or "8+0"."""
    established, listening = set(), set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                columns = line.split()
                # local address "0100007F:1F90", state (01 established, 0A listening), ..., inode
                if int(columns[1].rsplit(":", 1)[1], 16) == port:
                    socket_id = f"socket:[{columns[9]}]"
                    if columns[3] == "01":
                        established.add(socket_id)
                    elif columns[3] == "0A":
                        listening.add(socket_id)
    held: dict[int, tuple[bool, int]] = {}  # pid → (listens, connections)
    for pid, _ in group_stats(processes):
        links = set()
        with contextlib.suppress(OSError):  # the process ended
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):  # the file was closed meanwhile
                    links.add(os.readlink(fd))
        held[pid] = (bool(listening & links), len(established & links))
    servers = [pid for pid, (listens, _) in held.items() if listens]
    leaders = {process.pid for process in processes}
    if len(servers) > len(leaders):  # Uvicorn: its supervisor (the group leader) only listens
        servers = [pid for pid in servers if pid not in leaders]
    return "+".join(str(count) for count in sorted((held[pid][1] for pid in servers), reverse=True))


# --- report -------------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def report(results: list[Measure], *, header: list[str], notes: list[str]) -> str:
    floors = {(m.way, m.cached): m for m in results if m.endpoint.key == "floor"}
    uncached = {(m.way, m.endpoint.key): m for m in results if not m.cached}
    lines = [*header, ""]
    lines += [
        "| endpoint | way | cache | req/s | p50 ms | p99 ms | p50 × floor | warm ÷ off req/s | CPU ms/req | main read | queries | non-200 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for m in results:
        floor = floors[(m.way, m.cached)]
        off = uncached.get((m.way, m.endpoint.key))
        speedup = f"{m.rate / off.rate:.1f}" if m.cached and off and off.rate else ""
        bad = ", ".join(f"{status}: {count}" for status, count in m.statuses.items() if status != 200)
        lines.append(
            f"| {m.endpoint.label} | {m.way} | {'warm' if m.cached else 'off'} | {m.rate:.0f} | "
            f"{m.p50:.2f} | {m.p99:.2f} | {m.p50 / floor.p50:.1f} | {speedup} | {m.cpu_ms:.1f} | {m.timing.describe_reads()} | "
            f"{m.timing.describe_queries()} | "
            f"{bad or 0} |"
        )
    lines += ["", *goals(results, floors, uncached)]
    lines += ["", *summary(results)]
    if notes:
        lines += ["", "Checks:", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


def goals(results: list[Measure], floors: dict, uncached: dict) -> list[str]:
    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lines = ["Goals for the warm list page:", ""]
    for m in results:
        if m.endpoint.key != "list" or not m.cached:
            continue
        floor = floors[(m.way, True)]
        if m.way == IN_PROCESS:
            above = m.p50 - floor.p50
            lines.append(
                f"- {m.way}: p50 {m.p50:.2f} ms, {above:+.2f} ms above the floor ({floor.p50:.2f} ms); "
                f"goal ≤ 2 ms above: {met(above <= 2)}"
            )
        else:
            ratio = m.p50 / floor.p50
            lines.append(
                f"- {m.way}: p50 {m.p50:.2f} ms = {ratio:.2f}× the floor ({floor.p50:.2f} ms); "
                f"goal ≤ 1.5×: {met(ratio <= 1.5)}"
            )
        off = uncached.get((m.way, "list"))
        if off and off.rate:
            speedup = m.rate / off.rate
            lines.append(
                f"  - requests/s warm {m.rate:.0f} vs off {off.rate:.0f} = {speedup:.1f}×; goal ≥ 4×: {met(speedup >= 4)}"
            )
    return lines


def summary(results: list[Measure]) -> list[str]:
    """Requests/s by way of serving: one row per server, one column per endpoint and cache mode."""
    ways = list(dict.fromkeys(m.way for m in results))
    columns = list(dict.fromkeys((m.endpoint.key, m.cached) for m in results))
    rate = {(m.way, m.endpoint.key, m.cached): m.rate for m in results}
    names = " | ".join(f"{key} {'warm' if cached else 'off'}" for key, cached in columns)
    lines = ["Requests/s by way of serving:", "", f"| way | {names} |", "|---|" + "---:|" * len(columns)]
    for way in ways:
        cells = " | ".join(f"{rate.get((way, key, cached), math.nan):.0f}" for key, cached in columns)
        lines.append(f"| {way} | {cells} |")
    return lines


def code_version() -> str:
    """The commit measured, and whether the work tree had changes on top of it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {commit}" + (" with uncommitted changes" if changed else "")


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in ("Django", "daphne", "uvicorn", "asgiref"):
        with contextlib.suppress(PackageNotFoundError):
            found.append(f"{package} {version(package)}")
    return ", ".join(found)


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200, help="in-process requests per endpoint and mode")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured load per endpoint over HTTP")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before each measure")
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP clients at once")
    parser.add_argument(
        "--servers",
        default=",".join(DEFAULT_SERVERS),
        help=f"comma-separated, from: {', '.join(SERVERS)}; empty: in process only",
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--redis-db", type=int, default=9, help="Redis database number of this run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    servers = [SERVERS[key] for key in args.servers.split(",") if key]
    # A SIGTERM (a CI timeout, `kill`) must still stop the servers: make it unwind like an exception.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    folder = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    try:
        run(args, servers, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, servers: list[Server], folder: Path) -> None:
    started = datetime.datetime.now()
    environment = bench_environment(args, folder)
    progress("migrating, collecting static files")
    setup_django(environment)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    progress(f"seeding {args.contacts} contacts")
    membership, first_contact = seed(args.contacts)
    workspace = membership.workspace
    endpoints = endpoints_for(workspace, first_contact)
    client = Client(SERVER_NAME=HOST)  # ALLOWED_HOSTS has no "testserver" with DEBUG=0
    client.force_login(membership.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    progress(f"in process: {args.rounds} rounds per endpoint, cache warm then off")
    results = measure_in_process(endpoints, client, rounds=args.rounds, warmup=5)
    notes: list[str] = []
    connection.close()  # the servers are other processes; SQLite readers need no open writer here
    gc.collect()
    gc.freeze()  # the load generator's latencies should not include collections of Django's objects
    logs = folder / "logs"
    logs.mkdir()
    try:
        for server in servers:
            progress(f"over HTTP: {server.label}")
            results += measure_server(
                server,
                endpoints,
                environment,
                cookie=cookie,
                workspace=workspace,
                args=args,
                logs=logs,
                notes=notes,
            )
    finally:
        forget_cached_reads(workspace)

    reads_backend = settings.CACHES[getattr(settings, "CONTACTS_CACHE_ALIAS", "default")]["BACKEND"]
    header = [
        f"{args.contacts} contacts, engine {connection.vendor}, read cache {reads_backend.rsplit('.', 1)[-1]} "
        f"(Redis database {args.redis_db}), DEBUG=0; {started:%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {versions()}; {code_version()}.",
        f"In process: {args.rounds} requests per endpoint and mode, the endpoints taking turns. "
        f"Over HTTP: {args.concurrency} keep-alive clients, {args.warmup:g} s warm-up then {args.seconds:g} s "
        "per endpoint and mode; access logs on (the servers' defaults, as deployed).",
        "",
        "Command: `" + " ".join([".venv/bin/python bench/bench_cache.py", *sys.argv[1:]]) + "`",
    ]
    text = report(results, header=header, notes=notes)
    print(text)
    args.output.write_text(text)
    progress(f"written to {args.output}")


if __name__ == "__main__":
    main()
