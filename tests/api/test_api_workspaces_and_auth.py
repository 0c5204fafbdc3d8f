"""Workspaces endpoint, throttling, and the published schema and docs."""

import yaml
from django.core.cache import cache
from django.test import override_settings

from contacts.factories import MembershipFactory
from contacts.models import Role


def test_workspaces_lists_only_mine_with_my_role(member_api, member, other_workspace):
    response = member_api.get("/api/v1/workspaces/")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert response.json()["results"][0] == {
        "id": str(member.workspace.id),
        "name": "Acme Sales",
        "slug": "acme-sales",
        "role": "member",
    }


def test_a_user_in_two_workspaces_sees_both(member_api, member, other_workspace):
    MembershipFactory(workspace=other_workspace, user=member.user, role=Role.VIEWER)

    response = member_api.get("/api/v1/workspaces/")

    assert [w["slug"] for w in response.json()["results"]] == ["acme-sales", "globex-buying"]


def test_workspace_detail_and_foreign_workspace_404(member_api, member, other_workspace):
    assert member_api.get(f"/api/v1/workspaces/{member.workspace.id}/").json()["role"] == "member"
    assert member_api.get(f"/api/v1/workspaces/{other_workspace.id}/").status_code == 404


def test_session_authentication_reads_work(client, member):
    client.force_login(member.user)

    assert client.get("/api/v1/workspaces/").status_code == 200


@override_settings(API_THROTTLE_RATE="3/min")
def test_too_many_requests_answer_429_with_retry_after(member_api, member):
    cache.clear()
    statuses = [member_api.get("/api/v1/workspaces/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = member_api.get("/api/v1/workspaces/")
    assert "throttled" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    cache.clear()


def test_schema_describes_every_operation_with_its_errors(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) == 14
    for path, method, operation in operations:
        assert {"401", "403", "404", "429"} <= set(operation["responses"]), (path, method)
        if method in {"post", "put", "patch"} and "requestBody" in operation:  # cancel takes no body
            assert {"400", "415"} <= set(operation["responses"]), (path, method)


def test_interactive_docs_load_assets_locally(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
