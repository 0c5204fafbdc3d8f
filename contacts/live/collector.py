"""Short garbage collections in a process that holds many sockets.

Each open socket keeps a few hundred Python objects alive (connection, protocol, consumer, their
buffers and tasks) for as long as it is open, often hours. Python's full collection examines every
tracked object each time: with a thousand sockets that took 0.06-0.15 s, during which the process
wrote to no socket, and one started every 20-60 s while colleagues were saving (measured,
bench/README.md "Live updates"): an event that met one reached its sockets 60-150 ms late.
The sockets' objects are not garbage while the sockets are open, so examining them again and again
is wasted work.

So `SETTLE` seconds after the sockets held by this process have grown by a quarter (from at least
`FREEZE_FROM`), everything alive is frozen (`gc.freeze()`: moved out of the
collector's sight, at no cost), and later collections examine only what is newer: milliseconds.

Frozen objects are never collected, so the objects of sockets that closed since stay in memory
(a few tens of kB each) until the next thaw: `SETTLE` seconds after a quarter of the frozen sockets
have left, everything is unfrozen, collected once, the way
Python would have done anyway, and frozen again. One full collection per quarter of the sockets
replaced, instead of one every minute.

Nothing of this runs below `FREEZE_FROM` sockets: a process serving pages only is left alone.
contactsite/asgi.py freezes what the process loaded at start (Django, the app) in the same way.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

FREEZE_FROM = 100  # sockets in this process
GROWTH = 1.25  # freeze again when the sockets grew by a quarter since the last freeze
SETTLE = 1.0  # seconds from the first socket that calls for a freeze (or thaw) to doing it


class Collector:
    """Counts the sockets of one process and freezes or thaws the collector's view of them."""

    def __init__(self) -> None:
        self.sockets = 0
        self.frozen_with = 0  # sockets held at the last freeze (0: not watching)
        self.left_since = 0  # sockets that left since then (their objects are frozen)
        self.pending: asyncio.AbstractEventLoop | None = None  # the loop an action is due on

    def joined(self) -> None:
        self.sockets += 1
        if self.sockets >= FREEZE_FROM and self.sockets >= self.frozen_with * GROWTH:
            self._soon(self.freeze)

    def left(self) -> None:
        self.sockets -= 1
        if self.frozen_with:
            self.left_since += 1
            if self.left_since * 4 >= self.frozen_with:
                self._soon(self.thaw)

    def freeze(self) -> None:
        gc.freeze()
        self._frozen()

    def thaw(self) -> None:
        """Collect what the sockets that left since the last freeze left behind, freeze the rest."""
        started = time.perf_counter()
        left = self.left_since
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        self._frozen()
        logger.info(
            "live sockets: %d left since the last freeze, %d held; one full garbage collection "
            "freed %d objects in %.0f ms",
            left,
            self.sockets,
            collected,
            (time.perf_counter() - started) * 1000,
        )

    def _frozen(self) -> None:
        # Below FREEZE_FROM nothing is watched (the few sockets frozen meanwhile cost little).
        self.frozen_with = self.sockets if self.sockets >= FREEZE_FROM else 0
        self.left_since = 0

    def _soon(self, action: Callable[[], None]) -> None:
        """`action` in SETTLE seconds, unless one is due already: a burst of sockets joining (or
        leaving) is handled once, and a steady stream of them cannot put it off for ever."""
        if self.pending is not None and not self.pending.is_closed():
            return
        try:
            self.pending = asyncio.get_running_loop()
        except RuntimeError:  # not on an event loop: nothing holds sockets here
            return
        self.pending.call_later(SETTLE, self._run, action)

    def _run(self, action: Callable[[], None]) -> None:
        self.pending = None
        action()


# One per process: the garbage collector is the process's, whichever event loop holds the sockets.
collector = Collector()
