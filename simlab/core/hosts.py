"""Hosts: the EC2 instances that execution environments are packed onto.

Customers never see them, but the provider pays for them. Each environment reserves its function's
configured memory on one host for its whole life. Placement is *first fit*: the environment goes on
the oldest host with room; when no host has room, a new host is added. Measurements in 2018 found
AWS packing about 3 GB of functions per VM this way (Wang et al., USENIX ATC '18).

A host keeps the integral of its memory in use over time, so a run can compare the memory the
provider holds with the GB-seconds it bills.
"""

from __future__ import annotations

from array import array

__all__ = ["Host", "HostPool"]


class Host:
    """One host of fixed memory."""

    __slots__ = ("host_id", "memory_mb", "created_s", "used_mb", "peak_used_mb", "environments",
                 "used_mb_s", "last_s")

    def __init__(self, host_id: int, memory_mb: int, created_s: float) -> None:
        self.host_id = host_id
        self.memory_mb = memory_mb
        self.created_s = created_s
        self.used_mb = 0
        self.peak_used_mb = 0
        self.environments = 0
        self.used_mb_s = 0.0
        self.last_s = created_s

    def change(self, delta_mb: int, now_s: float) -> None:
        """Add ``delta_mb`` (negative to release) to the memory in use at ``now_s``."""
        self.used_mb_s += self.used_mb * (now_s - self.last_s)
        self.last_s = now_s
        self.used_mb += delta_mb
        if self.used_mb > self.peak_used_mb:
            self.peak_used_mb = self.used_mb


class HostPool:
    """First-fit placement of environments on hosts of ``memory_mb`` each."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.hosts: list[Host] = []

    def place(self, need_mb: int, now_s: float) -> tuple[Host, bool]:
        """Reserve ``need_mb`` on the first host with room; return it and whether it is new."""
        for host in self.hosts:
            if self.memory_mb - host.used_mb >= need_mb:
                new = False
                break
        else:
            host = Host(len(self.hosts), self.memory_mb, now_s)
            self.hosts.append(host)
            new = True
        host.change(need_mb, now_s)
        host.environments += 1
        return host, new

    def columns(self, until_s: float) -> dict[str, array | list]:
        """The HOSTS table as columns, memory integrals closed at ``until_s``."""
        used = [h.used_mb_s + h.used_mb * max(until_s - h.last_s, 0.0) for h in self.hosts]
        return {
            "host_id": [h.host_id for h in self.hosts],
            "memory_mb": [h.memory_mb for h in self.hosts],
            "created_s": [h.created_s for h in self.hosts],
            "environments": [h.environments for h in self.hosts],
            "peak_used_mb": [h.peak_used_mb for h in self.hosts],
            "used_mb_s": used,
        }
