"""Time to expiry: calendar days / 365 between UTC instants, expiry at a New York clock time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import numpy as np
import pytest

from thetacore.pricing import et_instant_utc, time_to_expiry_years


def test_when_summer_then_new_york_is_utc_minus_4_and_winter_utc_minus_5() -> None:
    assert et_instant_utc(date(2023, 6, 30), time(16, 0)) == datetime(2023, 6, 30, 20, 0,
                                                                       tzinfo=UTC)
    assert et_instant_utc(date(2020, 3, 6), time(9, 30)) == datetime(2020, 3, 6, 14, 30,
                                                                     tzinfo=UTC)


def test_when_one_week_close_to_close_then_seven_days_over_365() -> None:
    now = et_instant_utc(date(2023, 6, 23), time(16, 15))
    t = time_to_expiry_years(np.array(["2023-06-30"], dtype="datetime64[D]"), now, time(16, 15))
    assert t[0] == pytest.approx(7 / 365, abs=1e-15)


def test_when_interval_spans_dst_change_then_elapsed_time_is_exact() -> None:
    # 2020-03-08 02:00 EST -> EDT: Friday 16:00 to the next Friday 16:00 is 7 days - 1 hour.
    now = et_instant_utc(date(2020, 3, 6), time(16, 0))
    t = time_to_expiry_years(np.datetime64("2020-03-13"), now, time(16, 0))
    assert float(t) * 365 == pytest.approx(7 - 1 / 24, abs=1e-12)


def test_when_es_quarterly_at_opening_quotation_then_t_from_15_utc() -> None:
    now = datetime(2020, 1, 6, 15, 0, tzinfo=UTC)
    t = time_to_expiry_years(np.array(["2020-03-20"], dtype="datetime64[D]"), now, time(9, 30))
    # 2020-03-20 09:30 EDT = 13:30 UTC; 73 days 22.5 hours later
    assert t[0] * 365 == pytest.approx(73 + 22.5 / 24, abs=1e-12)


def test_when_override_for_an_early_close_then_it_replaces_the_default_time() -> None:
    now = et_instant_utc(date(2023, 6, 23), time(16, 15))
    expiry = np.array(["2023-06-30", "2023-07-03"], dtype="datetime64[D]")
    t = time_to_expiry_years(expiry, now, time(16, 15),
                             expiry_time_overrides_et={date(2023, 7, 3): time(13, 0)})
    assert t * 365 == pytest.approx([7.0, 10 - 3.25 / 24], abs=1e-12)


def test_when_expired_then_zero_or_negative_and_nat_gives_nan() -> None:
    now = datetime(2024, 1, 5, 22, 0, tzinfo=UTC)
    t = time_to_expiry_years(np.array(["2024-01-05", "NaT"], dtype="datetime64[D]"), now,
                             time(16, 0))
    assert t[0] < 0 and np.isnan(t[1])


def test_when_now_is_naive_then_value_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        time_to_expiry_years(np.datetime64("2024-01-05"), datetime(2024, 1, 4), time(16, 0))


def test_remembered_et_instant_is_the_computed_one_across_dst() -> None:
    """``et_instant_utc`` is remembered (issue 10): every date of 2024 (both DST changes) at
    9:30 and 16:00 gives what ``datetime.combine(...).astimezone(UTC)`` gives, asked twice."""
    from datetime import UTC, date, datetime, time, timedelta

    from thetacore.pricing.time_to_expiry import NEW_YORK, et_instant_utc

    for i in range(366):
        day = date(2024, 1, 1) + timedelta(days=i)
        for clock in (time(9, 30), time(16, 0)):
            want = datetime.combine(day, clock, tzinfo=NEW_YORK).astimezone(UTC)
            assert et_instant_utc(day, clock) == want and et_instant_utc(day, clock) == want
            assert et_instant_utc(day, clock).utcoffset() == timedelta(0)
    assert et_instant_utc(date(2024, 3, 11), time(9, 30)).hour == 13  # EDT: 9:30 ET = 13:30 UTC
    assert et_instant_utc(date(2024, 3, 8), time(9, 30)).hour == 14  # EST
