"""Strategies: pure decision logic. Each takes plain market context and returns
:class:`thetacore.decisions.Decision` values; none imports LEAN."""
