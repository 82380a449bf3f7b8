"""The result of a run: its records as DataFrames, and what they add up to.

``result.invocations``, ``result.environments`` and ``result.hosts`` are the raw, flat records
(columns described in :mod:`simlab.core.schema`). Each access returns a new DataFrame: changing it
(``inv = result.invocations; inv["cold"] = False``) never changes the result (pandas'
copy-on-write: the copy shares the columns until one is written, so it is cheap).
``result.summary()`` reduces them to the figures a lesson asks about: how many requests were cold,
throttled or failed, how many environments were kept on average, and what latency callers saw,
warm and cold.

Time averages (``mean_environments`` and its busy and idle parts) are integrals over simulated time
divided by the run's length, not averages over events.

What a run's sources and services leave besides the records (an API's responses, a queue's
messages, a bucket's contents, a dead-letter queue) are its **outputs**, one typed object each:
``result.output(api)`` for the source ``api`` of the simulation (or by name,
``result.output("apigateway")``); ``result.outputs`` lists them all.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

import numpy as np
import pandas as pd

from simlab.core.config import PlatformRules

if TYPE_CHECKING:  # pragma: no cover
    from simlab.core.engine import Engine

__all__ = ["Result", "HasOutput"]

T = TypeVar("T")


class HasOutput(Protocol[T]):
    """A source (or destination) whose run leaves one output: its name among the run's outputs
    and the output's class."""

    @property
    def output_key(self) -> str:
        """The output's name in :attr:`Result.outputs`."""
        ...

    @property
    def output_type(self) -> type[T]:
        """The class of the output."""
        ...


