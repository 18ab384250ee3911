"""Safety checks (pure): data validation before decisions (``quote_validation``), fat-finger
limits (``fat_finger``), the operator kill switch with its audit log (``kill_switch``) and
circuit breakers (``circuit_breakers``). The pre-trade gate (:mod:`risk.gate`) runs them on
every order intent, in both hosts."""
