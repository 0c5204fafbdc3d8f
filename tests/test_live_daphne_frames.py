"""Workspace events written to Daphne's sockets as prepared frames (contacts.live.daphne_frames).

Three levels: a real Daphne process with real WebSocket clients (every event, in order, through the
fast path, sockets closing meanwhile); Daphne's own server and protocol classes in this process,
fed bytes (the frame is byte for byte what Daphne's own send writes, it queues behind bytes autobahn
has queued, and what Daphne would drop is dropped); and the fan-out's rules with stand-ins (a failing socket costs no other, the path is
chosen once per socket, a communicator keeps the ASGI send).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import os
import re
import struct
from pathlib import Path

import autobahn
import daphne
import pytest
import redis.asyncio
from channels.sessions import InstanceSessionWrapper
from channels.testing import WebsocketCommunicator
from daphne.server import Server  # loaded already: "daphne" is an installed app
from daphne.ws_protocol import WebSocketFactory
from django.conf import settings
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from websockets.asyncio.client import ClientConnection

from contacts.live import daphne_frames, fanout
from contacts.live.consumers import WorkspaceConsumer
from contactsite.asgi import application
from tests.servers import AppServer, app_server, open_live_socket, run_async, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# The fan-out's summary of each event, logged at DEBUG (the server runs with LOG_LEVEL=DEBUG).
SUMMARY = re.compile(r"live event to (\d+) sockets: (\d+) as Daphne frames, (\d+) through ASGI send")


async def open_socket(server: AppServer, workspace_id, cookie: str) -> ClientConnection:
    socket, _hello = await open_live_socket(server, workspace_id, cookie)
    return socket


async def publish(workspace_id, count: int, *, first: int = 0) -> None:
    """`count` numbered events on the workspace's channel, as a write in another process sends them."""
    client = redis.asyncio.Redis.from_url(settings.CHANNELS_REDIS_URL)
    try:
        for number in range(first, first + count):
            text = json.dumps({"type": "test.event", "n": number, "pad": "x" * (number * 7 % 300)})
            await client.publish(fanout.event_channel(workspace_id), text)
    finally:
        await client.aclose()


async def numbers(socket: ClientConnection, count: int, *, within: float = 10) -> list[int]:
    """The numbers of the next `count` test events on `socket` (other events skipped)."""
    received: list[int] = []
    async with asyncio.timeout(within):
        while len(received) < count:
            event = json.loads(await socket.recv())
            if event["type"] == "test.event":
                received.append(event["n"])
    return received


def summaries(log: Path) -> list[tuple[int, int, int]]:
    return [tuple(map(int, match)) for match in SUMMARY.findall(log.read_text())]


# --- A real Daphne process, real clients ----------------------------------------------------------


def test_every_daphne_socket_gets_every_event_in_order_as_prepared_frames(tmp_path: Path, workspace, member):
    cookie, log = session_cookie(member.user), tmp_path / "daphne.log"
    clients, events = 6, 40

    with app_server(log, env={"LOG_LEVEL": "DEBUG"}) as server:

        async def scenario() -> None:
            sockets = [await open_socket(server, workspace.id, cookie) for _ in range(clients)]
            await publish(workspace.id, events)
            for socket in sockets:
                assert await numbers(socket, events) == list(range(events))
            for socket in sockets:
                await socket.close()

        run_async(scenario)

    seen = summaries(log)
    # Each event went to all six sockets, every one as a prepared frame, none through the ASGI send.
    assert len(seen) == events, seen
    assert set(seen) == {(clients, clients, 0)}, seen


def test_sockets_closing_during_a_burst_cost_the_others_nothing(tmp_path: Path, workspace, member):
    cookie, log = session_cookie(member.user), tmp_path / "daphne.log"
    events = 200

    with app_server(log, env={"LOG_LEVEL": "DEBUG"}) as server:

        async def scenario() -> None:
            staying = [await open_socket(server, workspace.id, cookie) for _ in range(3)]
            aborted = await open_socket(server, workspace.id, cookie)  # the TCP connection cut
            closed = await open_socket(server, workspace.id, cookie)  # a close handshake

            async def leave_midway() -> None:
                await numbers(aborted, 20)
                aborted.transport.abort()
                await numbers(closed, 40)
                await closed.close()

            leaving = asyncio.create_task(leave_midway())
            await publish(workspace.id, events)
            await leaving
            for socket in staying:
                assert await numbers(socket, events) == list(range(events))
            # And the fan-out goes on after they have gone.
            await publish(workspace.id, 5, first=events)
            for socket in staying:
                assert await numbers(socket, 5) == list(range(events, events + 5))
                await socket.close()

        run_async(scenario)

    seen = summaries(log)
    assert len(seen) == events + 5
    assert seen[0] == (5, 5, 0)
    # The last events went to the three staying sockets only (the others had left the fan-out).
    assert seen[-1] == (3, 3, 0)
    assert all(asgi == 0 for _, _, asgi in seen)
    assert "Traceback" not in log.read_text()


