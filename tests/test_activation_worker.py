"""Activation through a real Celery worker process: crashes, restarts and a broker that was down.

The worker is a subprocess on the test database and broker (tests/servers.py), listening on a
queue of this test's own; e-mail goes to a real SMTP server in this process (tests/smtp_sink.py).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from kombu.exceptions import OperationalError

from contacts import services
from contacts.factories import ContactFactory
from contacts.jobs.activation import run_progress
from contacts.models import ActivationItem, ActivationRun, ContactStatus, RunStatus
from contacts.tasks import activation_resume_stale, activation_run
from contactsite.asgi import application
from tests.servers import celery_worker, run_async_value
from tests.smtp_sink import smtp_sink
from tests.test_live_consumer import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STALE_AFTER = 2  # seconds without a heartbeat before a run counts as lost (the workers use it too)


@pytest.fixture
def queue() -> str:
    return f"test-activation-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def send_to(monkeypatch, queue, settings):
    """Tasks this process sends go to the test's own queue."""
    settings.CONTACTS_ACTIVATION_STALE_AFTER = STALE_AFTER
    original = activation_run.apply_async
    monkeypatch.setattr(activation_run, "delay", lambda run_id: original(args=[run_id], queue=queue))


def worker_env(sink) -> dict[str, str]:
    return {"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}", "CONTACTS_ACTIVATION_STALE_AFTER": str(STALE_AFTER)}


def wait_until(condition, within: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def run_of(run_id) -> ActivationRun:
    return ActivationRun.objects.get(pk=run_id)


def test_a_worker_killed_mid_run_is_resumed_and_every_lead_gets_its_email(
    tmp_path: Path, workspace, workspace_admin, queue, send_to
):
    leads = [
        ContactFactory(workspace=workspace, status="lead", email=f"crash{n:03}@example.com")
        for n in range(60)
    ]
    with smtp_sink(delay=0.03) as sink:
        with celery_worker(tmp_path / "first.log", env=worker_env(sink), queue=queue) as first:
            run = services.activation_start(
                workspace=workspace, by=workspace_admin, contact_ids=[c.id for c in leads]
            )
            sink.wait_for(15, within=30)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
        killed_at = len(sink.messages)
        assert run_of(run.pk).status == RunStatus.RUNNING
        assert killed_at < 60, "the run finished before the kill: make the sink slower"

        # Nobody works on it now; once its heartbeat is stale the periodic job sends it again.
        time.sleep(STALE_AFTER + 0.5)
        with celery_worker(tmp_path / "second.log", env=worker_env(sink), queue=queue):
            assert activation_resume_stale() == 1
            wait_until(
                lambda: run_of(run.pk).status == RunStatus.COMPLETED, what="the resumed run to complete"
            )

        per_address = Counter(sink.recipients())
        assert set(per_address) == {c.email for c in leads}, "a lead was skipped"
        twice = [address for address, count in per_address.items() if count > 1]
        # The one lead in flight at the kill may have been e-mailed twice (docs: the duplicate window).
        assert len(twice) <= 1, per_address
        for address in twice:
            assert ActivationItem.objects.get(run=run, email=address).attempts == 2
        finished = run_of(run.pk)
        assert (finished.sent, finished.failed, finished.total) == (60, 0, 60)
        assert finished.attempts == 2
        assert set(workspace.contacts.values_list("status", flat=True)) == {ContactStatus.ACTIVE}


def test_a_run_started_while_the_broker_was_down_is_sent_later(
    tmp_path: Path, workspace, workspace_admin, queue, send_to, monkeypatch, caplog
):
    leads = [
        ContactFactory(workspace=workspace, status="lead", email=f"later{n}@example.com") for n in range(3)
    ]
    working_delay = activation_run.delay

    def broker_down(run_id):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(activation_run, "delay", broker_down)
    run = services.activation_start(
        workspace=workspace, by=workspace_admin, contact_ids=[c.id for c in leads]
    )
    assert run_of(run.pk).status == RunStatus.QUEUED  # the start itself succeeded
    assert "not sent to a worker" in caplog.text

    monkeypatch.setattr(activation_run, "delay", working_delay)
    ActivationRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timedelta(seconds=STALE_AFTER + 1)
    )
    with smtp_sink() as sink, celery_worker(tmp_path / "worker.log", env=worker_env(sink), queue=queue):
        assert activation_resume_stale() == 1
        wait_until(lambda: run_of(run.pk).status == RunStatus.COMPLETED, what="the run to complete")
        assert sorted(sink.recipients()) == sorted(c.email for c in leads)


def test_a_worker_delivers_progress_and_finishes(tmp_path: Path, workspace, workspace_admin, queue, send_to):
    leads = [ContactFactory(workspace=workspace, status="lead", email=f"ok{n}@example.com") for n in range(5)]
    with smtp_sink() as sink, celery_worker(tmp_path / "worker.log", env=worker_env(sink), queue=queue):
        run = services.activation_start(
            workspace=workspace, by=workspace_admin, contact_ids=[c.id for c in leads]
        )
        wait_until(lambda: run_of(run.pk).status == RunStatus.COMPLETED, what="the run to complete")
    assert Counter(sink.recipients()) == Counter(c.email for c in leads)
    # A second activation of the same contacts is refused: they are no longer leads.
    with pytest.raises(Exception, match="None of the chosen contacts"):
        services.activation_start(workspace=workspace, by=workspace_admin, contact_ids=[c.id for c in leads])


def test_progress_events_climb_to_what_the_database_says(
    tmp_path: Path, workspace, workspace_admin, queue, send_to
):
    """What open pages receive (the workspace's live group) agrees with what polling reads."""
    leads = [
        ContactFactory(workspace=workspace, status="lead", email=f"live{n:02}@example.com") for n in range(30)
    ]
    cookie = session_cookie(workspace_admin.user)

    async def scenario() -> list[dict]:
        communicator = WebsocketCommunicator(
            application,
            f"/ws/workspaces/{workspace.id}/",
            headers=[(b"origin", b"http://testserver"), (b"cookie", f"sessionid={cookie}".encode())],
        )
        connected, _ = await communicator.connect()
        assert connected
        progress: list[dict] = []
        await database_sync_to_async(services.activation_start)(
            workspace=workspace, by=workspace_admin, contact_ids=[c.id for c in leads]
        )
        while not progress or progress[-1]["status"] not in ("completed", "failed", "cancelled"):
            event = await communicator.receive_json_from(timeout=30)
            if event["type"] == "activation.progress":
                progress.append(event["run"])
        await communicator.disconnect()
        return progress

    with (
        smtp_sink(delay=0.01) as sink,
        celery_worker(tmp_path / "worker.log", env=worker_env(sink), queue=queue),
    ):
        progress = run_async_value(scenario)

    final = run_progress(ActivationRun.objects.get())
    assert progress[-1] == final == {**final, "status": "completed", "sent": 30, "failed": 0, "total": 30}
    assert progress[0]["status"] == "queued"
    sent = [event["sent"] for event in progress]
    assert sent == sorted(sent) and len(set(sent)) > 2, "progress arrives in steps, never backwards"
