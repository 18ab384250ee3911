"""LEAN host: the only package (with ``main.py``) that imports ``AlgorithmImports``.

It translates between LEAN and the pure core: parameters from ``get_parameter``, the
brokerage model and fee model, subscriptions and filters, one :class:`ChainSnapshot` per
decision, schedule rules, combo orders and their events, and the decision journal. Every
module names the LEAN API it follows; everything was checked against
``quantconnect-stubs`` (``python -m mypy --config-file mypy.ini main.py leanhost``).
"""
