"""Workspace events written to Daphne's sockets as one frame built once: autobahn's broadcast path.

Why: under Daphne, `await consumer.send(text_data=...)` for each of a thousand sockets costs, per
socket, Channels' session wrapper, Daphne's `Server.handle_reply` and `WebSocketProtocol
.handle_reply`/`serverSend`, then autobahn's `sendMessage` encoding and framing the same text again
(bench/README.md, "Live updates": py-spy at 1,000 sockets, autobahn's `sendFrame` 19 % of the samples,
the session wrapper about 8 %). Autobahn documents the remedy for broadcasts:
`factory.prepareMessage(payload)` frames a message once and `protocol.sendPreparedMessage(prepared)`
writes those bytes to a connection as they are. The fan-out (contacts.live.fanout) does that for the
sockets this module recognises. (Twisted's own write, `doWrite`, stays per socket.)

One step further, with the autobahn release it was checked against (AUTOBAHN_VERSIONS): autobahn's
`sendData`, under `sendPreparedMessage`, formats a debug line for every write whether or not debug
logging is on (`hltype`/`hlval`, colouring with click), about half of what remains per socket
(measured: 16 us per socket through the ASGI send, 8 us through `sendPreparedMessage`, under 1 us
writing the prepared bytes to the transport). So when nothing is queued on the connection and octet
logging is off, the bytes go to `protocol.transport.write` as `sendData` would write them, wire-level
byte count included; otherwise, and with any other autobahn, through `sendPreparedMessage`.

Everything here that knows Daphne's, autobahn's or Channels' internals is in this module, written
against daphne 4.2.3, autobahn 26.10.2 and channels 4.3.2 (WRITTEN_AGAINST); a Daphne other than
4.2.x is not trusted to be the same (DAPHNE_VERSIONS: read its code, then add it), nor an autobahn
other than 26.x to write as `sendData` does (AUTOBAHN_VERSIONS). What it relies on:

- Channels keeps the ASGI `send` a consumer was called with as `consumer.base_send`; the session
  middleware (AuthMiddlewareStack) wraps it as the bound method `InstanceSessionWrapper.send`, which
  passes a `websocket.send` through untouched to `real_send` (it acts on `http.response.start` only).
- Daphne's `send` is `functools.partial(Server.handle_reply, protocol)` (bound to the server), the
  protocol a `daphne.ws_protocol.WebSocketProtocol`, i.e. an autobahn `WebSocketServerProtocol`.
- For a text `websocket.send`, Daphne does nothing but: drop it if `protocol not in
  server.connections` or the connection has a "disconnected" time (Server.handle_reply); refuse it
  while the handshake is pending (WebSocketProtocol.handle_reply); `sendMessage(text.encode())`
  (serverSend), which refuses a connection not OPEN and a payload over `maxMessagePayloadSize`. It
  updates no state of Daphne's: `last_ping` moves on received frames and pings only, the timeouts
  count from `socket_opened`, the application checker looks at `server.connections`. What autobahn's
  `sendMessage` does beyond framing is traffic statistics (`trafficStats`, read by nothing here),
  `trackedTimings` and frame logging (both off unless asked for): not reproduced. `DaphneSocket.write`
  makes Daphne's checks (and, as Daphne, sends nothing for an empty text), and hands autobahn's
  `sendMessage` what a prepared frame cannot express (a payload over the size limit: it raises, as
  it would have).

Anything not recognised, or any doubt, means None: the socket keeps the normal ASGI send, with
identical results, only slower. That covers Uvicorn and other servers, the tests' in-memory
communicators, a connection that negotiated permessage-deflate (a prepared frame is uncompressed;
autobahn would compress per connection anyway), masked or auto-fragmented server frames, a consumer
whose `send` is not Channels' own, and a future Daphne (logged once). Recognising never raises.
Nothing here imports Daphne (its server module installs Twisted's reactor on import): a module is
looked at only if the process has loaded it already. Loaded is not serving ("daphne" is in
INSTALLED_APPS, so Uvicorn's processes load it too): only the `send` itself decides.
"""

from __future__ import annotations

import functools
import logging
import sys
from typing import Any

logger = logging.getLogger(__name__)

WRITTEN_AGAINST = {"daphne": "4.2.3", "autobahn": "26.10.2", "channels": "4.3.2"}
# Daphne releases whose send path this module has been checked against (version prefixes).
DAPHNE_VERSIONS = ("4.2.",)
# Autobahn releases whose `sendData` is known to do nothing more, for an unqueued write, than the
# transport write (and bookkeeping) DaphneSocket.write does itself.
AUTOBAHN_VERSIONS = ("26.",)

# Wrappers around Daphne's send that are looked through (there is one: the session middleware's).
MAX_WRAPPERS = 8


class Frame:
    """One event's text, encoded once and framed once per autobahn factory (one per Daphne process)."""

    __slots__ = ("_prepared", "payload")

    def __init__(self, text: str) -> None:
        self.payload = text.encode("utf8")
        self._prepared: dict[int, tuple[Any, Any]] = {}

    def prepared_for(self, factory: Any) -> Any:
        entry = self._prepared.get(id(factory))
        if entry is None or entry[0] is not factory:
            entry = (factory, factory.prepareMessage(self.payload, isBinary=False))
            self._prepared[id(factory)] = entry
        return entry[1]