# --- Daphne's classes in this process, fed bytes --------------------------------------------------


def in_process_daphne():
    """Daphne's Server, its WebSocket factory set up as Server.run sets it up, and a protocol on a
    string transport, as Daphne's HTTP protocol hands a connection over when it upgrades."""
    server = Server(application=application, endpoints=["tcp:port=0:interface=127.0.0.1"])  # not listened on
    server.connections = {}
    server.ws_factory = WebSocketFactory(server, server=server.server_name)
    server.ws_factory.setProtocolOptions(
        autoPingTimeout=server.ping_timeout,
        allowNullOrigin=True,
        openHandshakeTimeout=server.websocket_handshake_timeout,
        maxMessagePayloadSize=server.websocket_max_message_size,
        maxFramePayloadSize=server.websocket_max_frame_size,
    )
    protocol = server.ws_factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
    protocol._raw_query_string = b""
    transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
    protocol.makeConnection(transport)
    return server, protocol, transport


def handshake(workspace_id, cookie: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /ws/workspaces/{workspace_id}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://127.0.0.1\r\nCookie: {cookie}\r\n\r\n"
    ).encode()


def text_frames(data: bytes) -> list[str]:
    """The unmasked, unfragmented text frames in `data` (what a server writes)."""
    frames, at = [], 0
    while at < len(data):
        first, second = data[at], data[at + 1]
        assert first == 0x81 and not second & 0x80, data[at : at + 2]  # FIN + text, no mask
        length, at = second & 0x7F, at + 2
        if length == 126:
            (length,), at = struct.unpack("!H", data[at : at + 2]), at + 2
        elif length == 127:
            (length,), at = struct.unpack("!Q", data[at : at + 8]), at + 8
        frames.append(data[at : at + length].decode())
        at += length
    return frames


async def until(condition, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    assert condition()


def test_daphnes_own_protocol_is_recognised_and_gets_the_same_bytes_as_through_its_send(workspace, member):
    cookie = session_cookie(member.user)

    async def scenario() -> None:
        server, protocol, transport = in_process_daphne()
        protocol.dataReceived(handshake(workspace.id, cookie))
        here = fanout._fanout()
        await until(lambda: str(workspace.id) in here.sockets)
        ((consumer, wire),) = here.sockets[str(workspace.id)].values()
        try:
            assert isinstance(consumer, WorkspaceConsumer)
            assert isinstance(wire, daphne_frames.DaphneSocket)
            assert wire.protocol is protocol and wire.server is server and wire.direct
            await until(lambda: b'"hello"' in transport.value())
            transport.clear()

            # The same two texts, once through Daphne's own send, once as prepared frames.
            texts = ['{"type": "short"}', json.dumps({"type": "long", "pad": "é" * 200})]
            for text in texts:
                await consumer.send_event(text)
            through_send = transport.value()
            transport.clear()
            for text in texts:
                await here.deliver(str(workspace.id), text)
            assert transport.value() == through_send
            assert text_frames(through_send) == texts
            # The same again through autobahn's sendPreparedMessage (another autobahn, or a queue).
            transport.clear()
            wire.direct = False
            for text in texts:
                await here.deliver(str(workspace.id), text)
            assert transport.value() == through_send
            wire.direct = True

            # Bytes queued by autobahn (a chopped write) are not overtaken: the frame queues behind them.
            transport.clear()
            protocol.sendData(b"ab", chopsize=1)  # writes "a" now, queues "b" for the reactor
            assert transport.value() == b"a" and list(protocol.send_queue) == [(b"b", True)]
            assert wire.write(daphne_frames.Frame('{"type": "queued"}')) is True
            assert transport.value() == b"a"
            assert len(protocol.send_queue) == 2 and protocol.send_queue[0] == (b"b", True)
            assert text_frames(protocol.send_queue[1][0]) == ['{"type": "queued"}']
            protocol.send_queue.clear()
            protocol.triggered = False

            # What Daphne's Server.handle_reply drops is dropped too, though the protocol is still open:
            # a connection it no longer holds, or one it has marked disconnected.
            late = daphne_frames.Frame('{"type": "late"}')
            transport.clear()
            details = server.connections.pop(protocol)
            assert protocol.state == protocol.STATE_OPEN and wire.write(late) is False
            server.connections[protocol] = {**details, "disconnected": 1.0}
            assert wire.write(late) is False
            server.connections[protocol] = details
            assert transport.value() == b""
            assert wire.write(late) is True and text_frames(transport.value()) == ['{"type": "late"}']

            # Closed: Daphne marks it disconnected, and nothing more is written to it.
            protocol.connectionLost(Failure(ConnectionDone()))
            assert not wire.is_open()
            transport.clear()
            assert wire.write(daphne_frames.Frame('{"type": "late"}')) is False
            assert transport.value() == b""
        finally:
            fanout.leave(str(workspace.id), consumer)

    run_async(scenario)


def test_what_is_not_daphnes_plain_send_is_not_recognised(monkeypatch, caplog):
    server = Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])  # not listened on
    server.connections = {}
    factory = WebSocketFactory(server, server="Daphne")
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
    protocol.makeConnection(StringTransport())

    def consumer_with(send) -> WorkspaceConsumer:
        consumer = WorkspaceConsumer()
        consumer.base_send = send
        return consumer

    daphne_send = functools.partial(server.handle_reply, protocol)
    wrapped = InstanceSessionWrapper({"cookies": {}}, daphne_send).send
    assert daphne_frames.find(consumer_with(daphne_send)).protocol is protocol
    assert daphne_frames.find(consumer_with(wrapped)).protocol is protocol

    async def elsewhere(message) -> None: ...

    assert daphne_frames.find(consumer_with(elsewhere)) is None  # Uvicorn, a communicator, ...
    assert daphne_frames.find(consumer_with(functools.partial(print, protocol))) is None
    assert daphne_frames.find(object()) is None
    assert daphne_frames.find(consumer_with(None)) is None

    class OwnSend(WorkspaceConsumer):
        async def send(self, text_data=None, bytes_data=None, close=False) -> None: ...

    own = OwnSend()
    own.base_send = daphne_send
    assert daphne_frames.find(own) is None  # bypassing it would skip what it does

    monkeypatch.setattr(daphne, "__version__", "9.9.9")  # a Daphne this was not checked against
    assert daphne_frames.find(consumer_with(daphne_send)) is None
    assert "Daphne 9.9.9 is not one contacts.live.daphne_frames was checked against" in caplog.text
    monkeypatch.undo()
    assert daphne_frames.find(consumer_with(daphne_send)).direct
    monkeypatch.setattr(autobahn, "__version__", "99.1.1")  # recognised, but through sendPreparedMessage
    assert daphne_frames.find(consumer_with(daphne_send)).direct is False
    monkeypatch.undo()

    protocol._perMessageCompress = object()  # permessage-deflate negotiated
    assert daphne_frames.find(consumer_with(daphne_send)) is None
    protocol._perMessageCompress = None
    protocol.autoFragmentSize = 1024
    assert daphne_frames.find(consumer_with(daphne_send)) is None
    protocol.autoFragmentSize = 0
    del protocol.maskServerFrames  # an unexpected shape: not recognised, no error
    assert daphne_frames.find(consumer_with(daphne_send)) is None


