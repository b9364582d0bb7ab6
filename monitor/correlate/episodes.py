"""Episodes: each shutdown counted once.

Curated lists and detectors report one shutdown many times: a duplicated list entry, national and
regional rows of one cut (IODA's Venezuela list: 312 outages on 148 start days), one country seen
by several entities or datasources at once. Counted as outages, one national event "hits" all of
them and a single coincidence becomes eight. The correlator therefore counts episodes: outages of
one country whose times overlap (each starting before the running end of the ones before it)
form one episode. No gap constant is needed: rows that do not overlap in time stay apart.

An episode is named by its first member (earliest start, then smallest outage id), so anyone
holding the same outages can rebuild it with `find_episodes`; it keeps its member outage ids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPISODE_COLUMNS = ["episode_id", "country", "start", "end", "n_outages", "outage_ids"]


def episode_index(country: np.ndarray, a: np.ndarray, b: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Episode number (0..n-1, in order of country then start) of each outage [a, b)."""
    n = len(a)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((ids.astype(str), a, country.astype(str)))
    c, s, e = country[order], a[order], b[order]
    same_country = np.concatenate([[False], c[1:] == c[:-1]])
    # running end within a country: offset each country's times far apart, then one running max
    group = np.cumsum(~same_country)
    reach = np.maximum.accumulate(e + group * _spread(s, e))
    overlaps = np.concatenate([[False], s[1:] + group[1:] * _spread(s, e) < reach[:-1]])
    new = ~(same_country & overlaps)
    index = np.empty(n, dtype=np.int64)
    index[order] = np.cumsum(new) - 1
    return index


def _spread(s: np.ndarray, e: np.ndarray) -> int:
    """A distance larger than any time difference here, so countries never overlap."""
    return int(max(e.max(), s.max()) - min(s.min(), e.min())) + 1


def find_episodes(outages: pd.DataFrame) -> pd.DataFrame:
    """EPISODE_COLUMNS for prepared outages (columns country, a, b, outage_id; see prepare_outages)."""
    if outages.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EPISODE_COLUMNS})
    index = episode_index(outages["country"].to_numpy(dtype=object), outages["a"].to_numpy(),
                          outages["b"].to_numpy(), outages["outage_id"].to_numpy(dtype=object))
    df = outages.assign(_episode=index).sort_values(["_episode", "a", "outage_id"], kind="stable")
    grouped = df.groupby("_episode", sort=True)
    return pd.DataFrame({
        "episode_id": grouped["outage_id"].first().to_numpy(dtype=object),
        "country": grouped["country"].first().to_numpy(dtype=object),
        "start": pd.to_datetime(grouped["a"].min().to_numpy(), unit="s", utc=True),
        "end": pd.to_datetime(grouped["b"].max().to_numpy(), unit="s", utc=True),
        "n_outages": grouped.size().to_numpy(),
        "outage_ids": grouped["outage_id"].agg(list).to_list(),
    })[EPISODE_COLUMNS]