class DaphneSocket:
    """The Daphne connection behind one consumer: its autobahn protocol and the server holding it."""

    __slots__ = ("direct", "protocol", "server")

    def __init__(self, protocol: Any, server: Any, *, direct: bool) -> None:
        self.protocol = protocol
        self.server = server
        self.direct = direct  # write unqueued frames to the transport ourselves (see the module)

    def is_open(self) -> bool:
        """Whether Daphne would write a `websocket.send` now (else it drops it, or refuses it)."""
        details = self.server.connections.get(self.protocol)
        if details is None or details.get("disconnected"):
            return False  # Server.handle_reply drops it
        # Not yet accepted: WebSocketProtocol.handle_reply raises; closing or closed: sendMessage does.
        return self.protocol.state == self.protocol.STATE_OPEN

    def write(self, frame: Frame) -> bool:
        """Write the event's frame, as Daphne would write `websocket.send` of its text; False if dropped."""
        if not frame.payload or not self.is_open():  # Daphne sends no frame for an empty text either
            return False
        protocol = self.protocol
        if 0 < protocol.maxMessagePayloadSize < len(frame.payload):
            protocol.sendMessage(frame.payload, False)  # raises PayloadExceededError, as it would have
            return True
        prepared = frame.prepared_for(protocol.factory)
        if self.direct and not protocol.send_queue and not protocol.logOctets:
            # What sendPreparedMessage -> sendData does with nothing queued, but its debug line.
            data = prepared.payloadHybi
            protocol.transport.write(data)
            protocol.trafficStats.outgoingOctetsWireLevel += len(data)
        else:
            protocol.sendPreparedMessage(prepared)
        return True

    def __repr__(self) -> str:
        return f"<DaphneSocket {self.protocol!r}>"


def find(consumer: Any) -> DaphneSocket | None:
    """The Daphne connection behind a Channels consumer, if it is one this module knows; never raises."""
    try:
        return _find(consumer)
    except Exception as error:  # an unexpected shape is just "not recognised"
        logger.debug("live socket not recognised as Daphne's (%s: %s)", type(error).__name__, error)
        return None


def _find(consumer: Any) -> DaphneSocket | None:
    daphne_server = sys.modules.get("daphne.server")
    ws_protocol = sys.modules.get("daphne.ws_protocol")
    sessions = sys.modules.get("channels.sessions")
    websocket = sys.modules.get("channels.generic.websocket")
    if daphne_server is None or ws_protocol is None or websocket is None:
        return None
    # The consumer must send through Channels' own methods, so that bypassing them changes nothing.
    if getattr(type(consumer), "send", None) is not websocket.AsyncWebsocketConsumer.send:
        return None
    send = getattr(consumer, "base_send", None)
    for _ in range(MAX_WRAPPERS):
        if sessions is not None and getattr(send, "__func__", None) is sessions.InstanceSessionWrapper.send:
            send = send.__self__.real_send
            continue
        break
    if not isinstance(send, functools.partial) or send.keywords or len(send.args) != 1:
        return None
    handle_reply = send.func
    if getattr(handle_reply, "__func__", None) is not daphne_server.Server.handle_reply:
        return None
    version = getattr(sys.modules.get("daphne"), "__version__", "")
    if not version.startswith(DAPHNE_VERSIONS):
        _unknown_daphne(version)
        return None
    server, protocol = handle_reply.__self__, send.args[0]
    if type(protocol) is not ws_protocol.WebSocketProtocol:  # a subclass may send differently
        return None
    if (
        protocol._perMessageCompress is not None  # permessage-deflate: compressed per connection
        or protocol.maskServerFrames  # a prepared server frame is unmasked
        or protocol.autoFragmentSize  # a prepared frame is never fragmented
        or not protocol.factory.isServer
        or not isinstance(server.connections, dict)
        or not callable(getattr(protocol, "sendPreparedMessage", None))
        or not callable(getattr(protocol.factory, "prepareMessage", None))
    ):
        return None
    autobahn_version = getattr(sys.modules.get("autobahn"), "__version__", "")
    direct = (
        isinstance(autobahn_version, str)
        and autobahn_version.startswith(AUTOBAHN_VERSIONS)
        and hasattr(protocol, "send_queue")
        and hasattr(protocol, "logOctets")
        and hasattr(protocol.trafficStats, "outgoingOctetsWireLevel")
        and callable(getattr(protocol.transport, "write", None))
    )
    return DaphneSocket(protocol, server, direct=direct)


@functools.cache
def _unknown_daphne(version: str) -> None:
    logger.warning(
        "live events: Daphne %s is not one contacts.live.daphne_frames was checked against (%s); "
        "its sockets get events through the ASGI send",
        version or "(unknown version)",
        ", ".join(f"{prefix}x" for prefix in DAPHNE_VERSIONS),
    )
