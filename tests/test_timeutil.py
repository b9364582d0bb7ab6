import warnings
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from monitor.errors import InputError
from monitor.timeutil import from_epoch, iso, parse_duration, parse_time, to_epoch


@pytest.mark.parametrize("text,expected", [
    ("2020-09-16T19:40:00+05:00", "2020-09-16T14:40:00Z"),
    ("2020-09-16T14:40:00Z", "2020-09-16T14:40:00Z"),
    ("1600267200", "2020-09-16T14:40:00Z"),
    (1600267200, "2020-09-16T14:40:00Z"),
    ("2020-09-16", "2020-09-16T00:00:00Z"),
    ("2020-09-16 19:40+05:00", "2020-09-16T14:40:00Z"),
    ("2020-09-16T14:40", "2020-09-16T14:40:00Z"),
    ("2020-09-16T14:40:00.250Z", "2020-09-16T14:40:00Z"),
    ("100000000", "1973-03-03T09:46:40Z"),
    (0, "1970-01-01T00:00:00Z"),
    (np.int64(2019), "1970-01-01T00:33:39Z"),
    (pd.Timestamp("2020-09-16T19:40:00+05:00"), "2020-09-16T14:40:00Z"),
    (datetime(2020, 9, 16, 14, 40), "2020-09-16T14:40:00Z"),
])
def test_parse_time_to_utc(text, expected):
    ts = parse_time(text)
    assert str(ts.tz) == "UTC" and iso(ts) == expected


def test_naive_datetime_refused_when_asked():
    with pytest.raises(InputError, match="offset"):
        parse_time("2020-09-16T19:40:00", naive="error")
    with pytest.raises(InputError, match="offset"):
        parse_time("2020-09-16 19:40", naive="error")
    assert iso(parse_time("2020-09-16 19:40+01:00", naive="error")) == "2020-09-16T18:40:00Z"
    assert iso(parse_time("2020-09-16T19:40:00")) == "2020-09-16T19:40:00Z"


@pytest.mark.parametrize("bad", ["yesterday", "", "2020-13-45", "2019-02-30", float("nan"), 10**18])
def test_bad_times(bad):
    with pytest.raises(InputError):
        parse_time(bad)


@pytest.mark.parametrize("text", ["2019", "99999999", "05.06.2016", "01/11/2019", "16 Nov 2019",
                                  "2019-11-16T14", "2019-11-16Z", "-1600267200", "1600267200.5"])
def test_lax_times_are_refused_with_what_is_expected(text):
    with pytest.raises(InputError) as info:
        parse_time(text, what="--from")
    assert str(info.value) == (f"bad --from {text!r}: not an ISO 8601 date or time "
                               "(e.g. 2019-11-16 or 2019-11-16T14:00Z) nor unix seconds")


def test_epoch_round_trip_uses_seconds():
    idx = pd.date_range("2019-11-16T14:00Z", periods=3, freq="10min")
    secs = to_epoch(idx)
    assert list(secs) == [1573912800, 1573913400, 1573914000]
    assert (from_epoch(secs) == idx).all()
    with pytest.raises(InputError):
        to_epoch(pd.date_range("2019-11-16", periods=2))


def test_durations():
    assert parse_duration("90m") == pd.Timedelta(minutes=90)
    assert parse_duration("2h") == pd.Timedelta(hours=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas deprecates lower-case d and w; people still write them
        assert parse_duration("1d") == pd.Timedelta(days=1) and parse_duration("2w") == pd.Timedelta(days=14)
    with pytest.raises(InputError):
        parse_duration("soon")
