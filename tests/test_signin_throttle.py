"""Sign-in throttling: counters per username and per address, 429 pages, password reset and change.

Counts live in the test Redis (database 13); the autouse fixture in conftest.py gives every test
its own key prefix, so these tests see only their own attempts.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.test import RequestFactory
from rest_framework.test import APIClient

from contacts import services
from contacts.accounts import throttle
from contacts.factories import DEFAULT_PASSWORD, UserFactory
from tests.servers import Browser, free_port, running, wait_until_answering

REPO = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
RESET = "/accounts/password_reset/"
CHANGE = "/accounts/password_change/"


def fail_signin(client, username: str, times: int = 1, *, url: str = LOGIN, **extra) -> None:
    for _ in range(times):
        response = client.post(url, {"username": username, "password": "wrong"}, **extra)
        assert response.status_code == 200, response.status_code


def retry_after(response) -> int:
    return int(response["Retry-After"])


# --- The counters ------------------------------------------------------------------------------


def test_usernames_are_counted_case_and_width_insensitively():
    assert throttle.normalize_identity("  Alice ") == throttle.normalize_identity("ALICE") == "alice"
    assert throttle.normalize_identity("ａｌｉｃｅ") == "alice"


def test_ten_failures_lock_the_username_for_the_window(settings):
    for _ in range(9):
        throttle.signin_failed("alice", None)
    assert throttle.signin_attempt_blocked("alice", None) is None

    throttle.signin_failed("ALICE", None)

    lockout = throttle.signin_attempt_blocked(" Alice", None)
    assert lockout is not None and lockout.scope == "username"
    assert settings.SIGNIN_FAILURE_WINDOW - 5 <= lockout.seconds <= settings.SIGNIN_FAILURE_WINDOW
    assert lockout.minutes == 15
    assert throttle.signin_attempt_blocked("bob", None) is None


def test_fifty_failures_from_one_address_lock_the_address_whatever_the_username():
    for n in range(49):
        throttle.signin_failed(f"user{n}", "203.0.113.7")
    assert throttle.signin_attempt_blocked("someone", "203.0.113.7") is None

    throttle.signin_failed("user49", "203.0.113.7")

    lockout = throttle.signin_attempt_blocked("someone", "203.0.113.7")
    assert lockout is not None and lockout.scope == "address"
    assert throttle.signin_attempt_blocked("someone", "203.0.113.8") is None


def test_success_clears_the_usernames_failures_but_not_the_addresses(settings):
    settings.SIGNIN_FAILURES_PER_ADDRESS = 12
    throttle.signin_failed("alice", "203.0.113.7")
    for _ in range(9):
        throttle.signin_failed("alice", "203.0.113.7")
    throttle.signin_succeeded("Alice")

    throttle.signin_failed("alice", "203.0.113.7")
    assert throttle.signin_attempt_blocked("alice", None) is None
    throttle.signin_failed("alice", "203.0.113.7")
    assert throttle.signin_attempt_blocked(None, "203.0.113.7").scope == "address"


def test_the_window_passes(settings):
    settings.SIGNIN_FAILURE_WINDOW = 1
    for _ in range(10):
        throttle.signin_failed("alice", None)
    lockout = throttle.signin_attempt_blocked("alice", None)
    assert lockout is not None and lockout.seconds == 1

    time.sleep(1.2)

    assert throttle.signin_attempt_blocked("alice", None) is None
    throttle.signin_failed("alice", None)
    assert throttle.signin_attempt_blocked("alice", None) is None, "a new window starts from zero"


def test_the_sign_in_page_opens_again_when_the_window_passes(client, member, settings):
    settings.SIGNIN_FAILURE_WINDOW = 1
    fail_signin(client, "max-member", 10)
    locked = client.post(LOGIN, {"username": "max-member", "password": DEFAULT_PASSWORD})
    assert locked.status_code == 429 and locked["Retry-After"] == "1"

    time.sleep(1.2)

    assert client.post(LOGIN, {"username": "max-member", "password": DEFAULT_PASSWORD}).status_code == 302


@pytest.mark.parametrize("ignore_exceptions", [False, True])
def test_a_dead_cache_lets_everyone_sign_in_and_says_so(client, member, settings, caplog, ignore_exceptions):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
                "IGNORE_EXCEPTIONS": ignore_exceptions,
            },
        }
    }

    with caplog.at_level(logging.WARNING):
        fail_signin(client, "max-member", 11)
        response = client.post(LOGIN, {"username": "max-member", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert "cache" in caplog.text.lower() or "redis" in caplog.text.lower()


# --- Client addresses --------------------------------------------------------------------------


def address_of(remote: str, forwarded: str | None = None) -> str | None:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return throttle.client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))


def test_the_address_is_remote_addr_and_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = []

    assert address_of("198.51.100.4", "203.0.113.9") == "198.51.100.4"


def test_behind_trusted_proxies_the_rightmost_untrusted_forwarded_address_counts(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.168.1.1"]

    # The client may send any X-Forwarded-For; only what the proxies appended is believed.
    assert address_of("10.0.0.1", "1.2.3.4, 203.0.113.9, 192.168.1.1") == "203.0.113.9"
    assert address_of("10.0.0.1", "203.0.113.9") == "203.0.113.9"
    # A request that did not come through a proxy: its header is the client's invention.
    assert address_of("198.51.100.4", "203.0.113.9") == "198.51.100.4"
    # Garbage where an address should be: count against the last hop that is known.
    assert address_of("10.0.0.1", "203.0.113.9, not-an-ip") == "10.0.0.1"
    assert address_of("10.0.0.1", "") == "10.0.0.1"


def test_ipv6_clients_are_counted_per_64_and_unknown_addresses_not_at_all(settings):
    settings.TRUSTED_PROXIES = []

    assert address_of("2001:db8:1:2:aaaa::1") == address_of("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address_of("::ffff:203.0.113.9") == "203.0.113.9"
    assert address_of("") is None


# --- The app's and the admin's sign-in pages ---------------------------------------------------


def test_the_eleventh_attempt_at_one_account_gets_429_with_retry_after(client, member):
    fail_signin(client, "max-member", 10)

    response = client.post(LOGIN, {"username": "Max-Member", "password": "wrong"})

    assert response.status_code == 429
    assert 850 <= retry_after(response) <= 900
    assert "Too many failed sign-in attempts for this account; try again in 15 minutes." in response.text
    assert "no-store" in response["Cache-Control"]


def test_a_locked_account_is_refused_even_with_the_right_password(client, member):
    fail_signin(client, "max-member", 10)

    response = client.post(LOGIN, {"username": "max-member", "password": DEFAULT_PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_locking_one_account_does_not_block_another(client, member, viewer):
    fail_signin(client, "max-member", 10)

    response = client.post(LOGIN, {"username": "vera-viewer", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(viewer.user.pk)


def test_a_correct_password_clears_that_accounts_failures(client, member):
    fail_signin(client, "max-member", 9)
    assert client.post(LOGIN, {"username": "max-member", "password": DEFAULT_PASSWORD}).status_code == 302
    client.logout()

    fail_signin(client, "max-member", 9)

    assert client.post(LOGIN, {"username": "max-member", "password": DEFAULT_PASSWORD}).status_code == 302


def test_failures_from_one_address_lock_it_for_every_username(client, settings, db):
    settings.SIGNIN_FAILURES_PER_ADDRESS = 5
    for n in range(5):
        fail_signin(client, f"nobody-{n}")

    response = client.post(LOGIN, {"username": "someone-else", "password": "x"})
    other_address = client.post(
        LOGIN, {"username": "someone-else", "password": "x"}, REMOTE_ADDR="198.51.100.4"
    )

    assert response.status_code == 429
    assert "Too many failed sign-in attempts from your network" in response.text
    assert other_address.status_code == 200


def test_nonexistent_usernames_count_too(client, db):
    fail_signin(client, "no-such-user", 10)

    assert client.post(LOGIN, {"username": "no-such-user", "password": "x"}).status_code == 429


def test_the_login_page_keeps_djangos_form_and_offers_a_reset(client, db):
    response = client.get(LOGIN)

    assert 'name="username"' in response.text and 'name="password"' in response.text
    assert 'name="csrfmiddlewaretoken"' in response.text
    assert 'href="/accounts/password_reset/"' in response.text


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada-admin", is_staff=True, is_superuser=True)


def test_the_admin_login_is_throttled_too(client, admin_user):
    fail_signin(client, "ada-admin", 10, url=ADMIN_LOGIN)

    response = client.post(ADMIN_LOGIN, {"username": "ada-admin", "password": DEFAULT_PASSWORD})

    assert response.status_code == 429
    assert 850 <= retry_after(response) <= 900
    assert "Too many failed sign-in attempts for this account" in response.text


def test_failures_on_either_login_page_count_together(client, admin_user):
    fail_signin(client, "ada-admin", 5, url=ADMIN_LOGIN)
    fail_signin(client, "ada-admin", 5, url=LOGIN)

    assert client.post(ADMIN_LOGIN, {"username": "ada-admin", "password": "x"}).status_code == 429
    assert client.post(LOGIN, {"username": "ada-admin", "password": "x"}).status_code == 429


def test_the_admin_login_still_signs_staff_in(client, admin_user):
    response = client.post(
        ADMIN_LOGIN, {"username": "ada-admin", "password": DEFAULT_PASSWORD, "next": "/admin/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_api_tokens_are_not_affected_by_a_locked_account(client, member, workspace):
    fail_signin(client, "max-member", 10)
    assert client.post(LOGIN, {"username": "max-member", "password": "x"}).status_code == 429
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {services.api_token_get_or_create(user=member.user).key}")

    response = api.get("/api/v1/workspaces/")

    assert response.status_code == 200


# --- Password reset and change -----------------------------------------------------------------


def reset(client, email: str, **extra):
    return client.post(RESET, {"email": email}, **extra)


def test_password_reset_uses_the_apps_pages_and_sends_a_working_link(client, member):
    page = client.get(RESET)
    assert page.status_code == 200
    assert "Forgotten your password?" in page.text
    assert "Django administration" not in page.text

    response = reset(client, "max-member@example.com")

    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert "If an account exists" in client.get(response["Location"]).text
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.text
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-long-secret", "new_password2": "a-new-long-secret"},
    )
    assert done["Location"] == "/accounts/reset/done/"
    assert "Your password is set" in client.get(done["Location"]).text
    assert client.login(username="max-member", password="a-new-long-secret")


def test_password_reset_answers_the_same_for_an_unknown_address(client, db):
    response = reset(client, "nobody@example.com")

    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_one_email_address_gets_at_most_five_reset_messages_an_hour(client, member):
    for n in range(6):
        response = reset(client, "Max-Member@example.com", REMOTE_ADDR=f"198.51.100.{n}")
        assert response.status_code == 302, n
        assert response["Location"] == "/accounts/password_reset/done/"

    assert len(mail.outbox) == 5


def test_one_address_may_ask_for_five_resets_an_hour_then_gets_429(client, db):
    for n in range(5):
        assert reset(client, f"person{n}@example.com").status_code == 302

    response = reset(client, "someone@example.com")

    assert response.status_code == 429
    assert 3550 <= retry_after(response) <= 3600
    assert "Too many password reset requests from your network; try again in 60 minutes." in response.text


def test_password_change_uses_the_apps_page_and_wrong_current_passwords_count(member_client, member):
    page = member_client.get(CHANGE)
    assert page.status_code == 200
    assert "Change your password" in page.text and "Django administration" not in page.text
    data = {
        "old_password": "wrong",
        "new_password1": "a-new-long-secret",
        "new_password2": "a-new-long-secret",
    }
    for _ in range(10):
        assert member_client.post(CHANGE, data).status_code == 200

    response = member_client.post(CHANGE, {**data, "old_password": DEFAULT_PASSWORD})

    assert response.status_code == 429
    assert "Too many failed sign-in attempts for this account" in response.text


def test_password_change_works(member_client, member):
    data = {
        "old_password": DEFAULT_PASSWORD,
        "new_password1": "a-new-long-secret",
        "new_password2": "a-new-long-secret",
    }

    response = member_client.post(CHANGE, data)

    assert response["Location"] == "/accounts/password_change/done/"
    assert "Your password is changed" in member_client.get(response["Location"]).text
    member.user.refresh_from_db()
    assert member.user.check_password("a-new-long-secret")


# --- Two processes, one count ------------------------------------------------------------------


def _sign_in(browser: Browser, username: str, password: str) -> tuple[int, dict, str]:
    """Django's login form as a browser fills it: the CSRF token from the page, then the POST."""
    page = browser.request(LOGIN)
    assert page.status == 200, page.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = browser.request(
        LOGIN, data={"csrfmiddlewaretoken": token, "username": username, "password": password}
    )
    return answer.status, answer.headers, answer.text


