"""Values derived from a scenario, computed once per scenario object (or per text).

Scenarios are frozen models that nothing changes in place, so what is derived from one
(its uncertainties, its resolve plan, its bargaining forecasts) can be kept and handed
out again; ``detente run`` asks for some of these several times per command. :class:`Lru`
keeps the last few values of any key (the parsed scenario texts use it, by SHA-256).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from detente.scenario.schema import Scenario

MEMO_SIZE = 8
"""How many values a :class:`ScenarioMemo` keeps, the most recently used. An entry keeps
its scenario alive, so its id cannot be reused while it is kept."""

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Lru(Generic[K, T]):
    """The last values computed, by key (thread-safe; the most recently used kept).

    At most ``size`` of them, or, with ``weight``, as many as weigh ``size`` in all (say
    bytes); the most recent value is kept whatever it weighs.
    """

    def __init__(self, size: int, weight: Callable[[T], int] | None = None) -> None:
        self.size = size
        self._weight = weight
        self._entries: OrderedDict[K, tuple[T, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(
        self, key: K, compute: Callable[[], T], valid: Callable[[T], bool] | None = None
    ) -> T:
        """The value kept for ``key`` (if ``valid`` says it still holds), else ``compute()``
        (kept; an exception it raises keeps nothing)."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and (valid is None or valid(hit[0])):
                self._entries.move_to_end(key)
                return hit[0]
        value = compute()
        weight = 1 if self._weight is None else self._weight(value)
        with self._lock:
            replaced = self._entries.pop(key, None)
            self._total += weight - (0 if replaced is None else replaced[1])
            self._entries[key] = (value, weight)
            while self._total > self.size and len(self._entries) > 1:
                self._total -= self._entries.popitem(last=False)[1][1]
        return value

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def weight(self) -> int:
        """What the values kept weigh in all (their count without ``weight``)."""
        return self._total

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._entries.clear()
            self._total = 0


class ScenarioMemo(Generic[T]):
    """Values derived from a scenario, memoised by the scenario's identity and a key."""

    def __init__(self) -> None:
        self._kept: Lru[tuple[int, Any], tuple[Scenario, T]] = Lru(MEMO_SIZE)

    def get(self, scenario: Scenario, key: Any, compute: Callable[[], T]) -> T:
        """The value for ``(scenario, key)``, computed by ``compute`` the first time."""
        return self._kept.get(
            (id(scenario), key), lambda: (scenario, compute()), lambda hit: hit[0] is scenario
        )[1]
