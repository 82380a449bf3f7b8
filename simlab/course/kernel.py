"""A kernel client that cannot sleep through a kernel's reply, for running notebooks unattended.

A notebook is run (by nbclient, which nbconvert and otter-grader use) through an asynchronous
kernel client: for each cell it waits on the kernel's *shell* socket for the execute reply and,
at the same time, on the *iopub* socket for the cell's outputs. Each wait is pyzmq's
``await socket.poll(timeout)``, which sleeps until the event loop hears from the socket's file
descriptor. That descriptor is edge-triggered: it signals a *change*, and when a change falls
between two polls (two sockets served by one loop, on a loaded machine) no signal comes, the
message stays queued, and the wait lasts until its timeout. The poll then looks once more, finds
the reply and returns as if nothing had happened (pyzmq issue 1558). On this project's 2-core
test machine, with both cores busy, a lesson's dashboard cell (many widget messages) waited this
way in three runs out of three, for the whole cell timeout: 120 s for a 14 s notebook.

The cure here is the one jupyter_client uses for its heartbeat: never wait longer than
:data:`POLL_SLICE_S` in one poll. :class:`SlicedPollKernelManager` hands out clients whose
channels poll in such slices up to the caller's timeout, so a missed signal costs at most one
slice. The same three runs under the same load took 11 to 13 s each.

Use it by giving nbclient (or nbconvert's ``ExecutePreprocessor``) the manager class::

    NotebookClient(nb, kernel_manager_class=SlicedPollKernelManager)
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

__all__ = ["POLL_SLICE_S", "SlicedPollChannel", "SlicedPollKernelClient",
           "SlicedPollKernelManager"]

#: Longest single wait on a socket (s): the most a missed wake-up can cost. A reply that is
#: already there is returned at once, so the slice costs nothing when nothing is missed.
POLL_SLICE_S = 0.5


class SlicedPollChannel(AsyncZMQSocketChannel):
    """A kernel channel whose :meth:`get_msg` polls in slices of :data:`POLL_SLICE_S`."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message; waits at most ``timeout`` seconds (None: until one comes).

        Raises
        ------
        queue.Empty
            No message came within ``timeout``.
        """
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE_S if deadline is None else deadline - time.monotonic()
            if await self.socket.poll(int(1000 * max(0.0, min(POLL_SLICE_S, left)))):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty


class SlicedPollKernelClient(AsyncKernelClient):
    """An asynchronous kernel client whose shell, iopub, stdin and control channels are
    :class:`SlicedPollChannel` s."""

    shell_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]
    iopub_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]
    stdin_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]
    control_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]


class SlicedPollKernelManager(AsyncKernelManager):
    """An asynchronous kernel manager whose clients are :class:`SlicedPollKernelClient` s."""

    client_class = DottedObjectName(  # type: ignore[assignment]
        "simlab.course.kernel.SlicedPollKernelClient")
    client_factory = Type(SlicedPollKernelClient)  # type: ignore[assignment]
