"""CloudWatch Logs as Lambda writes them, rebuilt from a run's records.

Every Lambda function writes to a *log group* named ``/aws/lambda/<function name>``. Each execution
environment (container) gets its own *log stream* inside that group, named after the day the
environment was created and its 32-hex-digit id: ``2026/11/27/[$LATEST]3893a1b7...``. So a cold
start shows up as a new stream, and two requests in the same stream ran one after the other in the
same container.

For every request it runs, the platform writes three lines of its own around the handler's output::

    START RequestId: <id> Version: $LATEST
    [INFO]  2026-11-27T00:00:01.250Z  <id>  a line the handler logged
    END RequestId: <id>
    REPORT RequestId: <id>  Duration: 102.25 ms  Billed Duration: 200 ms  Memory Size: 128 MB
           Max Memory Used: 70 MB  Init Duration: 150.30 ms

(the REPORT fields are separated by tabs, each followed by one). ``Init Duration`` appears only on a
cold start; ``Max Memory Used`` is the peak of the environment so far, not of the request alone. An
INIT that passed its 10 s limit writes ``INIT_REPORT Init Duration: 10000.00 ms  Phase: init
Status: timeout`` before the START of the invocation that runs it again (its REPORT then has no
``Init Duration``). A
request killed at its timeout gets a ``Task timed out after 3.00 seconds`` line, one killed for
running out of memory gets ``Runtime exited with error: signal: killed``. Newer logs drop those
lines and put ``Status: timeout`` (or ``Status: error`` with an ``Error Type``) in the REPORT line
instead: choose with ``style``. Throttled requests never reach a container and write nothing.

:func:`log_events` builds these events as a tidy DataFrame (one row per log event) from the
INVOCATIONS and ENVIRONMENTS tables, vectorised so that 100,000 invocations take about a second.
Reading them is :mod:`simlab.core.log_view`'s: :class:`~simlab.core.log_view.LogView` prints them
like the CloudWatch console and filters them like the basics of Logs Insights;
:func:`~simlab.core.log_view.parse_report` reads a REPORT line back into numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from simlab.core import validate
from simlab.core.config import DEFAULT_EPOCH
from simlab.core.ids import environment_hex_id, request_id

__all__ = [
    "DEFAULT_EPOCH", "LOG_COLUMNS", "epoch_ms", "log_events", "log_group_name",
    "log_stream_names",
]  # fmt: skip


#: The columns of the DataFrame :func:`log_events` returns, in order: the log group
#: (``/aws/lambda/<function>``) and stream (``YYYY/MM/DD/[$LATEST]<32 hex>``), the function, the
#: invocation id and request id, the event's time in simulated seconds, in milliseconds since the
#: Unix epoch (as CloudWatch stores it) and as a UTC datetime, and the message.
LOG_COLUMNS: tuple[str, ...] = (
    "log_group", "log_stream", "function", "invocation_id", "request_id", "timestamp_s",
    "timestamp_ms", "time", "message",
)  # fmt: skip

_STYLES = ("classic", "status")
_NOT_RUN = ("throttled", "dropped")
_NEEDED = (
    "invocation_id", "function", "start_s", "end_s", "init_ms", "duration_ms", "cold", "status",
    "env_id", "memory_mb", "max_memory_used_mb",
)  # fmt: skip
_ENV_NEEDED = ("env_id", "created_s")

# Order of the lines one invocation writes at one instant.
_SEQ_INIT, _SEQ_START, _SEQ_HANDLER, _SEQ_FAIL, _SEQ_END, _SEQ_REPORT = -1, 0, 1, 2, 3, 4


def epoch_ms(epoch: datetime) -> int:
    """Return ``epoch`` as whole milliseconds since 1970-01-01T00:00:00Z.

    Parameters
    ----------
    epoch : datetime
        Wall-clock time of simulated t = 0. A naive datetime is taken as UTC.

    Raises
    ------
    TypeError
        If ``epoch`` is not a datetime.
    """
    if not isinstance(epoch, datetime):
        raise TypeError(f"epoch must be a datetime, got {type(epoch).__name__} {epoch!r}")
    if epoch.tzinfo is None:
        epoch = epoch.replace(tzinfo=UTC)
    return int(round(epoch.timestamp() * 1000))


def log_group_name(function: str) -> str:
    """Return the log group of ``function``: ``/aws/lambda/<function>``."""
    return f"/aws/lambda/{function}"


def log_stream_names(
    seed: int, env_ids: Sequence[int] | np.ndarray, created_s: Sequence[float] | np.ndarray,
    epoch: datetime = DEFAULT_EPOCH,
) -> list[str]:  # fmt: skip
    """Return the log streams of execution environments, as Lambda names them.

    Parameters
    ----------
    seed : int
        The run's seed (it fixes each environment's 32-hex-digit id).
    env_ids : sequence of int
        The environments' numbers in the ENVIRONMENTS table.
    created_s : sequence of float
        When each environment's INIT started (simulated s); its UTC date starts the name.
    epoch : datetime
        Wall-clock time of simulated t = 0.

    Examples
    --------
    >>> log_stream_names(1, [0], [5.0])[0][:20]
    '2026/11/27/[$LATEST]'
    """
    days = np.datetime_as_string(
        (epoch_ms(epoch) + _ms(created_s)).astype("datetime64[ms]"), unit="D"
    ).tolist()
    return [
        f"{d.replace('-', '/')}/[$LATEST]{environment_hex_id(seed, int(e))}"
        for d, e in zip(days, np.asarray(env_ids).tolist(), strict=True)
    ]


def _ms(t_s: np.ndarray) -> np.ndarray:
    """Simulated seconds to whole milliseconds (truncated, robust to float noise)."""
    return np.floor(np.round(np.asarray(t_s, dtype=float) * 1e6) / 1e3).astype(np.int64)


def iso_timestamps(ms: np.ndarray) -> np.ndarray:
    """Epoch milliseconds to ``2026-11-27T00:00:01.250Z`` strings."""
    return np.char.add(np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms"), "Z")


def _fmt(values: np.ndarray, spec: str) -> np.ndarray:
    """Format numbers as an object array of str (the fastest route to many short strings)."""
    return np.array([format(v, spec) for v in values.tolist()], dtype=object)


def _text(n: int, text: str) -> np.ndarray:
    return np.full(n, text, dtype=object)


def _billed(invocations: pd.DataFrame, billed_ms: Any) -> np.ndarray:
    if billed_ms is None:
        if "billed_ms" in invocations.columns:
            return invocations["billed_ms"].to_numpy(dtype=float)
        return np.ceil(invocations["duration_ms"].to_numpy(dtype=float))
    arr = np.asarray(billed_ms, dtype=float)
    if arr.shape != (len(invocations),):
        raise ValueError(
            f"billed_ms must have one value per invocation row ({len(invocations)}), "
            f"got shape {arr.shape}"
        )
    return arr


def _handler_rows(
    handler_lines: Mapping[int, Sequence[tuple[Any, ...]]],
    ran: pd.DataFrame,
    rid: np.ndarray,
    base_ms: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Handler output as log rows: Python-runtime style ``[LEVEL]\\t<time>\\t<id>\\t<text>``."""
    pos = dict(zip(ran["invocation_id"].tolist(), range(len(ran)), strict=True))
    limits = ran["duration_ms"].to_numpy(dtype=float) / 1000
    rows: list[tuple[int, float, str | None, str]] = []
    for inv, lines in handler_lines.items():
        i = pos.get(int(inv))
        if i is None:
            continue  # the request did not run (or belongs to another function)
        for line in lines:
            if len(line) == 2:
                (offset, text), level = line, "INFO"
            elif len(line) == 3:
                offset, level, text = line
            else:
                raise ValueError(
                    f"handler_lines[{inv}] items must be (offset_s, text) or "
                    f"(offset_s, level, text), got {line!r}"
                )
            offset = float(offset)
            if not (0.0 <= offset <= limits[i] + 1e-9):
                raise ValueError(
                    f"handler_lines[{inv}] offset_s must be within the handler's run, "
                    f"0 to {limits[i]} s, got {offset}"
                )
            rows.append((i, offset, level, str(text)))
    idx = np.array([r[0] for r in rows], dtype=np.int64)
    t = ran["start_s"].to_numpy(dtype=float)[idx] + np.array([r[1] for r in rows], dtype=float)
    iso = iso_timestamps(base_ms + _ms(t)).tolist()
    msgs = np.array(
        [
            text if level is None else f"[{level}]\t{stamp}\t{r}\t{text}"
            for (_, _, level, text), stamp, r in zip(rows, iso, rid[idx].tolist(), strict=True)
        ],
        dtype=object,
    )
    return idx, t, msgs


