"""Answers this process served lately, by key: a bounded least-recently-used memory shared by its threads.

The screens' refresh answers are keyed by the warehouse version and the minute (as the shared cache is), so a
wall of screens refreshing the same scope is answered from memory instead of being rendered, read or unpickled
again for each of them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class Recent:
    """At most ``size`` answers, the least recently used dropped first."""

    def __init__(self, size: int):
        self.size = size
        self._answers: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The answer kept under ``key``, else ``compute()``'s, kept. Two threads missing the same key at once
        both compute it: the queries beneath are single-flight already (dashboard/flight.py)."""
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        answer = compute()
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)
        return answer
