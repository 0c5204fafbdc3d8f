"""Workspace events to this process's sockets: one Redis subscription, frames written directly.

A workspace event is the same text for every socket of the workspace, and a server process may
hold a thousand of them. Sent as a Channels group message, each socket would cost a queue put, a
message decode, a task wake-up and a new `asyncio.wait` task in its consumer before its frame is
written: a third of the server's CPU time at a thousand sockets, measured (bench/README.md, "Live
updates"). Here each server process (each event loop, in tests) subscribes once to the Redis
pattern of every workspace's event channel and, for each message, writes the text to its own
sockets of that workspace, in order, one after another.

Under Daphne, a socket's events skip the ASGI send altogether: the event is framed once and the
same bytes are written to each of its Daphne connections (contacts.live.daphne_frames, which holds
everything that knows Daphne's internals). Whether a socket is written that way is decided once, when
it joins, so all of its events take the same path, in order. Other servers, and anything that module
does not recognise, keep `send_event`.

The subscription is up before a socket is told the workspace's version (the consumer awaits
`join`), so no event committed after that "hello" can be missed. A process that loses Redis
misses events while it reconnects; the version in every event makes pages resynchronise, as
with any missed event. Without Redis (local use), events go straight to the sockets of this
process.

Access changes (one user's sockets) stay on the Channels layer: they are rare and per user.

The sockets joining and leaving are counted for contacts.live.collector, which keeps Python's full
garbage collections from examining a thousand sockets' objects again and again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Iterator
from typing import Any, Protocol
from uuid import UUID

import redis.asyncio
from django.conf import settings

from contacts.live import daphne_frames
from contacts.live.collector import collector

logger = logging.getLogger(__name__)

# After losing Redis, the subscriber tries again after this many seconds (doubling up to the max).
RECONNECT_FIRST, RECONNECT_MAX = 0.2, 5.0


class Socket(Protocol):
    """A socket of the fan-out. `send_event(text)` sends `text` as one text frame and nothing else:
    a Daphne socket's events may be written as that frame without calling it."""

    async def send_event(self, text: str) -> None: ...


def uses_redis() -> bool:
    return "Redis" in settings.CHANNEL_LAYERS["default"]["BACKEND"]


def _prefix() -> str:
    return f"{settings.CHANNEL_LAYERS['default'].get('CONFIG', {}).get('prefix', 'contacts')}:live:"


def event_channel(workspace_id: UUID | str) -> str:
    """The Redis pub/sub channel carrying the workspace's events."""
    return f"{_prefix()}{workspace_id}"


def redis_client() -> redis.asyncio.Redis:
    # No socket timeout on the subscription: an idle one must not be cut after a few seconds.
    return redis.asyncio.Redis.from_url(settings.CHANNELS_REDIS_URL, socket_connect_timeout=1)