def log_events(
    invocations: pd.DataFrame,
    environments: pd.DataFrame,
    seed: int,
    epoch: datetime = DEFAULT_EPOCH,
    function: str | Iterable[str] | None = None,
    billed_ms: Sequence[float] | np.ndarray | pd.Series | None = None,
    handler_lines: Mapping[int, Sequence[tuple[Any, ...]]] | None = None,
    style: str = "classic",
    error_message: str = "Exception: the handler raised an error",
) -> pd.DataFrame:
    """Build the CloudWatch log events of a run, one row per event.

    Parameters
    ----------
    invocations : DataFrame
        The INVOCATIONS table (see :mod:`simlab.core.schema`).
    environments : DataFrame
        The ENVIRONMENTS table; ``created_s`` dates each log stream.
    seed : int
        The run's seed: it fixes request ids and environment hex ids.
    epoch : datetime
        Wall-clock time of simulated t = 0 (naive means UTC).
    function : str or iterable of str, optional
        Keep only these functions' log groups; all functions when None.
    billed_ms : array-like, optional
        Billed duration of every invocation row, aligned with ``invocations`` (the caller's billing
        era decides the rounding). When None, an ``invocations["billed_ms"]`` column is used if
        present, else ``ceil(duration_ms)`` (1 ms billing, Lambda since December 2020).
    handler_lines : mapping, optional
        ``invocation_id -> [(offset_s, text), ...]``: what the handler logged, ``offset_s`` after
        its start. Written as the Python runtime's logger does,
        ``[INFO]\\t<ISO time>\\t<request id>\\t<text>``. Items may also be
        ``(offset_s, level, text)``; ``level=None`` writes ``text`` as is, like ``print``.
    style : {"classic", "status"}
        ``"classic"``: a ``Task timed out after ... seconds`` line on timeout and
        ``Runtime exited with error: signal: killed`` / ``Runtime.ExitError`` lines on out of
        memory (Lambda's text logs through 2025). ``"status"``: no such lines; REPORT ends with
        ``Status: timeout``, or ``Status: error`` and ``Error Type: Runtime.OutOfMemory`` (2026).
    error_message : str
        For a request whose handler raised (status ``error``) and has no ``handler_lines``, the
        runtime writes ``[ERROR] <error_message>``.

    Returns
    -------
    DataFrame
        Columns :data:`LOG_COLUMNS`, sorted by time (lines of one request at one instant keep
        their order: START, handler lines, failure lines, END, REPORT).

    Raises
    ------
    TypeError, ValueError
        On a missing column, an unknown style, misaligned ``billed_ms``, an environment missing from
        ``environments``, or a handler line outside the handler's run.
    """
    validate.frame("invocations", invocations, _NEEDED)
    validate.frame("environments", environments, _ENV_NEEDED)
    if style not in _STYLES:
        raise ValueError(f"style must be one of {_STYLES}, got {style!r}")
    validate.integer("seed", seed, 0)
    base_ms = epoch_ms(epoch)
    billed_all = _billed(invocations, billed_ms)

    keep = ~invocations["status"].isin(_NOT_RUN).to_numpy()
    if function is not None:
        keep &= invocations["function"].isin(_function_names(function, invocations)).to_numpy()
    ran = invocations.loc[keep].reset_index(drop=True)
    billed = billed_all[keep]
    if ran.empty:
        e = np.array([], dtype=np.int64)
        return _frame([], e, [], e, e, e.astype(object), e.astype(float), base_ms, e.astype(object))

    # Max Memory Used: the environment's peak so far, in whole MB rounded up.
    env_ids = ran["env_id"].to_numpy()
    order = np.lexsort((ran["invocation_id"].to_numpy(), ran["start_s"].to_numpy(dtype=float),
                        env_ids))  # fmt: skip
    peak = np.empty(len(ran))
    peak[order] = (
        ran["max_memory_used_mb"].iloc[order].groupby(env_ids[order]).cummax().to_numpy(dtype=float)
    )
    peak_mb = np.ceil(peak - 1e-9).astype(np.int64)

    # Streams: one per environment, dated by its creation.
    created = environments.drop_duplicates("env_id").set_index("env_id")["created_s"]
    used = np.unique(env_ids)
    unknown = np.setdiff1d(used, created.index.to_numpy())
    if unknown.size:
        raise ValueError(
            f"invocations that ran name environments missing from environments: env_id "
            f"{unknown[:10].tolist()}{' ...' if unknown.size > 10 else ''}"
        )
    streams = log_stream_names(seed, used, created.loc[used].to_numpy(dtype=float), epoch)
    stream_code = np.searchsorted(used, env_ids)

    # The retries of an asynchronous event carry its first attempt's request id, as on Lambda
    # (its ``event_id``); every other request its own.
    keys = ran["invocation_id"]
    if "event_id" in ran.columns:
        keys = pd.Series(ran["event_id"].to_numpy(), index=ran.index).fillna(keys)
    rid = np.array([request_id(seed, int(i)) for i in keys.tolist()], dtype=object)
    start = ran["start_s"].to_numpy(dtype=float)
    end = ran["end_s"].to_numpy(dtype=float)
    duration = ran["duration_ms"].to_numpy(dtype=float)
    status = ran["status"].to_numpy()
    ended = np.isfinite(end)
    n = len(ran)
    parts: list[tuple[np.ndarray, np.ndarray, int, np.ndarray]] = []

    def add(i: np.ndarray, t: np.ndarray, seq: int, message: np.ndarray) -> None:
        parts.append((i, t, seq, message))

    # An INIT past the 10 s limit: its report, then the invocation that runs INIT again.
    init_out = np.zeros(n, dtype=bool)
    if "init_timeout" in ran.columns:
        init_out = ran["init_timeout"].eq(True).to_numpy(dtype=bool)
        it = np.flatnonzero(init_out)
        add(it, start[it], _SEQ_INIT,
            "INIT_REPORT Init Duration: " + _fmt(ran["init_ms"].to_numpy(dtype=float)[it], ".2f")
            + " ms\tPhase: init\tStatus: timeout")
    add(np.arange(n), start, _SEQ_START, "START RequestId: " + rid + " Version: $LATEST")

    handled = np.zeros(n, dtype=bool)
    if handler_lines:
        hi, ht, hm = _handler_rows(handler_lines, ran, rid, base_ms)
        handled[hi] = True
        add(hi, ht, _SEQ_HANDLER, hm)

    err = np.flatnonzero((status == "error") & ~handled & ended)
    add(err, end[err], _SEQ_FAIL, _text(len(err), f"[ERROR] {error_message}"))
    if style == "classic":
        to = np.flatnonzero((status == "timeout") & ended)
        iso = iso_timestamps(base_ms + _ms(end[to])).astype(object)
        secs = _fmt(duration[to] / 1000, ".2f")
        add(
            to,
            end[to],
            _SEQ_FAIL,
            iso + " " + rid[to] + " Task timed out after " + secs + " seconds",
        )
        oom = np.flatnonzero((status == "oom") & ended)
        killed = "RequestId: " + rid[oom] + " Error: Runtime exited with error: signal: killed"
        add(oom, end[oom], _SEQ_FAIL, killed)
        add(oom, end[oom], _SEQ_FAIL, _text(len(oom), "Runtime.ExitError"))

    fin = np.flatnonzero(ended)
    add(fin, end[fin], _SEQ_END, "END RequestId: " + rid[fin])
    report = (
        "REPORT RequestId: " + rid[fin]
        + "\tDuration: " + _fmt(duration[fin], ".2f")
        + " ms\tBilled Duration: " + _fmt(billed[fin], ".0f")
        + " ms\tMemory Size: " + _fmt(ran["memory_mb"].to_numpy(dtype=float)[fin], ".0f")
        + " MB\tMax Memory Used: " + _fmt(peak_mb[fin], "d") + " MB\t"
    )  # fmt: skip
    cold = ran["cold"].to_numpy(dtype=bool)[fin] & ~init_out[fin]
    init = "Init Duration: " + _fmt(ran["init_ms"].to_numpy(dtype=float)[fin], ".2f") + " ms\t"
    report = report + np.where(cold, init, "")
    if style == "status":
        st = status[fin]
        report = report + np.select(
            [st == "timeout", st == "oom"],
            ["Status: timeout\t", "Status: error\tError Type: Runtime.OutOfMemory\t"],
            "",
        ).astype(object)
    add(fin, end[fin], _SEQ_REPORT, report)

    i = np.concatenate([p[0] for p in parts])
    t = np.concatenate([p[1] for p in parts])
    seq = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    msg = np.concatenate([p[3] for p in parts])
    inv_ids = ran["invocation_id"].to_numpy()
    order = np.lexsort((seq, inv_ids[i], t))
    i, t, msg = i[order], t[order], msg[order]
    fn_code, fn_names = pd.factorize(ran["function"])
    names = [str(f) for f in fn_names]
    return _frame(names, fn_code[i], streams, stream_code[i], inv_ids[i], rid[i], t, base_ms, msg)