@pytest.mark.slow
def test_failures_counted_by_two_processes_lock_the_account_in_both(client, db, settings, tmp_path):
    """A real server process and this test process share the count through Redis."""
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        pytest.skip("needs Redis: the local-memory cache is per process")
    # The server runs this test's settings with this test's key prefix, against its own SQLite
    # file (the test database may be in memory); the username exists in neither, which counts too.
    (tmp_path / "shared_signin_settings.py").write_text(
        "from contactsite.test_settings import *  # noqa: F403\n"
        f"SIGNIN_THROTTLE_KEY_PREFIX = {settings.SIGNIN_THROTTLE_KEY_PREFIX!r}\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
        "DJANGO_SETTINGS_MODULE": "shared_signin_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=REPO, check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "server.log"
    with running(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"], log=log, cwd=REPO, env=env
    ) as server:
        browser = Browser(f"http://127.0.0.1:{port}")
        wait_until_answering(lambda: browser.request(LOGIN).status == 200, process=server, log=log, within=60)

        username = f"ghost-{uuid.uuid4().hex[:8]}"
        for _ in range(5):
            status, _, page = _sign_in(browser, username, "wrong")
            assert status == 200 and "Please enter a correct username and password" in page
        fail_signin(client, username.upper(), 5)

        here = client.post(LOGIN, {"username": username, "password": "wrong"})
        status, headers, page = _sign_in(browser, username, "wrong")

        assert here.status_code == 429
        assert status == 429
        assert 850 <= int(headers["Retry-After"]) <= 900
        assert "Too many failed sign-in attempts for this account" in page
