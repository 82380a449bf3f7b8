"""Measured data shipped with simlab, to check the simulator against the real platform.

A simulator is a model, and a model is only as good as its agreement with measurements. simlab
ships one set of real AWS Lambda measurements with the package (``simlab/data/aws_lambda_2020/``,
read through :mod:`importlib.resources`, so it works from an installed wheel as from a checkout):

* ``"low_rate"``: 348 requests, Poisson arrivals at about 0.0035 req/s (one every 5 minutes) for
  28 hours, June 2020;
* ``"high_rate"``: 5,050 requests at about 0.050 req/s (one every 20 s) for 28 hours, May 2020.

Both call the same Python 3.6 function of 128 MB in us-east-1, which runs about 1.9 s. Each row
is one request as the function saw it (its execution environment ``inst_id``, whether it was a
cold start, the ``Duration`` and ``Billed Duration`` of its REPORT line) and as the client saw it
(when it was sent, how long the answer took).

Source: the repository pacslab/serverless-performance-modeling, data of N. Mahmoudi and
H. Khazaei, "Performance Modeling of Serverless Computing Platforms", IEEE Transactions on Cloud
Computing, 2020. MIT licence, (c) 2020 Nima Mahmoudi; see the README next to the files.

>>> df = load_aws_lambda_2020("low_rate")
>>> len(df), int(df["is_cold"].sum())
(348, 35)
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import pandas as pd

__all__ = ["AWS_LAMBDA_2020", "AWS_LAMBDA_2020_COLUMNS", "load_aws_lambda_2020"]

#: The two experiments: name -> file name and the client's nominal arrival rate (req/s).
AWS_LAMBDA_2020: dict[str, dict[str, Any]] = {
    "low_rate": {"file": "res-01-2020-06-09_01-04-58.csv", "rate_per_s": 0.0035},
    "high_rate": {"file": "res-01-2020-05-17_04-13-06.csv", "rate_per_s": 0.050},
}

#: Columns of the shipped files and their types (times in ms or s since the Unix epoch).
AWS_LAMBDA_2020_COLUMNS: dict[str, str] = {
    "is_cold": "bool", "inst_id": "string", "vm_id": "string", "start_time": "float64",
    "end_time": "float64", "aws_duration": "float64", "aws_billed_duration": "float64",
    "aws_max_mem": "float64", "client_start_time": "float64", "client_end_time": "float64",
    "client_elapsed_time": "float64",
}  # fmt: skip

_FOLDER = ("data", "aws_lambda_2020")


def load_aws_lambda_2020(name: str) -> pd.DataFrame:
    """One of the two AWS Lambda experiments of 2020, one row per request.

    Parameters
    ----------
    name
        ``"low_rate"`` (0.0035 req/s, 348 requests) or ``"high_rate"`` (0.050 req/s, 5,050
        requests).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`AWS_LAMBDA_2020_COLUMNS`, sorted by ``client_start_time`` (the
        high-rate file is stored in the order the answers came back), plus ``offset_s``: seconds
        from the client's first request, the arrival times to replay. ``attrs`` holds ``name``,
        ``file``, ``rate_per_s`` (nominal), ``source`` and ``licence``.

    Raises
    ------
    ValueError
        For an unknown ``name``.
    """
    if not isinstance(name, str) or name not in AWS_LAMBDA_2020:
        raise ValueError(f"name must be one of {sorted(AWS_LAMBDA_2020)}, got {name!r}")
    meta = AWS_LAMBDA_2020[name]
    resource = files("simlab").joinpath(*_FOLDER, meta["file"])
    with resource.open("rb") as fh:
        df = pd.read_csv(fh, dtype=AWS_LAMBDA_2020_COLUMNS)
    missing = set(AWS_LAMBDA_2020_COLUMNS) - set(df.columns)
    if missing:  # pragma: no cover - the shipped files have them
        raise ValueError(f"{meta['file']} lacks columns {sorted(missing)}")
    df = df.sort_values("client_start_time", kind="stable").reset_index(drop=True)
    df["offset_s"] = df["client_start_time"] - df["client_start_time"].iloc[0]
    df.attrs.update(
        name=name, file=meta["file"], rate_per_s=meta["rate_per_s"],
        source="pacslab/serverless-performance-modeling (experiments/results/); N. Mahmoudi and "
               "H. Khazaei, Performance Modeling of Serverless Computing Platforms, IEEE "
               "Transactions on Cloud Computing, 2020",
        licence="MIT, (c) 2020 Nima Mahmoudi",
    )  # fmt: skip
    return df