def _frame(
    functions: list[str], fn_code: np.ndarray, streams: list[str], stream_code: np.ndarray,
    inv_ids: np.ndarray, rid: np.ndarray, t: np.ndarray, base_ms: int, msg: np.ndarray,
) -> pd.DataFrame:  # fmt: skip
    """The events table (object columns for the many distinct strings: cheap to build)."""
    ms = base_ms + _ms(t)
    groups = [log_group_name(f) for f in functions]
    return pd.DataFrame(
        {
            "log_group": pd.Categorical.from_codes(fn_code, categories=groups),
            "log_stream": pd.Categorical.from_codes(stream_code, categories=streams),
            "function": pd.Categorical.from_codes(fn_code, categories=functions),
            "invocation_id": np.asarray(inv_ids, dtype=np.int64),
            "request_id": pd.Series(rid, dtype=object),
            "timestamp_s": np.asarray(t, dtype=float),
            "timestamp_ms": ms,
            "time": pd.Series(ms.astype("datetime64[ms]")).dt.tz_localize("UTC"),
            "message": pd.Series(msg, dtype=object),
        }
    )


def _function_names(function: Any, invocations: pd.DataFrame) -> list[str]:
    """``function`` (a name or names) as a list, each a function of the run, else BadInput."""
    column = invocations["function"]
    known = (list(column.cat.categories) if isinstance(column.dtype, pd.CategoricalDtype)
             else sorted(set(column)))
    if isinstance(function, str):
        names = [function]
    elif isinstance(function, Iterable) and not isinstance(function, bytes | Mapping):
        names = list(function)
    else:
        names = [function]
    for name in names:
        if not isinstance(name, str):
            raise validate.fail("function", function, f"a function name, a list of names or None "
                                                      f"(functions: {known})")
        if name not in known:
            raise validate.BadInput(f"no function named {name!r}; functions: {known}")
    return names
