import io

import numpy as np
import pandas as pd
import pytest

from monitor.errors import ParseError
from monitor.tidy import read_tidy_csv, write_tidy

GOOD = """time,entity,datasource,value
2019-11-16T14:00:00Z,country/IR,bgp,46100
1573913100,country/ir,bgp,
2019-11-16T18:15:00+03:30,country/IR,bgp,0.1
"""


def test_reads_iso_offsets_epochs_and_gaps():
    df, bad = read_tidy_csv(io.StringIO(GOOD), "g.csv")
    assert bad == []
    assert list(df["time"]) == [pd.Timestamp("2019-11-16T14:00Z"), pd.Timestamp("2019-11-16T14:05Z"),
                                pd.Timestamp("2019-11-16T14:45Z")]
    assert list(df["entity"]) == ["country/IR"] * 3
    assert np.isnan(df["value"].iloc[1])  # empty = no data, not zero


@pytest.mark.parametrize("row,reason", [
    ("2019-11-16T15:00:00,country/IR,bgp,3", "bad time"),
    ("2019-11-16T15:00:00Z,country/IRN,bgp,3", "malformed entity"),
    ("2019-11-16T15:00:00Z,country/IR,BGP!,3", "malformed datasource"),
    ("2019-11-16T15:00:00Z,country/IR,bgp,lots", "bad value"),
    ("2019-11-16T15:00:00Z,country/IR,bgp,inf", "bad value"),
    ("2019-11-16T14:00:00Z,country/IR,bgp,7", "repeats the entity, datasource and time of line 2"),
])
def test_bad_row_reported_by_line_and_nothing_kept_in_strict_mode(row, reason):
    text = GOOD + row + "\n"
    with pytest.raises(ParseError) as info:
        read_tidy_csv(io.StringIO(text), "f.csv")
    message = str(info.value)
    assert message.startswith("f.csv: line 5: ") and reason in message and "\n" not in message
    df, bad = read_tidy_csv(io.StringIO(text), "f.csv", strict=False)
    assert len(df) == 3 and [line for line, _ in bad] == [5]


def test_missing_column_and_supplied_columns():
    with pytest.raises(ParseError, match="missing column"):
        read_tidy_csv(io.StringIO("time,value\n1,2\n"), "f.csv")
    df, _ = read_tidy_csv(io.StringIO("time,value\n1573912800,2\n"), "f.csv", entity="asn/1", datasource="x")
    assert (df["entity"].iloc[0], df["datasource"].iloc[0]) == ("asn/1", "x")
    with pytest.raises(ParseError, match="only supplies a missing"):
        read_tidy_csv(io.StringIO(GOOD), "f.csv", entity="asn/1")


def test_export_round_trip_is_lossless():
    df, _ = read_tidy_csv(io.StringIO(GOOD), "g.csv")
    df.loc[0, "value"] = 0.1 + 0.2  # a float whose shortest repr has 17 digits
    again, _ = read_tidy_csv(io.StringIO(write_tidy(df)), "again.csv")
    pd.testing.assert_frame_equal(again, df)
    assert '"value": null' in write_tidy(df, "json")
