"""A least-recently-used cache bounded by the total size of what it holds. The viewer's
results never change for a given commit or file content, so they are never invalidated,
only evicted."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class SizedCache:
    def __init__(self, max_bytes: int) -> None:
        self._items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: object = None) -> object:
        with self._lock:
            if key not in self._items:
                return default
            self._items.move_to_end(key)
            return self._items[key][0]

    def put(self, key: Hashable, value: object, size: int) -> None:
        """Keep ``value``, evicting the least recently used until the total fits; a value
        larger than the whole budget is not kept."""
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            if size > self._max_bytes:
                return
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self._max_bytes:
                self._bytes -= self._items.popitem(last=False)[1][1]

    @property
    def size(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
