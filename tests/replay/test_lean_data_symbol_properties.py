"""Contract multipliers and ticks from the bundled symbol-properties database."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.lean_data import DataError, SymbolProperties

DATA_ROOT = Path(__file__).resolve().parents[2] / "data"
HEADER = ("market,symbol,type,description,quote_currency,contract_multiplier,"
          "minimum_price_variation,lot_size,market_ticker,minimum_order_size,price_magnifier,"
          "strike_multiplier\n")


@pytest.fixture(scope="module")
def props() -> SymbolProperties:
    return SymbolProperties.from_data_root(DATA_ROOT)


@pytest.mark.parametrize(
    ("market", "ticker", "security_type", "key", "multiplier", "tick"),
    [
        ("cme", "ES", "future", "cme,ES,future", 50.0, 0.25),
        # no futureoption row for ES: LEAN falls back on the underlying future's row
        ("cme", "ES", "futureoption", "cme,ES,future", 50.0, 0.25),
        ("usa", "SPXW", "indexoption", "usa,[*],indexoption", 100.0, 0.05),
        ("usa", "SPX", "indexoption", "usa,[*],indexoption", 100.0, 0.05),
        ("usa", "SPY", "option", "usa,[*],option", 100.0, 0.01),
        ("usa", "SPY", "equity", "usa,[*],equity", 1.0, 0.01),
    ],
)
def test_when_looked_up_then_lean_row_with_multiplier_and_tick(
    props: SymbolProperties, market: str, ticker: str, security_type: str, key: str,
    multiplier: float, tick: float,
) -> None:
    entry = props.get(market, ticker, security_type)
    assert (entry.key, entry.multiplier, entry.minimum_price_variation) == (key, multiplier, tick)
    assert (entry.lot_size, entry.quote_currency) == (1.0, "USD")


def test_when_es_looked_up_then_description_is_e_mini(props: SymbolProperties) -> None:
    assert props.get("cme", "es", "future").description == "E-mini S&P 500 Futures"


def test_when_key_unknown_then_data_error_names_it(props: SymbolProperties) -> None:
    with pytest.raises(DataError, match="cme,NOPE,future"):
        props.get("cme", "NOPE", "future")


def test_when_optional_columns_present_then_parsed(tmp_path: Path) -> None:
    path = tmp_path / "sp.csv"
    path.write_text("# comment\n\n" + HEADER + "usa,NQX,indexoption,NQX,USD,100,0.05,1,,,,5\n"
                    "usa,XX,commodity,,USD,1,0.01,1\nusa,YY,notatype,,USD,1,0.01,1\n")
    entry = SymbolProperties.load(path).get("usa", "NQX", "indexoption")
    assert (entry.strike_multiplier, entry.price_magnifier, entry.minimum_order_size) == (
        5.0, 1.0, None)


@pytest.mark.parametrize(
    ("rows", "line"),
    [
        ("cme,ES,future,E-mini,USD,fifty,0.25,1\n", 3),
        ("cme,ES,future,E-mini,USD,50,0.25,1\ncme,ES,future,again,USD,50,0.25,1\n", 4),
        ("cme,ES,future,E-mini,USD\n", 3),
    ],
)
def test_when_row_is_bad_then_data_error_with_file_and_line(tmp_path: Path, rows: str,
                                                            line: int) -> None:
    path = tmp_path / "sp.csv"
    path.write_text("#\n" + HEADER + rows)
    with pytest.raises(DataError) as info:
        SymbolProperties.load(path)
    assert "sp.csv" in str(info.value) and info.value.line == line


def test_when_file_missing_then_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing.csv"):
        SymbolProperties.load(tmp_path / "missing.csv")
