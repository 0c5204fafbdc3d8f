"""Bulk activation: leads/s to an SMTP sink on loopback, and what the engine's durable record costs.

Run: `.venv/bin/python bench/bench_activation.py [--leads 10000] [--rounds 10] [--profile-leads 1000]`
(DATABASE_URL or --database-url picks the database; default: a fresh SQLite file in a temporary
folder; a postgres:// URL names a database that the run creates and drops, so it must not exist).
Needs Redis; the run keeps to its own database number (--redis-db, default 8) for the Celery broker,
the cache and the channel layer.

Production settings (DEBUG=0, a random SECRET_KEY), one workspace, one member (role ADMIN: bulk jobs are for admins) and
--leads leads with unique e-mails, bulk-inserted. The SMTP sink is a minimal asyncio server in its
own process (it takes no GIL from the code measured) that accepts every message and only counts
messages, distinct recipients and sessions.

The leads are split into --rounds chunks of --leads/--rounds leads (10 of 1,000 by default). Each
round makes a run over its chunk with `services.activation_start` (its dispatch to a worker
suppressed; the contacts are made leads again first) and times a pair of passes over that run, one
right after the other, so that both see the same load on the machine:

1. bare loop: the run's items and contacts read 50 at a time, as the engine reads them, each e-mail
   built by `contacts.jobs.activation.activation_email` and sent over one Django SMTP connection;
   nothing written;
2. engine in process: `activation_process(run_id, task_id="bench")` on the same run (state before and
   after each send, progress every 250 ms or 50 items, live announcements).

The two alternate which goes first (bare loop first in odd rounds, engine first in even ones), so a
drift in the machine's speed does not favour either. The engine's overhead is the median over the
rounds of its time (and CPU) divided by the bare loop's in the same round; leads/s and CPU ms/lead
are over all the rounds of each (total leads / total seconds). A run's fixed costs (claim, finish)
are spread over a chunk instead of all the leads: a few ms per run, well under 1 % of 1,000 leads.

Then once, end to end over all --leads leads: one Celery worker subprocess (`celery -A contactsite
worker --pool solo`, a queue of its own, the same settings), timed from the call to
`services.activation_start` (it reads the leads, writes the run and its items, dispatches) to the
run's `finished_at`. Last, the bare loop and the engine again over --profile-leads leads under
cProfile: where the time goes.

Every pass is checked: the sink got exactly N messages for N distinct addresses over one SMTP session;
engine and worker passes also end `completed` with run.sent == N and N contacts active (the chunk's
leads, or all of them). CPU comes from /proc (this process, the worker, the sink); "others' CPU" is
what every other program used meanwhile; "commit ms" is one durable commit on the database, probed
just before the pass. Prints a Markdown table and writes it to --output (--append adds it to the
file, e.g. for a second database).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime
import os
import platform
import pstats
import secrets
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import bench_cache as bc  # the benchmark's folder is first on sys.path

HOST = "127.0.0.1"
SLUG = QUEUE = "bench-activation"
DEFAULT_OUTPUT = bc.REPO / "bench" / "bench_activation_results.md"
TICK = os.sysconf("SC_CLK_TCK")


# --- the SMTP sink (this file run as `bench_activation.py --serve-sink PORT`) -----------------------


async def _smtp_session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: dict) -> None:
    writer.write(b"220 bench-sink ESMTP\r\n")
    recipients: list[bytes] = []
    delivered = False  # a session counts once it delivers (the benchmark's questions do not)
    while line := await reader.readline():
        verb, reply = line[:4].upper(), b"250 OK"
        if verb == b"DATA":
            writer.write(b"354 go ahead\r\n")
            await reader.readuntil(b"\r\n.\r\n")  # the message, not parsed: only counted
            state["messages"] += 1
            state["recipients"].update(recipients)
            state["sessions"] += not delivered
            delivered = True
        elif verb == b"RCPT":
            recipients.append(line[8:].strip().lower())
        elif verb == b"MAIL":
            recipients = []
        elif verb == b"EHLO":
            reply = b"250-bench-sink\r\n250 8BITMIME"
        elif verb == b"XCOU":  # XCOUNT, XRESET: the benchmark's questions
            reply = f"250 {state['messages']} {len(state['recipients'])} {state['sessions']}".encode()
        elif verb == b"XRES":
            state.update(messages=0, sessions=0, recipients=set())
        elif verb == b"QUIT":
            writer.write(b"221 bye\r\n")
            break
        writer.write(reply + b"\r\n")
        await writer.drain()
    writer.close()


async def serve_sink(port: int) -> None:
    state = {"messages": 0, "sessions": 0, "recipients": set()}
    server = await asyncio.start_server(lambda r, w: _smtp_session(r, w, state), HOST, port, limit=2**24)
    await server.serve_forever()


class Sink:
    def __init__(self, log: Path) -> None:
        self.port = bc.free_port()
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, __file__, "--serve-sink", str(self.port)], stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=bc.die_with_parent_sigterm,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while not self.ask("XRESET"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"the SMTP sink did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)

    def ask(self, verb: str) -> bytes | None:
        with contextlib.suppress(OSError), smtplib.SMTP(HOST, self.port, timeout=10) as smtp:
            return smtp.docmd(verb)[1]
        return None

    def count(self) -> tuple[int, int, int]:
        """Messages, distinct recipients and SMTP sessions that delivered, since the last reset."""
        messages, recipients, sessions = (int(n) for n in (self.ask("XCOUNT") or b"-1 -1 -1").split())
        return messages, recipients, sessions


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, all threads


def machine_busy() -> float:
    """CPU seconds every program has used since boot (all cores)."""
    values = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(values) - values[3] - values[4]) / TICK  # minus idle and iowait


# --- environment, database, data --------------------------------------------------------------------


def bench_environment(args: argparse.Namespace, folder: Path, smtp_port: int) -> dict[str, str]:
    from contactsite.envparse import redis_db_url

    redis_url = redis_db_url(args.redis_url, args.redis_db)
    return {
        "DJANGO_SETTINGS_MODULE": "contactsite.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        **dict.fromkeys(
            ("REDIS_URL", "CACHE_REDIS_URL", "CHANNELS_REDIS_URL", "CELERY_BROKER_URL"), redis_url
        ),
        "EMAIL_URL": f"smtp://{HOST}:{smtp_port}",
    }


@contextlib.contextmanager
def dedicated_database(url: str | None) -> Iterator[None]:
    """PostgreSQL: create the URL's database for this run (it must not exist yet), drop it afterwards."""
    if not url or urlsplit(url).scheme not in {"postgres", "postgresql", "pgsql"}:
        yield
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name, admin = parts.path.lstrip("/"), urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            raise SystemExit(f"database {name!r} exists: name one this benchmark may create and drop")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def seed(count: int) -> tuple:
    """The member and the ids of `count` leads (Faker people, unique e-mails), bulk-inserted."""
    import factory.random
    from django.db import connection

    from contacts.factories import ContactFactory, MembershipFactory, UserFactory, WorkspaceFactory
    from contacts.models import Contact, ContactStatus, Role

    factory.random.reseed_random(SLUG)  # the same people on every run
    workspace = WorkspaceFactory(slug=SLUG, name="Bench activation")
    membership = MembershipFactory(workspace=workspace, user=UserFactory(username=SLUG), role=Role.ADMIN)
    leads = ContactFactory.build_batch(count, workspace=workspace, status=ContactStatus.LEAD)
    for lead in leads:
        lead.refresh_derived_fields()  # what save() does and bulk_create skips
    Contact.objects.bulk_create(leads, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # statistics a live database would have
    return membership, [lead.pk for lead in leads]


def new_run(membership, contact_ids: list, *, dispatch: bool = False):
    """A run over the leads (made leads again first) by `services.activation_start`."""
    from contacts import services
    from contacts.jobs.models import ActivationRun
    from contacts.models import Contact, ContactStatus
    from contacts.services import activations

    Contact.objects.filter(workspace=membership.workspace).update(status=ContactStatus.LEAD)
    with contextlib.nullcontext() if dispatch else mock.patch.object(activations, "_dispatch"):
        run = services.activation_start(
            workspace=membership.workspace, by=membership, contact_ids=contact_ids
        )
    return ActivationRun.objects.select_related("workspace").get(pk=run.pk)


def commit_probe(rounds: int = 20) -> float:
    """Median ms of an autocommit UPDATE that changes one row: a durable commit on this database and disk."""
    from django.db.models import F

    from contacts.models import Workspace

    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        Workspace.objects.filter(slug=SLUG).update(change_version=F("change_version") + 1)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


# --- the passes ------------------------------------------------------------------------------------


@dataclass
class Pass:
    mode: str
    round: int
    leads: int
    seconds: float
    cpu: float  # CPU seconds of the process doing the work
    sink_cpu: float
    others_cpu: float  # CPU seconds of every other program meanwhile
    commit_ms: float
    load: str  # 1-min load average after the pass
    sessions: int = 0
    checks: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.leads / self.seconds


def bare_loop(run) -> None:
    """Read, build and send each item's e-mail over one connection; nothing written."""
    from django.core.mail import get_connection

    from contacts.jobs.activation import BATCH_SIZE, activation_email
    from contacts.jobs.models import ActivationItem
    from contacts.models import Contact

    connection, after = get_connection(fail_silently=False), -1
    connection.open()
    try:
        while items := list(
            ActivationItem.objects.filter(run_id=run.pk, position__gt=after).order_by("position")[:BATCH_SIZE]
        ):
            contacts = Contact.objects.in_bulk([item.contact_id for item in items])
            for item in items:
                connection.send_messages([activation_email(run, item, contacts[item.contact_id], connection)])
            after = items[-1].position
    finally:
        connection.close()


def measure(
    mode: str, round_: int, leads: int, sink: Sink, work: Callable[[], float | None], pid: int
) -> Pass:
    """Run `work` (it may return its own duration), with the CPU of `pid` and the sink; check the sink."""
    from contacts.live import broadcast

    commit_ms = commit_probe()
    sink.ask("XRESET")
    before = {p: cpu_of(p) for p in {os.getpid(), pid, sink.process.pid}}
    busy, started = machine_busy(), time.perf_counter()
    seconds = work()
    seconds = time.perf_counter() - started if seconds is None else seconds
    broadcast.flush()
    used = {p: cpu_of(p) - cpu for p, cpu in before.items()}
    others = max(0.0, machine_busy() - busy - sum(used.values()))
    load = Path("/proc/loadavg").read_text().split()[0]
    result = Pass(mode, round_, leads, seconds, used[pid], used[sink.process.pid], others, commit_ms, load)
    messages, recipients, result.sessions = sink.count()
    if (messages, recipients, result.sessions) != (leads, leads, 1):
        raise SystemExit(f"{mode}: the sink got {messages} messages for {recipients} addresses, not {leads}")
    result.checks.append(f"sink: {messages} messages, {recipients} addresses")
    return result


def check_run(result: Pass, run, leads: int) -> None:
    from contacts.models import Contact, ContactStatus

    run.refresh_from_db()
    contacts = run.items.values("contact_id")
    active = Contact.objects.filter(pk__in=contacts, status=ContactStatus.ACTIVE).count()
    if (run.status, run.sent, run.failed, active) != ("completed", leads, 0, leads):
        raise SystemExit(
            f"{result.mode}: run {run.status}, sent {run.sent}, failed {run.failed}, {active} active"
        )
    result.checks.append(f"run completed, sent {run.sent}, {active} active")


def end_to_end(membership, contact_ids: list, sink: Sink, log: Path) -> Pass:
    """One Celery worker (solo pool, own queue): from `activation_start` to the run's `finished_at`."""
    from contacts.jobs.models import ActivationRun
    from contactsite.celery import app

    app.conf.task_routes = {"contacts.tasks.activation_run": {"queue": QUEUE}}  # the worker's queue
    command = [
        str(bc.BIN / "celery"), "-A", "contactsite", "worker", "--pool", "solo", "--loglevel", "info",
        "--queues", QUEUE, "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("w") as out:
        worker = subprocess.Popen(
            command, cwd=bc.REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=bc.die_with_parent_sigterm,
        )  # fmt: skip
    leads, box = len(contact_ids), {}

    def work() -> float:
        started = time.time()
        box["run"] = run = new_run(membership, contact_ids, dispatch=True)
        deadline = time.monotonic() + 120 + leads / 10
        while sink.count()[0] < leads or not ActivationRun.objects.get(pk=run.pk).is_finished:
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"end to end: the run did not finish:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)  # the sink first: the database is not polled while the worker writes
        run.refresh_from_db()
        box["pickup"] = run.started_at.timestamp() - started
        return run.finished_at.timestamp() - started

    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        result = measure("end to end (Celery worker)", 1, leads, sink, work, worker.pid)
    finally:
        bc.stop(worker)
    check_run(result, box["run"], leads)
    result.checks.append(f"the worker took the run up {box['pickup']:.2f} s after the call")
    return result


PROFILE_PARTS = [  # (label, file suffix, function): cumulative times, so nested parts overlap
    ("per lead (_activate_one)", "contacts/jobs/activation.py", "_activate_one"),
    ("build the e-mail (activation_email)", "contacts/jobs/activation.py", "activation_email"),
    ("· of which render_to_string (3 templates)", "django/template/loader.py", "render_to_string"),
    ("send it (SMTP backend send_messages)", "django/core/mail/backends/smtp.py", "send_messages"),
    ("· of which MIME building (EmailMessage.message)", "django/core/mail/message.py", "message"),
    ("· of which MIME serialisation (as_bytes)", "django/core/mail/message.py", "as_bytes"),
    ("· of which SMTP exchange (smtplib sendmail)", "smtplib.py", "sendmail"),
    ("per-lead record, sent (start_take_lead)", "contacts/dbengine/activation_record.py", "start_take_lead"),
    ("· its answer awaited (Taking.taken)", "contacts/dbengine/activation_record.py", "taken"),
    ("ORM updates (QuerySet.update)", "django/db/models/query.py", "update"),
    ("ORM reads (QuerySet._fetch_all)", "django/db/models/query.py", "_fetch_all"),
    ("SQL statements in the driver (CursorWrapper._execute)", "django/db/backends/utils.py", "_execute"),
    ("commits of transactions (BaseDatabaseWrapper.commit)", "django/db/backends/base/base.py", "commit"),
    ("progress writes (_Progress.flush)", "contacts/jobs/activation.py", "flush"),
    ("live announcements (broadcast.announce)", "contacts/live/broadcast.py", "announce"),
]


def profile_passes(membership, contact_ids: list, sink: Sink) -> list[str]:
    """The bare loop, then the engine, over one run under cProfile: where the time goes."""
    from contacts.jobs.activation import activation_process

    run, leads, columns = new_run(membership, contact_ids), len(contact_ids), []
    for name, work in (
        ("bare", lambda: bare_loop(run)),
        ("engine", lambda: activation_process(run.pk, task_id="p")),
    ):
        profiler = cProfile.Profile()
        result = measure(name, 1, leads, sink, lambda w=work, p=profiler: p.runcall(w) and None, os.getpid())
        # stats: (file, line, function) → (primitive calls, calls, own s, cumulative s, callers)
        columns.append((result.seconds, pstats.Stats(profiler).stats))
    check_run(result, run, leads)
    engine_total = columns[1][0]
    lines = [
        f"Under cProfile (it slows Python code: read the shares), {leads} leads; calls and ms per lead:",
        "",
        "| part | bare loop calls | bare loop ms | engine calls | engine ms | engine share |",
        "|---|---:|---:|---:|---:|---:|",
        f"| whole pass | | {columns[0][0] / leads * 1000:.2f} | | {engine_total / leads * 1000:.2f} | 100% |",
    ]
    for label, suffix, function in PROFILE_PARTS:
        cells = []
        for _, stats in columns:
            found = [v for (file, _, fn), v in stats.items() if fn == function and file.endswith(suffix)]
            calls, seconds = sum(v[1] for v in found), sum(v[3] for v in found)
            cells += [f"{calls / leads:.2f}", f"{seconds / leads * 1000:.2f}"]
        lines.append(f"| {label} | {' | '.join(cells)} | {seconds / engine_total:.0%} |")
    return lines


# --- report and main -------------------------------------------------------------------------------


def report(passes: list[Pass], header: list[str], profile: list[str]) -> str:
    bare = {p.round: p for p in passes if p.mode == "bare loop"}
    lines = [
        *header,
        "",
        "| mode | round | leads | s | leads/s | time vs bare | CPU ms/lead | CPU vs bare | sink CPU ms/lead "
        "| others' CPU | commit ms | load | checks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    overheads = []
    for p in passes:
        vs = vs_cpu = ""
        if p.mode.startswith("engine") and (base := bare.get(p.round)):
            overheads.append((p.seconds / base.seconds - 1, p.cpu / base.cpu - 1))
            vs, vs_cpu = f"{overheads[-1][0]:+.0%}", f"{overheads[-1][1]:+.0%}"
        lines.append(
            f"| {p.mode} | {p.round} | {p.leads} | {p.seconds:.1f} | {p.rate:.0f} | {vs} | "
            f"{p.cpu / p.leads * 1000:.2f} | {vs_cpu} | {p.sink_cpu / p.leads * 1000:.2f} | "
            f"{p.others_cpu / p.seconds:.2f} | {p.commit_ms:.2f} | {p.load} | {'; '.join(p.checks)} |"
        )
    engines = [p for p in passes if p.mode.startswith("engine")]
    over, over_cpu = (statistics.median(o[i] for o in overheads) for i in (0, 1))
    low, high = min(o[0] for o in overheads), max(o[0] for o in overheads)
    e2e = [p.rate for p in passes if p.mode.startswith("end to end")]

    def total(group: list[Pass]) -> tuple[float, float]:
        """leads/s and CPU ms/lead over all the passes of `group`."""
        leads = sum(p.leads for p in group)
        return leads / sum(p.seconds for p in group), sum(p.cpu for p in group) / leads * 1000

    (bare_rate, bare_cpu), (engine, engine_cpu) = total(list(bare.values())), total(engines)

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lines += [
        "",
        f"Goals (overhead: median over the {len(overheads)} rounds of the engine's time / the bare loop's in "
        "the same round; leads/s and CPU: all rounds together):",
        "",
        f"- progress tracking ≤ 10 % over the bare loop: engine {over:+.0%} time (rounds {low:+.0%} to "
        f"{high:+.0%}), {over_cpu:+.0%} CPU; {engine:.0f} vs {bare_rate:.0f} leads/s, {engine_cpu:.2f} vs "
        f"{bare_cpu:.2f} CPU ms/lead: {met(over <= 0.10)}",
        f"- ≥ 300 leads/s: engine in process {engine:.0f}: {met(engine >= 300)}"
        + (f"; end to end {e2e[0]:.0f}: {met(e2e[0] >= 300)}" if e2e else ""),
    ]
    return "\n".join([*lines, "", *profile]) + "\n"


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-sink":
        asyncio.run(serve_sink(int(sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=10,
        help="bare loop + engine pairs, each over its own --leads/--rounds leads",
    )
    parser.add_argument("--profile-leads", type=int, default=1000, help="0: no profile")
    parser.add_argument("--no-worker", action="store_true", help="skip the end-to-end pass")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--redis-db", type=int, default=8, help="Redis database number of this run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--append", action="store_true", help="add to --output instead of replacing it")
    args = parser.parse_args()
    if not 1 <= args.rounds <= args.leads:
        parser.error("--rounds must be between 1 and --leads")
    folder = Path(tempfile.mkdtemp(prefix="bench-activation-"))
    try:
        sink = Sink(folder / "sink.log")
        try:
            with dedicated_database(args.database_url):
                run(args, folder, sink)
        finally:
            bc.stop(sink.process)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: Path, sink: Sink) -> None:
    started, load = datetime.datetime.now(), Path("/proc/loadavg").read_text().split()[0]
    os.environ.pop("CONTACTS_TESTING", None)  # the testing switch moves Redis databases
    os.environ.update(bench_environment(args, folder, sink.port))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from contacts.jobs.activation import activation_process

    bc.progress("migrating")
    call_command("migrate", verbosity=0)
    bc.progress(f"seeding {args.leads} leads")
    membership, ids = seed(args.leads)
    passes = []
    chunks = [
        ids[i * args.leads // args.rounds : (i + 1) * args.leads // args.rounds] for i in range(args.rounds)
    ]
    for round_, chunk in enumerate(chunks, start=1):
        activation = new_run(membership, chunk)
        bare = lambda r=activation: bare_loop(r)  # noqa: E731
        engine = lambda r=activation: activation_process(r.pk, task_id="bench") and None  # noqa: E731
        order = [("bare loop", bare), ("engine in process", engine)]
        order = order if round_ % 2 else order[::-1]  # which goes first alternates
        bc.progress(f"round {round_}/{args.rounds}: {order[0][0]}, then {order[1][0]}, {len(chunk)} leads")
        for mode, work in order:
            passes.append(measure(mode, round_, len(chunk), sink, work, os.getpid()))
            if work is engine:
                check_run(passes[-1], activation, len(chunk))
    if not args.no_worker:
        bc.progress("end to end, one Celery worker")
        passes.append(end_to_end(membership, ids, sink, folder / "worker.log"))
    profile = []
    if args.profile_leads:
        bc.progress(f"profiling the bare loop and the engine over {args.profile_leads} leads")
        profile = profile_passes(membership, ids[: args.profile_leads], sink)
    header = [
        f"### {connection.vendor}, {args.leads} leads",
        "",
        f"{started:%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, load average {load} at start; DEBUG=0; "
        f"Python {platform.python_version()}, Django {django.__version__}; {bc.code_version()}.",
        "CPU ms/lead: this process (bare loop, engine) or the worker (end to end); others' CPU: CPUs used "
        "by every other program during the pass; commit ms: one durable commit (autocommit UPDATE of one "
        "row, median of 20) just before the pass; load: 1-min load average after it.",
        "",
        "Command: `" + " ".join([".venv/bin/python bench/bench_activation.py", *sys.argv[1:]]) + "`",
    ]
    text = report(passes, header, profile)
    print(text)
    with args.output.open("a" if args.append else "w") as out:
        out.write(("\n" if args.append else "") + text)
    bc.progress(f"written to {args.output}")


if __name__ == "__main__":
    main()
