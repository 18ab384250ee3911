"""LEAN host: the only package (with ``main.py``) that imports ``AlgorithmImports``.

It translates between LEAN and the pure core: parameters from ``get_parameter``
(:mod:`.parameters`), the brokerage model, its order rules and fee model (:mod:`.brokerage`),
one feed per option kind and root with its filters or daily-picked contracts
(:mod:`.subscriptions`, :mod:`.option_filters`), one market context per decision with one
:class:`ChainSnapshot`, VIX, NLV and event dates (:mod:`.market_data`, :mod:`.chains`; the
real age of fill-forwarded quotes: :mod:`.freshness`; IV readings across live restarts:
:mod:`.iv_history`),
schedule rules (:mod:`.scheduling`), the risk gate before every order with its NLV marks,
flatten requests and exit P&L (:mod:`.risk_desk`), its state and the operator's kill switch in
the object store (:mod:`.gate_store`), alerts by log, QC notify and SMTP (:mod:`.alerts`),
limit orders (combo, or plain for one leg) and their events (:mod:`.orders`,
:mod:`.order_groups`), expiry/exercise/assignment (:mod:`.settlement`) and the reconciliation
of LEAN's holdings with the strategies (:mod:`.reconciliation`), the operator's live commands
(:mod:`.operator`), brokerage messages, disconnects, the live brokerage and margin
(:mod:`.brokerage_events`), host entry blocks in the gate (:mod:`.entry_blocks`), the
decision and verdict journal within QuantConnect's log limits (:mod:`.journal`), charts and
statistics (:mod:`.dashboard`). Every module names the LEAN API it follows; everything was checked
against ``quantconnect-stubs`` (``python -m mypy --config-file mypy.ini main.py leanhost``).
"""
