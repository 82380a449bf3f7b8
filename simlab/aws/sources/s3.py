"""S3 buckets as a source: object uploads notify functions, asynchronously.

The classic serverless pipeline: a file lands in a bucket, and S3 *notifies* a function, which
processes it (resize an image, load a CSV into a database, scan a log file). S3 invokes the function
**asynchronously** with an event ``{"Records": [{"eventName": "ObjectCreated:Put", "s3":
{"bucket": {"name": ...}, "object": {"key": ..., "size": ...}}}]}`` (LAMBDA_FACTS 7.2). Two details
bite everyone once:

* the key in the event is **URL-encoded** (``red flower.jpg`` arrives as ``red+flower.jpg``):
  decode it with :func:`urllib.parse.unquote_plus` before use;
* a function that writes back into the bucket that triggers it invokes itself again, and again:
  use another bucket, or a prefix/suffix filter that its own outputs do not match.

A notification configuration names the **event types** (``s3:ObjectCreated:*``,
``s3:ObjectRemoved:Delete``...) and an optional **filter** on the key: a prefix (``uploads/``)
and a suffix (``.jpg``). S3 refuses two configurations of one bucket whose filters overlap for a
common event type, since it could not tell which to send an object to; :class:`S3Bucket` does the
same when it feeds several functions (give them disjoint filters with ``filters=``, or fan out
through an SNS topic).

Objects come from ``uploads`` (an arrival process, or a list of ``(time_s, key, size)`` or
``(time_s, key, size, body)``), or from code running during the simulation (a handler, another
source) with :meth:`S3Bucket.put_object`, which a handler can read back with
:meth:`S3Bucket.get_object`. The bucket's contents after a run are ``result.output(<name>)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from simlab.aws.sources.arrivals import ArrivalProcess, arrival_times
from simlab.aws.sources.base import Source
from simlab.aws.sources.handlers import install_handler_runner
from simlab.aws.sources.lazy import LazyPayload
from simlab.aws.sources.payloads.context import PayloadContext, records_event
from simlab.aws.sources.payloads.notifications import S3_EVENT_NAMES, s3_record
from simlab.aws.sources.timeline import at_times
from simlab.core import validate
from simlab.core.dists import Sampler, as_distribution
from simlab.core.validate import BadInput

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = ["S3Bucket", "BucketContents", "S3_CONFIG_EVENTS", "matches_event"]

#: Event types a notification configuration may name (with the ``s3:`` prefix).
S3_CONFIG_EVENTS: tuple[str, ...] = tuple(
    sorted({f"s3:{n}" for n in S3_EVENT_NAMES}
           | {f"s3:{n.split(':')[0]}:*" for n in S3_EVENT_NAMES if ":" in n})
)


def matches_event(config_event: str, event_name: str) -> bool:
    """True if the configured type (``s3:ObjectCreated:*``) covers ``event_name``
    (``ObjectCreated:Put``)."""
    pattern = config_event[3:]
    if pattern.endswith(":*"):
        return event_name.startswith(pattern[:-1])
    return event_name == pattern


def _check_bucket_name(name: Any) -> str:
    ok = (isinstance(name, str) and 3 <= len(name) <= 63
          and all(c.islower() or c.isdigit() or c in ".-" for c in name)
          and name[0].isalnum() and name[-1].isalnum() and name.isascii())
    if not ok:
        raise BadInput(f"bucket name must be 3 to 63 lower-case letters, digits, '.' or '-', "
                         f"starting and ending with a letter or digit (S3's rules), got {name!r}")
    return name


class _Notification:
    """One notification configuration: event types and a key filter."""

    def __init__(self, where: str, events: Any, prefix: Any, suffix: Any) -> None:
        if isinstance(events, str):
            events = (events,)
        if not isinstance(events, Sequence) or not events:
            raise BadInput(f"{where}events must be a non-empty list of S3 event types such as "
                             f"'s3:ObjectCreated:*', got {events!r}")
        for e in events:
            if e not in S3_CONFIG_EVENTS:
                hint = " (add the 's3:' prefix)" if f"s3:{e}" in S3_CONFIG_EVENTS else ""
                raise BadInput(f"{where}events: {e!r} is not an S3 event type{hint}; allowed: "
                                 f"{list(S3_CONFIG_EVENTS)}")
        for label, v in (("prefix", prefix), ("suffix", suffix)):
            if not isinstance(v, str) or len(v) > 1024:
                raise BadInput(f"{where}{label} must be a string of at most 1,024 characters, "
                                 f"got {v!r}")
        self.events = tuple(events)
        self.prefix = prefix
        self.suffix = suffix

    def wants_type(self, event_name: str) -> bool:
        return any(matches_event(e, event_name) for e in self.events)

    def wants(self, key: str, event_name: str) -> bool:
        return (key.startswith(self.prefix) and key.endswith(self.suffix)
                and self.wants_type(event_name))

    def overlaps(self, other: _Notification) -> bool:
        """S3's rule: same event type and filters that some key could match both."""
        common = any(self.wants_type(n) and other.wants_type(n) for n in S3_EVENT_NAMES)
        pre = self.prefix.startswith(other.prefix) or other.prefix.startswith(self.prefix)
        suf = self.suffix.endswith(other.suffix) or other.suffix.endswith(self.suffix)
        return common and pre and suf


