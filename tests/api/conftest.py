"""API clients authenticated the way integrators are: `Authorization: Token <key>`."""

import pytest
from rest_framework.test import APIClient

from contacts import services


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {services.api_token_get_or_create(user=user).key}")
    return client


@pytest.fixture
def member_api(member):
    return token_client(member.user)


@pytest.fixture
def viewer_api(viewer):
    return token_client(viewer.user)


@pytest.fixture
def anonymous_api():
    return APIClient()
