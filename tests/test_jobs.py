"""The post-create job (contacts/jobs/outbox.py, contacts/tasks.py): recorded with the contact, sent
after commit or later, an activity entry and one e-mail to the workspace's admins, retries with
back-off, failures kept for the admin. A real SMTP server (aiosmtpd) and, once, a real worker.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from contacts import services
from contacts.factories import MembershipFactory, UserFactory
from contacts.jobs import outbox
from contacts.models import Activity, Job, JobStatus, Role
from contacts.services import ContactData
from contacts.tasks import job_retry_delay, job_run, jobs_dispatch_pending
from tests.servers import celery_worker
from tests.smtp_sink import smtp_sink

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Jobs handed to the broker, recorded instead of sent."""
    calls: list[str] = []
    monkeypatch.setattr(job_run, "delay", lambda job_id: calls.append(job_id))
    return calls


@pytest.fixture
def sink(settings):
    with smtp_sink() as running:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", running.port, 5
        yield running


@pytest.fixture
def admins(workspace, owner):
    owner.user.email = "olivia@example.com"
    owner.user.save()
    admin = MembershipFactory(
        workspace=workspace, role=Role.ADMIN, user=UserFactory(email="adam@example.com")
    )
    MembershipFactory(workspace=workspace, role=Role.MEMBER, user=UserFactory(email="not-me@example.com"))
    return [owner, admin]


def create(workspace, member, name: str = "Nina"):
    return services.contact_create(
        workspace=workspace, by=member, data=ContactData(first_name=name, last_name="New")
    )


def test_a_created_contact_records_its_job_and_sends_it_after_commit(workspace, member, sent):
    contact = create(workspace, member)
    job = Job.objects.get(subject_id=contact.id)
    assert (job.kind, job.status) == ("contact_created", JobStatus.PENDING)
    assert sent == [str(job.pk)] and job.dispatched_at is not None


def test_a_rolled_back_create_leaves_no_job(workspace, member, sent):
    with pytest.raises(RuntimeError), transaction.atomic():
        create(workspace, member)
        raise RuntimeError
    assert not Job.objects.exists() and sent == []


def test_the_job_writes_an_activity_and_emails_the_admins_once(workspace, member, admins, sink, sent):
    contact = create(workspace, member, "Petra")
    job = Job.objects.get(subject_id=contact.id)

    assert outbox.job_run(job.pk) == "done"
    assert outbox.job_run(job.pk) == "skipped"  # a second delivery does nothing

    (message,) = sink.messages
    assert sorted(address.strip() for address in message["To"].split(",")) == [
        "adam@example.com",
        "olivia@example.com",
    ]
    assert message["Subject"] == "New contact in Acme Sales: Petra New"
    assert f"/w/{workspace.slug}/contacts/{contact.id}/" in message.get_content()
    assert [activity.text for activity in Activity.objects.filter(contact=contact)] == [
        f"Added by {member.user.get_full_name() or member.user.username}."
    ]
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 1  # the skipped delivery did not count


def test_an_unreachable_mail_server_is_retried_with_back_off_without_repeating_done_steps(
    workspace, member, admins, sent, settings, monkeypatch
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1  # nothing listens
    contact = create(workspace, member)
    job = Job.objects.get(subject_id=contact.id)
    retried: list[int] = []
    monkeypatch.setattr(job_run, "retry", lambda exc, countdown: retried.append(countdown) or exc)

    with pytest.raises(outbox.TransientJobError):
        job_run.run(str(job.pk))
    assert retried == [job_retry_delay(0)] == [10]
    assert [job_retry_delay(n) for n in range(4)] == [10, 20, 40, 80]
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.activity_written and job.emailed_at is None

    with smtp_sink() as sink:
        settings.EMAIL_PORT = sink.port
        assert outbox.job_run(job.pk) == "done"
        assert len(sink.messages) == 1
    assert Activity.objects.filter(contact=contact).count() == 1  # not written again


def test_a_refused_email_fails_the_job_with_its_reason_for_the_admin(workspace, member, admins, sink, sent):
    sink.refused.update({"adam@example.com", "olivia@example.com"})
    contact = create(workspace, member)
    job = Job.objects.get(subject_id=contact.id)

    assert job_run.run(str(job.pk)) == "failed"

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "refused" in job.error


def test_jobs_not_sent_while_the_broker_was_down_are_sent_later(workspace, member, sent, monkeypatch, caplog):
    def broker_down(job_id):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(job_run, "delay", broker_down)
    contact = create(workspace, member)  # the create itself succeeds
    job = Job.objects.get(subject_id=contact.id)
    assert job.dispatched_at is None and "not sent to a worker" in caplog.text

    monkeypatch.setattr(job_run, "delay", lambda job_id: sent.append(job_id))
    assert jobs_dispatch_pending() == 0  # left to its own dispatch for a few seconds
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert jobs_dispatch_pending() == 1
    assert sent == [str(job.pk)]


@pytest.mark.slow
def test_a_real_worker_runs_the_job_after_the_broker_comes_back(
    tmp_path: Path, workspace, member, admins, monkeypatch
):
    """Broker down at commit; later the periodic dispatch sends it to a real worker."""
    queue = f"test-jobs-{uuid.uuid4().hex[:8]}"
    original = job_run.apply_async
    monkeypatch.setattr(job_run, "delay", lambda job_id: (_ for _ in ()).throw(OperationalError("down")))
    contact = create(workspace, member)
    job = Job.objects.get(subject_id=contact.id)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=1))

    monkeypatch.setattr(job_run, "delay", lambda job_id: original(args=[job_id], queue=queue))
    with smtp_sink() as sink:
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}
        with celery_worker(tmp_path / "worker.log", env=env, queue=queue):
            assert jobs_dispatch_pending() == 1
            deadline = time.monotonic() + 30
            while Job.objects.get(pk=job.pk).status == JobStatus.PENDING and time.monotonic() < deadline:
                time.sleep(0.05)
        assert Job.objects.get(pk=job.pk).status == JobStatus.DONE
        assert len(sink.messages) == 1
    assert Activity.objects.filter(contact=contact).exists()


def test_admins_see_failed_jobs_with_their_error_and_retry_them(workspace, member, admin_client, sent):
    contact = create(workspace, member)
    job = Job.objects.get(subject_id=contact.id)
    outbox.job_failed(job.pk, "The mail server refused every address: {'x@example.com': (550, b'No')}")
    sent.clear()

    page = admin_client.get("/admin/contacts/job/?status__exact=failed")
    assert page.status_code == 200 and "The mail server refused every address" in page.content.decode()

    response = admin_client.post(
        "/admin/contacts/job/", {"action": "retry_jobs", "_selected_action": [str(job.pk)]}, follow=True
    )
    assert "Sent 1 job(s) to be tried again." in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.PENDING, "")
    assert sent == [str(job.pk)]
