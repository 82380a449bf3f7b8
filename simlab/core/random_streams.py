"""Random streams: one independent numpy Generator per source of randomness, keyed by name.

A simulation is reproducible only if every random draw is. simlab derives every generator from
one :class:`numpy.random.SeedSequence` (the run's seed) and a *name*: the stream of
``("function", "resize", "init")`` is the same whatever other functions or sources exist, so adding
a function to a model does not change the draws of the others.

A stream's key is its full name: the names are encoded, each with its length, into one whole number
(the SeedSequence's spawn key), so two different names always have different keys. (A short hash
of each name would not: ``"plumless"`` and ``"buckeroo"`` have the same CRC32.) SeedSequence mixes
the seed and the key into 128 bits, so two streams meet only by a chance of about 2**-64.

>>> a = RandomStreams(1).generator("function", "f", "init").random()
>>> b = RandomStreams(1).generator("function", "f", "init").random()
>>> a == b
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["RandomStreams", "stream_key"]


def stream_key(*names: str) -> int:
    """The whole number that keys the stream called ``names``: one to one with the names.

    Each name (as UTF-8 text) is written after its length in 4 bytes, all after a leading 1 byte,
    and the bytes are read as one number: different tuples of names give different numbers.

    >>> stream_key("a") == stream_key("a", "") or stream_key("ab", "c") == stream_key("a", "bc")
    False
    """
    parts = [b"\x01"]
    for n in names:
        data = str(n).encode("utf-8")
        parts.append(len(data).to_bytes(4, "big"))
        parts.append(data)
    return int.from_bytes(b"".join(parts), "big")


class RandomStreams:
    """Factory of named, independent generators under one seed."""

    def __init__(self, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
        self.seed = int(seed)

    def seed_sequence(self, *names: str) -> np.random.SeedSequence:
        """The SeedSequence of the stream called ``names``."""
        return np.random.SeedSequence(self.seed, spawn_key=(stream_key(*names),))

    def generator(self, *names: str) -> np.random.Generator:
        """A fresh Generator for the stream called ``names``."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(*names)))
