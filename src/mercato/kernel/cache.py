"""Cross-request caches of authorization data (identity, ACL, organization scope, list custom-field keys)
with immediate invalidation.

Every cached value is keyed by the current "auth epoch": a counter bumped after any transaction that wrote to
a watched table (users, roles, ACLs, sessions, organizations, tenants...) commits. Modules declare which tables
they own with `watch_tables(...)`; the SQLAlchemy session events below notice ORM flushes as well as bulk
`update()`/`delete()`/`insert()` statements on them. The epoch lives in process memory (embedded) and in Redis
when `REDIS_URL` is set (one GET per request), so a write through any API process takes effect for the very next
request on every process. A session with uncommitted writes to watched tables bypasses the caches, so a request
always sees its own changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

EPOCH_KEY = "mercato:auth:epoch"
_DIRTY = "mercato_auth_dirty"
_EPOCH = "mercato_auth_epoch"
_watched: set[str] = set()
_MISSING = object()


def watch_tables(*names: str) -> None:
    """Declare tables whose changes invalidate the authorization caches."""
    _watched.update(names)


class EpochStore:
    """The auth epoch: a process-local counter, mirrored in Redis when configured."""

    def __init__(self) -> None:
        self.local = 0
        self.redis_url: str | None = None
        self._async: Any = None
        self._sync: Any = None
        self._lock = threading.Lock()

    def configure(self, redis_url: str | None) -> None:
        if redis_url == self.redis_url:
            return
        self.redis_url = redis_url
        self._async = self._sync = None

    def _clients(self) -> tuple[Any, Any]:
        if self._async is None:
            import redis
            import redis.asyncio as aredis

            self._async = aredis.Redis.from_url(self.redis_url)
            self._sync = redis.Redis.from_url(self.redis_url)
        return self._async, self._sync

    async def current(self) -> tuple[Any, ...]:
        if not self.redis_url:
            return ("mem", self.local)
        client, _ = self._clients()
        try:
            value = await client.get(EPOCH_KEY)
        except RuntimeError:  # client bound to a closed event loop (tests run several loops)
            self._async = self._sync = None
            client, _ = self._clients()
            value = await client.get(EPOCH_KEY)
        return ("redis", self.redis_url, int(value or 0), self.local)

    def bump(self) -> None:
        with self._lock:
            self.local += 1
        if self.redis_url:
            _, client = self._clients()
            client.incr(EPOCH_KEY)


epochs = EpochStore()


class LRU:
    """A small thread-safe LRU map for cached authorization values."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key, _MISSING)
            if value is not _MISSING:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_caches: dict[str, LRU] = {}


def named_cache(name: str, size: int = 4096) -> LRU:
    if name not in _caches:
        _caches[name] = LRU(size)
    return _caches[name]


def _has_pending_auth_writes(session: Session) -> bool:
    if session.info.get(_DIRTY):
        return True
    if not _watched:
        return False
    for collection in (session.new, session.dirty, session.deleted):
        for obj in collection:
            table = getattr(type(obj), "__tablename__", None)
            if table in _watched:
                return True
    return False


async def epoch_for(session: Any) -> tuple[Any, ...] | None:
    """The auth epoch for cache keys in this session, or None when the cache must be bypassed.

    A request session memoizes the epoch read at its start (one Redis GET per request); other sessions read it
    each time. Pending writes to watched tables bypass the cache so a transaction sees its own changes.
    """
    sync = getattr(session, "sync_session", session)
    if _has_pending_auth_writes(sync):
        return None
    memo = sync.info.get(_EPOCH)
    if memo is not None:
        return memo
    return await epochs.current()


async def start_request(session: Any) -> None:
    """Read the epoch once at the start of a request and memoize it on the request's session."""
    sync = getattr(session, "sync_session", session)
    sync.info[_EPOCH] = await epochs.current()


async def cached(cache: LRU, session: Any, key: Any, load: Callable[[], Awaitable[Any]]) -> Any:
    """`load()` through `cache` under `key` + the current auth epoch (uncached when the epoch says bypass)."""
    epoch = await epoch_for(session)
    if epoch is None:
        return await load()
    full = (epoch, key)
    value = cache.get(full)
    if value is _MISSING:
        value = await load()
        if await epoch_for(session) == epoch:  # nothing written meanwhile in this session
            cache.put(full, value)
    return value


# -- invalidation from SQLAlchemy session events --------------------------------------------------------


def _mark_flush(session: Session, _flush_context: Any) -> None:
    if not _watched:
        return
    for collection in (session.new, session.dirty, session.deleted):
        for obj in collection:
            if getattr(type(obj), "__tablename__", None) in _watched:
                session.info[_DIRTY] = True
                return


def _tables_of(statement: Any) -> Iterable[str]:
    table = getattr(statement, "table", None)
    name = getattr(table, "name", None)
    if name:
        yield name


def _mark_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert) or not _watched:
        return
    if any(t in _watched for t in _tables_of(state.statement)):
        state.session.info[_DIRTY] = True


def _after_commit(session: Session) -> None:
    session.info.pop(_EPOCH, None)
    if session.info.pop(_DIRTY, False):
        epochs.bump()


event.listen(Session, "after_flush", _mark_flush)
event.listen(Session, "do_orm_execute", _mark_execute)
event.listen(Session, "after_commit", _after_commit)
