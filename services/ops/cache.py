"""Small in-process caches for the hot read path: who a token is, and rendered order views."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LruCache(Generic[V]):
    """A bounded map whose entries expire after `ttl` seconds (None: only by eviction)."""

    def __init__(self, max_entries: int, ttl: float | None = None) -> None:
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value, if present and fresh."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            stored_at, value = hit
            if self._ttl is not None and time.monotonic() - stored_at > self._ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        """Store, evicting the least recently used entry when full."""
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
