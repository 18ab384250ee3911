"""Project parameters read through LEAN's ``QCAlgorithm.get_parameter``.

LEAN API: ``get_parameter(name) -> str`` returns the ``config.json`` ``parameters`` value
(or a ``--parameter`` / optimizer override) as a string, and ``None`` for a name that is not
set. The raw strings go unchanged to :func:`thetacore.parameters.load_parameters`, so a
value means the same in LEAN and in the replay host; names left unset take the defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from thetacore.parameters import ParameterError, Parameters, load_parameters, parameter_names

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm


def raw_parameters(algorithm: QCAlgorithm) -> dict[str, str | None]:
    """Every known parameter name mapped to its raw LEAN string (``None`` when unset)."""
    raw: dict[str, str | None] = {}
    for name in parameter_names():
        value: str | None = algorithm.get_parameter(name)
        raw[name] = value
    return raw


def read_parameters(algorithm: QCAlgorithm) -> Parameters:
    """Typed, validated parameters of this run.

    Raises:
        ParameterError: naming the parameter, after logging it with ``algorithm.error``, so
            that ``initialize`` stops with a clear message instead of trading on a bad value.
    """
    try:
        return load_parameters(raw_parameters(algorithm))
    except ParameterError as exc:
        algorithm.error(f"ThetaDesk cannot start: {exc}")
        raise
