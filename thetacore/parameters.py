"""The one owner of every tunable number: names, types, units, defaults and validation.

Each field of :class:`Parameters` is one LEAN project parameter (``config.json``
``parameters``, string values). LEAN reads them with ``get_parameter`` and the replay host
from ``config.json`` plus ``--parameter NAME VALUE`` overrides; both hand the raw strings
to :func:`load_parameters`, so a value means the same thing in both hosts and
``lean optimize`` can sweep any of them. Defaults are the values of
``docs/strategy-rules.md`` (ranges: their middle, range documented in ``doc``).

Units live in names: ``_usd`` dollars, ``_pts`` index points, ``_frac`` fractions
(0.05 = 5%), ``_days`` calendar days, ``_min`` minutes, ``_et`` America/New_York time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, time
from pathlib import Path
from typing import Any

BROKERAGES = ("tastytrade", "interactive_brokers")
STRANGLE_UNDERLYINGS = ("ES", "MES")
ZDTE_UNDERLYINGS = ("ES", "SPXW")
LT112_UNDERLYINGS = ("ES", "MES", "SPX", "SPY")
IPMCC_UNDERLYINGS = ("SPY", "QQQ")
LEAP_PUT_UNDERLYINGS = ("SPY",)


class ParameterError(ValueError):
    """A parameter value is malformed or out of range; the message names the parameter."""


def _p(default: Any, doc: str, lo: float | None = None, hi: float | None = None,
       choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"doc": doc, "lo": lo, "hi": hi, "choices": choices})


@dataclass(frozen=True)
class Parameters:
    """Typed, validated, frozen project parameters. See each field's ``doc`` metadata."""

    # ----- account and hosts ---------------------------------------------------------------
    brokerage: str = _p("tastytrade", "brokerage model and fee schedule", choices=BROKERAGES)
    starting_cash_usd: float = _p(100_000.0, "backtest/replay starting cash", lo=1.0)
    backtest_start: date = _p(date(2020, 1, 6), "first LEAN backtest day (yyyy-mm-dd); the replay runs --start")
    backtest_end: date = _p(date(2020, 1, 6), "last LEAN backtest day (yyyy-mm-dd); the replay runs --end")

    # ----- futures-option short strangle (docs/strategy-rules.md, "Futures strangle") -------------
    strangle_enabled: bool = _p(True, "run the futures-option strangle")
    strangle_underlying: str = _p("ES", "futures root (MES: micro)", choices=STRANGLE_UNDERLYINGS)
    strangle_entry_weekday: int = _p(1, "entry weekday, 0=Mon..4=Fri; -1 = any day", lo=-1, hi=4)
    strangle_entry_nth_weekday: int = _p(2, "which weekday of the month (2 = second); 0 = any", lo=0, hi=5)
    strangle_entry_time_et: time = _p(time(10, 0), "entry decision time, America/New_York")
    strangle_dte_target: int = _p(90, "target days to expiry", lo=1, hi=400)
    strangle_dte_min: int = _p(75, "shortest accepted DTE (target - 15: a monthly expiry always fits)", lo=1)
    strangle_dte_max: int = _p(105, "longest accepted DTE (target + 15)", lo=1)
    strangle_put_delta_min: float = _p(0.05, "short put |delta| band, low end (rules: 5-7 delta)", lo=0.0, hi=0.5)
    strangle_put_delta_max: float = _p(0.07, "short put |delta| band, high end", lo=0.0, hi=0.5)
    strangle_put_delta_target: float = _p(0.06, "short put target |delta| (middle of the band)", lo=0.0, hi=0.5)
    strangle_call_delta_min: float = _p(0.05, "short call delta band, low end (rules: 5-6 delta)", lo=0.0, hi=0.5)
    strangle_call_delta_max: float = _p(0.06, "short call delta band, high end", lo=0.0, hi=0.5)
    strangle_call_delta_target: float = _p(0.055, "short call target delta (middle of the band)", lo=0.0, hi=0.5)
    strangle_iv_rank_min_frac: float = _p(0.30, "minimum IV rank (0.30 = 30); 0 disables the filter", lo=0.0, hi=1.0)
    strangle_iv_rank_lookback_days: int = _p(252, "IV-rank window in trading days", lo=2)
    strangle_iv_rank_min_history_days: int = _p(20, "fewest daily IV readings for an IV rank", lo=2)
    strangle_iv_rank_vix_proxy: bool = _p(True, "until the strangle has its own IV readings, rank VIX's daily "
                                          "closes instead (journaled as a VIX proxy)")
    # IV rank from a constant-maturity ATM IV (issue 11 item 3, helper K; thetacore/iv_rank.py)
    strangle_iv_cm_days: int = _p(90, "constant maturity of the IV-rank reading, calendar days (the strangle's "
                                  "90 DTE target; engineering choice)", lo=1, hi=400)
    strangle_iv_cm_subscribe_dte_max: int = _p(200, "subscribe expiries out to this DTE so two listed expiries "
                                               "bracket the constant maturity (90 + a quarterly cycle of 92 "
                                               "+ slack; engineering choice)", lo=1, hi=800)
    strangle_consolidation_days: int = _p(20, "consolidation window in trading days; 0 disables", lo=0)
    strangle_consolidation_max_range_frac: float = _p(0.08, "max (high-low)/last close over the window", lo=0.0)
    strangle_take_profit_frac: float = _p(0.50, "close when this fraction of the credit is captured", lo=0.01, hi=1.0)
    strangle_exit_dte: int = _p(21, "close at or below this DTE", lo=0)
    strangle_contracts: int = _p(1, "strangles per entry (sizing by risk rules comes later)", lo=1, hi=50)
    strangle_manage_interval_min: int = _p(30, "minutes between management checks", lo=1, hi=1440)
    strangle_filter_strike_range_frac: float = _p(0.25, "subscribe strikes within this fraction of the future", lo=0.01, hi=1.0)
    strangle_manage_start_et: time = _p(time(9, 30), "first management check of the day, ET")
    strangle_manage_end_et: time = _p(time(16, 0), "last management check of the day, ET")

    # ----- account phases (docs/strategy-rules.md, "Risk") -----------------------------------------
    phase2_min_nlv_usd: float = _p(40_000.0, "NLV from which phase 2 starts (ES allowed, LT112)", lo=0.0)
    phase3_min_nlv_usd: float = _p(55_000.0, "NLV from which phase 3 starts", lo=0.0)
    phase4_min_nlv_usd: float = _p(75_000.0, "NLV from which phase 4 starts", lo=0.0)
    # issue 11 (phases by product, Reg-T rates; sources in docs/strategy-rules.md)
    lt112_min_phase: int = _p(2, "first account phase that trades LT112 (V17: phase 2, on MES)", lo=1, hi=4)
    lt112_es_min_phase: int = _p(3, "first phase that trades LT112 on ES; MES before (M1: ES from about 55k)", lo=1, hi=4)
    regt_index_base_frac: float = _p(0.15, "Reg-T naked index option: this fraction of the underlying - OTM amount (Cboe)", lo=0.0, hi=1.0)
    regt_index_min_frac: float = _p(0.10, "Reg-T naked index option floor: this fraction of the strike (puts) / underlying (calls)", lo=0.0, hi=1.0)
    regt_equity_base_frac: float = _p(0.20, "Reg-T naked equity/ETF option: this fraction of the underlying - OTM amount (Cboe)", lo=0.0, hi=1.0)
    regt_equity_min_frac: float = _p(0.10, "Reg-T naked equity/ETF option floor: this fraction of the strike (puts) / underlying (calls)", lo=0.0, hi=1.0)
    bullish_multiweek_alert_at: int = _p(4, "alert when this many bullish multi-week programs are open (V17)", lo=1)
    event_avoid_trading_days: int = _p(2, "no entry when an event falls today or within this many trading days (weekdays)", lo=0)
    event_avoid_short_dte_days: int = _p(10, "positions shorter than this DTE also avoid every event before their expiry", lo=0)

    # ----- 0DTE (docs/strategy-rules.md, "0DTE (Friday)") ------------------------------------------
    zdte_enabled: bool = _p(True, "run the 0DTE trade")
    zdte_underlying: str = _p("SPXW", "SPXW index options (daily expiries); ES is refused at start: one "
                              "expiry a month in LEAN", choices=ZDTE_UNDERLYINGS)
    zdte_entry_weekday: int = _p(4, "entry weekday, 0=Mon..4=Fri; -1 = any day", lo=-1, hi=4)
    zdte_move_start_et: time = _p(time(10, 0), "start of the move read, ET (M1: 10:00-10:30)")
    zdte_entry_time_et: time = _p(time(10, 30), "end of the move read and entry time (never earlier), ET")
    zdte_move_threshold_frac: float = _p(0.005, "|move| above this sells a single spread, else a condor", lo=0.0)
    zdte_atr_days: int = _p(14, "ATR window in daily bars", lo=2)
    zdte_condor_atr_mult: float = _p(0.5, "condor shorts at spot +/- mult x ATR", lo=0.0)
    zdte_spread_atr_mult: float = _p(0.7, "single-spread short at spot +/- mult x ATR", lo=0.0)
    zdte_short_delta_min: float = _p(0.15, "short strikes must land in this |delta| band: low", lo=0.0, hi=0.5)
    zdte_short_delta_max: float = _p(0.25, "short strike |delta| band: high", lo=0.0, hi=0.5)
    zdte_wing_pts: float = _p(30.0, "wing width in index points for ES/SPX", lo=0.0)
    zdte_wing_scale: float = _p(1.0, "multiplier on zdte_wing_pts for other underlyings", lo=0.0)
    zdte_take_profit_frac: float = _p(0.50, "close when this fraction of the credit is captured", lo=0.01, hi=1.0)
    zdte_stop_loss_mult: float = _p(2.0, "close when the cost to close reaches mult x credit", lo=1.0)
    zdte_time_stop_et: time = _p(time(15, 0), "time stop: close whatever the P&L, ET")
    zdte_flatten_et: time = _p(time(15, 30), "final flatten: nothing open after this, ET")
    zdte_vix_max: float = _p(40.0, "no entry with VIX at or above this level", lo=0.0)
    zdte_filter_strike_range_frac: float = _p(0.05, "subscribe strikes within this fraction of the underlying (filters run once a day: wide enough for the day's move)", lo=0.01, hi=1.0)
    zdte_manage_interval_min: int = _p(5, "minutes between 0DTE management checks", lo=1, hi=60)
    zdte_contracts_phase1: int = _p(1, "0DTE contracts in phase 1 (micros only)", lo=0)
    zdte_contracts_phase2: int = _p(2, "0DTE contracts in phase 2", lo=0)
    zdte_contracts_phase3: int = _p(3, "0DTE contracts in phase 3", lo=0)
    zdte_contracts_phase4: int = _p(4, "0DTE contracts in phase 4", lo=0)

    # ----- LT112 (docs/strategy-rules.md, "LT112") ----------------------------------------------------
    lt112_enabled: bool = _p(True, "run LT112")
    lt112_underlying: str = _p("ES", "ES/MES futures options; SPX or SPY as alternatives", choices=LT112_UNDERLYINGS)
    lt112_entry_weekday: int = _p(2, "entry weekday (2 = Wednesday); -1 = any day", lo=-1, hi=4)
    lt112_entry_nth_weekday: int = _p(1, "which weekday of the month (1 = first); 0 = any", lo=0, hi=5)
    lt112_entry_time_et: time = _p(time(10, 0), "entry decision time, ET")
    lt112_dte_target: int = _p(120, "target days to expiry", lo=1, hi=400)
    lt112_dte_min: int = _p(105, "shortest accepted DTE (target - 15)", lo=1)
    lt112_dte_max: int = _p(135, "longest accepted DTE (target + 15)", lo=1)
    lt112_long_put_otm_frac: float = _p(0.07, "long put of the debit spread: this fraction below spot", lo=0.0, hi=0.5)
    lt112_spread_width_pts: float = _p(50.0, "short put of the spread: this many points below the long (ES/SPX points; set about 5 for SPY)", lo=0.0)
    lt112_naked_put_otm_frac: float = _p(0.12, "two naked puts: this fraction below spot (about 5 delta)", lo=0.0, hi=0.5)
    lt112_naked_take_profit_frac: float = _p(0.90, "close the naked puts at this fraction of their credit", lo=0.01, hi=1.0)
    lt112_contracts: int = _p(1, "LT112 units per entry (1 / -1 / -2 legs each)", lo=1, hi=50)
    lt112_manage_interval_min: int = _p(30, "minutes between LT112 management checks", lo=1, hi=1440)
    lt112_manage_start_et: time = _p(time(9, 30), "first LT112 management check of the day, ET")
    lt112_manage_end_et: time = _p(time(16, 0), "last LT112 management check of the day, ET")
    lt112_filter_strike_range_frac: float = _p(0.20, "subscribe strikes within this fraction of the underlying (naked puts 12% below)", lo=0.01, hi=1.0)

    # ----- IPMCC (docs/strategy-rules.md, "IPMCC") ------------------------------------------------------
    ipmcc_enabled: bool = _p(True, "run the poor man's covered call")
    ipmcc_underlying: str = _p("SPY", "QQQ or SPY", choices=IPMCC_UNDERLYINGS)
    ipmcc_leap_delta_target: float = _p(0.80, "LEAP call target delta", lo=0.5, hi=1.0)
    ipmcc_leap_dte_target: int = _p(365, "LEAP target days to expiry", lo=30)
    ipmcc_leap_dte_min: int = _p(180, "shortest accepted LEAP DTE", lo=30)
    ipmcc_leap_dte_max: int = _p(730, "longest accepted LEAP DTE", lo=30)
    ipmcc_leap_max_extrinsic_frac: float = _p(0.05, "LEAP extrinsic value must be below this fraction of the UNDERLYING's price (M1; not of the option's own price)", lo=0.0, hi=1.0)
    ipmcc_short_weekday: int = _p(4, "weekly call sale weekday (4 = Friday)", lo=-1, hi=4)
    ipmcc_short_time_et: time = _p(time(9, 45), "weekly call decision time, ET (M1 says 09:15, before equity options open: first decision after the open)")
    ipmcc_short_dte: int = _p(7, "weekly call days to expiry", lo=0)
    ipmcc_ema_fast_days: int = _p(8, "fast EMA of the underlying's daily closes", lo=1)
    ipmcc_ema_slow_days: int = _p(21, "slow EMA of the underlying's daily closes", lo=2)
    ipmcc_itm_strikes: int = _p(1, "strikes in the money when EMA fast <= slow (rules: 1-2)", lo=1, hi=2)
    ipmcc_short_take_profit_frac: float = _p(0.90, "buy back the weekly call at this fraction of its extrinsic", lo=0.01, hi=1.0)
    ipmcc_leap_time_et: time = _p(time(10, 0), "LEAP purchase decision time, ET (daily while no LEAP is held)")
    ipmcc_manage_interval_min: int = _p(15, "minutes between IPMCC management checks", lo=1, hi=1440)
    ipmcc_manage_start_et: time = _p(time(9, 45), "first IPMCC management check of the day, ET")
    ipmcc_manage_end_et: time = _p(time(15, 45), "last IPMCC management check of the day, ET")
    ipmcc_expiry_close_et: time = _p(time(15, 45), "buy back an ITM (or near-the-money) weekly call on its expiry day at this time, ET, 15 min before the 16:00 close (engineering choice: after most of the day's move, three order time-outs before the close; earlier on an early-close day)")
    ipmcc_expiry_buffer_frac: float = _p(0.005, "on its expiry day also buy back a weekly call out of the money by less than this fraction of its strike (pin risk: the last 15 min and after-hours moves decide exercise; 0.5% is ~2.5 sd of a 15-min SPY move)", lo=0.0, hi=0.1)
    ipmcc_dividend_yield_frac: float = _p(0.014, "underlying dividend yield for IV/greeks (SPY about 6.64 USD / 475)", lo=0.0, hi=0.2)
    ipmcc_filter_strike_range_frac: float = _p(0.30, "subscribe strikes within this fraction of the underlying", lo=0.01, hi=1.0)
    ipmcc_weekly_strike_range_frac: float = _p(0.05, "subscribe weekly-call strikes within this fraction of the underlying", lo=0.005, hi=1.0)
    ipmcc_leap_stop_loss_frac: float = _p(0.30, "close everything when the LEAP has lost this fraction", lo=0.01, hi=1.0)

    # ----- LEAP puts (docs/strategy-rules.md, "LEAP puts") ----------------------------------------------
    leap_puts_enabled: bool = _p(True, "run the LEAP put ladder")
    leap_put_underlying: str = _p("SPY", "underlying", choices=LEAP_PUT_UNDERLYINGS)
    leap_put_weekday: int = _p(0, "rung weekday (0 = Monday); -1 = any day", lo=-1, hi=4)
    leap_put_time_et: time = _p(time(10, 0), "rung decision time, ET")
    leap_put_delta_min: float = _p(0.12, "short put |delta| band: low (rules: 12-14 delta)", lo=0.0, hi=0.5)
    leap_put_delta_max: float = _p(0.14, "short put |delta| band: high", lo=0.0, hi=0.5)
    leap_put_delta_target: float = _p(0.13, "short put target |delta|", lo=0.0, hi=0.5)
    leap_put_dte_target: int = _p(365, "target days to expiry", lo=30)
    leap_put_dte_min: int = _p(300, "shortest accepted DTE", lo=30)
    leap_put_dte_max: int = _p(430, "longest accepted DTE", lo=30)
    leap_put_max_rungs: int = _p(10, "most rungs open at once", lo=1, hi=52)
    leap_put_take_profit_frac: float = _p(0.30, "close a rung when this fraction of its credit is captured", lo=0.01, hi=1.0)
    leap_put_manage_interval_min: int = _p(30, "minutes between LEAP-put management checks", lo=1, hi=1440)
    leap_put_manage_start_et: time = _p(time(9, 45), "first LEAP-put management check, ET")
    leap_put_manage_end_et: time = _p(time(15, 45), "last LEAP-put management check, ET")
    leap_put_dividend_yield_frac: float = _p(0.014, "SPY dividend yield for IV/greeks", lo=0.0, hi=0.2)
    leap_put_filter_strike_range_frac: float = _p(0.40, "subscribe strikes within this fraction of SPY", lo=0.01, hi=1.0)
    leap_put_roll_dte: int = _p(150, "roll a rung at or below this DTE", lo=0)

    # ----- defence of multi-week positions (docs/strategy-rules.md, "Defensive rule") ------------------
    defense_dte: int = _p(21, "review every undefined-risk / multi-week position at this DTE", lo=0)
    defense_close_by_dte: int = _p(14, "close a position kept at review by this DTE (project default)", lo=0)
    defense_tested_frac: float = _p(0.0, "a short strike is tested when the underlying is within this fraction of it or beyond", lo=0.0, hi=0.2)

    # ----- event avoidance and market data for rules ---------------------------------------------
    event_avoidance_enabled: bool = _p(True, "no new short premium across a listed event (data/events/events.csv)")
    vix_level: float = _p(-1.0, "operator-given VIX level for the replay when no VIX series is in the data; -1 = none", lo=-1.0)

    # ----- risk gate (docs/strategy-rules.md, "Risk"; issue 4) ---------------------------------------
    vix_regime1_below: float = _p(13.0, "VIX below this: regime 1", lo=0.0)
    vix_regime2_below: float = _p(18.0, "VIX below this (and >= regime 1): regime 2", lo=0.0)
    vix_regime3_below: float = _p(25.0, "VIX below this: regime 3", lo=0.0)
    vix_regime4_upto: float = _p(30.0, "VIX up to this: regime 4; above: regime 5 (short puts only)", lo=0.0)
    bp_max_frac_regime1: float = _p(0.45, "max buying power in use, VIX < 13", lo=0.0, hi=1.0)
    bp_max_frac_regime2: float = _p(0.65, "max buying power in use, VIX 13-18", lo=0.0, hi=1.0)
    bp_max_frac_regime3: float = _p(0.80, "max buying power in use, VIX 18-25", lo=0.0, hi=1.0)
    bp_max_frac_regime4: float = _p(0.50, "max buying power in use, VIX 25-30", lo=0.0, hi=1.0)
    bp_max_frac_regime5: float = _p(0.80, "max buying power in use, VIX > 30 (new entries short puts only)", lo=0.0, hi=1.0)
    bp_reserve_frac: float = _p(0.20, "always leave this fraction of buying power unused", lo=0.0, hi=1.0)
    corr_limit_a1: int = _p(2, "max open positions, group A1 equity index futures", lo=0)
    corr_limit_a2: int = _p(3, "max open positions, group A2 equity ETFs", lo=0)
    corr_limit_b1: int = _p(2, "max open positions, group B1 safe haven (gold, bonds)", lo=0)
    corr_limit_b2: int = _p(2, "max open positions, group B2 industrial metals", lo=0)
    corr_limit_c1: int = _p(2, "max open positions, group C1 crude", lo=0)
    corr_limit_c2: int = _p(1, "max open positions, group C2 natural gas", lo=0)
    corr_limit_d1: int = _p(2, "max open positions, group D1 grains", lo=0)
    corr_limit_d2: int = _p(1, "max open positions, group D2 proteins", lo=0)
    corr_limit_e: int = _p(2, "max open positions, group E currencies", lo=0)
    corr_limit_any_group: int = _p(3, "never more than this in any group", lo=0)
    corr_limit_a1_a2: int = _p(3, "groups A1 + A2 together at most", lo=0)
    corr_vix_tighten_above: float = _p(30.0, "every correlation limit one lower while VIX is above this", lo=0.0)
    max_bullish_multiweek: int = _p(3, "most bullish-delta multi-week programs (LT112, LEAP puts, IPMCC; the LEAP-put ladder is one)", lo=0)
    max_risk_per_trade_frac: float = _p(0.02, "max loss per trade as a fraction of NLV", lo=0.0, hi=1.0)
    max_risk_per_trade_hard_frac: float = _p(0.05, "hard cap on per-trade risk, fraction of NLV", lo=0.0, hi=1.0)
    max_open_positions_per_strategy: int = _p(3, "most open positions per strategy (LEAP puts: leap_put_max_rungs)", lo=0)
    loss_limit_daily_frac: float = _p(0.05, "no new entries for the day after losing this fraction of start-of-day NLV", lo=0.0, hi=1.0)
    loss_limit_weekly_frac: float = _p(0.10, "weekly loss limit, fraction of start-of-week NLV", lo=0.0, hi=1.0)
    loss_limit_monthly_frac: float = _p(0.15, "monthly loss limit, fraction of start-of-month NLV", lo=0.0, hi=1.0)
    max_losing_exits_per_day: int = _p(3, "no new entries that day after this many losing exits", lo=0)
    drawdown_halve_frac: float = _p(0.10, "drawdown from peak NLV that halves new position sizes", lo=0.0, hi=1.0)
    drawdown_stop_frac: float = _p(0.15, "drawdown that stops entries and closes losers", lo=0.0, hi=1.0)
    drawdown_flatten_frac: float = _p(0.20, "drawdown that flattens everything", lo=0.0, hi=1.0)
    # ----- issue 11, helper I (i11b): drawdown break (M1: "a 2-week break"), in CALENDAR days --------
    drawdown_break_days: int = _p(14, "calendar days of the break after the drawdown flatten step (M1: 2 weeks)", lo=0)
    micro_move_enabled: bool = _p(True, "under the halve step a 1-contract ES entry moves to MES (M1); the LEAN host "
                                  "subscribes MES options next to ES for it (false: refused, no MES feed)")
    multiweek_min_dte: int = _p(14, "a position is multi-week when it has at least this DTE at entry", lo=0)
    phase1_roots: str = _p("MES,MCL,MGC", "roots phase 1 may trade (micros only), comma-separated")
    kelly_fraction: float = _p(0.25, "fraction of full Kelly for sizing", lo=0.0, hi=1.0)
    kelly_min_trades: int = _p(20, "closed trades a strategy needs before Kelly sizing replaces 1 contract", lo=1)

    # ----- safety (issue 4) -------------------------------------------------------------------------
    kill_switch: bool = _p(False, "operator kill switch: no new entries at all (exits still allowed)")
    safety_max_spread_frac_of_mid: float = _p(0.50, "refuse a leg whose bid-ask spread exceeds this fraction of its mid", lo=0.0)
    safety_spread_floor_ticks: int = _p(4, "a spread of up to this many ticks always passes (cheap wings)", lo=0)
    safety_max_quote_age_sec: int = _p(120, "refuse a leg whose quote is older than this many seconds", lo=1)
    safety_max_quote_ahead_sec: int = _p(1, "refuse a quote stamped later than the decision time by more than this", lo=0)
    vix_prev_close: float = _p(-1.0, "operator-given previous VIX close for the replay (VIX jump breaker); -1 = none", lo=-1.0)
    safety_max_contracts_per_order: int = _p(20, "fat finger: most contracts in one order (per unit x quantity)", lo=1)
    safety_max_notional_usd: float = _p(1_000_000.0, "fat finger: most underlying notional per order, USD", lo=0.0)
    # house choice (no exchange rule): a limit up to a quarter of the natural-mid spread (plus one tick)
    # beyond [mid, natural] is a deliberate price; farther is a mistake. Entries, exits and the gate's
    # own flatten / close-losers closes (issue 8) are held to the same band (safety/fat_finger.py).
    safety_limit_band_frac: float = _p(0.25, "limit price (entries, exits, flatten) must lie within this fraction of the net natural-mid spread beyond [mid, natural]", lo=0.0)
    circuit_vix_level: float = _p(40.0, "circuit breaker: no entries with VIX at or above this", lo=0.0)
    circuit_vix_jump_frac: float = _p(0.30, "circuit breaker: VIX up more than this fraction on the day", lo=0.0)
    circuit_underlying_move_frac: float = _p(0.04, "circuit breaker: underlying moved more than this fraction on the day", lo=0.0)
    circuit_flatten: bool = _p(False, "a tripped circuit breaker also flattens open positions")

    # ----- host plumbing: alerts, persisted state, marks ------------------------------------------
    alert_email: str = _p("", "QC notify.email address for alerts (delivered by QC cloud live only)")
    alert_webhook_url: str = _p("", "QC notify.web URL for alerts (delivered by QC cloud live only)")
    state_key_prefix: str = _p("thetadesk", "object-store key prefix of this project (the store is shared by a workspace)")
    fresh_start: bool = _p(False, "live LEAN: start without a saved book (first deployment, or after deleting it on purpose); "
                                  "never discards a saved one")
    vix_prev_close_max_age_days: int = _p(7, "a previous VIX close older than this is unknown", lo=1)
    nlv_mark_interval_min: int = _p(30, "minutes between the risk gate's NLV marks", lo=1, hi=1440)
    daily_report_time_et: time = _p(time(16, 30), "daily after-close report (positions, decisions, risk, plans), ET")

    # ----- orders and fills ------------------------------------------------------------------
    order_limit_toward_far_frac: float = _p(0.3, "combo limit: mid + frac x (natural - mid)", lo=0.0, hi=1.0)
    order_timeout_min: int = _p(5, "cancel an unfilled combo after this many minutes", lo=1)
    unwind_through_ticks: int = _p(2, "an unwind limit goes this many ticks through the far side", lo=0, hi=50)
    unwind_timeout_min: int = _p(2, "an unwind not filled after this many minutes blocks new entries", lo=1)
    replay_fill_toward_far_frac: float = _p(0.3, "replay fill point per leg: 0 = mid, 1 = far side", lo=0.0, hi=1.0)
    max_quote_age_min: int = _p(15, "a quote older than this many minutes is missing, not stale-used", lo=1)
    futures_scan_range_frac: float = _p(0.07, "SPAN price scan range (+/- of futures price) when the day has no exchange "
                                               "margin for the outright future (data/future/cme/margins)", lo=0.001, hi=0.5)

    # ----- SPAN-like futures-option margin (issue 11, thetacore/span_margin.py) -----------------
    futures_vol_scan_frac: float = _p(0.04, "SPAN volatility scan: IV +/- this many vol points (0.04 = 4); NSE Clearing's "
                                            "index-option minimum vol scan", lo=0.0, hi=1.0)
    futures_short_option_minimum_frac: float = _p(0.015, "SPAN short-option minimum per uncovered short futures option, "
                                                         "fraction of its future's price (engineering choice: a 5-delta "
                                                         "ES put at about 2x the fixed-IV scan; NSE Clearing: 3%)",
                                                  lo=0.0, hi=0.5)

    # ----- Tastytrade fee schedule (docs/lean-notes.md "Fees"; check before live use) -------------
    fee_option_open_usd: float = _p(1.00, "equity/index option commission to open, per contract", lo=0.0)
    fee_option_cap_per_leg_usd: float = _p(10.00, "equity option open commission cap per leg", lo=0.0)
    fee_option_clearing_usd: float = _p(0.10, "option clearing fee per contract, open and close", lo=0.0)
    fee_index_option_proprietary_usd: float = _p(0.65, "SPX proprietary index fee per contract", lo=0.0)
    fee_future_option_open_usd: float = _p(2.50, "futures-option commission to open (standard)", lo=0.0)
    fee_micro_future_option_open_usd: float = _p(1.50, "futures-option commission to open (micro)", lo=0.0)
    fee_future_option_clearing_usd: float = _p(0.30, "futures-option clearing per contract", lo=0.0)
    fee_future_option_exchange_usd: float = _p(0.57, "CME exchange + NFA fee per contract (ES ~0.55 + 0.02)", lo=0.0)
    fee_micro_future_option_exchange_usd: float = _p(0.22, "CME exchange + NFA fee per micro contract (MES ~0.20 + 0.02)", lo=0.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_range(f.name, getattr(self, f.name), f.metadata)
        _check_band(self, "strangle_put_delta")
        _check_band(self, "strangle_call_delta")
        _check_band(self, "leap_put_delta")
        for prefix in ("strangle", "lt112", "leap_put", "ipmcc_leap"):
            lo, target, hi = (getattr(self, f"{prefix}_dte_{s}") for s in ("min", "target", "max"))
            if not lo <= target <= hi:
                raise ParameterError(f"{prefix}_dte_target={target} must lie in "
                                     f"[{prefix}_dte_min={lo}, {prefix}_dte_max={hi}]")
        if not self.zdte_short_delta_min <= self.zdte_short_delta_max:
            raise ParameterError("zdte_short_delta_min must be <= zdte_short_delta_max")
        if not self.phase2_min_nlv_usd <= self.phase3_min_nlv_usd <= self.phase4_min_nlv_usd:
            raise ParameterError("phase thresholds must rise: phase2_min_nlv_usd <= phase3 <= phase4")
        if not (self.vix_regime1_below <= self.vix_regime2_below <= self.vix_regime3_below
                <= self.vix_regime4_upto):
            raise ParameterError("VIX regime bounds must rise: vix_regime1_below <= 2 <= 3 <= vix_regime4_upto")
        if not self.drawdown_halve_frac <= self.drawdown_stop_frac <= self.drawdown_flatten_frac:
            raise ParameterError("drawdown steps must rise: drawdown_halve_frac <= stop <= flatten")
        if not self.max_risk_per_trade_frac <= self.max_risk_per_trade_hard_frac:
            raise ParameterError("max_risk_per_trade_frac must be <= max_risk_per_trade_hard_frac")
        if not self.ipmcc_ema_fast_days < self.ipmcc_ema_slow_days:
            raise ParameterError("ipmcc_ema_fast_days must be < ipmcc_ema_slow_days")
        if not self.zdte_move_start_et < self.zdte_entry_time_et < self.zdte_time_stop_et <= self.zdte_flatten_et:
            raise ParameterError("0DTE times must run zdte_move_start_et < zdte_entry_time_et < "
                                 "zdte_time_stop_et <= zdte_flatten_et")
        if self.backtest_end < self.backtest_start:
            raise ParameterError(f"backtest_end={self.backtest_end} is before backtest_start={self.backtest_start}")


def _check_band(p: Parameters, prefix: str) -> None:
    lo, target, hi = (getattr(p, f"{prefix}_{s}") for s in ("min", "target", "max"))
    if not lo <= target <= hi:
        raise ParameterError(f"{prefix}_target={target} must lie in [{prefix}_min={lo}, {prefix}_max={hi}]")


def _check_range(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    if meta.get("choices") and value not in meta["choices"]:
        raise ParameterError(f"parameter {name}={value!r}: must be one of {', '.join(meta['choices'])}")
    if meta.get("lo") is not None and value < meta["lo"]:
        raise ParameterError(f"parameter {name}={value!r}: must be >= {meta['lo']}")
    if meta.get("hi") is not None and value > meta["hi"]:
        raise ParameterError(f"parameter {name}={value!r}: must be <= {meta['hi']}")


_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _parse(name: str, raw: str, kind: type) -> Any:
    text = str(raw).strip()
    try:
        if kind is bool:
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError("expected true or false")
        if kind is int:
            return int(text)
        if kind is float:
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError("not a finite number")
            return value
        if kind is time:
            m = _TIME_RE.match(text)
            if not m:
                raise ValueError("expected HH:MM")
            return time(int(m.group(1)), int(m.group(2)))
        if kind is date:
            return date.fromisoformat(text)
        return text
    except ValueError as exc:
        raise ParameterError(f"parameter {name}={raw!r}: {exc}") from exc


_KINDS = {"bool": bool, "int": int, "float": float, "time": time, "date": date, "str": str}


def parameter_names() -> tuple[str, ...]:
    """Every parameter name, in declaration order."""
    return tuple(f.name for f in fields(Parameters))


def load_parameters(raw: Mapping[str, str | None]) -> Parameters:
    """Typed parameters from raw strings; names absent (or ``None``) take their defaults.

    Raises:
        ParameterError: naming the parameter, for an unknown name, a malformed value, a value
            out of range or an inconsistent band.
    """
    known = {f.name: f for f in fields(Parameters)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ParameterError(f"unknown parameter(s): {', '.join(unknown)}")
    values = {}
    for name, value in raw.items():
        if value is None:
            continue
        kind = _KINDS[str(known[name].type)]
        values[name] = _parse(name, value, kind)
    return Parameters(**values)


def default_strings() -> dict[str, str]:
    """The defaults formatted as LEAN ``config.json`` parameter strings."""
    out = {}
    for f in fields(Parameters):
        assert f.default is not MISSING
        out[f.name] = format_value(f.default)
    return out


def format_value(value: Any) -> str:
    """A parameter value as its config string (``true``, ``10:00``, ``2020-01-06``, ``0.05``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_config_parameters(config_path: Path) -> dict[str, str]:
    """The ``parameters`` object of a LEAN project ``config.json``.

    Raises:
        ParameterError: when the file is missing, not JSON, or a value is not a string.
    """
    try:
        config = json.loads(Path(config_path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ParameterError(f"cannot read {config_path}: {exc}") from exc
    params = config.get("parameters", {})
    bad = [k for k, v in params.items() if not isinstance(v, str)]
    if bad:
        raise ParameterError(f"{config_path}: parameter values must be strings: {', '.join(bad)}")
    return dict(params)


def sync_config(config_path: Path) -> None:
    """Rewrite the ``parameters`` of ``config_path`` to the defaults, keeping other keys
    (``python -m thetacore.parameters config.json``)."""
    config = json.loads(Path(config_path).read_text())
    config["parameters"] = default_strings()
    Path(config_path).write_text(json.dumps(config, indent=4) + "\n")


if __name__ == "__main__":
    import sys

    sync_config(Path(sys.argv[1] if len(sys.argv) > 1 else "config.json"))
