"""Reading, scoring and writing side by side: one thread reads the next chunks while the caller scores, another
formats and writes the finished ones.

Arrow's CSV parser, SHA-256 and file writes release the GIL, so on two cores the three stages overlap instead of
taking turns. Each stage keeps its order (one worker thread each) and holds at most ``depth`` chunks ahead, so
memory stays bounded by a few chunks; an error in a worker is raised in the caller at the next hand-over.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
DEPTH = 1  # chunks a stage may run ahead of the next one


def read_ahead(items: Iterable[T], depth: int = DEPTH) -> Iterator[T]:
    """``items``, produced on a worker thread up to ``depth`` ahead of the consumer (in order; its errors
    raised here). Stopping early (``close``, or an error downstream) stops the worker and closes ``items``."""
    source = iter(items)
    done = object()
    pool = ThreadPoolExecutor(1, thread_name_prefix="profiler-read")
    ahead: deque[Future] = deque()
    try:
        for _ in range(depth):
            ahead.append(pool.submit(next, source, done))
        while True:
            item = ahead.popleft().result()
            if item is done:
                return
            ahead.append(pool.submit(next, source, done))
            yield item
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        close = getattr(source, "close", None)
        if close is not None:
            close()


class WriteBehind:
    """Calls run in order on one worker thread, at most ``depth`` waiting; :meth:`drain` waits for them all and
    raises the first error, :meth:`stop` abandons what waits (after a failure)."""

    def __init__(self, depth: int = DEPTH):
        self.depth = depth
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="profiler-write")
        self.pending: deque[Future] = deque()

    def submit(self, func: Callable[..., Any], *args: Any) -> None:
        self.pending.append(self.pool.submit(func, *args))
        while len(self.pending) > self.depth:
            self.pending.popleft().result()

    def drain(self) -> None:
        try:
            while self.pending:
                self.pending.popleft().result()
        finally:
            self.pool.shutdown(wait=True)

    def stop(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pending.clear()


__all__ = ["DEPTH", "WriteBehind", "read_ahead"]
