"""`seed_contacts` (demo data, the `--json` contract) and `api_token`."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.utils import timezone

from contacts import selectors
from contacts.demo import _planned_contacts
from contacts.demo_text import COMPANY_NAMES, JOB_TITLES
from contacts.factories import ContactFactory, UserFactory
from contacts.management.commands.api_token import Command as ApiTokenCommand
from contacts.models import ApiToken, Contact, ContactTag, Membership, Tag, Workspace
from contacts.selectors import ContactQuery

User = get_user_model()
MODELS = (User, Workspace, Membership, Contact, Tag, ContactTag)


def seed(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_contacts", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def seed_json(*args: str) -> dict:
    out, _ = seed("--json", *args)
    return json.loads(out)  # the whole of stdout: nothing but the document


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def by_username(report: dict) -> dict[str, dict]:
    return {user["username"]: user for user in report["users"]}


# --- seed_contacts ------------------------------------------------------------------------------------


def test_seed_json_follows_the_contract(db):
    report = seed_json("--contacts", "12")

    assert set(report) == {"users"}
    for user in report["users"]:
        assert set(user) == {"username", "password", "workspaces"}
        assert user["password"] == "contacts-demo"
        for workspace in user["workspaces"]:
            assert set(workspace) == {"id", "slug", "name", "role", "contact_count", "sample_contacts"}
            assert workspace["contact_count"] == 12
            assert len(workspace["sample_contacts"]) == 5
            for sample in workspace["sample_contacts"]:
                assert set(sample) == {"id", "first_name", "last_name", "email"}
                assert Contact.objects.filter(pk=sample["id"], workspace_id=workspace["id"]).exists()


def test_seed_json_users_can_sign_in_and_see_only_their_workspaces(client, db):
    users = by_username(seed_json("--contacts", "3"))

    alice = {ws["slug"] for ws in users["alice"]["workspaces"]}
    bob = {ws["slug"] for ws in users["bob"]["workspaces"]}
    demo = {ws["slug"]: ws["role"] for ws in users["demo"]["workspaces"]}
    assert alice and bob and not alice & bob, "each workspace has a user who is not in the other"
    assert demo == {"acme-sales": "owner", "globex-procurement": "owner"}
    assert [ws["role"] for ws in users["viewer"]["workspaces"]] == ["viewer"]
    assert client.login(username="alice", password=users["alice"]["password"])
    assert User.objects.get(username="admin").is_superuser


def test_seed_defaults_to_two_workspaces_of_300_contacts(db):
    seed("--verbosity", "0")

    assert list(
        Workspace.objects.annotate(n=Count("contacts")).order_by("slug").values_list("slug", "n")
    ) == [
        ("acme-sales", 300),
        ("globex-procurement", 300),
    ]


def test_a_second_seed_creates_nothing_and_reports_the_same(db):
    first = seed_json("--contacts", "20")
    before, versions = counts(), dict(Workspace.objects.values_list("slug", "change_version"))

    second = seed_json("--contacts", "20")

    assert counts() == before
    assert dict(Workspace.objects.values_list("slug", "change_version")) == versions
    assert second == first


def test_seeding_more_contacts_adds_only_the_missing_ones(db):
    seed_json("--contacts", "10")
    first_ten = set(Contact.objects.values_list("id", "email"))

    report = seed_json("--contacts", "15")

    assert first_ten < set(Contact.objects.values_list("id", "email"))
    assert [ws["contact_count"] for ws in by_username(report)["demo"]["workspaces"]] == [15, 15]


def test_seeding_bumps_each_workspace_version_once(db):
    seed_json("--contacts", "25")

    assert list(Workspace.objects.values_list("change_version", flat=True)) == [1, 1]


def test_seeded_contacts_have_history_tags_and_shared_companies(db):
    seed_json("--contacts", "120")
    contacts = Contact.objects.filter(workspace__slug="acme-sales")
    now = timezone.now()

    created = sorted(contacts.values_list("created_at", flat=True))
    assert created[-1] <= now and created[0] >= now - timedelta(days=731)
    assert created[-1] - created[0] > timedelta(days=600), "spread over two years"
    assert all(c.updated_at >= c.created_at for c in contacts)
    tagged = ContactTag.objects.filter(contact__in=contacts).values("contact_id").distinct().count()
    assert tagged > 80
    companies = contacts.exclude(company="").values("company").annotate(n=Count("id")).order_by("-n")
    assert companies.count() < 45 and companies[0]["n"] >= 8, "companies recur, some much more than others"
    sample = contacts.first()
    searched = selectors.contacts_matching(sample.workspace, ContactQuery(search=sample.full_name))
    assert sample in searched, "searchable like any contact"


def test_seeded_contacts_read_like_an_offices_contacts(db):
    seed_json("--contacts", "120")
    contacts = list(Contact.objects.filter(workspace__slug="acme-sales"))

    assert {c.job_title for c in contacts} <= set(JOB_TITLES)
    assert {c.company for c in contacts} - {""} <= set(COMPANY_NAMES)
    notes = [c.notes for c in contacts if c.notes]
    assert 50 < len(notes) < len(contacts), "most contacts have notes, not all"
    assert all(re.fullmatch(r"[A-Z].*[.]", note) for note in notes), "whole sentences"
    statuses = Counter(c.status for c in contacts)
    assert statuses["lead"] > 20 and statuses["active"] > 20 and 0 < statuses["archived"] < 30


def test_seeding_leaves_a_changed_password_alone_and_says_so(db):
    seed_json("--contacts", "0")
    alice = User.objects.get(username="alice")
    alice.set_password("my-own-secret")
    alice.save()

    out, err = seed("--json", "--contacts", "0")

    assert by_username(json.loads(out))["alice"]["password"] is None
    assert "password of 'alice'" in err
    alice.refresh_from_db()
    assert alice.check_password("my-own-secret")


def test_reset_passwords_restores_the_demo_password(db):
    seed_json("--contacts", "0")
    UserFactory(username="alice").set_password("my-own-secret")

    report = seed_json("--contacts", "0", "--reset-passwords")

    assert by_username(report)["alice"]["password"] == "contacts-demo"
    assert User.objects.get(username="alice").check_password("contacts-demo")


def test_seeding_skips_a_demo_contact_whose_email_someone_already_uses(db):
    seed_json("--contacts", "5")
    workspace = Workspace.objects.get(slug="acme-sales")
    sixth, _ = _planned_contacts(workspace, User.objects.get(username="demo"), 6)[5]
    ContactFactory(workspace=workspace, email=sixth.email, first_name="Real", last_name="Person")

    out, err = seed("--json", "--contacts", "6")

    assert f"{sixth.email} is already in use" in err
    assert not Contact.objects.filter(pk=sixth.pk).exists()
    assert by_username(json.loads(out))["demo"]["workspaces"][0]["contact_count"] == 6


def test_the_human_summary_lists_every_login(db):
    out, _ = seed("--contacts", "2", "--verbosity", "0")

    for username in ("demo", "alice", "bob", "viewer", "admin"):
        assert f"  {username} " in out
    assert "contacts-demo" in out and "/accounts/login/" in out and "/admin/" in out


def test_progress_goes_to_stderr_not_stdout(db):
    out, err = seed("--json", "--contacts", "2")

    assert "Acme Sales: 2 demo contacts added" in err
    assert json.loads(out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspaces", "1"], "--workspaces must be between 2 and 50"),
        (["--contacts", "-1"], "--contacts must be between 0 and 200000"),
    ],
)
def test_seed_refuses_bad_numbers_and_creates_nothing(db, args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)

    assert set(counts().values()) == {0}


def test_more_workspaces_all_get_contacts_and_the_owner(db):
    report = seed_json("--workspaces", "3", "--contacts", "4")

    assert [ws["contact_count"] for ws in by_username(report)["demo"]["workspaces"]] == [4, 4, 4]


# --- api_token ------------------------------------------------------------------------------------------


def test_api_token_creates_and_prints_a_users_token(db):
    user = UserFactory(username="ida-integrator")
    out = io.StringIO()

    call_command("api_token", "ida-integrator", stdout=out)

    assert out.getvalue().strip() == ApiToken.objects.get(user=user).key


def test_api_token_prints_the_same_token_every_time(db):
    UserFactory(username="ida-integrator")
    first, second = io.StringIO(), io.StringIO()

    call_command("api_token", "ida-integrator", stdout=first)
    call_command("api_token", "ida-integrator", stdout=second)

    assert first.getvalue() == second.getvalue()
    assert ApiToken.objects.count() == 1


def test_api_token_for_an_unknown_user_fails_with_a_clear_message(db):
    with pytest.raises(CommandError, match="No user is called 'nobody'"):
        call_command("api_token", "nobody")

    assert not ApiToken.objects.exists()


def test_api_token_for_an_unknown_user_exits_non_zero(db, capsys):
    with pytest.raises(SystemExit) as exit_info:
        ApiTokenCommand().run_from_argv(["manage.py", "api_token", "nobody"])

    assert exit_info.value.code != 0
    assert "No user is called 'nobody'" in capsys.readouterr().err


def test_api_token_refuses_an_inactive_user(db):
    UserFactory(username="gone", is_active=False)

    with pytest.raises(CommandError, match="inactive"):
        call_command("api_token", "gone")

    assert not ApiToken.objects.exists()
