"""Risk rules (pure): buying-power limits by VIX regime, account phases, correlation groups,
loss limits and sizing. The margin formulas a structure needs live in
:mod:`thetacore.margin`; the enforcing pre-trade gate that applies the limits is built here."""
