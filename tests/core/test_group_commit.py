"""Group commit (issue 14): callers that arrive while a write is in progress are written together next; each
gets its own result, or the exception of the write its item was in."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from syndicator.group_commit import GroupCommit


def test_a_lone_caller_is_written_at_once() -> None:
    group: GroupCommit[int, int] = GroupCommit(lambda items: [i * 2 for i in items])
    assert group(21) == 42 and group.writes == 1


def test_callers_arriving_during_a_write_are_written_together_each_with_its_result() -> None:
    entered, release = threading.Event(), threading.Event()
    batches: list[list[int]] = []

    def write_many(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        if len(batches) == 1:
            entered.set()
            release.wait(5)
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(write_many)
    results: dict[int, int] = {}

    def call(i: int) -> None:
        results[i] = group(i)

    first = threading.Thread(target=call, args=(0,))
    first.start()
    assert entered.wait(5)
    others = [threading.Thread(target=call, args=(i,)) for i in range(1, 9)]
    for th in others:
        th.start()
    while sum(1 for th in others if th.is_alive()) and len(group._queue) < 8:  # all eight queued behind it
        threading.Event().wait(0.001)
    release.set()
    for th in [first, *others]:
        th.join(5)
    assert results == {i: i * 10 for i in range(9)}
    assert batches[0] == [0] and sorted(batches[1]) == list(range(1, 9)) and len(batches) == 2


def test_a_failed_write_fails_every_item_in_it_and_not_the_next() -> None:
    calls = {"n": 0}

    def write_many(items: Sequence[str]) -> list[str]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full (test)")
        return list(items)

    group: GroupCommit[str, str] = GroupCommit(write_many)
    with pytest.raises(OSError, match="disk full"):
        group("a")
    assert group("b") == "b"


def test_a_write_that_answers_the_wrong_number_of_results_fails_loudly() -> None:
    group: GroupCommit[int, int] = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        group(1)
