"""LEAN live's threads, for the stand-in.

In live trading LEAN runs scheduled events on its real-time thread
(``Engine/RealTime/LiveTradingRealTimeHandler.cs``, ``Run``: it sleeps to the next event time
and invokes the callback there) and calls ``on_order_event`` on the thread that delivers the
brokerage's order events (``Engine/TransactionHandlers/BrokerageTransactionHandler.cs``,
``HandleOrderEvents``, under ``_lockHandleOrderEvent``; an exception out of
``on_order_event`` is a runtime error that stops the algorithm: ``SetRuntimeError``). The two
run at the same time. Here the test's own thread plays the real-time thread (it fires the
scheduled events) and :class:`BrokerageThread` plays the brokerage: it calls ``step`` over and
over (each call delivering at most one order event through ``QCAlgorithm.emit``) until
stopped, recording what ``on_order_event`` raised in :attr:`BrokerageThread.runtime_errors`.
Use it with ``algorithm.async_cancels = True``: a cancel in live only queues a request
(``BrokerageTransactionHandler.CancelOrder``); the stand-in's synchronous (backtest) cancel
would deliver the Canceled event on the caller's thread under the order-event lock, which no
live LEAN thread does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class BrokerageThread(threading.Thread):
    """Runs ``step()`` (True when it delivered an event) until :meth:`stop`."""

    def __init__(self, step: Callable[[], bool]) -> None:
        super().__init__(name="lean-brokerage", daemon=True)
        self.step = step
        self.runtime_errors: list[BaseException] = []
        self.delivered = 0
        self._stop_event = threading.Event()
        self._progress = threading.Condition()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                did = self.step()
            except Exception as exc:  # noqa: BLE001 - LEAN: SetRuntimeError("Order Event Handler")
                self.runtime_errors.append(exc)
                return
            if did:
                with self._progress:
                    self.delivered += 1
                    self._progress.notify_all()
            else:
                self._stop_event.wait(0.0001)

    def wait_delivered(self, count: int, timeout_s: float = 5.0) -> bool:
        """Wait until at least ``count`` events were delivered (or ``timeout_s`` passed), so a
        test's rounds interleave with the brokerage whatever the machine's load; the thread
        keeps delivering while the test goes on. True when the count was reached."""
        with self._progress:
            return self._progress.wait_for(lambda: self.delivered >= count or bool(self.runtime_errors),
                                           timeout=timeout_s)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
