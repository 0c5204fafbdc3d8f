"""Shared fixtures: a workspace with one member of each role, a second, foreign workspace, and API
clients authenticated the way integrators are (`Authorization: Token <key>`)."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from contacts import services
from contacts.factories import ContactFactory, MembershipFactory, UserFactory, WorkspaceFactory
from contacts.models import Role


@pytest.fixture(autouse=True)
def _own_signin_counters(settings):
    """Each test counts failed sign-ins under its own cache keys: runs sharing the test Redis (at
    the same time, or within the 15-minute window) must not lock each other's users out."""
    settings.SIGNIN_THROTTLE_KEY_PREFIX = f"signin-test-{uuid.uuid4().hex}"


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(name="Acme Sales", slug="acme-sales")


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(name="Globex Buying", slug="globex-buying")


def _member(workspace, role, username):
    return MembershipFactory(workspace=workspace, role=role, user=UserFactory(username=username))


@pytest.fixture
def owner(workspace):
    return _member(workspace, Role.OWNER, "olivia-owner")


@pytest.fixture
def member(workspace):
    return _member(workspace, Role.MEMBER, "max-member")


@pytest.fixture
def workspace_admin(workspace):
    """Runs bulk jobs (activations) besides editing contacts."""
    return _member(workspace, Role.ADMIN, "ada-admin")


@pytest.fixture
def viewer(workspace):
    return _member(workspace, Role.VIEWER, "vera-viewer")


@pytest.fixture
def outsider(other_workspace):
    """A member of the other workspace only."""
    return _member(other_workspace, Role.OWNER, "otto-outsider")


@pytest.fixture
def contact(workspace):
    return ContactFactory(
        workspace=workspace,
        first_name="Annabel",
        last_name="Leeds",
        company="Initech",
        email="annabel.leeds@example.com",
        tags=["vip"],
    )


@pytest.fixture
def foreign_contact(other_workspace):
    return ContactFactory(workspace=other_workspace, first_name="Fiona", last_name="Foreign")


@pytest.fixture
def member_client(client, member):
    client.force_login(member.user)
    return client


@pytest.fixture
def workspace_admin_client(client, workspace_admin):
    client.force_login(workspace_admin.user)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer.user)
    return client


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {services.api_token_get_or_create(user=user).key}")
    return client


@pytest.fixture
def member_api(member):
    return token_client(member.user)


@pytest.fixture
def admin_api(workspace_admin):
    return token_client(workspace_admin.user)


@pytest.fixture
def viewer_api(viewer):
    return token_client(viewer.user)


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture
def not_dispatched(monkeypatch) -> list[str]:
    """Activation runs are recorded, not sent to a worker (no broker needed): the run ids sent."""
    sent: list[str] = []
    monkeypatch.setattr("contacts.tasks.activation_run.delay", lambda run_id: sent.append(run_id))
    return sent
