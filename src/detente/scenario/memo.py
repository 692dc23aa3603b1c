"""Values derived from a scenario, computed once per scenario object.

Scenarios are frozen models that nothing changes in place, so what is derived from one
(its uncertainties, its resolve plan, its bargaining forecasts) can be kept and handed
out again; ``detente run`` asks for some of these several times per command.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from detente.scenario.schema import Scenario

MEMO_SIZE = 8
"""How many (scenario, key) values a :class:`ScenarioMemo` keeps, the most recently used.
An entry keeps its scenario alive, so its id cannot be reused while it is kept."""

T = TypeVar("T")


class ScenarioMemo(Generic[T]):
    """Values derived from a scenario, memoised by the scenario's identity and a key."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[int, Any], tuple[Scenario, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, scenario: Scenario, key: Any, compute: Callable[[], T]) -> T:
        """The value for ``(scenario, key)``, computed by ``compute`` the first time."""
        slot = (id(scenario), key)
        with self._lock:
            hit = self._entries.get(slot)
            if hit is not None and hit[0] is scenario:
                self._entries.move_to_end(slot)
                return hit[1]
        value = compute()
        with self._lock:
            self._entries[slot] = (scenario, value)
            while len(self._entries) > MEMO_SIZE:
                self._entries.popitem(last=False)
        return value
