"""Colleagues at once, for real: two requests in two threads, each with its own database connection.

tests/test_concurrency.py replays each race at its exact moment; these run the requests truly
side by side (released together by a barrier), many rounds, through the API as integrators and
two browser tabs would, and check the outcome is always one of the ordinary answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from contacts.factories import ContactFactory
from contacts.models import Contact, Tag
from tests.conftest import token_client

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROUNDS = 15


@pytest.fixture
def api(member) -> Callable[[], APIClient]:
    """A new client per request: each thread needs its own."""
    return lambda: token_client(member.user)


def side_by_side(*requests: Callable[[], object]) -> list[object]:
    """Run each request in its own thread, released at the same instant; their results in order."""
    barrier = threading.Barrier(len(requests))
    results: list[object] = [None] * len(requests)

    def run(index: int, request: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = request()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def status_codes(results: list[object]) -> list[int | str]:
    return [getattr(result, "status_code", repr(result)) for result in results]


def contact_url(contact: Contact) -> str:
    return f"/api/v1/workspaces/{contact.workspace_id}/contacts/{contact.id}/"


def test_a_patch_racing_a_delete_never_brings_the_contact_back(api, workspace):
    for _ in range(ROUNDS):
        contact = ContactFactory(workspace=workspace)

        patch, delete = status_codes(
            side_by_side(
                lambda contact=contact: api().patch(
                    contact_url(contact), {"company": "Zombie"}, format="json"
                ),
                lambda contact=contact: api().delete(contact_url(contact)),
            )
        )

        assert (patch, delete) in {(200, 204), (404, 204)}
        assert not Contact.objects.filter(pk=contact.pk).exists(), "the deleted contact came back"


def test_two_creates_of_one_new_email_give_one_contact_and_one_409(api, workspace):
    for round_number in range(ROUNDS):
        body = {"first_name": "Ann", "email": f"ann.{round_number}@example.com"}
        url = f"/api/v1/workspaces/{workspace.id}/contacts/"

        codes = status_codes(
            side_by_side(*[lambda url=url, body=body: api().post(url, body, format="json")] * 2)
        )

        assert sorted(codes) == [201, 409]
        assert Contact.objects.filter(email=body["email"]).count() == 1


def test_two_creates_with_one_new_tag_both_succeed_with_the_one_tag(api, workspace):
    for round_number in range(ROUNDS):
        url = f"/api/v1/workspaces/{workspace.id}/contacts/"
        tag = f"fair-{round_number}"

        codes = status_codes(
            side_by_side(
                lambda url=url, tag=tag: api().post(url, {"first_name": "Ann", "tags": [tag]}, format="json"),
                lambda url=url, tag=tag: api().post(
                    url, {"first_name": "Bob", "tags": [tag.upper()]}, format="json"
                ),
            )
        )

        assert codes == [201, 201]
        assert Tag.objects.filter(workspace=workspace, name=tag).count() == 1


def test_two_patches_of_different_fields_keep_both(api, workspace):
    for _ in range(ROUNDS):
        contact = ContactFactory(workspace=workspace, company="Initech", status="lead")

        codes = status_codes(
            side_by_side(
                lambda contact=contact: api().patch(
                    contact_url(contact), {"company": "Globex"}, format="json"
                ),
                lambda contact=contact: api().patch(
                    contact_url(contact), {"status": "active"}, format="json"
                ),
            )
        )

        assert codes == [200, 200]
        stored = Contact.objects.get(pk=contact.pk)
        assert (stored.company, stored.status, stored.version) == ("Globex", "active", 3)
