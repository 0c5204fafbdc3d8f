"""Live updates: how fast a committed write reaches 100, 500 and 1,000 sockets of one workspace.

Run: `.venv/bin/python bench/bench_live.py [--clients 100,500,1000] [--servers daphne,daphne-x2,...]`
(DATABASE_URL or --database-url picks the database; default: a fresh SQLite file in a temporary
folder). Needs Redis; the run keeps to its own database number (--redis-db, default 10) and to a new
workspace's pub/sub channel.

The set-up is bench_cache.py's (its helpers are imported): production settings (DEBUG=0, a random
SECRET_KEY, ALLOWED_HOSTS, collected static files), one workspace, one signed-in member, plus that
member's API token. For each server (bench_cache.SERVERS: Daphne or Uvicorn with its default
WebSocket implementation, websockets-sansio, on uvloop; one process, or two with a port each) and
each client count N, the server is started afresh and:

1. the writer (this process, one keep-alive HTTP connection to the first server process) sends
   --warmup, then --writes API PATCHes of one contact, --interval apart (±25 %), with no socket
   open: its response times without sockets;
2. --client-processes subprocesses open N sockets (spread evenly over the server processes) with
   the member's session cookie, and each socket's "hello" arrives before anything is measured.
   Clients only listen (no presence frames);
3. the writer sends --writes more PATCHes the same way; --drain seconds later the clients report
   every frame with the wall-clock time (time.time(), valid across processes) at which their event
   loop read it;
4. the clients close their sockets and the writer sends --writes more PATCHes alone: its response
   time "alone" is over steps 1 and 4 together, before and after the one "with" the sockets.

Commit → receipt is a frame's receipt time minus the earliest time known to follow the commit: the
writer's response arriving, or a Redis subscriber in this process seeing the event published (the
announcer publishes after commit). So it can only under-state the true delay, by the time from the
commit to that moment (a thread hand-off and a Redis round trip; longer while the server's event
loop holds the GIL); "from request" (receipt minus the moment the PATCH was sent) bounds
it from above. Every socket must get every event exactly once (matched by the workspace version
the event carries; the version must rise by exactly one per write): misses and duplicates are
counted. Server CPU per frame is the servers' CPU time (/proc) with sockets minus without, divided by
the frames delivered; the clients' own CPU use, and that of every other program (from /proc/stat),
are reported because they share the cores: each row waits (up to a minute) for a second in which
other programs use at most --quiet of a CPU, and is measured again (--attempts) if they used more
(the quietest attempt is reported). --py-spy DIR samples the servers during the measured writes.

Every server and client process is stopped at the end, however the run ends (bench_cache.serving).
Prints a Markdown table and writes it to --output (default bench/bench_live_results.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime
import http.client
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import bench_cache as bc  # the benchmark's folder is first on sys.path

DEFAULT_SERVERS = "daphne,daphne-x2,uvicorn-w1,uvicorn-x2"
DEFAULT_OUTPUT = bc.REPO / "bench" / "bench_live_results.md"
GOAL_P99_MS = {100: 50.0, 1000: 100.0}  # the goals; the writer may be ≤ 10 % slower
VERSION = re.compile(rb'"version": ?(\d+)')
AFTER_SOCKETS_CLOSED = 2.0  # seconds for the server to finish closing them before the writer goes on


def raise_open_file_limit() -> None:
    """Up to the hard limit: a thousand sockets, and the servers inherit it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the clients (a subprocess: `bench_live.py --client-worker CONFIG`) ---------------------------


