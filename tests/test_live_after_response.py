"""A request's live events are published after its response has been sent (AnnounceAfterResponse):
the writer's answer never waits behind the fan-out of its own event, and no event is lost when a
response is never closed or the view fails."""

from __future__ import annotations

import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from contacts.live import broadcast
from contacts.middleware import AnnounceAfterResponseMiddleware


@pytest.fixture
def published(monkeypatch) -> list[str]:
    sent: list[str] = []
    monkeypatch.setattr(broadcast, "_publish", lambda workspace_id, text: sent.append(text))
    return sent


def view_announcing(*events: str, then=None):
    def view(request):
        for event in events:
            broadcast.announce("w1", {"type": event})
        if then is not None:
            then()
        return HttpResponse("saved")

    return view


def test_events_wait_for_the_response_to_be_sent_then_go_in_order(published):
    middleware = AnnounceAfterResponseMiddleware(view_announcing("first", "second"))

    response = middleware(RequestFactory().post("/"))
    assert published == [], "nothing published while the response is still being sent"
    response.close()  # what Django's handlers do once the last byte is with the server

    assert published == ['{"type": "first"}', '{"type": "second"}']
    response.close()
    assert len(published) == 2, "released once"


def test_a_response_never_closed_still_publishes_within_the_limit(published, monkeypatch):
    monkeypatch.setattr(broadcast, "HOLD_AT_MOST", 0.2)
    middleware = AnnounceAfterResponseMiddleware(view_announcing("saved"))

    middleware(RequestFactory().post("/"))  # e.g. the client went away while the view ran
    deadline = time.monotonic() + 3
    while not published and time.monotonic() < deadline:
        time.sleep(0.02)

    assert published == ['{"type": "saved"}']


def test_a_failing_view_publishes_what_it_committed_at_once(published):
    def fail():
        raise RuntimeError("after the commit")

    middleware = AnnounceAfterResponseMiddleware(view_announcing("committed", then=fail))

    with pytest.raises(RuntimeError):
        middleware(RequestFactory().post("/"))

    assert published == ['{"type": "committed"}']


def test_outside_a_request_events_are_published_at_once(published):
    broadcast.announce("w1", {"type": "from a worker"})

    assert published == ['{"type": "from a worker"}']


def test_a_request_without_events_adds_no_work_after_the_response(published):
    response = AnnounceAfterResponseMiddleware(view_announcing())(RequestFactory().get("/"))

    assert response._resource_closers == []
