"""The host side of the gate, shared by LEAN and the replay: what the gate must know.

:class:`GateSession` keeps the book-keeping the gate's inputs come from (each approved
position's buying power, risk and classification; each strategy's closed-trade record),
builds the :class:`~risk.gate_inputs.AccountSnapshot` and :class:`~risk.gate_inputs.GateMarket`
of an intent from the decision's own chain, runs :meth:`risk.gate.Gate.check`, and journals
every verdict. Buying power is computed here from the legs' own rows, never taken from what
the strategy reported, with :func:`thetacore.margin.buying_power_pts` on the chain's own IVs
(through :func:`thetacore.chain_margin.chain_buying_power_pts`: when the strategy already
computed it from the same rows with the same inputs, the number is looked up, not redone).

Both hosts call, per intent: :meth:`review` before sending (and send the verdict's
quantity); per fill of a whole position's close or settlement: :meth:`on_closed`; at NLV
marks: :meth:`on_nlv`; to persist: :meth:`state_dict`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from risk.gate import Gate, GateAction, GateNotice, GateVerdict
from risk.gate_inputs import AccountSnapshot, GateMarket, OpenPosition, StrategyStats
from risk.state import GateState
from strategies.base import MarketContext
from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import expiry_years, with_greeks
from thetacore.chain_margin import MEMO_KEY, chain_buying_power_pts
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.enums import IntentPurpose
from thetacore.parameters import Parameters
from thetacore.products import product
from thetacore.structures import UnderlyingKind


@dataclass
class _Record:
    position: OpenPosition
    bp_usd: float


@dataclass
class _Stats:
    wins: int = 0
    losses: int = 0
    win_sum_usd: float = 0.0
    loss_sum_usd: float = 0.0


@dataclass
class GateSession:
    """Gate plus the host-independent book-keeping around it."""

    params: Parameters
    gate: Gate
    records: dict[str, _Record] = field(default_factory=dict)
    stats: dict[str, _Stats] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def create(cls, params: Parameters, saved: dict[str, Any] | None = None) -> GateSession:
        """A session whose gate state is restored from ``saved`` (``state_dict()``)."""
        state = GateState.from_dict(saved["gate"]) if saved and "gate" in saved else None
        session = cls(params, Gate(params, state))
        for strat, s in (saved or {}).get("stats", {}).items():
            session.stats[strat] = _Stats(**s)
        return session

    def state_dict(self) -> dict[str, Any]:
        """JSON-safe state to persist (gate trips, counters, peak NLV, audit log, stats)."""
        return {"gate": self.gate.state.to_dict(),
                "stats": {k: vars(v) for k, v in self.stats.items()}}

    # ----- per intent ----------------------------------------------------------------------
    def review(self, decision: Decision, ctx: MarketContext, *, vix_prev_close: float,
               now_utc: datetime) -> GateVerdict:
        """The gate's verdict on ``decision.intent``, journaled; an approved or resized entry
        is booked (its buying power counts as in use from now on)."""
        intent = decision.intent
        assert intent is not None
        chain = ctx.chain
        if chain is None:
            verdict = GateVerdict(GateAction.REFUSE, 0, (Reason("NO_CHAIN", "no chain to check the intent against"),))
            self._log(now_utc, intent, verdict, "")
            return verdict
        chain = legs_chain(intent, chain)  # the legs' rows only: nothing reads the rest of the chain
        bp_unit = self._bp_usd_per_unit(intent, ctx, chain) if intent.purpose is IntentPurpose.OPEN else 0.0
        daily = ctx.underlying_daily.before(ctx.today_et) if ctx.underlying_daily else None
        prev = daily.close_pts[-1] if daily is not None and len(daily.day) else math.nan
        market = GateMarket.from_chain(intent, chain, vix_level=ctx.vix_level, vix_prev_close=vix_prev_close,
                                       underlying_prev_close=float(prev), bp_usd_per_unit=bp_unit,
                                       underlying_pts=ctx.underlying_pts if math.isfinite(ctx.underlying_pts) else None)
        if not defined_risk(intent):
            market = replace(market, max_loss_usd_per_unit=None)
        verdict = self.gate.check(intent, self.account(ctx.nlv_usd), market, now_utc)
        self._log(now_utc, intent, verdict, "")
        if intent.purpose is IntentPurpose.OPEN and verdict.action is not GateAction.REFUSE:
            risk = market.max_loss_usd_per_unit if market.max_loss_usd_per_unit is not None else bp_unit
            pos = OpenPosition.from_structure(intent.position_id, intent.strategy, market.root, intent.structure,
                                              ctx.today_et, risk * verdict.quantity, self.params.multiweek_min_dte)
            self.records[intent.position_id] = _Record(pos, bp_unit * verdict.quantity)
        return verdict

    def _bp_usd_per_unit(self, intent: OrderIntent, ctx: MarketContext, legs: ChainSnapshot) -> float:
        """Our own buying power of one unit, USD (NaN when it cannot be computed: a refusal).

        Only the futures scan (:func:`thetacore.margin.futures_scan_bp_pts`) reads IVs, and
        then only the legs' (:func:`legs_chain`; IV is elementwise); the legs' rows come
        already greeked when the strategy priced its expiry with the same inputs, and with the
        memo of its buying power (:func:`legs_chain`): same structure, limit, scan range, time
        and rate give the strategy's number without a second scan.
        """
        try:
            prod = product(legs.root.split("*")[0])
            chain = legs
            if intent.structure.underlying_kind is UnderlyingKind.FUTURE:
                chain = with_greeks(legs, model=prod.model, rate_frac=ctx.rate_frac, yield_frac=0.0,
                                    expiry_time_et=prod.expiry_time_et)
            expiry = min(leg.expiry for leg in intent.structure.legs)
            t = expiry_years(expiry, ctx.time_utc, prod.expiry_time_et)
            p = self.params
            scan = ctx.futures_scan_range_frac(intent.structure.multiplier_usd_per_pt, p.futures_scan_range_frac)
            pts = chain_buying_power_pts(intent.structure, chain, net_price_pts=intent.limit_pts, scan_range_frac=scan,
                                         t_years=t, rate_frac=ctx.rate_frac, vol_scan_frac=p.futures_vol_scan_frac,
                                         short_minimum_frac=p.futures_short_option_minimum_frac)
        except (KeyError, ValueError):
            return math.nan
        return pts * intent.structure.multiplier_usd_per_pt

    def account(self, nlv_usd: float) -> AccountSnapshot:
        """The account as the gate sees it: NLV, our BP in use, open positions, trade stats."""
        stats = tuple(
            StrategyStats(name, s.wins, s.losses, s.win_sum_usd / s.wins if s.wins else 0.0,
                          s.loss_sum_usd / s.losses if s.losses else 0.0)
            for name, s in self.stats.items())
        return AccountSnapshot(nlv_usd, sum(r.bp_usd for r in self.records.values()),
                               tuple(r.position for r in self.records.values()), stats)

    def forget(self, position_id: str) -> None:
        """An approved entry never filled: its buying power is no longer in use."""
        self.records.pop(position_id, None)

    def resize(self, position_id: str, quantity: int, booked_quantity: int) -> None:
        """A booked position is really ``quantity`` units, not ``booked_quantity`` (an entry
        filled in part, or a close that took off some units): its buying power and risk
        in use scale to the real size (nothing when it is not booked)."""
        record = self.records.get(position_id)
        if record is None or booked_quantity <= 0:
            return
        frac = quantity / booked_quantity
        record.bp_usd *= frac
        record.position = replace(record.position, risk_usd=record.position.risk_usd * frac)

    # ----- marks and exits -------------------------------------------------------------------
    def on_closed(self, position_id: str, strategy: str, pnl_usd: float, now_utc: datetime) -> GateNotice:
        """A whole position closed (or settled) with ``pnl_usd`` realized, fees included."""
        self.records.pop(position_id, None)
        return self._exit(strategy, pnl_usd, now_utc)

    def on_reduced(self, position_id: str, strategy: str, remaining: int, before: int, pnl_usd: float,
                   now_utc: datetime) -> GateNotice:
        """Part of a position closed (``before - remaining`` units) with ``pnl_usd`` realized:
        counted as an exit like :meth:`on_closed`; the position stays booked at ``remaining``."""
        self.resize(position_id, remaining, before)
        return self._exit(strategy, pnl_usd, now_utc)

    def _exit(self, strategy: str, pnl_usd: float, now_utc: datetime) -> GateNotice:
        """Count an exit's ``pnl_usd`` in ``strategy``'s win/loss statistics and the gate's
        loss limits."""
        s = self.stats.setdefault(strategy, _Stats())
        if pnl_usd > 0:
            s.wins, s.win_sum_usd = s.wins + 1, s.win_sum_usd + pnl_usd
        elif pnl_usd < 0:
            s.losses, s.loss_sum_usd = s.losses + 1, s.loss_sum_usd - pnl_usd
        return self.gate.on_exit(pnl_usd, now_utc)

    def on_nlv(self, nlv_usd: float, now_utc: datetime) -> GateNotice:
        """An NLV mark: updates the peak and period starts, trips limits."""
        return self.gate.on_nlv(nlv_usd, now_utc)

    def _log(self, now_utc: datetime, intent: OrderIntent, verdict: GateVerdict, extra: str) -> None:
        self.journal.append({
            "time_utc": now_utc.isoformat(), "strategy": intent.strategy, "position_id": intent.position_id,
            "purpose": intent.purpose.value, "asked": intent.quantity, "action": verdict.action.value,
            "quantity": verdict.quantity, "codes": list(verdict.codes) + ([extra] if extra else []),
            "reason": verdict.reason_text, "alerts": list(verdict.alerts), "trading_state": verdict.trading_state.value,
        })


def defined_risk(intent: OrderIntent) -> bool:
    """True when every short option of the intent is covered by a long of the same right and
    expiry (verticals, iron condors, long options). Naked shorts, strangles and ratio spreads
    are undefined risk: the gate measures them by their margin stress loss, not by a
    theoretical maximum loss with the underlying at zero (docs/strategy-rules.md, "max risk per
    trade")."""
    net: dict[tuple[int, object], int] = {}
    for leg in intent.structure.legs:
        key = (int(leg.right), leg.expiry)
        net[key] = net.get(key, 0) + leg.ratio
    return all(v >= 0 for v in net.values())


def legs_chain(intent: OrderIntent, chain: ChainSnapshot) -> ChainSnapshot:
    """The rows of ``intent``'s legs (those the chain holds, in leg order), as a snapshot.

    Found in a per-expiry snapshot the strategy already built
    (:func:`thetacore.chain_greeks.expiry_greeks`, cached on ``chain``) when that holds every
    leg, so the gate never indexes or greeks the whole chain; else by the chain's own
    symbol index (built once per snapshot). The rows are the chain's, value for value.
    """
    symbols = [leg.symbol for leg in intent.structure.legs]
    for key, sub in list(chain.derived.items()):
        if isinstance(key, tuple) and key[:1] == ("expiry_greeks",) and isinstance(sub, ChainSnapshot):
            index = sub.symbol_index()
            if all(s in index for s in symbols):
                rows = sub.select(np.array([index[s] for s in symbols], dtype=np.int64))
                # the rows carry the sub-chain's IVs: greeked with the same inputs, they are final
                rows.derived[("with_greeks", *key[2:])] = rows
                # same rows for the legs' symbols: the strategy's buying power holds for them too
                rows.derived[MEMO_KEY] = sub.derived.setdefault(MEMO_KEY, {})
                return rows
    index = chain.symbol_index()
    return chain.select(np.array([index[s] for s in symbols if s in index], dtype=np.int64))
