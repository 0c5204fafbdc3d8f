"""Sending events to the workspaces' sockets from any process: web server, command, Celery worker.

Called from `transaction.on_commit` callbacks (see contacts.events), so only committed writes are
announced. Sending never makes the writer wait for Redis: messages go onto a queue that one
background thread with its own event loop drains, in order. That loop lives as long as the
process, so its Redis connections are opened once and never tied to an event loop that has
closed (the "Event loop is closed" failure of `async_to_sync(group_send)` in workers).

A workspace event is published once on the workspace's Redis channel, where every server
process's subscriber writes it to its own sockets (contacts.live.fanout). An access change goes
to the user's Channels group.

When Redis is unreachable the message is dropped with a warning: clients notice the gap in the
workspace version on the next event (or when they poll) and resynchronise.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import functools
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from contacts.live import fanout, session_group, user_group

logger = logging.getLogger(__name__)

# Messages waiting for Redis beyond this are dropped (logged); the version counter covers them.
MAX_PENDING = 10_000
# At most one "could not broadcast" warning per this many seconds.
WARNING_INTERVAL = 30.0


# A web request's announcements wait until its response has been sent (AnnounceAfterResponse in
# contacts.middleware): the process answering the writer also holds sockets, and the fan-out of
# the writer's own event would otherwise delay that answer. They wait this long at most, in case
# the response is never closed (the client went away while the view ran).
HOLD_AT_MOST = 2.0


class HeldAnnouncements:
    """The messages sent while a request runs, sent once its response has gone out."""

    def __init__(self) -> None:
        self._sends: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._released = False

    @property
    def pending(self) -> bool:
        return bool(self._sends)

    def add(self, send: Callable[[], None]) -> bool:
        """Keep `send` for later; False once released (the caller then sends at once)."""
        with self._lock:
            if not self._released:
                self._sends.append(send)
            return not self._released

    def release(self) -> None:
        """Send them, in order, once (the response closing and the time limit both call this)."""
        with self._lock:
            sends, self._sends, self._released = self._sends, [], True
        for send in sends:
            send()

    def release_at_the_latest_in(self, seconds: float) -> None:
        loop, _ = _sender._started()
        loop.call_soon_threadsafe(loop.call_later, seconds, self.release)


_held: contextvars.ContextVar[HeldAnnouncements | None] = contextvars.ContextVar("held", default=None)


@contextlib.contextmanager
def holding() -> Iterator[HeldAnnouncements]:
    """Within the block, `announce` keeps events in the returned object until it is released."""
    held = HeldAnnouncements()
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def announce(workspace_id: UUID | str, event: dict[str, Any]) -> None:
    """Send `event` (JSON-able) to every socket of the workspace, as one pre-encoded text frame."""
    _after_response(functools.partial(_publish, workspace_id, json.dumps(event)))


def _after_response(send: Callable[[], None]) -> None:
    """`send()` once the current request's response has gone out (at once outside a request)."""
    held = _held.get()
    if held is None or not held.add(send):
        send()


def _publish(workspace_id: UUID | str, text: str) -> None:
    if not fanout.uses_redis():
        fanout.deliver_here(workspace_id, text)
        return
    _sender.send(fanout.event_channel(workspace_id), text)


def access_changed(user_id: Any, workspace_id: UUID | str | None = None) -> None:
    """Tell the user's sockets (of one workspace, or all) to check their access again."""
    _sender.send(
        user_group(user_id),
        {"type": "access.changed", "workspace": str(workspace_id) if workspace_id else None},
    )


def credentials_changed(user_id: Any) -> None:
    """Tell the user's sockets that sessions may have ended (a new password): each checks its own.

    Sent after the response: the view that changed the password renews its own session (a new
    key, the new password's hash) while building the response, and sockets must find it so.
    """
    _after_response(functools.partial(_sender.send, user_group(user_id), {"type": "credentials.changed"}))


def session_ended(session_key: str) -> None:
    """Close the sockets opened with this session (it signed out)."""
    _sender.send(session_group(session_key), {"type": "session.ended"})


def flush(timeout: float = 5.0) -> bool:
    """Wait until every message sent so far has been handed to the channel layer (tests, exit)."""
    return _sender.flush(timeout)


class _Sender:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._last_warning = 0.0

    def send(self, group: str, message: dict[str, Any] | str) -> None:
        """`message` to a Channels group, or (text) published on a Redis channel."""
        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            # Local use without Redis: the layer's queues belong to the server's own event loop,
            # so send from the caller (a sync view runs in a thread of that loop).
            async_to_sync(layer.group_send)(group, message)
            return
        loop, queue = self._started()
        loop.call_soon_threadsafe(self._enqueue, queue, group, message)

    def flush(self, timeout: float) -> bool:
        if self._loop is None or self._pid != os.getpid():
            return True
        future = asyncio.run_coroutine_threadsafe(self._queue.join(), self._loop)
        try:
            future.result(timeout)
        except TimeoutError:
            future.cancel()
            return False
        return True

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue]:
        # After a fork (Celery's prefork pool) the parent's thread does not exist here: start anew.
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(
                    target=self._run, args=(loop, ready), name="contacts-live-broadcast", daemon=True
                )
                thread.start()
                ready.wait()
                self._loop, self._pid = loop, os.getpid()
            return self._loop, self._queue

    def _run(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        self._queue = asyncio.Queue()
        loop.create_task(self._drain(self._queue))
        loop.call_soon(ready.set)
        loop.run_forever()

    def _enqueue(self, queue: asyncio.Queue, group: str, message: dict[str, Any] | str) -> None:
        if queue.qsize() >= MAX_PENDING:
            self._warn("live update to %s dropped: %s messages already wait for Redis", group, MAX_PENDING)
            return
        queue.put_nowait((group, message))

    async def _drain(self, queue: asyncio.Queue) -> None:
        layer = get_channel_layer()
        publisher = fanout.redis_client()
        while True:
            group, message = await queue.get()
            try:
                if isinstance(message, str):  # a workspace event, for its Redis channel
                    await publisher.publish(group, message)
                else:
                    await layer.group_send(group, message)
            except Exception as error:  # Redis down or slow: clients resynchronise later
                self._warn("live update to %s not sent (%s: %s)", group, type(error).__name__, error)
            finally:
                queue.task_done()

    def _warn(self, text: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARNING_INTERVAL:
            self._last_warning = now
            logger.warning(text, *args)


_sender = _Sender()
# A command or worker that ends right after a write still delivers its announcement.
atexit.register(flush, 2.0)
