"""Analytics (pure, never imports LEAN): what a run earned and risked.

Readers turn a replay output (:mod:`analytics.replay_input`) or a LEAN backtest folder
(:mod:`analytics.lean_input`) into the records of :mod:`analytics.model`;
:mod:`analytics.metrics` computes per-strategy and account figures (QuantStats for Sharpe,
Sortino and the maximum drawdown); :mod:`analytics.report` writes the HTML report and the key
table (``python -m analytics report <folder>``, charts in :mod:`analytics.figures`);
:mod:`analytics.daily_report` writes LEAN's daily after-close report from plain data;
:mod:`analytics.research` holds the helpers of ``research.ipynb``;
:mod:`analytics.entries` counts the entries possible per month of replay runs
(``python -m analytics entries <folder>...``, ``docs/entries-per-month.md``).
"""
