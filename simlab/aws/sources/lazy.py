"""Events built only when something reads them.

Every trigger hands the platform an event: the JSON document a handler receives. Building one is
not free (its ids are hashes, its times formatted dates: some 20 µs for an S3 notification), and
in most simulations the requests go to functions without code, where nothing ever reads it.

A :class:`LazyPayload` keeps what the event is made of, all taken when the request is made (the
time, the key, the counter...), and builds the event the first time it is read, once. Two things
read events: the handler runner (:mod:`simlab.aws.sources.handlers`), before it calls a function's
code, and the asynchronous queue (:mod:`simlab.aws.sources.invoke_async`), when it writes the
``requestPayload`` of a destination or dead-letter record. Both go through :func:`resolve`. Since
the event depends only on what was taken, building it late gives the same event as building it at
once: only the time spent changes.

>>> calls = []
>>> event = LazyPayload(lambda key: calls.append(key) or {"key": key}, "a.jpg")
>>> len(calls)
0
>>> resolve(event), resolve(event), len(calls)
({'key': 'a.jpg'}, {'key': 'a.jpg'}, 1)
>>> resolve({"plain": 1})
{'plain': 1}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["LazyPayload", "resolve"]


class LazyPayload:
    """An event that ``build(*args)`` makes on first use.

    Parameters
    ----------
    build
        A function returning the event (JSON data); it must depend on ``args`` only.
    *args
        Everything the event is made of, taken now.
    """

    __slots__ = ("_build", "_args", "_value")

    def __init__(self, build: Callable[..., Any], *args: Any) -> None:
        self._build: Callable[..., Any] | None = build
        self._args = args
        self._value: Any = None

    @property
    def built(self) -> bool:
        """Whether the event has been built."""
        return self._build is None

    @property
    def value(self) -> Any:
        """The event (built now if it was not yet; the same object afterwards)."""
        if self._build is not None:
            self._value = self._build(*self._args)
            self._build = None
            self._args = ()
        return self._value

    def __repr__(self) -> str:
        return f"LazyPayload({self._value!r})" if self._build is None else "LazyPayload(unbuilt)"


def resolve(payload: Any) -> Any:
    """The event itself: ``payload``, or the value of a :class:`LazyPayload`."""
    return payload.value if type(payload) is LazyPayload else payload
