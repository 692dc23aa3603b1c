"""``scenario.memo.Lru``: the last values by count, or by what they weigh."""

from __future__ import annotations

from detente.scenario.memo import Lru


def test_counted_lru_keeps_the_most_recently_used() -> None:
    lru: Lru[str, int] = Lru(2)
    calls: list[str] = []

    def compute(key: str) -> int:
        calls.append(key)
        return len(key)

    for key in ("a", "bb", "a", "ccc", "bb"):
        lru.get(key, lambda k=key: compute(k))
    assert calls == ["a", "bb", "ccc", "bb"]  # "a" was used again, so "bb" went first
    assert len(lru) == 2 and lru.weight == 2


def test_weighed_lru_stays_within_its_budget_and_keeps_the_newest() -> None:
    lru: Lru[int, bytes] = Lru(10, weight=len)
    for key, size in enumerate((4, 4, 4)):
        lru.get(key, lambda s=size: b"x" * s)
    assert len(lru) == 2 and lru.weight == 8
    lru.get(9, lambda: b"y" * 25)  # heavier than the budget: kept alone
    assert len(lru) == 1 and lru.weight == 25
    lru.clear()
    assert len(lru) == 0 and lru.weight == 0


def test_a_value_no_longer_valid_is_computed_again_and_weighed_once() -> None:
    lru: Lru[str, bytes] = Lru(100, weight=len)
    lru.get("k", lambda: b"old")
    got = lru.get("k", lambda: b"newer", valid=lambda v: v != b"old")
    assert got == b"newer" and len(lru) == 1 and lru.weight == 5
