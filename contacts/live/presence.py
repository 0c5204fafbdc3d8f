"""Who has which page of a workspace open, kept in Redis so every server process sees everyone.

Each open page (one socket) has an entry: who, which contact (or none: the list), and whether
they are viewing or editing. Pages refresh their entry every few seconds; an entry that is not
refreshed within `CONTACTS_PRESENCE_TTL` (a crashed tab, a killed server) is dropped by the next
refresh of any page of that workspace, which then tells the others. A closed socket removes its
entry at once.

Two keys per workspace: a hash entry id → JSON, and a sorted set entry id → expiry time, which
finds the expired entries without reading them all. Presence is a courtesy: when Redis fails the
error is logged and the page keeps working without it.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings

# Entries and expiry keys outlive their last refresh by this factor, so an abandoned workspace's
# keys disappear by themselves.
KEY_TTL_FACTOR = 4


def _keys(workspace_id: str) -> tuple[str, str]:
    prefix = "contacts-test" if settings.TESTING else "contacts"
    return f"{prefix}:presence:{workspace_id}", f"{prefix}:presence:{workspace_id}:expires"


class PresenceStore:
    """The presence entries of all workspaces, in one Redis database."""

    def __init__(self, url: str, ttl: float) -> None:
        self.url = url
        self.ttl = ttl
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def _redis(self) -> aioredis.Redis:
        # A client per event loop: redis-py's asyncio connections belong to the loop that made them.
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = aioredis.Redis.from_url(
                self.url, socket_timeout=1, socket_connect_timeout=1
            )
        return client

    async def here(self, workspace_id: str, entry_id: str, entry: dict[str, Any]) -> None:
        """Add or refresh one page's entry."""
        entries, expires = _keys(workspace_id)
        key_ttl = int(self.ttl * KEY_TTL_FACTOR)
        async with self._redis().pipeline(transaction=False) as pipe:
            pipe.hset(entries, entry_id, json.dumps(entry))
            pipe.zadd(expires, {entry_id: time.time() + self.ttl})
            pipe.expire(entries, key_ttl)
            pipe.expire(expires, key_ttl)
            await pipe.execute()

    async def leave(self, workspace_id: str, entry_id: str) -> bool:
        """Remove one page's entry; whether it was there (only then do others need telling)."""
        entries, expires = _keys(workspace_id)
        async with self._redis().pipeline(transaction=False) as pipe:
            pipe.zrem(expires, entry_id)
            pipe.hdel(entries, entry_id)
            removed, _ = await pipe.execute()
        return bool(removed)

    async def drop_expired(self, workspace_id: str) -> list[str]:
        """Remove the entries nobody refreshed in time; the ids this call removed.

        Several processes may look at once: ZREM answers each entry to one of them only, so each
        departure is announced once.
        """
        _, expires = _keys(workspace_id)
        redis = self._redis()
        stale = await redis.zrangebyscore(expires, "-inf", time.time())
        dropped = []
        for raw in stale:
            entry_id = raw.decode()
            if await self.leave(workspace_id, entry_id):
                dropped.append(entry_id)
        return dropped

    async def everyone(self, workspace_id: str) -> list[dict[str, Any]]:
        """The workspace's current entries."""
        entries, expires = _keys(workspace_id)
        redis = self._redis()
        alive = {raw.decode() for raw in await redis.zrangebyscore(expires, time.time(), "+inf")}
        stored = await redis.hgetall(entries)
        return [json.loads(value) for key, value in stored.items() if key.decode() in alive]


class LocalPresenceStore:
    """The same, in this process's memory: local use without Redis (one server process)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}

    async def here(self, workspace_id: str, entry_id: str, entry: dict[str, Any]) -> None:
        self._entries.setdefault(workspace_id, {})[entry_id] = (time.time() + self.ttl, entry)

    async def leave(self, workspace_id: str, entry_id: str) -> bool:
        return self._entries.get(workspace_id, {}).pop(entry_id, None) is not None

    async def drop_expired(self, workspace_id: str) -> list[str]:
        now = time.time()
        stale = [key for key, (until, _) in self._entries.get(workspace_id, {}).items() if until < now]
        return [key for key in stale if await self.leave(workspace_id, key)]

    async def everyone(self, workspace_id: str) -> list[dict[str, Any]]:
        now = time.time()
        return [entry for until, entry in self._entries.get(workspace_id, {}).values() if until >= now]


_store: PresenceStore | LocalPresenceStore | None = None


def presence_store() -> PresenceStore | LocalPresenceStore:
    global _store
    if _store is None:
        ttl = settings.CONTACTS_PRESENCE_TTL
        _store = (
            PresenceStore(settings.CHANNELS_REDIS_URL, ttl)
            if settings.REDIS_AVAILABLE
            else LocalPresenceStore(ttl)
        )
    return _store
