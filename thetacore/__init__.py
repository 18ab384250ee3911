"""ThetaDesk domain core: chains, legs, structures, pricing, parameters and decisions.

Pure Python + numpy/scipy. Never imports ``AlgorithmImports`` or anything from LEAN: the
LEAN adapter (``leanhost``) and the offline replay host (``replay``) both translate their
data into these types and act on the decisions they get back.
"""
