"""Short garbage collections in a process holding many sockets (contacts.live.collector): the sockets'
objects are frozen out of the collector's sight once they settle, and what closed sockets left behind
is collected once a quarter of them have gone."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from contacts.live import collector as collector_module
from contacts.live import fanout
from contacts.live.collector import Collector
from tests.servers import run_async, run_async_value
from tests.test_live_fanout import FakeSocket

SETTLE = 0.05


@pytest.fixture(autouse=True)
def small_numbers(monkeypatch):
    monkeypatch.setattr(collector_module, "FREEZE_FROM", 8)
    monkeypatch.setattr(collector_module, "SETTLE", SETTLE)
    gc.unfreeze()  # e.g. importing contactsite.asgi froze what the test process had loaded
    yield
    gc.unfreeze()  # whatever a test froze is the test process's to collect again


class SocketObjects:
    """What an open socket holds: objects in a reference cycle, garbage once it is gone."""

    def __init__(self) -> None:
        self.cycle = [self]


def settled() -> asyncio.Future:
    return asyncio.sleep(SETTLE * 3)


def test_nothing_is_frozen_below_the_threshold():
    async def scenario():
        collector = Collector()
        for _ in range(7):
            collector.joined()
        await settled()
        return gc.get_freeze_count()

    assert run_async_value(scenario) == 0  # (the fixture below thawed what anything froze before)


def test_sockets_that_settle_are_frozen_and_full_collections_skip_them():
    async def scenario():
        collector = Collector()
        held = [SocketObjects() for _ in range(8)]
        for _ in held:
            collector.joined()
        assert gc.get_freeze_count() == 0  # not at once: a burst of joins settles first
        await settled()
        frozen = gc.get_freeze_count()
        assert frozen > 0 and collector.frozen_with == 8
        tracked = {id(found) for found in gc.get_objects()}  # the frozen ones are not among them
        assert not any(id(objects) in tracked for objects in held)

        collector.joined()  # one more is not a quarter more: nothing new
        await settled()
        assert collector.frozen_with == 8
        for _ in range(2):
            collector.joined()
        await settled()
        assert collector.frozen_with == 11

    run_async(scenario)


def test_once_a_quarter_of_the_sockets_left_their_objects_are_collected():
    async def scenario():
        collector = Collector()
        held = [SocketObjects() for _ in range(8)]
        gone = [weakref.ref(objects) for objects in held]
        for _ in held:
            collector.joined()
        await settled()

        collector.left()
        del held[:2]
        gc.collect()
        assert gone[0]() is not None  # frozen: a full collection does not see it
        collector.left()
        await settled()  # two of eight: a quarter left, their objects are collected

        assert gone[0]() is None and gone[1]() is None and gone[2]() is not None
        assert collector.frozen_with == 0  # six sockets: below the threshold, no longer watched
        assert gc.get_freeze_count() > 0  # the rest frozen again

    run_async(scenario)


def test_a_steady_stream_of_joins_does_not_put_the_freeze_off():
    async def scenario():
        collector = Collector()
        for _ in range(30):
            collector.joined()
            await asyncio.sleep(SETTLE / 5)  # another joins before the last one settled
        return collector.frozen_with

    assert run_async_value(scenario) > 0


def test_the_fan_out_counts_the_sockets_it_holds(monkeypatch):
    counted = Collector()
    monkeypatch.setattr(fanout, "collector", counted)
    monkeypatch.setattr(fanout, "uses_redis", lambda: False)

    async def scenario():
        loop_fanout = fanout._LoopFanout()
        sockets = [FakeSocket() for _ in range(3)]
        for socket in sockets:
            await loop_fanout.join("ws-a", socket)
        await loop_fanout.join("ws-a", sockets[0])  # joined twice: still one socket
        assert counted.sockets == 3
        loop_fanout.leave("ws-a", sockets[0])
        loop_fanout.leave("ws-a", sockets[0])  # left twice: still one less
        assert counted.sockets == 2

    run_async(scenario)
