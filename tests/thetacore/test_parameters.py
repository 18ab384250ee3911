"""Parameters: one owner of names, types, defaults and validation; config.json agrees."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest

from thetacore.parameters import (
    ParameterError,
    default_strings,
    load_parameters,
    parameter_names,
    read_config_parameters,
)

ROOT = Path(__file__).resolve().parents[2]


def test_config_json_is_a_lean_project_config_whose_parameters_equal_the_defaults():
    config = json.loads((ROOT / "config.json").read_text())
    assert config["algorithm-language"] == "Python"
    assert config["description"]
    assert config["parameters"] == default_strings()
    assert all(isinstance(v, str) for v in config["parameters"].values())


def test_defaults_are_the_rules_table_values():
    p = load_parameters({})
    assert (p.strangle_put_delta_min, p.strangle_put_delta_max) == (0.05, 0.07)
    assert (p.strangle_call_delta_min, p.strangle_call_delta_max) == (0.05, 0.06)
    assert p.strangle_dte_target == 90 and p.strangle_exit_dte == 21
    assert p.strangle_take_profit_frac == 0.5 and p.strangle_iv_rank_min_frac == 0.30
    assert (p.strangle_consolidation_days, p.strangle_consolidation_max_range_frac) == (20, 0.08)
    assert p.strangle_entry_weekday == 1 and p.strangle_entry_nth_weekday == 2  # second Tuesday


def test_when_values_arrive_as_strings_then_they_are_typed():
    p = load_parameters({"strangle_entry_time_et": "09:45", "strangle_enabled": "false",
                         "strangle_dte_min": "60"})
    assert p.strangle_entry_time_et == time(9, 45)
    assert p.strangle_enabled is False
    assert p.strangle_dte_min == 60


@pytest.mark.parametrize(("name", "value", "fragment"), [
    ("strangle_put_delta_min", "abc", "strangle_put_delta_min='abc'"),
    ("strangle_take_profit_frac", "1.5", "must be <= 1.0"),
    ("strangle_entry_time_et", "25:00", "expected HH:MM"),
    ("brokerage", "robinhood", "must be one of tastytrade, interactive_brokers"),
    ("strangle_contracts", "nan", "strangle_contracts"),
    ("strangle_put_delta_target", "0.09", "strangle_put_delta_target=0.09 must lie in"),
    ("no_such_parameter", "1", "unknown parameter(s): no_such_parameter"),
])
def test_when_a_value_is_bad_then_the_error_names_the_parameter(name, value, fragment):
    with pytest.raises(ParameterError) as err:
        load_parameters({name: value})
    assert fragment in str(err.value)


def test_when_config_holds_a_non_string_value_then_reading_fails(tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps({"parameters": {"strangle_dte_min": 60}}))
    with pytest.raises(ParameterError, match="strangle_dte_min"):
        read_config_parameters(bad)


def test_every_name_has_a_doc_and_a_unit_suffix_or_is_a_switch():
    from dataclasses import fields

    from thetacore.parameters import Parameters
    for f in fields(Parameters):
        assert f.metadata["doc"], f.name
    assert len(parameter_names()) == len(set(parameter_names()))
