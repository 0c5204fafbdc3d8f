"""The process-local fan-out (contacts.live.fanout): one Redis subscription per event loop, each
event written to this loop's sockets of its workspace only, a failing socket costing no other."""

from __future__ import annotations

import asyncio
import gc
import json

from contacts.live import broadcast, fanout
from tests.servers import run_async


class FakeSocket:
    def __init__(self, *, broken: bool = False) -> None:
        self.received: list[str] = []
        self.broken = broken

    async def send_event(self, text: str) -> None:
        if self.broken:
            raise ConnectionResetError("the socket closed meanwhile")
        self.received.append(text)


async def until(condition, seconds: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)


def test_an_event_reaches_every_socket_of_its_workspace_only_in_order():
    async def scenario():
        mine, also_mine, broken, elsewhere = FakeSocket(), FakeSocket(), FakeSocket(broken=True), FakeSocket()
        for socket in (mine, broken, also_mine):
            await fanout.join("ws-a", socket)
        await fanout.join("ws-b", elsewhere)
        try:
            for number in range(5):
                broadcast.announce("ws-a", {"type": "contact.updated", "version": number})

            await until(lambda: len(also_mine.received) == 5)

            assert [json.loads(text)["version"] for text in mine.received] == [0, 1, 2, 3, 4]
            assert also_mine.received == mine.received
            assert elsewhere.received == []
        finally:
            for socket in (mine, broken, also_mine):
                fanout.leave("ws-a", socket)
            fanout.leave("ws-b", elsewhere)

    run_async(scenario)


def test_a_socket_that_left_gets_nothing_and_the_last_one_leaving_ends_the_subscription():
    async def scenario():
        staying, leaving = FakeSocket(), FakeSocket()
        await fanout.join("ws-a", staying)
        await fanout.join("ws-a", leaving)
        fanout.leave("ws-a", leaving)

        broadcast.announce("ws-a", {"type": "contact.deleted"})
        await until(lambda: staying.received)

        assert len(staying.received) == 1 and leaving.received == []
        here = fanout._fanout()
        fanout.leave("ws-a", staying)
        assert here.listener is None and here.sockets == {}

    run_async(scenario)


def test_a_socket_joined_is_subscribed_so_an_event_right_after_reaches_it():
    async def scenario():
        socket = FakeSocket()
        await fanout.join("ws-c", socket)  # returns once the subscription is up
        try:
            await fanout.publish("ws-c", '{"type": "presence.here"}')
            await until(lambda: socket.received)
            assert socket.received == ['{"type": "presence.here"}']
        finally:
            fanout.leave("ws-c", socket)

    run_async(scenario)


def test_without_redis_events_go_straight_to_this_process_sockets(settings):
    async def scenario():
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        socket = FakeSocket()
        await fanout.join("ws-d", socket)
        try:
            broadcast.announce("ws-d", {"type": "workspace.changed"})
            await until(lambda: socket.received)
            assert socket.received == ['{"type": "workspace.changed"}']
        finally:
            fanout.leave("ws-d", socket)

    run_async(scenario)


class CollectorWatchingSocket(FakeSocket):
    """Notes, at each write, whether Python's cyclic garbage collector could run meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.collector_on: list[bool] = []

    async def send_event(self, text: str) -> None:
        self.collector_on.append(gc.isenabled())
        await super().send_event(text)


def test_no_garbage_collection_starts_while_an_event_is_being_written():
    async def scenario():
        sockets = [CollectorWatchingSocket() for _ in range(3)]
        loop_fanout = fanout._LoopFanout()
        for socket in sockets:
            loop_fanout.sockets.setdefault("ws-a", {})[id(socket)] = (socket, None)

        await loop_fanout.deliver("ws-a", '{"type": "contact.updated"}')
        after = gc.isenabled()
        gc.disable()  # someone who turned it off keeps it off
        try:
            await loop_fanout.deliver("ws-a", '{"type": "contact.updated"}')
            still_off = not gc.isenabled()
        finally:
            gc.enable()

        assert [socket.collector_on for socket in sockets] == [[False, False]] * 3
        assert after and still_off

    assert gc.isenabled()
    run_async(scenario)
