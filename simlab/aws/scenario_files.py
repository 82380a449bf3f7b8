"""Scenario files: a whole simulation described in TOML, so it can be shared, versioned and run
from the command line (``simlab run api.toml``) without writing Python.

A file has up to six sections::

    [simulation]                 # era, seed, default run length, a description
    era = "today"
    seed = 1
    until = "1h"                 # durations: 90, "90s", "250ms", "10m", "1h", "1d", "1h30m"

    [platform]                   # overrides of the era's rules (see simlab.PlatformRules)
    keep_alive_s = "10m"         # "none" for no keep-alive
    account_concurrency = 1000
    scaling = { type = "per_function", step = 1000, period_s = 10 }

    [functions.api]              # one table per function (see simlab.FunctionConfig)
    memory_mb = 512
    timeout_s = 3
    init_s = { dist = "lognormal", median = 0.25, sigma = 0.3 }
    duration_s = { dist = "lognormal", median = 0.08, sigma = 0.5 }

    [[sources]]                  # one entry per source: a type from simlab.sources and its target
    type = "poisson"
    target = "api"               # or a list of functions
    rate_per_s = 5

    [[sources]]                  # every source type can be written (see simlab.aws.scenario_sources
    type = "sqs"                 # and the example per type in examples/sources)
    name = "orders"
    target = "api"
    messages = { type = "poisson", rate_per_s = 2 }

    [[actions]]                  # control-plane calls during the run
    at = "30m"
    function = "api"
    memory_mb = 1024

    [sweep]                      # for `simlab sweep`: a grid over any key of the file
    seeds = 5
    until = "2h"
    [sweep.grid]
    "platform.keep_alive_s" = [60, 300, 600]
    "sources.0.rate_per_s" = [0.1, 1.0]

Distributions are numbers (constants) or tables with a ``dist`` key: ``constant`` (``value``),
``exponential`` (``mean``), ``lognormal`` (``median``, ``sigma``), ``uniform`` (``low``,
``high``), ``empirical`` (``values``). Any key ending in ``_s`` accepts a duration string.

A *key path* names one value of a file: ``platform.keep_alive_s``, ``functions.api.memory_mb``,
``sources.0.rate_per_s`` (a source by position or by ``name``), and the shorthands
``function.memory_mb`` (every function), ``api.memory_mb`` (the function ``api``) and a bare
rule or simulation key (``keep_alive_s``, ``seed``). Sweep grids and ``simlab run --set`` use them.

Every mistake is reported before anything runs, as a :class:`ScenarioFileError` naming the file,
the line and the key.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simlab.aws.toml_text import (
    KeyLines,
    parse_assignment,
    parse_duration,
    parse_value,
    split_key,
)
from simlab.core import dists

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Simulation

__all__ = [
    "ScenarioFileError",
    "ScenarioFile",
    "load",
    "loads",
    "parse_duration",
    "parse_value",
    "parse_assignment",
    "source_types",
    "rule_names",
    "platform_rules",
    "convert_value",
    "apply_to_simulation",
]

_SECTIONS = ("simulation", "platform", "functions", "sources", "actions", "sweep")
_SIMULATION_KEYS = ("era", "seed", "until", "name", "description")
_NO_FUNCTION_KEYS = ("name", "handler")
_DISTS: dict[str, tuple[type, dict[str, str]]] = {
    "constant": (dists.Constant, {"value": "value"}),
    "exponential": (dists.Exponential, {"mean": "mean_value"}),
    "lognormal": (dists.LogNormal, {"median": "median", "sigma": "sigma"}),
    "uniform": (dists.Uniform, {"low": "low", "high": "high"}),
    "empirical": (dists.Empirical, {"values": "values"}),
}


class ScenarioFileError(ValueError):
    """A mistake in a scenario file (or in a value set over it), with where it is.

    Attributes
    ----------
    file
        The file's name (or ``"<string>"``).
    key
        The key path, e.g. ``"functions.api.memory_mb"`` (``None`` for a syntax error).
    line
        The 1-based line of the key in the file, when it is there.
    """

    def __init__(self, message: str, *, file: str, key: str | None = None,
                 line: int | None = None) -> None:
        where = file if line is None else f"{file}, line {line}"
        text = f"{where}: {message}" if key is None else f"{where}, key {key!r}: {message}"
        super().__init__(text)
        self.file, self.key, self.line, self.message = file, key, line, message


# --------------------------------------------------------------------------------------------------
# conversions
# --------------------------------------------------------------------------------------------------


def source_types() -> dict[str, type]:
    """The source classes a file can name in ``type``: by ``kind`` and by class name, lower-case
    (``"poisson"``, ``"fixed"``, ``"fixedinterval"``...)."""
    import simlab.aws.sources as sources
    from simlab.aws.sources.base import Source

    out: dict[str, type] = {}
    for attr in getattr(sources, "__all__", dir(sources)):
        cls = getattr(sources, attr, None)
        if (not inspect.isclass(cls) or not issubclass(cls, Source) or inspect.isabstract(cls)
                or attr in ("Source", "ArrivalProcess")):
            continue
        out.setdefault(attr.lower(), cls)
        kind = cls.__dict__.get("kind")
        if isinstance(kind, str):
            out.setdefault(kind.lower(), cls)
    return out


class _Context:
    """Converts values of one file and raises errors that say where they are."""

    def __init__(self, file: str, lines: KeyLines,
                 origins: Mapping[tuple[str, ...], tuple[str, int | None]]) -> None:
        self.file, self.lines, self.origins = file, lines, origins

    def error(self, path: tuple[str, ...], message: str) -> ScenarioFileError:
        key = ".".join(path)
        line = self.lines.of(path)
        for n in range(len(path), 0, -1):
            if path[:n] in self.origins:
                origin, origin_line = self.origins[path[:n]]
                message = f"{message} (value from {origin})"
                line = origin_line if origin_line is not None else line
                break
        return ScenarioFileError(message, file=self.file, key=key, line=line)

    def table(self, value: Any, path: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(path, f"must be a table, got {value!r}")
        return value

    def duration(self, value: Any, path: tuple[str, ...]) -> float:
        try:
            return parse_duration(value)
        except ValueError as err:
            raise self.error(path, str(err)) from None

    def value(self, value: Any, path: tuple[str, ...]) -> Any:
        """Durations for ``*_s`` keys given as text; distributions for tables with ``dist``."""
        if isinstance(value, dict) and "dist" in value:
            return self.distribution(value, path)
        if isinstance(value, str) and path and path[-1].endswith("_s"):
            return self.duration(value, path)
        return value

    def distribution(self, spec: dict[str, Any], path: tuple[str, ...]) -> Any:
        kind = spec.get("dist")
        if kind not in _DISTS:
            raise self.error((*path, "dist"), f"dist must be one of {sorted(_DISTS)}, "
                                              f"got {kind!r}")
        cls, params = _DISTS[kind]
        unknown = sorted(set(spec) - set(params) - {"dist"})
        missing = sorted(set(params) - set(spec))
        if unknown or missing:
            bad = (*path, unknown[0]) if unknown else path
            raise self.error(bad, f"a {kind} distribution takes {sorted(params)}; "
                                  f"unknown {unknown}, missing {missing}")
        try:
            return cls(**{params[k]: v for k, v in spec.items() if k != "dist"})
        except (TypeError, ValueError) as err:
            raise self.error(path, f"{kind}: {err}") from None

    def guess(self, err: Exception, base: tuple[str, ...], keys: list[str]) -> ScenarioFileError:
        """Wrap a library error, pointing at the key of ``keys`` its message names."""
        text = str(err)
        for k in sorted(keys, key=len, reverse=True):
            if re.search(rf"(?<![A-Za-z0-9_]){re.escape(k)}(?![A-Za-z0-9_])", text):
                return self.error((*base, k), text)
        return self.error(base, text)


# --------------------------------------------------------------------------------------------------
# the file
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioFile:
    """A parsed scenario file. :meth:`build` makes the :class:`~simlab.Simulation`.

    Attributes
    ----------
    file
        Its name, as shown in errors.
    text
        The TOML text.
    data
        The parsed tables.
    """

    file: str
    text: str
    data: dict[str, Any]
    #: Key paths set over the file: path -> (where the value came from, its line or None).
    origins: dict[tuple[str, ...], tuple[str, int | None]] = dataclasses.field(
        default_factory=dict)

    @property
    def name(self) -> str:
        """``simulation.name``, else the file's stem."""
        return str(self.data.get("simulation", {}).get("name") or Path(self.file).stem)

    def error(self, key: str, message: str) -> ScenarioFileError:
        """An error about the key path ``key`` of this file, with its line."""
        return self._context().error(tuple(split_key(key)), message)

    def resolve(self, key: str) -> list[tuple[str, ...]]:
        """The full paths a key path (with its shorthands) stands for; raises if none."""
        return _resolve(self.data, key, self.file)

    def _context(self) -> _Context:
        return _Context(self.file, KeyLines(self.text), self.origins)

    @property
    def until_s(self) -> float | None:
        """``simulation.until`` in seconds (``None`` when the file does not say); it must be
        more than 0 (a run of no time is an error, not the default length)."""
        until = self.data.get("simulation", {}).get("until")
        if until is None:
            return None
        seconds = self._context().duration(until, ("simulation", "until"))
        if seconds <= 0:
            raise self.error("simulation.until",
                             f"until must be a duration > 0 (e.g. 90, '10m', '1h'), got {until!r}")
        return seconds

    def with_values(self, values: Mapping[str, Any], origin: str = "--set") -> ScenarioFile:
        """A copy with the key paths of ``values`` set (see the module's notes on key paths).

        ``origin`` says where the values come from in error messages: ``"--set"``, or
        ``"sweep"`` for values of ``[sweep.grid]`` (errors then point at the grid's line).
        """
        data = copy.deepcopy(self.data)
        origins = dict(self.origins)
        lines = KeyLines(self.text)
        for key, value in values.items():
            if origin == "sweep":
                where = (f"the sweep grid, {key} = {value!r}", lines.of(("sweep", "grid", key)))
            else:
                where = (f"{origin} {key}={value!r}", None)
            try:
                paths = _resolve(data, key, self.file)
            except ScenarioFileError as err:
                raise ScenarioFileError(err.message, file=self.file, key=key,
                                        line=where[1]) from None
            for path in paths:
                _assign(data, path, value, self.file, key)
                origins[path] = where
        return dataclasses.replace(self, data=data, origins=origins)

    def build(self, seed: int | None = None, values: Mapping[str, Any] | None = None,
              origin: str = "--set") -> Simulation:
        """Make the simulation (``seed`` overrides ``simulation.seed``; ``values`` sets key paths).

        Raises
        ------
        ScenarioFileError
            For any unknown key or invalid value, naming the key and its line.
        """
        if values:
            return self.with_values(values, origin).build(seed)
        return _build(self.data, self._context(), seed)


