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
])
def test_parse_time_to_utc(text, expected):
    ts = parse_time(text)
    assert str(ts.tz) == "UTC" and iso(ts) == expected


def test_naive_datetime_refused_when_asked():
    with pytest.raises(InputError, match="offset"):
        parse_time("2020-09-16T19:40:00", naive="error")
    assert iso(parse_time("2020-09-16T19:40:00")) == "2020-09-16T19:40:00Z"


@pytest.mark.parametrize("bad", ["yesterday", "", "2020-13-45", float("nan")])
def test_bad_times(bad):
    with pytest.raises(InputError):
        parse_time(bad)


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
    with pytest.raises(InputError):
        parse_duration("soon")
