"""Helpers of research.ipynb: a QuantBook-style chain frame becomes the project's chain; the
term structure picks the out-of-the-money contract nearest the underlying."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from analytics.research import atm_term_structure, chain_from_frame
from thetacore.enums import ExerciseStyle, Right, Settlement


def test_a_chain_frame_becomes_a_snapshot_with_missing_sides_kept_missing():
    frame = pd.DataFrame({"expiry": ["2023-06-30", "2023-06-30"], "strike": [4400.0, 4450.0],
                          "right": ["Put", "Call"], "bidprice": [12.5, np.nan], "askprice": [12.9, 3.1],
                          "underlyinglastprice": [4398.0, 4398.0]})
    chain = chain_from_frame(frame, root="SPXW", time_utc=datetime(2023, 6, 23, 19, 0, tzinfo=UTC),
                             multiplier_usd_per_pt=100.0, style=ExerciseStyle.EUROPEAN,
                             settlement=Settlement.CASH, underlying_symbol="SPX")
    assert list(chain.symbol) == ["SPXW 230630P04400000", "SPXW 230630C04450000"]
    assert list(chain.right) == [Right.PUT, Right.CALL]
    assert chain.mid_pts[0] == 12.7 and np.isnan(chain.mid_pts[1])


def test_the_term_structure_takes_the_otm_strike_nearest_the_underlying():
    table = pd.DataFrame({"expiry": ["a", "a", "a", "b"], "strike_pts": [95.0, 100.0, 105.0, 99.0],
                          "right": ["put", "put", "call", "put"], "t_years": [0.1, 0.1, 0.1, 0.2],
                          "our_iv_frac": [0.30, 0.20, 0.25, 0.22], "stored_iv_frac": [0.3, 0.2, 0.25, 0.22]})
    ts = atm_term_structure(table, underlying_pts=101.0)
    assert list(ts["strike_pts"]) == [100.0, 99.0] and list(ts["our_iv_frac"]) == [0.20, 0.22]
