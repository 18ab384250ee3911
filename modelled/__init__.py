"""MODELLED option chains over REAL daily paths (issue 12): pure, no LEAN import.

Everything this package produces is MODELLED, not market data, and says so: chain roots carry
the ``*MODELLED`` suffix (the ``*`` label convention the gate and the strategies already strip,
``risk/gate_inputs.py``), contract symbols start with that root, and the VIX stand-in (``VolPath.vix``,
``ModelledChain.vix``, ``ModelledMarket.vix_daily``) comes from objects whose ``label`` is
``"MODELLED"``.

Modules (each states its sources):

* :mod:`modelled.paths` -- the REAL daily bars of SPY/QQQ/IWM/AAPL with the dividends and splits
  of LEAN's factor files (total returns, trailing dividend yield) and LEAN's rate series.
* :mod:`modelled.vol` -- GARCH(1,1) (``arch``) fitted only on returns up to each day, refit
  every N days and filtered forward in between, times a variance premium: ATM level, term
  structure and the MODELLED VIX.
* :mod:`modelled.surface` -- the smile/term parametrisation and its least-squares calibration
  on the real chains in ``data/``.
* :mod:`modelled.calendar` -- expiry calendars and strike grids like the real listings.
* :mod:`modelled.chains` -- one day's whole-universe chain as a
  :class:`thetacore.chain.ChainSnapshot`, vectorised.

See ``docs/modelled-chains.md`` for what a modelled run can and cannot show.
"""

LABEL = "MODELLED"
"""The label every modelled object carries."""

ROOT_SUFFIX = "*" + LABEL
"""Suffix of every modelled chain root (``"SPY*MODELLED"``)."""
