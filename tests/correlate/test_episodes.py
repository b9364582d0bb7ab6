"""Episodes: rows of one shutdown count once, and keep their members."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitor.correlate.coincidences import prepare_outages
from monitor.correlate.episodes import EPISODE_COLUMNS, episode_index, find_episodes

T = pd.Timestamp("2019-03-07 21:00", tz="UTC")


def test_overlapping_rows_of_one_country_are_one_episode_with_their_members(outages):
    rows = pd.concat([
        outages([T], hours=20, region="Nationwide", ids=["national"]),
        outages([T + pd.Timedelta("2h"), T + pd.Timedelta("2h")], hours=3, region="Zulia", ids=["zulia", "dup"]),
        outages([T + pd.Timedelta("19h")], hours=10, region="Mérida", ids=["chained"]),   # overlaps the national row
        outages([T + pd.Timedelta("2D")], hours=2, ids=["next"]),
        outages([T + pd.Timedelta("2h")], hours=2, country="IQ", ids=["iraq"]),
    ], ignore_index=True)
    episodes = find_episodes(prepare_outages(rows))
    assert list(episodes.columns) == EPISODE_COLUMNS
    by_id = episodes.set_index("episode_id")
    assert by_id.loc["national", "outage_ids"] == ["national", "dup", "zulia", "chained"]
    assert by_id.loc["national", "end"] == T + pd.Timedelta("29h")
    assert by_id.loc["next", "n_outages"] == 1 and by_id.loc["iraq", "country"] == "IQ"
    assert len(episodes) == 3


def test_touching_rows_stay_apart_and_countries_never_mix():
    a = np.array([0, 10, 10, 0, 5])
    b = np.array([10, 20, 12, 30, 6])
    country = np.array(["SY", "SY", "SY", "IQ", "SY"], dtype=object)
    ids = np.array(["a", "b", "c", "d", "e"], dtype=object)
    index = episode_index(country, a, b, ids)
    assert index[0] == index[4] and index[1] == index[2] and index[0] != index[1]   # [0,10) and [10,20) touch
    assert len({index[3], index[0], index[1]}) == 3


def test_outages_of_asns_count_for_their_country_column(outages):
    rows = outages([T, T + pd.Timedelta("1h")]).assign(entity=["asn/12345", "country/SY"], country=["SY", None])
    prepared = prepare_outages(rows)
    assert list(prepared["country"]) == ["SY", "SY"]          # the column, else the entity's country
    assert len(find_episodes(prepared)) == 1