class Result:
    """Records and summaries of one run.

    Attributes
    ----------
    rules
        The platform rules the run used.
    seed, until_s, epoch
        The run's seed, length (s) and the UTC instant of simulated time 0.
    max_concurrency
        Most environments initialising or busy at once, account-wide.
    """

    def __init__(self, *, invocations: pd.DataFrame | None, environments: pd.DataFrame,
                 hosts: pd.DataFrame, functions: pd.DataFrame, rules: PlatformRules, seed: int,
                 until_s: float, epoch: dt.datetime, max_concurrency: int,
                 outputs: dict[str, Any] | None = None, aggregates: Any = None,
                 record: str = "all") -> None:
        self._invocations = invocations
        #: The aggregate recorder of a ``record="summary"``/``"metrics"`` run, else None.
        self.aggregates = aggregates
        #: What the run kept: ``"all"``, ``"summary"`` or ``"metrics"``.
        self.record = record
        self._environments = environments
        self._hosts = hosts
        self._functions = functions
        self._priced = False
        self.rules = rules
        self.seed = seed
        self.until_s = until_s
        self.epoch = epoch
        self.max_concurrency = max_concurrency
        self._outputs: dict[str, Any] = outputs or {}

    @classmethod
    def from_engine(cls, engine: Engine, *, seed: int, until_s: float, epoch: dt.datetime,
                    outputs: dict[str, Any]) -> Result:
        """Build the tables from a finished engine; ``outputs`` are what the run's sources and
        services left for inspection (already finished), by name."""
        names = [f.name for f in engine.fns]
        cfgs = [f.cfg for f in engine.fns]
        functions = pd.DataFrame({
            "function": names,
            "memory_mb": [c.memory_mb for c in cfgs],
            "timeout_s": [float(c.timeout_s) for c in cfgs],
            "architecture": [c.architecture for c in cfgs],
            "runtime": [c.runtime for c in cfgs],
            "package_type": [c.package_type for c in cfgs],
            "ephemeral_storage_mb": [c.ephemeral_storage_mb for c in cfgs],
            "reserved_concurrency": [np.nan if c.reserved_concurrency is None
                                     else float(c.reserved_concurrency) for c in cfgs],
            "provisioned_concurrency": [c.provisioned_concurrency for c in cfgs],
        })
        from simlab.core.aggregate import AggregateRecorder

        recorder = engine.recorder
        aggregates = None
        record = "all"
        if isinstance(recorder, AggregateRecorder):
            invocations = None
            aggregates = recorder
            record = "summary" if recorder.period_s is None else "metrics"
        else:
            invocations = recorder.frame(names, engine.sources or ["none"])
        return cls(invocations=invocations, environments=engine.envs.frame(names),
                   hosts=pd.DataFrame(engine.hosts.columns(until_s)), functions=functions,
                   rules=engine.rules, seed=seed, until_s=until_s, epoch=epoch,
                   max_concurrency=engine.max_in_flight, outputs=outputs,
                   aggregates=aggregates, record=record)

    @property
    def invocations(self) -> pd.DataFrame:
        """One row per invocation attempt, in order of arrival, with its ``billed_ms`` and
        ``cost_usd`` under the run's rules (list prices, before any free tier).

        Priced once, on first access; each access returns a new DataFrame (a copy on write).
        """
        inv = self._rows()
        if not self._priced:
            from simlab.core import billing

            priced = billing.price_invocations(inv, self._functions, date=self.rules.date,
                                               granularity_ms=self.rules.billing_granularity_ms)
            inv["billed_ms"] = priced["billed_ms"].to_numpy()
            inv["cost_usd"] = priced["cost_usd"].to_numpy()
            self._priced = True
        return inv.copy(deep=False)

    @overload
    def output(self, source: str) -> Any: ...

    @overload
    def output(self, source: HasOutput[T]) -> T: ...

    def output(self, source: Any) -> Any:
        """What ``source`` left in this run: an API's responses, a queue's log, a bucket's
        contents, a destination's records...

        Parameters
        ----------
        source
            A source or destination of the simulation that made this run (its output has the
            class the source declares), or the output's name (see :attr:`outputs`).

        Raises
        ------
        KeyError
            The run has no output by that name.
        TypeError
            ``source`` is neither, or the output under its name is of another class.
        """
        key = source if isinstance(source, str) else getattr(source, "output_key", None)
        if not isinstance(key, str):
            raise TypeError(f"source must be a source or destination of this run, or the name "
                            f"of one of its outputs, got {source!r}")
        if key not in self._outputs:
            raise KeyError(f"this run has no output {key!r}; its outputs: "
                           f"{', '.join(sorted(self._outputs)) or 'none'}")
        out = self._outputs[key]
        kind = None if isinstance(source, str) else getattr(source, "output_type", None)
        if kind is not None and not isinstance(out, kind):
            raise TypeError(f"the output {key!r} is a {type(out).__name__}, not the "
                            f"{kind.__name__} that {source!r} leaves: two things of the run "
                            f"share the name")
        return out

    @property
    def outputs(self) -> Mapping[str, Any]:
        """Every output of the run by name, read-only (see :meth:`output`)."""
        return MappingProxyType(self._outputs)

    @property
    def environments(self) -> pd.DataFrame:
        """One row per execution environment (a new DataFrame at each access)."""
        return self._environments.copy(deep=False)

    @property
    def hosts(self) -> pd.DataFrame:
        """One row per host (a new DataFrame at each access)."""
        return self._hosts.copy(deep=False)

    @property
    def functions(self) -> pd.DataFrame:
        """One row per function and configuration version (a new DataFrame at each access)."""
        return self._functions.copy(deep=False)

    def _rows(self) -> pd.DataFrame:
        if self._invocations is None:
            raise ValueError(
                f"this run kept aggregates only (record={self.record!r}); run with "
                f"record='all' to keep one row per invocation"
            )
        return self._invocations

    # -- money ---------------------------------------------------------------------------------
    def bill(self, *, granularity_ms: float | None = None, prices: Any = None,
             free_tier: bool = True, months: float = 1.0) -> pd.DataFrame:
        """The bill of this run: one row per function and line item (see
        :func:`simlab.core.billing.bill`).

        Parameters
        ----------
        granularity_ms
            Re-price the same run with another billing granularity (default: the era's).
        prices
            Another :class:`simlab.core.prices.PriceSheet` (default: the sheet in effect on the
            era's date).
        free_tier
            Apply the monthly free tier.
        months
            How many months of use the run stands for (tiers and free tier are monthly).

        Use :func:`simlab.core.billing.total_cost` for the total.
        """
        from simlab.core import billing

        return billing.bill(self._rows(), self._functions, date=self.rules.date,
                            granularity_ms=(self.rules.billing_granularity_ms
                                            if granularity_ms is None else granularity_ms),
                            prices=prices, free_tier=free_tier, run_seconds=self.until_s,
                            months=months, provisioned_gb_s=self.provisioned_gb_s(),
                            provisioned_init_gb_s=self.provisioned_init_gb_s())

    def provisioned_init_gb_s(self) -> dict[str, float]:
        """GB-s of the INIT of provisioned environments per function (billed: LAMBDA_FACTS 1.4),
        including those initialised before the run starts."""
        env = self._environments
        pc = env[env["provisioned"].astype(bool)]
        if pc.empty:
            return {}
        gb_s = pc["init_s"].to_numpy(dtype=float) * pc["memory_mb"].to_numpy(dtype=float) / 1024
        return {str(f): float(v) for f, v in
                pd.Series(gb_s).groupby(pc["function"].astype(str).to_numpy()).sum().items()}

    def provisioned_gb_s(self) -> dict[str, float]:
        """GB-s of provisioned concurrency configured per function, as billed.

        A span runs from enabling provisioned concurrency to disabling or changing it (its
        amount, or the memory it holds); each span is rounded up to 5-minute blocks. Control-plane
        calls that leave both as they were (a new timeout, an unchanged value) start no span.
        """
        from simlab.core.billing import PROVISIONED_BLOCK_S

        spans: dict[str, list[tuple[float, int, int]]] = {}
        config: dict[str, dict[str, Any]] = {}
        for t, _api, name, changes in self._outputs.get("control_plane", []):
            if t >= self.until_s:
                continue
            state = config.setdefault(name, {"provisioned_concurrency": 0, "memory_mb": 128})
            state.update({k: v for k, v in changes.items()
                          if k in ("provisioned_concurrency", "memory_mb")})
            now = (int(state["provisioned_concurrency"]), int(state["memory_mb"]))
            held = spans.setdefault(name, [])
            if not held or held[-1][1:] != now:
                held.append((float(t), *now))
        out: dict[str, float] = {}
        for name, changes in spans.items():
            total = 0.0
            for k, (t, pc, mem) in enumerate(changes):
                end = changes[k + 1][0] if k + 1 < len(changes) else self.until_s
                if pc > 0 and end > t:
                    blocks = math.ceil((end - t) / PROVISIONED_BLOCK_S - 1e-9)
                    total += pc * mem / 1024.0 * blocks * PROVISIONED_BLOCK_S
            out[name] = total
        return out

    def outcomes(self) -> pd.DataFrame:
        """What became of every SQS message, stream record and asynchronous event of the run.

        Returns
        -------
        pandas.DataFrame
            Columns ``source`` (its name in :attr:`outputs`: ``"sqs:<queue>"``,
            ``"kinesis:<stream>"``, ``"dynamodb:<table>"``, ``"async"``), ``unit``
            (``"message"``, ``"record"``, ``"event"``), ``function``, ``outcome`` and ``count``.
            Each item sent is counted in exactly one outcome (a stream record once per function
            reading the stream); one still queued, waiting or blocked when the run stopped is
            ``"pending"``. Outcomes:
            :data:`simlab.aws.sources.sqs.MESSAGE_OUTCOMES`,
            :data:`simlab.aws.sources.streams.OUTCOMES`,
            :data:`simlab.aws.sources.invoke_async.EVENT_OUTCOMES`.
        """
        parts = []
        for key, service in self._outputs.items():
            table = getattr(service, "outcomes", None)
            if callable(table):
                df = table()
                df.insert(0, "source", key)
                df.insert(1, "unit", service.outcome_unit)
                parts.append(df)
        columns = ["source", "unit", "function", "outcome", "count"]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object if c != "count" else np.int64)
                                 for c in columns})
        return pd.concat(parts, ignore_index=True)[columns]

    def total_cost(self, **kwargs: Any) -> float:
        """Total of :meth:`bill` (same keyword arguments), in USD."""
        from simlab.core import billing

        return billing.total_cost(self.bill(**kwargs))

    def provider_view(self, *, granularity_ms: float | None = None) -> pd.DataFrame:
        """The provider's side: GB-s billed against GB-s held by idle and provisioned
        environments and by hosts (see :func:`simlab.core.provider.provider_view`)."""
        from simlab.core.provider import provider_view

        return provider_view(self._rows(), self._environments, self._hosts, self._functions,
                             self.until_s, date=self.rules.date,
                             granularity_ms=(self.rules.billing_granularity_ms
                                             if granularity_ms is None else granularity_ms))

    # -- summary -------------------------------------------------------------------------------
    def summary(self, function: str | None = None) -> pd.Series:
        """Headline figures of the run (or of one ``function``).

        Returns
        -------
        pandas.Series
            ``requests``; ``invocations`` (requests that ran); ``cold_start_fraction`` (of
            invocations); ``throttle_fraction`` and ``dropped_fraction`` (of requests);
            ``error_fraction``, ``timeout_fraction``, ``oom_fraction`` (of invocations);
            ``mean_environments``, ``mean_busy_environments``, ``mean_idle_environments`` (time
            averages over the run; busy includes INIT); ``environments_created``;
            latency percentiles ``latency_p50_ms``... split ``warm_``/``cold_``; ``max_concurrency``
            (account-wide when no function is given, else the function's own); ``hosts``.
            Percentiles interpolate linearly between order statistics (as :func:`numpy.percentile`
            and pandas' ``quantile``) in every record mode; without rows (``record="summary"``)
            they come from histograms and are within 1.2 % (+0.005 ms) of the exact ones (see
            :mod:`simlab.core.aggregate`).
        """
        envs = self._environments
        if function is not None:
            self._check_function(function)
            envs = envs[envs["function"] == function]
        if self.aggregates is not None:
            count, n_cold, busy, quantiles, max_conc = self._from_aggregates(function)
        else:
            count, n_cold, busy, quantiles, max_conc = self._from_rows(function)
        n_req = sum(count.values())
        n_ran = n_req - count["throttled"] - count["dropped"]
        T = self.until_s

        def frac(n: int, over: int) -> float:
            return n / over if over else float("nan")

        alive = _overlap_total(envs["created_s"].to_numpy(), envs["ended_s"].to_numpy(), T)
        out: dict[str, float] = {
            "requests": n_req,
            "invocations": n_ran,
            "cold_start_fraction": frac(n_cold, n_ran),
            "throttle_fraction": frac(count["throttled"], n_req),
            "dropped_fraction": frac(count["dropped"], n_req),
            "error_fraction": frac(count["error"], n_ran),
            "timeout_fraction": frac(count["timeout"], n_ran),
            "oom_fraction": frac(count["oom"], n_ran),
            "mean_environments": alive / T,
            "mean_busy_environments": busy / T,
            # Float rounding can leave -1e-19 where nothing was idle.
            "mean_idle_environments": max(alive - busy, 0.0) / T
            if alive - busy > -1e-9 * T else (alive - busy) / T,
            "environments_created": len(envs),
        }
        for label, qs in zip(("", "warm_", "cold_"), quantiles, strict=True):
            for q, v in zip((50, 95, 99), qs, strict=True):
                out[f"{label}latency_p{q}_ms"] = float(v)
        out["max_concurrency"] = (self.max_concurrency if function is None else max_conc)
        out["hosts"] = len(self._hosts) if function is None else int(envs["host_id"].nunique())
        return pd.Series(out, name=function or "all", dtype=float)

    def _check_function(self, function: str) -> None:
        if function not in set(self._functions["function"]):
            raise ValueError(f"no function named {function!r}; functions: "
                             f"{list(self._functions['function'])}")

    def _from_rows(self, function: str | None) -> tuple:
        inv = self._invocations
        sel: Any = slice(None) if function is None else (inv["function"] == function).to_numpy()
        cats = list(inv["status"].cat.categories)
        codes = inv["status"].cat.codes.to_numpy()[sel]
        count = dict(zip(cats, np.bincount(codes, minlength=len(cats)).tolist(), strict=True))
        everything_ran = function is None and count["throttled"] + count["dropped"] == 0
        ran = None if everything_ran else (codes != cats.index("throttled")) & (
            codes != cats.index("dropped"))

        def col(name: str) -> np.ndarray:
            values = inv[name].to_numpy()
            return values if everything_ran else values[sel][ran]

        cold = col("cold")
        lat = col("latency_ms")
        busy_from = col("start_s") - col("init_ms") / 1000.0
        busy_to = col("end_s")
        busy = _overlap_total(busy_from, busy_to, self.until_s)
        quantiles = []
        for part in (slice(None), ~cold, cold):
            vals = lat[part]
            quantiles.append(np.percentile(vals, (50, 95, 99)) if len(vals)
                             else [float("nan")] * 3)
        max_conc = _max_overlap(busy_from, busy_to) if function is not None else None
        return count, int(cold.sum()), busy, quantiles, max_conc

    def _from_aggregates(self, function: str | None) -> tuple:
        from simlab.core.aggregate import histogram_quantiles
        from simlab.core.schema import STATUSES

        names = list(self._functions["function"])
        aggs = [a for k, a in self.aggregates.fns.items()
                if function is None or names[k] == function]
        counts = np.sum([a.counts for a in aggs], axis=0) if aggs else np.zeros(len(STATUSES))
        count = dict(zip(STATUSES, (int(c) for c in counts), strict=True))
        warm = np.sum([a.warm_hist for a in aggs], axis=0) if aggs else np.zeros(1)
        cold = np.sum([a.cold_hist for a in aggs], axis=0) if aggs else np.zeros(1)
        qs = (0.5, 0.95, 0.99)
        quantiles = [histogram_quantiles(warm + cold, qs), histogram_quantiles(warm, qs),
                     histogram_quantiles(cold, qs)]
        return (count, sum(a.cold for a in aggs), sum(a.busy_s for a in aggs), quantiles,
                float("nan"))

    @property
    def plot(self) -> Any:
        """Figures of this run: ``result.plot.timeline()``, ``.concurrency()``,
        ``.latency_cdf()``, ``.outcomes()``, ``.duration_vs_billed()``, ``.cost_breakdown()``,
        ``.host_packing()`` (see :mod:`simlab.core.plots`); each returns the matplotlib Axes."""
        from simlab.core.plots import PlotAccessor

        return PlotAccessor(self)

    # -- observability -------------------------------------------------------------------------
    def logs(self, function: str | None = None, *, style: str = "classic") -> Any:
        """CloudWatch Logs of the run (or of one ``function``), as a
        :class:`simlab.core.log_view.LogView`: ``print(result.logs("f").tail(20))`` reads like the
        console; ``.df`` is the tidy DataFrame; ``.filter(...)`` searches like Logs Insights.

        ``style="status"`` writes timeouts and out-of-memory kills the newer way (``Status:`` in
        the REPORT line) instead of separate lines.
        """
        from simlab.core.log_view import LogView
        from simlab.core.logs import log_events

        inv = self.invocations
        handler_lines = None
        if "log_lines" in inv.columns:
            has = inv["log_lines"].notna().to_numpy()
            # The runtime already formatted these lines as Lambda's Python runtime writes them.
            handler_lines = {int(i): [(0.0, None, line) for line in lines]
                             for i, lines in zip(inv["invocation_id"].to_numpy()[has],
                                                 inv["log_lines"].to_numpy()[has], strict=True)}
        events = log_events(inv, self._environments, self.seed, self.epoch, function=function,
                            billed_ms=inv["billed_ms"].to_numpy(), handler_lines=handler_lines,
                            style=style)
        return LogView(events)

    def metrics(self, period_s: float = 60.0, account: bool = False) -> pd.DataFrame:
        """CloudWatch metrics per function and period (see
        :func:`simlab.core.metrics.metrics`): a tidy DataFrame with columns ``function,
        metric, statistic, unit, period_start_s, value``. ``account=True`` adds the account-wide
        rows (function ``"(account)"``), which repeat the per-function totals.

        A ``record="metrics"`` run returns its kept per-period aggregates instead (wide).
        """
        if self._invocations is None:
            if self.aggregates is not None and self.aggregates.period_s is not None:
                return self.aggregates.metrics_frame(list(self._functions["function"]))
            self._rows()  # raises the clear error
        from simlab.core.metrics import metrics

        return metrics(self._invocations, period_s=period_s, until_s=self.until_s,
                       functions=self._functions, account=account)

    def concurrency(self, function: str | None = None) -> pd.DataFrame:
        """Step function of concurrency (INIT or busy environments): columns ``time_s``,
        ``concurrency``, one row per change."""
        inv = self._rows()
        if function is not None:
            self._check_function(function)
            inv = inv[inv["function"] == function]
        ran = ~inv["status"].isin(["throttled", "dropped"]).to_numpy()
        start = (inv["start_s"].to_numpy() - inv["init_ms"].to_numpy() / 1000.0)[ran]
        end = inv["end_s"].to_numpy()[ran]
        times, level = _levels(start, end)
        return pd.DataFrame({"time_s": times, "concurrency": level})

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<Result era={self.rules.era!r} until_s={self.until_s:g} "
                f"requests={int(s['requests'])} cold_start_fraction="
                f"{s['cold_start_fraction']:.4f} throttle_fraction={s['throttle_fraction']:.4f}>")



def _overlap_total(a: np.ndarray, b: np.ndarray, T: float) -> float:
    """Total length of intervals [a, b) clipped to [0, T]."""
    if len(a) == 0:
        return 0.0
    return float(np.clip(np.minimum(b, T) - np.maximum(a, 0.0), 0.0, None).sum())


def _levels(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many intervals [a, b) are open after each of their ends, in time order (an interval
    ending when another starts is closed first)."""
    times = np.concatenate([a, b])
    steps = np.concatenate([np.ones(len(a), int), -np.ones(len(b), int)])
    order = np.lexsort((steps, times))
    return times[order], np.cumsum(steps[order])


def _max_overlap(a: np.ndarray, b: np.ndarray) -> int:
    return int(_levels(a, b)[1].max()) if len(a) else 0
