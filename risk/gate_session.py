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
marks: :meth:`mark_bp` (each booked position's buying power re-marked from the mids the NLV
marks validate, :meth:`risk.marks.MarkBook.current_mids`, :mod:`risk.bp_marks`) then :meth:`on_nlv`; to persist: :meth:`state_dict`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from risk.bp_marks import bp_usd_per_unit, is_single_short_call, mark_symbols, remark_chain
from risk.gate import Gate, GateAction, GateNotice, GateVerdict
from risk.gate_inputs import AccountSnapshot, GateMarket, LegQuote, OpenPosition, StrategyStats
from risk.state import GateState
from strategies.base import MarketContext
from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import EXPIRY_ROWS_GREEKS, expiry_years, with_greeks
from thetacore.chain_margin import MEMO_KEY, chain_buying_power_pts, margin_settings
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.enums import IntentPurpose
from thetacore.futures_margins import scan_range_frac
from thetacore.parameters import Parameters
from thetacore.products import product
from thetacore.structures import Structure, UnderlyingKind


@dataclass
class _Record:
    """One booked position: its classification, buying power in use (USD, the last good
    mark), and what re-marks it (structure, units, the covering long call's strike)."""

    position: OpenPosition
    bp_usd: float
    structure: Structure | None = None
    units: int = 0
    cover_strike_pts: float | None = None


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
               now_utc: datetime, nlv_usd: float | None = None, unit_scale: int = 1) -> GateVerdict:
        """The gate's verdict on ``decision.intent``, journaled; an approved or resized entry
        is booked (its buying power counts as in use from now on). ``nlv_usd`` is the account
        value the gate sees (and marks), USD; ``None``: the context's ``nlv_usd`` (a host whose
        context value is not from validated marks passes its own, :mod:`risk.marks`).
        ``unit_scale``: :attr:`risk.gate_inputs.GateMarket.unit_scale` (a micro move's 10)."""
        intent = decision.intent
        assert intent is not None
        # a close is checked on its legs' rows: read alone when the host can (issue 10: a LEAN
        # management decision reads only the contracts held); the exit checks use no underlying
        held = ctx.held_chain(leg.symbol for leg in intent.structure.legs) \
            if intent.purpose is IntentPurpose.CLOSE else None
        chain = ctx.chain if held is None else held
        if chain is None:
            verdict = GateVerdict(GateAction.REFUSE, 0, (Reason("NO_CHAIN", "no chain to check the intent against"),))
            self._log(now_utc, intent, verdict, "")
            return verdict
        chain = legs_chain(intent, chain)  # the legs' rows only: nothing reads the rest of the chain
        cover = self._cover_strike(intent.structure, intent.quantity, chain.root.split("*")[0]) if intent.purpose is IntentPurpose.OPEN else None
        bp_unit = self._bp_usd_per_unit(intent, ctx, chain, cover) if intent.purpose is IntentPurpose.OPEN else 0.0
        prev = ctx.underlying_daily.last_close_before(ctx.today_et) if ctx.underlying_daily else math.nan
        market = GateMarket.from_chain(intent, chain, vix_level=ctx.vix_level, vix_prev_close=vix_prev_close,
                                       underlying_prev_close=float(prev), bp_usd_per_unit=bp_unit,
                                       underlying_pts=None if held is not None
                                       else ctx.underlying_pts if math.isfinite(ctx.underlying_pts) else None)
        if not defined_risk(intent):
            market = replace(market, max_loss_usd_per_unit=None)
        if unit_scale != 1:
            market = replace(market, unit_scale=unit_scale)
        nlv = ctx.nlv_usd if nlv_usd is None else nlv_usd
        verdict = self.gate.check(intent, self.account(nlv), market, now_utc)
        self._log(now_utc, intent, verdict, "")
        if intent.purpose is IntentPurpose.OPEN and verdict.action is not GateAction.REFUSE:
            risk = market.max_loss_usd_per_unit if market.max_loss_usd_per_unit is not None else bp_unit
            pos = OpenPosition.from_structure(intent.position_id, intent.strategy, market.root, intent.structure,
                                              ctx.today_et, risk * verdict.quantity, self.params.multiweek_min_dte,
                                              units=verdict.quantity)
            self.records[intent.position_id] = _Record(pos, bp_unit * verdict.quantity, intent.structure,
                                                       verdict.quantity, cover)
        return verdict

    def review_close(self, intent: OrderIntent, quotes: tuple[LegQuote, ...], root: str,
                     now_utc: datetime) -> GateVerdict:
        """The gate's exit checks on a host-made close (flatten, close-losers), journaled.

        The hosts' own closes pass the same checks as a strategy's exit
        (:func:`risk.gate_checks.exit_reasons`): limit finite and within the band around the
        legs' mid and natural (``safety_limit_band_frac``), every leg's quote valid and fresh,
        quantity a whole number no larger than the units booked, the position known.
        ``quotes`` are the legs' quotes now (a missing leg is simply absent: ``QUOTE_MISSING``);
        ``root`` is the option root (its combo tick is the band's slack). The account's NLV is
        not part of an exit check (NaN here: no NLV mark is taken from it).
        """
        market = GateMarket(root, tuple(quotes), math.nan, math.nan, math.nan, math.nan, 0.0, None,
                            _combo_tick(root, quotes))
        verdict = self.gate.check(intent, self.account(math.nan), market, now_utc)
        self._log(now_utc, intent, verdict, "")
        return verdict

    def _bp_usd_per_unit(self, intent: OrderIntent, ctx: MarketContext, legs: ChainSnapshot,
                         cover_strike_pts: float | None = None) -> float:
        """Our own buying power of one unit, USD (NaN when it cannot be computed: a refusal).

        Only the futures scan (:func:`thetacore.margin.futures_scan_bp_pts`) reads IVs, and
        then only the legs' (:func:`legs_chain`; IV is elementwise); the legs' rows come
        already greeked when the strategy priced its expiry with the same inputs, and with the
        memo of its buying power (:func:`legs_chain`): same structure, limit, scan range, time
        and rate give the strategy's number without a second scan.
        """
        try:
            prod = product(legs.root.split("*")[0])
            if cover_strike_pts is not None:
                return bp_usd_per_unit(intent.structure, prod.root, legs, net_price_pts=intent.limit_pts,
                                       now_utc=ctx.time_utc, rate_frac=ctx.rate_frac,
                                       scan_range_frac=self.params.futures_scan_range_frac,
                                       cover_strike_pts=cover_strike_pts, params=self.params)
            chain = legs
            if intent.structure.underlying_kind is UnderlyingKind.FUTURE:
                chain = with_greeks(legs, model=prod.model, rate_frac=ctx.rate_frac, yield_frac=0.0,
                                    expiry_time_et=prod.expiry_time_et)
            expiry = min(leg.expiry for leg in intent.structure.legs)
            t = expiry_years(expiry, ctx.time_utc, prod.expiry_time_et)
            p = self.params
            scan = ctx.futures_scan_range_frac(intent.structure.multiplier_usd_per_pt, p.futures_scan_range_frac)
            pts = chain_buying_power_pts(intent.structure, chain, net_price_pts=intent.limit_pts, scan_range_frac=scan,
                                         t_years=t, rate_frac=ctx.rate_frac, **margin_settings(p))
        except (KeyError, ValueError):
            return math.nan
        return pts * intent.structure.multiplier_usd_per_pt

    def _cover_strike(self, structure: Structure, units: int, root: str, exclude: str = "") -> float | None:
        """The strike of the long call that covers a single short call (IPMCC's weekly call
        against its LEAP), or None when it is not fully covered: long calls booked on the same
        root expiring on or after the short, less the short calls already booked as covered
        (each long contract covers one short contract; partial cover counts as naked).
        ``exclude``: the short's own position id when it is already booked."""
        if not is_single_short_call(structure):
            return None
        leg = structure.legs[0]
        longs = [(lg.strike_pts, lg.ratio * r.units) for r in self.records.values() if r.structure is not None
                 and r.position.root == root for lg in r.structure.legs
                 if lg.right is leg.right and lg.ratio > 0 and lg.expiry >= leg.expiry]
        used = sum(-r.structure.legs[0].ratio * r.units for pid, r in self.records.items()
                   if pid != exclude and r.cover_strike_pts is not None and r.structure is not None
                   and r.position.root == root)
        if not longs or sum(n for _, n in longs) - used < -leg.ratio * units:
            return None
        return min(k for k, _ in longs)

    def mark_bp(self, mids: Mapping[str, float], now_utc: datetime, rate_frac: float,
                structures: Mapping[str, Structure] | None = None,
                margins_usd: Mapping[str, float] | None = None) -> list[str]:
        """Re-mark every booked position's buying power (USD) from current validated ``mids``
        (points, by leg and underlying symbol; the NLV marks' validated mids,
        :meth:`risk.marks.MarkBook.current_mids`).

        ``structures`` (by position id) are the hosts' current structures: a position whose
        structure changed without closing (LT112 after its naked puts were bought back: the
        debit spread alone) is re-marked as what it now is. A single short call is re-marked
        as covered while booked long calls cover it, as naked otherwise. A position without a validated mid for a
        leg or underlying keeps its last good mark; returns one ``BP_MARK_KEPT`` text each.
        ``margins_usd``: the exchange's initial margin per outright future today by option
        root (USD; the hosts' :attr:`strategies.base.MarketContext.future_initial_margin_usd`):
        a futures position's scan range is ``margin / (multiplier x its future's mid)`` as at
        entry, the ``futures_scan_range_frac`` parameter without one
        (:func:`thetacore.futures_margins.scan_range_frac`).
        """
        kept = []
        for pid, r in self.records.items():
            if structures is not None and pid in structures:
                r.structure = structures[pid]
            if r.structure is None or r.units <= 0:
                continue
            r.cover_strike_pts = self._cover_strike(r.structure, r.units, r.position.root, exclude=pid)
            root = r.position.root
            try:
                chain = remark_chain(r.structure, root, mids, now_utc)
                scan = scan_range_frac((margins_usd or {}).get(root.split("*")[0], math.nan), r.structure.multiplier_usd_per_pt,
                                       float(chain.underlying_pts[0]), self.params.futures_scan_range_frac)
                unit = bp_usd_per_unit(r.structure, root, chain, net_price_pts=r.structure.net_mid_pts(chain),
                                       now_utc=now_utc, rate_frac=rate_frac, scan_range_frac=scan,
                                       cover_strike_pts=r.cover_strike_pts, params=self.params)
            except (KeyError, ValueError) as exc:
                kept.append(f"BP_MARK_KEPT {pid}: {exc}; last good buying power {r.bp_usd:,.2f} USD kept")
                continue
            if math.isfinite(unit) and unit >= 0:
                r.bp_usd = unit * r.units
            else:
                kept.append(f"BP_MARK_KEPT {pid}: buying power {unit} not a number; last good {r.bp_usd:,.2f} USD kept")
        return kept

    def mark_symbols(self) -> list[str]:
        """Leg and underlying symbols :meth:`mark_bp` reads (for the host's quote look-up)."""
        return mark_symbols(r.structure for r in self.records.values() if r.structure is not None)

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
        record.units = quantity if record.units == booked_quantity or record.units == 0 else round(record.units * frac)
        record.position = replace(record.position, risk_usd=record.position.risk_usd * frac, units=quantity)

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