def load(path: str | Path) -> ScenarioFile:
    """Read and check a scenario file (its syntax and sections; values are checked by
    :meth:`ScenarioFile.build`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioFileError("no such file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioFileError(f"cannot read it: {err}", file=str(path)) from None
    return loads(text, str(path))


def loads(text: str, file: str = "<string>") -> ScenarioFile:
    """Parse scenario-file text (see :func:`load`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"\(at line (\d+), column \d+\)", str(err))
        raise ScenarioFileError(f"not valid TOML: {err}", file=file,
                                line=int(m.group(1)) if m else None) from None
    ctx = _Context(file, KeyLines(text), {})
    _known(ctx, data, _SECTIONS, ())
    return ScenarioFile(file, text, data)


# --------------------------------------------------------------------------------------------------
# key paths
# --------------------------------------------------------------------------------------------------


def _resolve(data: dict[str, Any], key: str, file: str) -> list[tuple[str, ...]]:
    """The full paths a key path (with its shorthands) stands for."""
    parts = split_key(key)
    functions = data.get("functions", {})
    if not parts:
        raise ScenarioFileError("empty key", file=file, key=key)
    head = parts[0]
    if head in _SECTIONS and len(parts) >= 2:
        if head in ("sources", "actions"):
            entries = data.get(head, [])
            index = parts[1]
            if not index.isdigit():
                named = [i for i, s in enumerate(entries)
                         if isinstance(s, dict) and s.get("name") == index]
                if not named:
                    raise ScenarioFileError(
                        f"no {head[:-1]} named {index!r}: give its position (0, 1...) or its "
                        f"name", file=file, key=key)
                index = str(named[0])
            if int(index) >= len(entries):
                raise ScenarioFileError(f"the file has {len(entries)} {head}, no entry {index}",
                                        file=file, key=key)
            return [(head, index, *parts[2:])] if len(parts) > 2 else [(head, index)]
        if head == "functions" and parts[1] not in functions:
            raise ScenarioFileError(f"no function {parts[1]!r}; functions: {sorted(functions)}",
                                    file=file, key=key)
        return [tuple(parts)]
    if head in functions and len(parts) >= 2:
        return [("functions", *parts)]
    if head == "function" and len(parts) >= 2:
        if not functions:
            raise ScenarioFileError("the file has no functions", file=file, key=key)
        return [("functions", name, *parts[1:]) for name in functions]
    if len(parts) == 1 and head in _SIMULATION_KEYS:
        return [("simulation", head)]
    if len(parts) == 1 and head in rule_names():
        return [("platform", head)]
    raise ScenarioFileError(
        "unknown key path: use platform.<rule>, functions.<name>.<key>, function.<key> (every "
        "function), <function>.<key>, sources.<n or name>.<key>, simulation.<key>, or a bare "
        f"rule or simulation key; functions: {sorted(functions)}", file=file, key=key)


