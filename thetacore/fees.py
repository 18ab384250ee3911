"""Tastytrade commission and fee schedule (docs/lean-notes.md, "Fees"), per order leg.

Options (equity/ETF): $1.00 per contract to open, capped at $10 per leg; $0 to close;
plus $0.10 clearing per contract both ways. Index options (SPX/SPXW): $1.00 to open, no
cap, plus clearing and the proprietary index fee ($0.65 SPX) both ways. Futures options:
$2.50 to open ($1.50 micro), $0 to close, plus $0.30 clearing and the exchange + NFA fee
both ways: the CME exchange fee of the product's own class (E-mini options such as ES, or
Micro E-mini options such as MES, which CME charges less), plus NFA's $0.02 (docs/fees.md). Regulatory fees on sells (ORF, FINRA TAF) are cents and left out, as is LEAN's
built-in model; check the current schedule before live use.
"""

from __future__ import annotations

from thetacore.parameters import Parameters
from thetacore.structures import UnderlyingKind


def tastytrade_leg_fee_usd(
    p: Parameters, kind: UnderlyingKind, contracts: int, opening: bool, *, micro: bool = False
) -> float:
    """Fees in dollars for one leg of ``contracts`` option contracts (sign ignored).

    Args:
        p: parameters holding the fee schedule (``fee_*``).
        kind: what the options are written on (equity/ETF, index, future).
        contracts: contracts traded in this leg.
        opening: True for an opening trade (commission charged), False for closing.
        micro: micro futures options (MES): the micro opening commission and the Micro
            E-mini exchange fee (``fee_micro_future_option_exchange_usd``).
    """
    n = abs(contracts)
    if kind is UnderlyingKind.FUTURE:
        commission = (p.fee_micro_future_option_open_usd if micro else p.fee_future_option_open_usd) * n
        exchange = p.fee_micro_future_option_exchange_usd if micro else p.fee_future_option_exchange_usd
        per_contract = p.fee_future_option_clearing_usd + exchange
        return (commission if opening else 0.0) + per_contract * n
    commission = p.fee_option_open_usd * n
    if kind is UnderlyingKind.EQUITY:
        commission = min(commission, p.fee_option_cap_per_leg_usd)
        return (commission if opening else 0.0) + p.fee_option_clearing_usd * n
    index_fees = (p.fee_option_clearing_usd + p.fee_index_option_proprietary_usd) * n
    return (commission if opening else 0.0) + index_fees
