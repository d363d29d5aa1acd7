"""Group commit: writes that arrive while another is being written are written together, next, in one call.

The worker polls each feed from its own thread (one scheduler job per feed, all due at once after a start or on a
common interval), so hundreds of polls each want a one-row transaction at the same moment: the poll's claim, and
a 304's result. Here the first caller writes at once (no added wait); those that arrive meanwhile queue, and when
it is done one of them writes the whole queue in one call (one transaction). Each caller gets its own item's
result, or the exception of the write its item was in — exactly what its own transaction would have given.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Slot(Generic[T, R]):
    item: T
    done: bool = False
    result: R | None = None
    error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    """`write_many(items)` answers one result per item, in order, or raises for all of them."""

    def __init__(self, write_many: Callable[[Sequence[T]], Sequence[R]]) -> None:
        self._write_many = write_many
        self._cond = threading.Condition()
        self._queue: list[_Slot[T, R]] = []
        self._busy = False
        self.writes = 0  # calls of write_many (for tests and benchmarks)

    def __call__(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._cond:
            self._queue.append(slot)
            while not slot.done:
                if self._busy:
                    self._cond.wait()
                    continue
                batch, self._queue = self._queue, []
                self._busy = True
                self._cond.release()
                try:
                    self._write(batch)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]  # set for every slot of a write that did not raise

    def _write(self, batch: list[_Slot[T, R]]) -> None:
        self.writes += 1
        try:
            results = self._write_many([s.item for s in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a group write answered {len(results)} results for {len(batch)} items")
        except BaseException as exc:  # every item of the write fails with it, as its own transaction would
            for s in batch:
                s.error, s.done = exc, True
            return
        for s, result in zip(batch, results, strict=True):
            s.result, s.done = result, True
