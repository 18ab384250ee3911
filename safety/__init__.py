"""Safety checks (pure): data validation before decisions, fat-finger limits, kill switch and
circuit breakers. Quote validity for pricing is enforced today by
:meth:`thetacore.structures.Structure.leg_quotes` (zero bids, crossed or one-sided quotes are
refused, never priced)."""
