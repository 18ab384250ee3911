"""Offline replay host: drives the ThetaDesk core over LEAN-format data on disk.

A test and research harness, not a second engine: full backtests belong to LEAN.
Run ``python -m replay --help``.
"""
