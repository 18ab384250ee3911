"""One thread at a time through the algorithm's entry points.

Why: in live trading LEAN calls scheduled events on its real-time thread
(``Engine/RealTime/LiveTradingRealTimeHandler.cs``, ``Run``) and ``on_order_event`` on the
brokerage's thread (``Engine/TransactionHandlers/BrokerageTransactionHandler.cs``,
``HandleOrderEvents``), so the router's groups, the strategies' positions and the gate
session could otherwise be changed from two threads at once. Every entry point of the
algorithm (scheduled handlers, ``on_order_event``, brokerage and command callbacks) runs
inside :class:`EntryLock`.

The lock is re-entrant: an order sent from a scheduled decision may have its first events
delivered synchronously on the same thread (LEAN backtests, and the stand-in), which must
not deadlock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from types import TracebackType
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class EntryLock:
    """A re-entrant lock around the algorithm's entry points (see the module docstring).

    Use ``with algorithm.entry_lock: ...`` in a handler, or ``entry_lock.wrap(fn)`` for a
    callback handed to LEAN.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> EntryLock:
        self._lock.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release()

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        """``fn`` run while holding the lock."""

        @wraps(fn)
        def locked(*args: P.args, **kwargs: P.kwargs) -> R:
            with self._lock:
                return fn(*args, **kwargs)

        return locked