def _combo_tick(root: str, quotes: tuple[LegQuote, ...]) -> float:
    """The combo tick of ``root`` at the quotes' mids (0 when the root or a mid is unknown:
    no slack is better than a guessed one)."""
    mids = [(q.bid_pts + q.ask_pts) / 2.0 for q in quotes
            if all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                   for x in (q.bid_pts, q.ask_pts))]
    try:
        return product(root).combo_tick_pts(mids) if mids and len(mids) == len(quotes) else 0.0
    except KeyError:
        return 0.0


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


_GREEKED_ROWS = (("expiry_greeks",), (EXPIRY_ROWS_GREEKS,))
"""Cache keys (first item) of greeked sub-snapshots :func:`legs_chain` reads legs from; items
2-5 of both are (model, rate, yield, expiry time), the :func:`with_greeks` inputs."""


def legs_chain(intent: OrderIntent, chain: ChainSnapshot) -> ChainSnapshot:
    """The rows of ``intent``'s legs (those the chain holds, in leg order), as a snapshot.

    Found in a per-expiry snapshot the strategy already built
    (:func:`thetacore.chain_greeks.expiry_greeks`, or the picked rows of
    :func:`thetacore.chain_greeks.expiry_rows_greeks`, cached on ``chain``) when that holds every
    leg, so the gate never indexes or greeks the whole chain; else by the chain's own
    symbol index (built once per snapshot). The rows are the chain's, value for value.
    """
    symbols = [leg.symbol for leg in intent.structure.legs]
    for key, sub in list(chain.derived.items()):
        if isinstance(key, tuple) and key[:1] in _GREEKED_ROWS and isinstance(sub, ChainSnapshot):
            index = sub.symbol_index()
            if all(s in index for s in symbols):
                rows = sub.select(np.array([index[s] for s in symbols], dtype=np.int64))
                # the rows carry the sub-chain's IVs: greeked with the same inputs, they are final
                rows.derived[("with_greeks", *key[2:6])] = rows
                # same rows for the legs' symbols: the strategy's buying power holds for them too
                rows.derived[MEMO_KEY] = sub.derived.setdefault(MEMO_KEY, {})
                return rows
    index = chain.symbol_index()
    return chain.select(np.array([index[s] for s in symbols if s in index], dtype=np.int64))
