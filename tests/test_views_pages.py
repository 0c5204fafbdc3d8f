"""`/`, sign-in/out, the navbar's workspace switcher and the error pages."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from contacts.context_processors import workspaces
from contacts.decorators import LAST_WORKSPACE_SESSION_KEY
from contacts.factories import DEFAULT_PASSWORD, MembershipFactory, UserFactory
from contacts.models import Role


def list_url(workspace) -> str:
    return reverse("contact_list", kwargs={"slug": workspace.slug})


def test_anonymous_visitor_of_home_is_sent_to_the_login_page(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_member_going_home_lands_on_their_workspaces_contact_list(member_client, workspace):
    response = member_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == list_url(workspace)


def test_home_returns_to_the_workspace_the_user_opened_last(client, member, workspace, other_workspace):
    MembershipFactory(workspace=other_workspace, user=member.user, role=Role.VIEWER)
    client.force_login(member.user)
    client.get(list_url(other_workspace))

    response = client.get("/")

    assert client.session[LAST_WORKSPACE_SESSION_KEY] == str(other_workspace.id)
    assert response["Location"] == list_url(other_workspace)


def test_home_ignores_a_remembered_workspace_the_user_has_since_left(
    client, member, workspace, other_workspace
):
    membership = MembershipFactory(workspace=other_workspace, user=member.user)
    client.force_login(member.user)
    client.get(list_url(other_workspace))
    membership.delete()

    response = client.get("/")

    assert response["Location"] == list_url(workspace)


def test_user_without_a_workspace_is_told_to_ask_an_admin(client, db):
    client.force_login(UserFactory(username="newbie"))

    response = client.get("/")

    assert response.status_code == 200
    assert "not in a workspace yet" in response.text
    assert "Ask an administrator" in response.text
    assert 'href="/admin/"' not in response.text


def test_a_superuser_without_a_workspace_is_sent_to_the_admin_site(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    response = client.get("/")

    assert response.status_code == 200
    assert 'href="/admin/"' in response.text and "Open the admin site" in response.text


def test_login_page_shows_djangos_standard_form(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert 'name="username"' in response.text
    assert 'name="password"' in response.text
    assert 'name="csrfmiddlewaretoken"' in response.text
    assert '<label for="id_username">' in response.text


def test_signing_in_with_the_right_password_goes_to_the_workspace(client, member, workspace):
    response = client.post(
        "/accounts/login/", {"username": "max-member", "password": DEFAULT_PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == list_url(workspace)
    assert response.context["user"] == member.user


def test_signing_in_with_a_wrong_password_says_so_and_stays_signed_out(client, member):
    response = client.post("/accounts/login/", {"username": "max-member", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_form_in_the_navbar_and_ends_the_session(member_client, workspace):
    page = member_client.get(list_url(workspace))

    response = member_client.post("/accounts/logout/")

    assert '<form method="post" action="/accounts/logout/">' in page.text
    assert response.status_code == 302
    assert "_auth_user_id" not in member_client.session


def test_switcher_lists_every_workspace_of_a_user_in_several(client, member, workspace, other_workspace):
    MembershipFactory(workspace=other_workspace, user=member.user, role=Role.VIEWER)
    client.force_login(member.user)

    response = client.get(list_url(workspace))

    assert f'href="{list_url(other_workspace)}"' in response.text
    assert f'<a href="{list_url(workspace)}" aria-current="page">' in response.text


def test_switcher_is_not_shown_to_a_user_in_one_workspace(member_client, workspace):
    response = member_client.get(list_url(workspace))

    assert "switcher__menu" not in response.text
    assert "Acme Sales" in response.text


def test_navbar_memberships_cost_one_query_and_none_when_unused(
    member, workspace, other_workspace, django_assert_num_queries
):
    MembershipFactory(workspace=other_workspace, user=member.user)
    request = RequestFactory().get("/")
    request.user = member.user
    context = workspaces(request)

    with django_assert_num_queries(1):
        names = [m.workspace.name for m in context["memberships"]]

    assert names == ["Acme Sales", "Globex Buying"]
    assert context["current_membership"] is None


def test_workspace_address_opens_its_contact_list(member_client, workspace):
    response = member_client.get(f"/w/{workspace.slug}/")

    assert response["Location"] == list_url(workspace)


def test_workspace_address_of_a_workspace_you_are_not_in_is_not_found(member_client, other_workspace):
    response = member_client.get(f"/w/{other_workspace.slug}/")

    assert response.status_code == 404
    assert "We can't find that page" in response.text


@pytest.mark.parametrize("template", ["500.html", "404.html", "403.html", "403_csrf.html"])
def test_error_pages_render_without_a_request(template):
    html = render_to_string(template)

    assert "Contacts" in html
    assert "app.css" in html
