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

Every scheduled event of the host is registered through :func:`schedule_on`, which wraps its
callback in the algorithm's lock (a test checks that no module calls ``schedule.on``
directly). Holding the lock while placing, updating or canceling an order is safe in live
LEAN: ``BrokerageTransactionHandler.Process`` only queues the request and returns, it never
waits for an order event. What would wait is a synchronous ``market_order``
(``QCAlgorithm.Trading.cs`` ``MarketOrder`` -> ``Transactions.WaitForOrder``), which the
host never sends, and a blocking alert delivery, which runs on its own worker thread
(:mod:`leanhost.alerts`). In live LEAN ``on_order_event`` runs while the brokerage thread
holds ``BrokerageTransactionHandler._lockHandleOrderEvent`` (``HandleOrderEvents``), so a
slow handler delays every other order event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm

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


def entry_lock_of(algorithm: QCAlgorithm) -> EntryLock:
    """The algorithm's :class:`EntryLock` (``algorithm.entry_lock``, created first thing in
    ``initialize``).

    Raises:
        RuntimeError: when the algorithm has none (an entry point registered before it).
    """
    lock = getattr(algorithm, "entry_lock", None)
    if not isinstance(lock, EntryLock):
        raise RuntimeError("algorithm.entry_lock must be created before any entry point is registered")
    return lock


def schedule_on(algorithm: QCAlgorithm, name: str, date_rule: Any, time_rule: Any,
                callback: Callable[[], None]) -> None:
    """``algorithm.schedule.on(name, date_rule, time_rule, callback)`` with ``callback`` run
    inside the algorithm's entry lock (LEAN calls scheduled events on its real-time thread:
    ``Engine/RealTime/LiveTradingRealTimeHandler.cs``, ``Run``)."""
    algorithm.schedule.on(name, date_rule, time_rule, entry_lock_of(algorithm).wrap(callback))