class _LoopFanout:
    """The sockets of one event loop, by workspace, and the one subscription feeding them."""

    def __init__(self) -> None:
        # Each socket with its Daphne connection, if its events are written as prepared frames.
        self.sockets: dict[str, dict[int, tuple[Socket, daphne_frames.DaphneSocket | None]]] = {}
        self.listener: asyncio.Task | None = None
        self.subscribed: asyncio.Event | None = None
        self.publisher: redis.asyncio.Redis | None = None

    async def join(self, workspace_id: str, socket: Socket) -> None:
        members = self.sockets.setdefault(workspace_id, {})
        if id(socket) not in members:
            collector.joined()
        members[id(socket)] = (socket, daphne_frames.find(socket))
        if not uses_redis():
            return
        if self.listener is None or self.listener.done():
            self.subscribed = asyncio.Event()
            self.listener = asyncio.get_running_loop().create_task(self._listen(self.subscribed))
        await self.subscribed.wait()

    def leave(self, workspace_id: str, socket: Socket) -> None:
        members = self.sockets.get(workspace_id, {})
        if members.pop(id(socket), None) is not None:
            collector.left()
        if not members:
            self.sockets.pop(workspace_id, None)
        if not self.sockets and self.listener is not None:
            # The last socket of this loop left: nothing to feed (tests end their loops often).
            self.listener.cancel()
            self.listener = None

    async def deliver(self, workspace_id: str, text: str) -> None:
        with _no_collection_meanwhile():
            await self._deliver(workspace_id, text)

    async def _deliver(self, workspace_id: str, text: str) -> None:
        members = list(self.sockets.get(workspace_id, {}).values())
        frame: daphne_frames.Frame | None = None  # framed at the first Daphne socket, then reused
        framed = sent = 0
        for socket, daphne in members:
            try:
                if daphne is None:
                    sent += 1
                    await socket.send_event(text)
                else:
                    if frame is None:
                        frame = daphne_frames.Frame(text)
                    framed += daphne.write(frame)
            except Exception as error:  # a socket closing meanwhile must not cost the others
                logger.debug("live event not written to a closing socket: %s", error)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "live event to %d sockets: %d as Daphne frames, %d through ASGI send",
                len(members),
                framed,
                sent,
            )

    async def _listen(self, subscribed: asyncio.Event) -> None:
        pause = RECONNECT_FIRST
        prefix = _prefix()
        while True:
            client = redis_client()
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(f"{prefix}*")
                subscribed.set()
                pause = RECONNECT_FIRST
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None or message["type"] != "pmessage":
                        continue
                    workspace_id = message["channel"].decode()[len(prefix) :]
                    if workspace_id in self.sockets:
                        await self.deliver(workspace_id, message["data"].decode())
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning(
                    "live events: lost the Redis subscription (%s: %s); retrying in %.1fs",
                    type(error).__name__,
                    error,
                    pause,
                )
                subscribed.set()  # sockets joining meanwhile are not held up; their pages poll
                await asyncio.sleep(pause)
                pause = min(pause * 2, RECONNECT_MAX)
            finally:
                await _quietly(pubsub.aclose())
                await _quietly(client.aclose())


@contextlib.contextmanager
def _no_collection_meanwhile() -> Iterator[None]:
    """Python's cyclic garbage collector held off while an event is written to the sockets.

    A process holding a thousand sockets holds a great many objects; a full collection of them
    takes 0.1-0.15 s, and it starts whenever enough allocations happened, which is most often in the
    middle of writing an event (measured: one event in forty reached its sockets after 147 ms
    instead of 30-70 ms). Held off, the collection runs at the first allocation after the last
    socket was written, between events. Someone who disabled the collector keeps it disabled.
    """
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


async def _quietly(closing: Any) -> None:
    with contextlib.suppress(Exception):  # closing what already failed
        await closing


_fanouts: dict[asyncio.AbstractEventLoop, _LoopFanout] = {}


def _fanout() -> _LoopFanout:
    loop = asyncio.get_running_loop()
    if loop not in _fanouts:
        for old in [old for old in _fanouts if old.is_closed()]:
            del _fanouts[old]
        _fanouts[loop] = _LoopFanout()
    return _fanouts[loop]


async def join(workspace_id: UUID | str, socket: Socket) -> None:
    """Deliver the workspace's events to `socket` from now on (returns once that is assured)."""
    await _fanout().join(str(workspace_id), socket)


def leave(workspace_id: UUID | str, socket: Socket) -> None:
    _fanout().leave(str(workspace_id), socket)


async def publish(workspace_id: UUID | str, text: str) -> None:
    """Send an event from a socket's own loop (presence) to every process's sockets."""
    here = _fanout()
    if not uses_redis():
        deliver_here(workspace_id, text)
        return
    if here.publisher is None:
        here.publisher = redis_client()
    await here.publisher.publish(event_channel(workspace_id), text)


def deliver_here(workspace_id: UUID | str, text: str) -> None:
    """Without Redis: hand the event to the sockets of every event loop of this process."""
    for loop, fanout in list(_fanouts.items()):
        if not loop.is_closed():
            asyncio.run_coroutine_threadsafe(fanout.deliver(str(workspace_id), text), loop)