class Socket(asyncio.Protocol):
    """A bare WebSocket client: the handshake, then unmasked server frames, each stamped on arrival.

    Deliberately minimal (no library), so that a thousand sockets cost the client process little:
    the time of a frame is when the event loop hands its bytes over, before any parsing.
    """

    def __init__(self, handshake: bytes, hello: asyncio.Future) -> None:
        self.handshake, self.hello = handshake, hello
        self.buffer = bytearray()
        self.upgraded = False
        self.frames: list[tuple[float, bytes]] = []
        self.closed: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        transport.write(self.handshake)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            if b" 101 " not in status + b" ":
                self._fail(status.decode("latin-1"))
                return
            del self.buffer[: end + 4]
            self.upgraded = True
        while len(self.buffer) >= 2:  # server frames: FIN set, never masked
            opcode, length, start = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if length >= 126:
                start = 4 if length == 126 else 10
                length = int.from_bytes(self.buffer[2:start], "big")
            if len(self.buffer) < start + length:
                return
            payload = bytes(self.buffer[start : start + length])
            del self.buffer[: start + length]
            if opcode == 1 and not self.hello.done():
                self.hello.set_result(payload)
            elif opcode == 1:
                self.frames.append((now, payload))
            elif opcode == 9:  # ping: a client that never answers gets closed
                self.send(0xA, payload)
            elif opcode == 8:
                self.closed = f"closed by server ({int.from_bytes(payload[:2], 'big') if payload else ''})"

    def send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)  # client frames must be masked
        masked = bytes(byte ^ mask[n % 4] for n, byte in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = self.closed or f"connection lost ({exc})"
        self._fail(self.closed)

    def _fail(self, why: str) -> None:
        if not self.hello.done():
            self.hello.set_exception(ConnectionError(why))


async def hold_sockets(config: dict) -> None:
    """Open the sockets, say "ready" once each has its hello, report what arrived when told to stop."""
    loop = asyncio.get_running_loop()
    limit = asyncio.Semaphore(20)  # handshakes at once: the servers' accept queues stay short
    path, cookie = config["path"], config["cookie"]

    async def open_one(port: int) -> Socket | str:
        handshake = (
            f"GET {path} HTTP/1.1\r\nHost: {bc.HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://{bc.HOST}:{port}\r\nCookie: {cookie}\r\n\r\n"
        ).encode()
        async with limit:
            hello = loop.create_future()
            try:
                _, sock = await asyncio.wait_for(
                    loop.create_connection(lambda: Socket(handshake, hello), bc.HOST, port), 30
                )
                if json.loads(await asyncio.wait_for(hello, 60))["type"] != "hello":
                    return "first frame not a hello"
            except (OSError, TimeoutError, ValueError, KeyError) as error:
                return f"{type(error).__name__}: {error}"
            return sock

    opened = await asyncio.gather(*(open_one(port) for port in config["ports"]))
    sockets = [sock for sock in opened if isinstance(sock, Socket)]
    errors = Counter(sock for sock in opened if isinstance(sock, str))
    print(json.dumps({"ready": len(sockets), "errors": errors}), flush=True)
    cpu = time.process_time()
    await loop.run_in_executor(None, sys.stdin.readline)  # "stop"
    cpu = time.process_time() - cpu
    received, other = [], 0
    for sock in sockets:
        frames = []
        for at, payload in sock.frames:
            event = json.loads(payload)
            if event.get("type") == "contact.updated" and event.get("id") == config["contact"]:
                frames.append((event["version"], at))
            else:
                other += 1
        received.append({"frames": frames, "closed": sock.closed})
        with contextlib.suppress(Exception):
            sock.send(0x8, (1000).to_bytes(2, "big"))
            sock.transport.close()
    print(json.dumps({"cpu": cpu, "sockets": received, "other": other}), flush=True)


def client_worker(config_json: str) -> None:
    raise_open_file_limit()
    try:
        import uvloop

        uvloop.run(hold_sockets(json.loads(config_json)))
    except ImportError:
        asyncio.run(hold_sockets(json.loads(config_json)))


# --- the measurement ------------------------------------------------------------------------------


@dataclass
class Row:
    server: str
    clients: int
    ready: int = 0
    events: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # every (socket, event): from commit
    upper_ms: list[float] = field(default_factory=list)  # the same, from the request sent
    last_ms: list[float] = field(default_factory=list)  # per event: its last socket, from commit
    missing: int = 0
    duplicates: int = 0
    writer_alone_ms: list[float] = field(default_factory=list)
    writer_with_ms: list[float] = field(default_factory=list)
    cpu_us_per_frame: float = math.nan
    client_cpu: float = math.nan  # share of one CPU the clients used while measured
    others_cpu: float = math.nan  # the same, every other process (this one included)
    notes: list[str] = field(default_factory=list)


class Published(threading.Thread):
    """When Redis hands this process each event of the workspace's group (version → time.time())."""

    def __init__(self, redis_url: str, channel: str) -> None:
        import redis

        super().__init__(daemon=True)
        self.pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.seen: dict[int, float] = {}

    def run(self) -> None:
        with contextlib.suppress(Exception):  # the connection closes as the run ends
            for message in self.pubsub.listen():
                if found := VERSION.search(message["data"]):
                    self.seen.setdefault(int(found.group(1)), time.time())


class Writer:
    """The PATCHes whose announcements are measured; one keep-alive connection."""

    def __init__(self, port: int, path: str, token: str) -> None:
        self.connection = http.client.HTTPConnection(bc.HOST, port, timeout=30)
        self.path = path
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.count = 0

    def series(self, writes: int, interval: float) -> list[tuple[float, float]]:
        """(sent, answered) wall-clock times of `writes` PATCHes, started `interval` apart (±25 %)."""
        # Servers close idle keep-alive connections (Uvicorn after 5 s): a new one, used once unmeasured.
        self.connection.close()
        self.connection.request("GET", self.path, headers=self.headers)
        self.connection.getresponse().read()
        times, next_at = [], time.monotonic()
        for _ in range(writes):
            time.sleep(max(0.0, next_at - time.monotonic()))
            self.count += 1
            body = json.dumps({"job_title": f"live bench {self.count}"})
            sent = time.time()
            self.connection.request("PATCH", self.path, body, self.headers)
            answer = self.connection.getresponse()
            answer.read()
            times.append((sent, time.time()))
            if answer.status != 200:
                raise SystemExit(f"PATCH {self.path} answered {answer.status}, not 200")
            next_at += interval * random.uniform(0.75, 1.25)
        return times


def start_clients(count: int, ports: list[int], args: argparse.Namespace, base: dict) -> list:
    """`count` sockets over `ports` (socket n → ports[n % len]), dealt to --client-processes workers."""
    workers = max(1, min(args.client_processes, count))
    shares: list[list[int]] = [[] for _ in range(workers)]
    for n in range(count):
        shares[(n // len(ports)) % workers].append(ports[n % len(ports)])
    return [
        subprocess.Popen(
            [sys.executable, __file__, "--client-worker", json.dumps({**base, "ports": share})],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # bc.stop signals the process group
            preexec_fn=bc.die_with_parent_sigkill,
        )
        for share in shares
    ]


def profile(server: bc.Server, clients: int, processes: list, args: argparse.Namespace) -> list:
    """With --py-spy DIR: sample every server process over the measured writes (collapsed stacks)."""
    if args.py_spy is None:
        return []
    args.py_spy.mkdir(parents=True, exist_ok=True)
    seconds = str(math.ceil(args.writes * args.interval + args.drain))
    command = [str(bc.BIN / "py-spy"), "record", "--duration", seconds, "--rate", "250", "--nonblocking"]
    spies = []
    for pid, _ in bc.group_stats(processes):
        output = args.py_spy / f"{server.key}-{clients}-{pid}.txt"
        spies.append(
            subprocess.Popen(
                [*command, "--format", "raw", "--pid", str(pid), "-o", str(output)],
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    return spies


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # without idle, iowait


def wait_for_quiet(share: float, seconds: float) -> None:
    """Wait (at most `seconds`) for a second in which other programs use at most `share` of a CPU."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        busy = busy_seconds()
        time.sleep(1)
        if busy_seconds() - busy <= share:
            return


def answer_of(worker: subprocess.Popen) -> dict:
    line = worker.stdout.readline()
    if not line:
        raise SystemExit(f"a client worker ended early (exit status {worker.wait()})")
    return json.loads(line)


def measure(server: bc.Server, clients: int, ctx: dict, args: argparse.Namespace) -> Row:
    from contacts.models import Workspace

    row = Row(server.label, clients)
    workspace, published = ctx["workspace"], ctx["published"]
    with bc.serving(server, ctx["environment"], cached=True, logs=ctx["logs"], probe=ctx["probe"]) as (
        ports,
        processes,
    ):
        writer = Writer(ports[0], ctx["contact_path"], ctx["token"])
        writer.series(args.warmup, args.interval)
        cpu = bc.group_cpu_seconds(processes)
        alone = writer.series(args.writes, args.interval)
        cpu_alone = bc.group_cpu_seconds(processes) - cpu
        row.writer_alone_ms = [(answered - sent) * 1000 for sent, answered in alone]
        workers, connecting = start_clients(clients, ports, args, ctx["client_config"]), time.monotonic()
        try:
            for worker in workers:
                ready = answer_of(worker)
                row.ready += ready["ready"]
                row.notes += [f"{count} sockets failed: {why}" for why, count in ready["errors"].items()]
            row.notes.append(
                f"{row.ready} sockets had their hello {time.monotonic() - connecting:.1f} s after start"
            )
            before = Workspace.objects.get(pk=workspace.pk).change_version
            spies = profile(server, clients, processes, args)
            cpu, wall, busy = bc.group_cpu_seconds(processes), time.monotonic(), busy_seconds()
            writes = writer.series(args.writes, args.interval)
            time.sleep(args.drain)
            cpu_with = bc.group_cpu_seconds(processes) - cpu
            wall, busy = time.monotonic() - wall, busy_seconds() - busy
            after = Workspace.objects.get(pk=workspace.pk).change_version
            for worker in workers:
                worker.stdin.write("stop\n")
                worker.stdin.flush()
            reports = [answer_of(worker) for worker in workers]
        finally:
            for worker in workers:
                bc.stop(worker, timeout=20)
            for spy in locals().get("spies", []):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    spy.wait(timeout=args.writes * args.interval + 30)
                bc.stop(spy)
        # Alone once more, the sockets closed: "alone" brackets "with", so a drift of the machine's
        # speed during the row does not count as the sockets' cost.
        time.sleep(AFTER_SOCKETS_CLOSED)
        again = writer.series(args.writes, args.interval)
        row.writer_alone_ms += [(answered - sent) * 1000 for sent, answered in again]
        writer.connection.close()
    if after - before != args.writes:
        row.notes.append(f"the workspace version rose by {after - before} for {args.writes} writes")
    row.writer_with_ms = [(answered - sent) * 1000 for sent, answered in writes]
    row.events = len(writes)
    row.client_cpu = sum(report["cpu"] for report in reports) / wall
    row.others_cpu = busy / wall - row.client_cpu - cpu_with / wall
    row.cpu_us_per_frame = (cpu_with - cpu_alone) / max(1, row.events * row.ready) * 1e6
    tally(row, reports, writes, published.seen, first_version=before + 1)
    log = (ctx["logs"] / f"{server.key}-warm.log").read_text(errors="replace").splitlines()
    errors = Counter(line.strip() for line in log if re.search(r"Traceback|ERROR|WARNING|Exception", line))
    row.notes += [f"server log: {count} × {line[:120]}" for line, count in errors.most_common(3)]
    row.notes += sorted({sock["closed"] for r in reports for sock in r["sockets"] if sock["closed"]})
    if other := sum(r["other"] for r in reports):
        row.notes.append(f"{other} frames that were not this run's contact.updated")
    return row


def tally(row: Row, reports: list[dict], writes: list, seen: dict[int, float], first_version: int) -> None:
    """Latencies of every (socket, event), misses and duplicates; events are versions first_version…"""
    commit = {}  # version → the earliest moment known to follow its commit
    for k, (sent, answered) in enumerate(writes):
        version = first_version + k
        commit[version] = (sent, min(answered, seen.get(version, answered)))
    last: dict[int, float] = {}
    sockets = [sock for report in reports for sock in report["sockets"]]
    row.missing = (row.clients - len(sockets)) * len(writes)
    for sock in sockets:
        got = Counter(version for version, _ in sock["frames"])
        row.missing += sum(1 for version in commit if version not in got)
        row.duplicates += sum(count - 1 for count in got.values() if count > 1)
        firsts: dict[int, float] = {}
        for version, at in sock["frames"]:
            firsts.setdefault(version, at)
        for version, at in firsts.items():
            if version not in commit:
                row.notes.append(f"an event of version {version}, which no measured write made")
                continue
            sent, committed = commit[version]
            row.latencies_ms.append((at - committed) * 1000)
            row.upper_ms.append((at - sent) * 1000)
            last[version] = max(last.get(version, -math.inf), (at - committed) * 1000)
    row.last_ms = list(last.values())
    if lags := [seen[version] - sent for version, (sent, _) in commit.items() if version in seen]:
        answers = [answered - sent for sent, answered in writes]
        row.notes.append(
            f"after the PATCH was sent: Redis published its event at p50 {statistics.median(lags) * 1000:.1f} ms, "
            f"the response arrived at p50 {statistics.median(answers) * 1000:.1f} ms"
        )


# --- report ---------------------------------------------------------------------------------------


def cell(values: list[float], rank: float | None = None) -> str:
    if not values:
        return "n/a"
    return f"{bc.percentile(values, rank) if rank else max(values):.1f}"


def report(rows: list[Row], header: list[str]) -> str:
    lines = [
        *header,
        "",
        "| server | sockets | ready | p50 ms | p99 ms | max ms | p99 from request ms | last socket p50 ms "
        "| missing / dup | writer p50 ms alone → with | writer × | server CPU µs/frame | clients CPU | others CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        alone, with_ = statistics.median(r.writer_alone_ms), statistics.median(r.writer_with_ms)
        lines.append(
            f"| {r.server} | {r.clients} | {r.ready} | {cell(r.latencies_ms, 50)} | {cell(r.latencies_ms, 99)} "
            f"| {cell(r.latencies_ms)} | {cell(r.upper_ms, 99)} | {cell(r.last_ms, 50)} "
            f"| {r.missing} / {r.duplicates} | {alone:.1f} → {with_:.1f} | {with_ / alone:.2f} "
            f"| {r.cpu_us_per_frame:.0f} | {r.client_cpu:.0%} | {r.others_cpu:.0%} |"
        )
    lines += [
        "",
        "Goals: p99 ≤ 50 ms at 100 sockets and ≤ 100 ms at 1,000; no event missing; writer ≤ 1.10×.",
        "",
    ]
    for r in rows:
        p99 = bc.percentile(r.latencies_ms, 99)
        ratio = statistics.median(r.writer_with_ms) / statistics.median(r.writer_alone_ms)
        verdicts = [f"missing {'none' if r.missing == r.duplicates == 0 else r.missing + r.duplicates}"]
        if r.clients in GOAL_P99_MS:
            ok = p99 <= GOAL_P99_MS[r.clients]
            verdicts.insert(0, f"p99 {p99:.0f} ms {'met' if ok else '**not met**'}")
        verdicts.append(f"writer {ratio:.2f}× {'met' if ratio <= 1.10 else '**not met**'}")
        lines.append(f"- {r.server}, {r.clients} sockets: {'; '.join(verdicts)}")
    notes = [f"- {r.server}, {r.clients} sockets: {note}" for r in rows for note in dict.fromkeys(r.notes)]
    if notes:
        lines += ["", "Checks:", *notes]
    return "\n".join(lines) + "\n"


def versions() -> str:
    from importlib.metadata import version

    return ", ".join([bc.versions(), *(f"{name} {version(name)}" for name in ("channels", "channels_redis"))])


# --- main -----------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--client-worker":
        client_worker(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="100,500,1000", help="socket counts, comma-separated")
    parser.add_argument("--servers", default=DEFAULT_SERVERS, help=f"from: {', '.join(bc.SERVERS)}")
    parser.add_argument("--writes", type=int, default=20, help="measured writes, alone and with sockets")
    parser.add_argument("--warmup", type=int, default=3, help="writes before anything is measured")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between writes (±25 %%)")
    parser.add_argument("--drain", type=float, default=3.0, help="seconds to wait after the last write")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--quiet", type=float, default=0.25, help="measure again if other programs used more")
    parser.add_argument("--attempts", type=int, default=2, help="at most, per row (see --quiet)")
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--redis-db", type=int, default=10, help="Redis database number of this run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--py-spy", type=Path, help="folder: profile the servers while measured (slower)")
    args = parser.parse_args()
    servers = [bc.SERVERS[key] for key in args.servers.split(",") if key]
    counts = [int(count) for count in args.clients.split(",") if count]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so servers and clients stop
    raise_open_file_limit()
    folder = Path(tempfile.mkdtemp(prefix="bench-live-"))
    try:
        run(args, servers, counts, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, servers: list[bc.Server], counts: list[int], folder: Path) -> None:
    started, clock = datetime.datetime.now(), time.monotonic()
    environment = bc.bench_environment(args, folder)
    bc.progress("migrating, collecting static files")
    bc.setup_django(environment)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from contacts import services
    from contacts.live.fanout import event_channel

    membership, contact = bc.seed(args.contacts)
    workspace = membership.workspace
    client = Client(SERVER_NAME=bc.HOST)
    client.force_login(membership.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    published = Published(settings.CHANNELS_REDIS_URL, event_channel(workspace.id))
    published.start()
    logs = folder / "logs"
    logs.mkdir()
    ctx = {
        "environment": environment,
        "logs": logs,
        "probe": ("/bench/floor/", cookie),
        "workspace": workspace,
        "published": published,
        "token": services.api_token_get_or_create(user=membership.user).key,
        "contact_path": f"/api/v1/workspaces/{workspace.id}/contacts/{contact.id}/",
        "client_config": {
            "path": f"/ws/workspaces/{workspace.id}/",
            "cookie": cookie,
            "contact": str(contact.id),
        },
    }
    connection.close()
    rows = []
    for server in servers:
        for count in counts:
            bc.progress(f"{time.monotonic() - clock:5.0f} s  {server.label}: {count} sockets")
            attempts: list[Row] = []
            while len(attempts) < args.attempts and (not attempts or attempts[-1].others_cpu > args.quiet):
                if attempts:
                    bc.progress(f"        other programs used {attempts[-1].others_cpu:.0%} of a CPU: again")
                wait_for_quiet(args.quiet, seconds=60)
                attempts.append(measure(server, count, ctx, args))
            row = min(attempts, key=lambda attempt: attempt.others_cpu)  # the quietest
            if len(attempts) > 1:
                shares = ", ".join(f"{attempt.others_cpu:.0%}" for attempt in attempts)
                row.notes.append(
                    f"measured {len(attempts)} times (other programs used {shares}): the quietest kept"
                )
            rows.append(row)
    published.pubsub.close()
    header = [
        f"Live updates, engine {connection.vendor}, channel layer RedisPubSubChannelLayer (Redis database "
        f"{args.redis_db}), DEBUG=0; {started:%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {versions()}; {bc.code_version()}.",
        f"Per row: a fresh server; {args.writes} API PATCHes without sockets, then the same with the sockets "
        f"open, then the same after they closed ({args.interval:g} s apart ±25 %, after {args.warmup} "
        f"warm-up writes), {args.drain:g} s drain; "
        f"clients in {args.client_processes} processes. Latencies are over every (socket, event) pair, from "
        "the commit (≈ the earlier of the writer's response and the Redis publish); `p99 from request` "
        "is the upper bound; `last socket p50`: per event, when its last socket got it (median event). "
        "`writer`: p50 of the PATCH's response time, no socket open (before and after) → the sockets "
        "open, and the ratio. "
        "`server CPU µs/frame`: the servers' extra CPU time with the sockets, per frame delivered. "
        "`clients CPU`, `others CPU`: share of one CPU that the clients, and every other program, used "
        f"meanwhile (a row is measured up to {args.attempts} times while others used > {args.quiet:.0%}; the quietest is kept). "
        "Uvicorn runs its default WebSocket implementation (websockets-sansio) on uvloop.",
        "",
        "Command: `" + " ".join([".venv/bin/python bench/bench_live.py", *sys.argv[1:]]) + "`",
    ]
    text = report(rows, header)
    print(text)
    args.output.write_text(text)
    bc.progress(f"written to {args.output}")


if __name__ == "__main__":
    main()