class BucketContents:
    """A bucket's objects during one run (``result.output(<bucket source name>)``).

    Attributes
    ----------
    objects
        ``key -> (time_s, size, body)``: the latest version of each object (``body`` may be
        ``None`` when only a size was given).
    """

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self.objects: dict[str, tuple[float, int, bytes | None]] = {}
        self.notifications = 0

    def frame(self) -> pd.DataFrame:
        """One row per object: ``key``, ``time_s``, ``size_bytes``."""
        rows = [(k, t, s) for k, (t, s, _) in self.objects.items()]
        return pd.DataFrame(rows, columns=["key", "time_s", "size_bytes"])

    def __repr__(self) -> str:
        return f"<BucketContents {self.bucket!r}: {len(self.objects)} objects>"


class S3Bucket(Source):
    """An S3 bucket whose object uploads notify its target functions (asynchronously).

    Parameters
    ----------
    name
        Bucket name (S3's rules: 3 to 63 lower-case letters, digits, ``.``, ``-``).
    uploads
        When objects arrive: an :class:`~simlab.aws.sources.arrivals.ArrivalProcess` (keys from
        ``key_template``, sizes from ``size_bytes``), or a list of ``(time_s, key, size)`` or
        ``(time_s, key, size, body)`` with ``body`` bytes. ``None``: only
        :meth:`put_object` adds objects.
    prefix, suffix
        The notification's key filter (default: every key).
    events
        Event types of the notification, e.g. ``"s3:ObjectCreated:*"`` (the default) or
        ``["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"]``.
    filters
        Per target function, a dict with any of ``prefix``, ``suffix``, ``events`` that replaces
        the defaults above for that function: one notification configuration each.
    key_template
        Keys of uploads drawn from an arrival process, formatted with ``n`` (0, 1, ...).
    size_bytes
        Size of those uploads: a number or a distribution (bytes).
    """

    kind = "s3"
    output_type = BucketContents

    def __init__(self, name: str, uploads: ArrivalProcess | Sequence[Sequence[Any]] | None = None,
                 *, prefix: str = "", suffix: str = "",
                 events: str | Sequence[str] = "s3:ObjectCreated:*",
                 filters: Mapping[str, Mapping[str, Any]] | None = None,
                 key_template: str = "uploads/object-{n:06d}.dat",
                 size_bytes: Any = 1_048_576) -> None:
        self.bucket = _check_bucket_name(name)
        self.default = _Notification("", events, prefix, suffix)
        self.filters: dict[str, _Notification] = {}
        if filters is not None:
            if not isinstance(filters, Mapping):
                raise BadInput(f"filters must map function names to dicts of prefix/suffix/"
                                f"events, got {filters!r}")
            for fname, spec in filters.items():
                if not isinstance(spec, Mapping) or set(spec) - {"prefix", "suffix", "events"}:
                    raise BadInput(f"filters[{fname!r}] must be a dict with keys among prefix, "
                                     f"suffix, events, got {spec!r}")
                self.filters[fname] = _Notification(
                    f"filters[{fname!r}]: ", spec.get("events", self.default.events),
                    spec.get("prefix", self.default.prefix),
                    spec.get("suffix", self.default.suffix))
        if not isinstance(key_template, str):
            raise BadInput(f"key_template must be a string with {{n}}, got {key_template!r}")
        try:
            key_template.format(n=0)
        except (KeyError, IndexError, ValueError) as exc:
            raise BadInput(f"key_template must format with n only, e.g. "
                             f"'uploads/{{n:06d}}.jpg', got {key_template!r}") from exc
        self.key_template = key_template
        self.size_bytes = as_distribution(size_bytes, "size_bytes")
        self.uploads = self._check_uploads(uploads)
        self._run: dict[str, Any] | None = None

    @staticmethod
    def _check_uploads(uploads: Any) -> Any:
        if uploads is None or isinstance(uploads, ArrivalProcess):
            return uploads
        if isinstance(uploads, str | bytes) or not isinstance(uploads, Sequence):
            raise BadInput(f"uploads must be an arrival process (e.g. simlab.sources.Poisson) or "
                            f"a list of (time_s, key, size[, body]), got {uploads!r}")
        out = []
        for i, u in enumerate(uploads):
            if isinstance(u, str | bytes) or not isinstance(u, Sequence) or len(u) not in (3, 4):
                raise BadInput(f"uploads[{i}] must be (time_s, key, size) or (time_s, key, "
                                 f"size, body), got {u!r}")
            t, key, size = u[0], u[1], u[2]
            body = u[3] if len(u) == 4 else None
            t = validate.real(f"uploads[{i}] time_s", t, 0)
            if not isinstance(key, str) or not key or len(key.encode()) > 1024:
                raise BadInput(f"uploads[{i}] key must be a non-empty string of at most 1,024 "
                                 f"bytes, got {key!r}")
            if body is not None and not isinstance(body, bytes | bytearray):
                raise BadInput(f"uploads[{i}] body must be bytes or absent, got "
                                f"{type(body).__name__}")
            if size is None and body is not None:
                size = len(body)
            size = validate.integer(f"uploads[{i}] size", size, 0, unit="bytes")
            out.append((float(t), key, size, None if body is None else bytes(body)))
        return sorted(out, key=lambda u: u[0])

    def notification(self, function: str) -> _Notification:
        """The notification configuration that feeds ``function``."""
        return self.filters.get(function, self.default)

    def validate(self, targets: list[str]) -> None:
        if isinstance(self.uploads, ArrivalProcess):
            # Generated keys all share the template's fixed parts: a filter they can never match
            # would silently send no notification at all.
            sample = [self.key_template.format(n=n) for n in (0, 1, 999_999)]
            for t in targets:
                note = self.notification(t)
                if not any(key.startswith(note.prefix) and key.endswith(note.suffix)
                           for key in sample):
                    raise BadInput(
                        f"bucket {self.bucket!r}: the generated keys ({sample[0]!r}, ...) never "
                        f"match the prefix {note.prefix!r} and suffix {note.suffix!r} that "
                        f"notify {t!r}, so it would never be invoked; set key_template to keys "
                        f"the filter accepts (e.g. key_template='{note.prefix}{{n:06d}}"
                        f"{note.suffix or '.dat'}')")
        unknown = set(self.filters) - set(targets)
        if unknown:
            raise BadInput(f"filters name functions that are not targets of bucket "
                             f"{self.bucket!r}: {sorted(unknown)} (targets: {targets})")
        for i, a in enumerate(targets):
            for b in targets[i + 1:]:
                if self.notification(a).overlaps(self.notification(b)):
                    raise BadInput(
                        f"bucket {self.bucket!r}: the notifications of {a!r} and {b!r} overlap "
                        f"(same event type, prefix and suffix filters that one key can match); "
                        f"S3 rejects that. Give them disjoint filters with filters=, or publish "
                        f"to an SNSTopic that fans out to both")

    # -- during a run ----------------------------------------------------------------------------
    def start(self, run: Run, targets: list[str]) -> None:
        name = self.name or self.kind
        contents = run.service(name, lambda run: BucketContents(self.bucket), shared=False)
        install_handler_runner(run)
        self._run = {
            "run": run,
            "contents": contents,
            "ctx": PayloadContext(seed=run.seed, epoch=run.epoch),
            "targets": [(t, self.notification(t), run.engine.function(t)) for t in targets],
            "src": run.engine.source_index(name),
            "queue": run._async_queue(),
            "counter": 0,
        }
        if self.uploads is None:
            return
        if isinstance(self.uploads, ArrivalProcess):
            rng = run.rng("source", name, "uploads")
            sizes = Sampler(self.size_bytes, run.rng("source", name, "sizes"))
            template = self.key_template

            def fire_drawn(k: int, t: float) -> None:
                self.put_object(template.format(n=k), size=int(round(sizes())))

            at_times(run, arrival_times(self.uploads, rng), fire_drawn)
        else:
            uploads = self.uploads

            def fire_listed(k: int, t: float) -> None:
                _, key, size, body = uploads[k]
                self.put_object(key, body, size)

            at_times(run, [u[0] for u in uploads], fire_listed)

    def _state(self) -> dict[str, Any]:
        if self._run is None:
            raise RuntimeError(f"bucket {self.bucket!r} is not in a running simulation: attach it "
                               f"with sim.add_source(bucket, target=...) and call put_object from "
                               f"code that runs during sim.run (a handler, a source)")
        return self._run

    def put_object(self, key: str, body: bytes | None = None, size: int | None = None) -> None:
        """Store an object now (simulated time) and notify the functions whose filter matches.

        Parameters
        ----------
        key
            The object's key (notifications carry it URL-encoded).
        body
            Its content, or ``None`` when only its size matters.
        size
            Its size in bytes (default ``len(body)``, or 0).
        """
        if not isinstance(key, str) or not key:
            raise BadInput(f"key must be a non-empty string, got {key!r}")
        if body is not None and not isinstance(body, bytes | bytearray):
            raise BadInput(f"body must be bytes or None, got {type(body).__name__}")
        if size is None:
            size = 0 if body is None else len(body)
        size = validate.integer("size", size, 0, unit="bytes")
        st = self._state()
        now = st["run"].now
        st["contents"].objects[key] = (now, size, None if body is None else bytes(body))
        self._notify(st, key, size, "ObjectCreated:Put")

    def delete_object(self, key: str) -> None:
        """Delete an object now; notifies functions configured for ``s3:ObjectRemoved:*``."""
        st = self._state()
        if st["contents"].objects.pop(key, None) is not None:
            self._notify(st, key, 0, "ObjectRemoved:Delete")

    def get_object(self, key: str) -> bytes:
        """The body of object ``key`` (``b""`` when it was stored without one).

        Raises
        ------
        KeyError
            ``NoSuchKey``, when there is no such object.
        """
        objects = self._state()["contents"].objects
        if key not in objects:
            raise KeyError(f"NoSuchKey: the bucket {self.bucket!r} has no object {key!r}")
        body = objects[key][2]
        return b"" if body is None else body

    def _notify(self, st: dict[str, Any], key: str, size: int, event_name: str) -> None:
        number = st["counter"]
        st["counter"] = number + 1
        event = None
        for _, notification, fn in st["targets"]:
            if notification.wants(key, event_name):
                if event is None:  # one event for all, built if a handler or a record reads it
                    event = LazyPayload(_s3_event, self.bucket, key, st["run"].now, size,
                                        event_name, number, st["ctx"])
                st["contents"].notifications += 1
                st["queue"].submit(fn, st["src"], event, None)

    def __repr__(self) -> str:
        return f"S3Bucket({self.bucket!r})"


def _s3_event(bucket: str, key: str, time_s: float, size: int, event_name: str, number: int,
              ctx: PayloadContext) -> dict[str, Any]:
    """The notification event of one object (one record)."""
    return records_event([s3_record(bucket, key, time_s, size=size, event_name=event_name,
                                    number=number, ctx=ctx)])