# --- The fan-out's rules, with stand-ins ----------------------------------------------------------


class FakeWire:
    def __init__(self, *, broken: bool = False) -> None:
        self.written: list[str] = []
        self.broken = broken

    def write(self, frame: daphne_frames.Frame) -> bool:
        if self.broken:
            raise ConnectionResetError("the connection went away meanwhile")
        self.written.append(frame.payload.decode())
        return True


class FakeSocket:
    def __init__(self) -> None:
        self.received: list[str] = []

    async def send_event(self, text: str) -> None:
        self.received.append(text)


def test_a_failing_frame_write_costs_no_other_socket_and_each_socket_keeps_its_path(monkeypatch):
    sockets = [FakeSocket() for _ in range(4)]
    wires = [FakeWire(), FakeWire(broken=True), FakeWire(), FakeWire()]
    found = {id(sockets[0]): wires[0], id(sockets[1]): wires[1], id(sockets[2]): wires[2]}
    monkeypatch.setattr(daphne_frames, "find", lambda socket: found.get(id(socket)))

    async def scenario() -> None:
        for socket in sockets:
            await fanout.join("ws-frames", socket)
        # Found once, at join: a socket keeps its path for good.
        found[id(sockets[3])] = wires[3]
        del found[id(sockets[0])]
        try:
            texts = [json.dumps({"type": "contact.updated", "version": number}) for number in range(3)]
            for text in texts:
                await fanout._fanout().deliver("ws-frames", text)
        finally:
            for socket in sockets:
                fanout.leave("ws-frames", socket)
        assert [wire.written for wire in wires] == [texts, [], texts, []]
        assert [socket.received for socket in sockets] == [[], [], [], texts]

    run_async(scenario)


def test_a_communicator_socket_keeps_the_asgi_send_and_gets_the_events(workspace, member):
    cookie = session_cookie(member.user)

    async def scenario() -> None:
        communicator = WebsocketCommunicator(
            application,
            f"/ws/workspaces/{workspace.id}/",
            headers=[(b"origin", b"http://testserver"), (b"cookie", cookie.encode())],
        )
        connected, _ = await communicator.connect()
        assert connected
        assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
        try:
            ((consumer, wire),) = fanout._fanout().sockets[str(workspace.id)].values()
            assert isinstance(consumer, WorkspaceConsumer) and wire is None
            await publish(workspace.id, 3)
            got = [await communicator.receive_json_from(timeout=3) for _ in range(3)]
            assert [event["n"] for event in got] == [0, 1, 2]
        finally:
            await communicator.disconnect()

    run_async(scenario)
