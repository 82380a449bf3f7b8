"""The sliced-poll kernel client: a reply whose wake-up signal was missed is still picked up
within one slice, a wait without a message ends at its timeout, and a real kernel answers."""

from __future__ import annotations

import asyncio
import time
from queue import Empty

import pytest

pytest.importorskip("jupyter_client")

from jupyter_client.channels import AsyncZMQSocketChannel  # noqa: E402

from simlab.course import kernel  # noqa: E402


class MissedWakeUpSocket:
    """A socket whose poll never wakes early: it sleeps for its whole timeout and only then
    looks, as pyzmq's asyncio poll does when the descriptor's edge was missed."""

    def __init__(self, arrives_after_s: float | None) -> None:
        self.arrives_at = None if arrives_after_s is None else time.monotonic() + arrives_after_s

    async def poll(self, timeout_ms: int | None) -> int:
        if timeout_ms is None:
            raise AssertionError("an unbounded poll never wakes up on this socket")
        await asyncio.sleep(timeout_ms / 1000)
        return int(self.arrives_at is not None and time.monotonic() >= self.arrives_at)


def _channel(cls: type, socket: MissedWakeUpSocket) -> AsyncZMQSocketChannel:
    channel = object.__new__(cls)
    channel.socket = socket

    async def recv() -> dict:
        return {"msg_type": "execute_reply"}

    channel._recv = recv
    return channel


def _timed_get(channel: AsyncZMQSocketChannel, timeout: float | None) -> tuple[object, float]:
    async def get() -> object:
        try:
            return await channel.get_msg(timeout=timeout)
        except Empty:
            return Empty

    t0 = time.monotonic()
    got = asyncio.run(get())
    return got, time.monotonic() - t0


#: The timeout of a wait in these tests (s): far longer than a slice, so that "within a few
#: slices" and "the whole timeout" stay apart on a loaded machine too.
TIMEOUT_S = 4.0


def test_a_missed_reply_costs_the_stock_channel_its_whole_timeout() -> None:
    """The failure being cured, reproduced: the reply is there after 0.1 s, seen after 4 s."""
    got, took = _timed_get(_channel(AsyncZMQSocketChannel, MissedWakeUpSocket(0.1)), TIMEOUT_S)
    assert got == {"msg_type": "execute_reply"}
    assert took >= TIMEOUT_S


@pytest.mark.parametrize("timeout", [TIMEOUT_S, None])
def test_a_missed_reply_costs_the_sliced_channel_about_one_slice(timeout) -> None:
    got, took = _timed_get(_channel(kernel.SlicedPollChannel, MissedWakeUpSocket(0.1)), timeout)
    assert got == {"msg_type": "execute_reply"}
    assert took < TIMEOUT_S / 2  # about 0.1 s + one slice (0.5 s), and a loaded loop's delays


def test_no_message_ends_at_the_timeout_with_empty() -> None:
    got, took = _timed_get(_channel(kernel.SlicedPollChannel, MissedWakeUpSocket(None)), 0.7)
    assert got is Empty
    assert took >= 0.7


def test_a_real_kernel_runs_a_cell_through_the_sliced_client() -> None:
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    client = NotebookClient(nb, timeout=60, kernel_name="python3",
                            kernel_manager_class=kernel.SlicedPollKernelManager)
    with client.setup_kernel():
        assert isinstance(client.kc, kernel.SlicedPollKernelClient)
        assert isinstance(client.kc.shell_channel, kernel.SlicedPollChannel)
        assert isinstance(client.kc.iopub_channel, kernel.SlicedPollChannel)
        client.execute_cell(nb.cells[0], 0)
    assert nb.cells[0].outputs[0]["text"] == "42\n"