def _assign(data: dict[str, Any], path: tuple[str, ...], value: Any, file: str, key: str) -> None:
    node: Any = data
    for i, part in enumerate(path[:-1]):
        if isinstance(node, list):
            node = node[int(part)]
            continue
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        if not isinstance(nxt, dict | list):
            raise ScenarioFileError(f"{'.'.join(path[:i + 1])} is a value, not a table",
                                    file=file, key=key)
        node = nxt
    if isinstance(node, list):
        node[int(path[-1])] = value
    else:
        node[path[-1]] = value


# --------------------------------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------------------------------


def _known(ctx: _Context, table: dict[str, Any], allowed: tuple[str, ...] | list[str],
           base: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise ctx.error((*base, key), f"unknown key; allowed here: {sorted(allowed)}")


def _known_parameters(ctx: _Context, cls: type, given: Mapping[str, Any],
                      base: tuple[str, ...], what: str) -> None:
    """Raise for keys that ``cls(...)`` does not take (unless it takes ``**kwargs``)."""
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - no signature to check against
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    allowed = [p.name for p in params
               if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"]
    for key in given:
        if key not in allowed:
            raise ctx.error((*base, key), f"unknown key for {what}; allowed: {allowed}")


def _platform(ctx: _Context, table: dict[str, Any]) -> dict[str, Any]:
    from simlab.core.scaling import AccountBurstScaling, PerFunctionScaling

    _known(ctx, table, rule_names(), ("platform",))
    rules: dict[str, Any] = {}
    for key, value in table.items():
        path = ("platform", key)
        if key in ("keep_alive_s", "keep_alive") and value in ("none", False):
            rules[key] = None
        elif key == "scaling":
            spec = dict(ctx.table(value, path))
            kinds = {"per_function": PerFunctionScaling, "account_burst": AccountBurstScaling}
            kind = spec.pop("type", None)
            if kind not in kinds:
                raise ctx.error((*path, "type"), f"must be one of {sorted(kinds)}, got {kind!r}")
            _known_parameters(ctx, kinds[kind], spec, path, f"{kind} scaling")
            try:
                rules[key] = kinds[kind](**{k: ctx.value(v, (*path, k)) for k, v in spec.items()})
            except (TypeError, ValueError) as err:
                raise ctx.guess(err, path, list(spec)) from None
        else:
            rules[key] = ctx.value(value, path)
    return rules


def _build(data: dict[str, Any], ctx: _Context, seed: int | None) -> Simulation:
    from simlab.aws.scenario_sources import build_source
    from simlab.aws.simulation import Simulation
    from simlab.core.config import FunctionConfig

    section = ctx.table(data.get("simulation", {}), ("simulation",))
    _known(ctx, section, _SIMULATION_KEYS, ("simulation",))
    for key in ("name", "description"):
        if key in section and not (isinstance(section[key], str) and section[key].strip()):
            raise ctx.error(("simulation", key), f"{key} must be a non-empty text, "
                                                 f"got {section[key]!r}")
    rules = _platform(ctx, ctx.table(data.get("platform", {}), ("platform",)))
    era = section.get("era", "today")
    use_seed = section.get("seed", 0) if seed is None else seed
    try:
        sim = Simulation(era=era, seed=use_seed, **rules)
    except (TypeError, ValueError) as err:
        where = ("simulation",) if re.search(r"\b(era|seed)\b", str(err)) else ("platform",)
        raise ctx.guess(err, where, ["era", "seed"] if where == ("simulation",)
                        else list(rules)) from None

    fields = [f.name for f in dataclasses.fields(FunctionConfig)
              if f.name not in _NO_FUNCTION_KEYS]
    functions = ctx.table(data.get("functions", {}), ("functions",))
    if not functions:
        raise ScenarioFileError("the file defines no function: add a [functions.<name>] table",
                                file=ctx.file)
    for name, table in functions.items():
        path = ("functions", name)
        _known(ctx, ctx.table(table, path), fields, path)
        config = {k: ctx.value(v, (*path, k)) for k, v in table.items()}
        try:
            sim.add_function(name, **config)
        except (TypeError, ValueError) as err:
            raise ctx.guess(err, path, list(config)) from None

    entries = data.get("sources", [])
    if not isinstance(entries, list):
        raise ctx.error(("sources",), "must be an array of tables: write [[sources]]")
    types = source_types()
    for i, table in enumerate(entries):
        path = ("sources", str(i))
        source, target, name = build_source(ctx, table, path, types)
        try:
            sim.add_source(source, target=target, name=name)
        except (TypeError, ValueError) as err:
            raise ctx.guess(err, path, ["target", "name"]) from None

    actions = data.get("actions", [])
    if not isinstance(actions, list):
        raise ctx.error(("actions",), "must be an array of tables: write [[actions]]")
    for i, table in enumerate(actions):
        path = ("actions", str(i))
        spec = dict(ctx.table(table, path))
        for needed in ("at", "function"):
            if needed not in spec:
                raise ctx.error(path, f"an action needs {needed!r}")
        at = ctx.duration(spec.pop("at"), (*path, "at"))
        function = spec.pop("function")
        changes = {k: ctx.value(v, (*path, k)) for k, v in spec.items()}
        try:
            if "reserved_concurrency" in changes:
                if len(changes) != 1:
                    raise ValueError("reserved_concurrency must be an action of its own")
                value = changes["reserved_concurrency"]
                sim.put_function_concurrency(at, function, None if value == "none" else value)
            else:
                sim.update_function_configuration(at, function, **changes)
        except (TypeError, ValueError) as err:
            raise ctx.guess(err, path, ["function", *changes]) from None
    return sim


def rule_names() -> list[str]:
    """The keys of ``[platform]``: the rules of :class:`simlab.PlatformRules` and
    ``keep_alive_s``."""
    from simlab.core.config import PlatformRules

    return [f.name for f in dataclasses.fields(PlatformRules) if f.name != "era"] + [
        "keep_alive_s"]


def platform_rules(table: Mapping[str, Any], file: str = "--set") -> dict[str, Any]:
    """Keyword arguments of :class:`simlab.Simulation` from a ``[platform]`` table (durations,
    ``"none"`` keep-alive, ``scaling`` tables converted)."""
    return _platform(_Context(file, KeyLines(""), {}), dict(table))


def convert_value(key: str, value: Any, file: str = "--set") -> Any:
    """A value as a file would give it for the key path ``key``: a duration for ``*_s`` keys
    given as text, a distribution for a table with ``dist``."""
    return _Context(file, KeyLines(""), {}).value(value, tuple(split_key(key)))


def apply_to_simulation(sim: Simulation, key: str, value: Any) -> None:
    """Set the key path ``key`` over a built simulation (``--set`` over a built-in scenario).

    The key paths are those of files (see the module's notes), resolved by the same rules:
    ``platform.<rule>`` (or a bare rule name), ``function.<key>`` (every function),
    ``<function>.<key>`` or ``functions.<function>.<key>``. Values are converted as in scenario
    files and checked; on an error nothing changes.
    """
    parts = split_key(key)
    if (len(parts) == 2 and parts[0] not in (*_SECTIONS, "function")
            and parts[0] not in sim.functions):
        raise ValueError(f"--set {key}: no function {parts[0]!r}; functions: "
                         f"{sorted(sim.functions)} (or function.<key> for all of them)")
    paths = _resolve({"functions": dict.fromkeys(sim.functions, {})}, key, "--set")
    if paths and paths[0][0] == "platform" and len(paths[0]) == 2:
        field = paths[0][1]
        rules = platform_rules({field: value})
        name = "keep_alive" if field == "keep_alive_s" else field
        try:
            new = sim.rules.replace(**{name: rules[field]})
            for cfg in sim.functions.values():
                cfg.check_against(new)
        except (TypeError, ValueError) as err:
            raise ValueError(f"--set {key}={value!r}: {err}") from None
        sim.rules = new
        return
    if not paths or any(p[0] != "functions" or len(p) != 3 for p in paths):
        raise ValueError(f"--set {key}: use platform.<rule>, function.<key> or "
                         f"<function>.<key>; functions: {sorted(sim.functions)}")
    converted = convert_value(".".join(paths[0]), value)
    changed = {}
    for _, name, field in paths:
        try:
            changed[name] = sim.functions[name].replace(**{field: converted})
            changed[name].check_against(sim.rules)
        except (TypeError, ValueError) as err:
            raise ValueError(f"--set {key}={value!r}: {err}") from None
    sim.functions.update(changed)
