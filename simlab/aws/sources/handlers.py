"""Real handlers: running a function's Python code on the events the simulator delivers.

A Lambda function is code, ``handler(event, context)``: the platform calls it with the *event* (a
JSON document whose shape depends on the trigger) and a *context* object (request id, function
name, memory, time left), and sends back what it returns, or an error if it raises. Whatever the
code prints or logs goes to the function's CloudWatch log stream.

A :class:`~simlab.core.config.FunctionConfig` may carry such a ``handler``. simlab then calls it for
every invocation that runs, and records:

* ``output``: the return value (extra column of ``result.invocations``), when the run succeeds;
* ``error``: ``"ExceptionType: message"`` when the handler raised. The invocation's status
  becomes ``error`` (unless it had already timed out or run out of memory), and an asynchronous
  event goes through the retry rules like any function error;
* ``log_lines``: what it printed (stdout and stderr) and logged with :mod:`logging`, one string per
  line. Logging records look like the Python runtime's: ``[INFO]\\t<time>\\t<request id>\\t<msg>``.

A handler that exits the runtime (``sys.exit()``, ``exit()``, ``raise SystemExit``) fails as on
Lambda with ``Runtime.ExitError`` (``RequestId: <id> Error: Runtime exited with error: exit status
1``, or ``Runtime exited without providing a reason`` for status 0), and its execution environment
is reset: it ends when the invocation does (end reason ``runtime_exit``), so the next request
starts cold.

The handler receives a fresh copy of the event (as Lambda deserialises the JSON for every
invocation), so mutating it does not change a retry's event. Its return value must be JSON
(Lambda serialises it; anything else, NaN and infinities included, is a
``Runtime.MarshalError`` naming where the bad value is), at most 6 MB.

**Time.** Simulated time still comes from the function's distributions: the handler's Python
code takes no simulated time, so runs stay deterministic and fast. The code runs at the simulated
instant the invocation starts (after any INIT), so anything it does (put an S3 object, publish to
a topic, invoke another function) happens then. :meth:`LambdaContext.get_remaining_time_in_millis`
returns the time that would be left at the end of the simulated run (0 for a run that times out).
``error_rate`` still applies on top of the code's own exceptions: leave it at 0 (the default) to let
only the code fail.

**Real-time budget.** Because the code takes no simulated time, a handler that sleeps or loops to
"take time" would only hang the run. Each call (with the synchronous calls it makes to other
functions) may run for at most ``handler_budget_s`` seconds of real time, by default
:data:`DEFAULT_HANDLER_BUDGET_S` (10 s); past it the run stops with a :class:`HandlerBudgetError`
naming the function. Set another budget with ``sim.run(until_s, handler_budget_s=60)`` (``math.inf``
for none). The budget is enforced with ``SIGALRM`` in the main thread (it interrupts ``sleep``) and,
in other threads, by raising the error in the handler's thread (which a blocking call delays). A
handler that catches ``BaseException`` can swallow it.

The context is shaped like the Python runtime's (``aws_request_id``, ``function_name``,
``function_version``, ``invoked_function_arn``, ``memory_limit_in_mb``, which is a *string* there
too, ``log_group_name``, ``log_stream_name``), plus ``lambda_client``: a small stand-in for
``boto3.client("lambda")`` whose ``invoke`` calls other functions of the simulation (see
:mod:`simlab.aws.sources.sdk`).

The runner is installed on the engine (``engine.handler_runner``) by :func:`install_handler_runner`.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import logging
import math
import signal
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import simpy

from simlab.aws.sources.lazy import resolve
from simlab.aws.sources.payloads.context import PayloadContext
from simlab.aws.sources.responses import function_arn, response_payload
from simlab.core.ids import request_id
from simlab.core.invocation import OK, Call
from simlab.core.logs import log_group_name, log_stream_names

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = [
    "LambdaContext",
    "HandlerRunner",
    "install_handler_runner",
    "MAX_RESPONSE_BYTES",
    "DEFAULT_HANDLER_BUDGET_S",
    "HandlerBudgetError",
]

#: Real time (s) a handler call may take before the run stops (``sim.run(handler_budget_s=...)``).
DEFAULT_HANDLER_BUDGET_S = 10.0

#: Largest response a synchronous invocation may return (6 MB, LAMBDA_FACTS 6).
MAX_RESPONSE_BYTES = 6 * 1024 * 1024


class LambdaContext:
    """The ``context`` argument of a handler, as the Python runtime builds it.

    Attributes
    ----------
    aws_request_id
        The request id of this invocation (``simlab.core.ids.request_id(seed, invocation_id)``; the
        retries of an asynchronous event keep the id of its first attempt, as on Lambda).
    function_name, function_version, invoked_function_arn
        The function, ``"$LATEST"``, and the ARN it was invoked by.
    memory_limit_in_mb
        Configured memory, as a string (the runtime reads it from an environment variable).
    log_group_name, log_stream_name
        Where this invocation's logs go: ``/aws/lambda/<name>`` and the environment's stream.
    identity, client_context
        ``None`` (Cognito identity and mobile client context are not simulated).
    lambda_client
        Invoke other functions from the handler: ``context.lambda_client.invoke(FunctionName=...,
        Payload=..., InvocationType=...)`` (see :class:`simlab.aws.sources.sdk.LambdaClient`).
    """

    function_version = "$LATEST"
    identity = None
    client_context = None

    def __init__(self, call: Call, runner: HandlerRunner) -> None:
        fn = call.fn
        self._call = call
        self._runner = runner
        self.aws_request_id = request_id(runner.seed, call.key)
        self.function_name = fn.name
        self.memory_limit_in_mb = str(fn.memory_mb)
        self.log_group_name = log_group_name(fn.name)
        self._remaining_ms = max(0, int(round((fn.timeout - call.dur) * 1000.0)))

    # Built on first use: most handlers never look at these.
    @property
    def invoked_function_arn(self) -> str:
        """The ARN the function was invoked by (unqualified)."""
        return function_arn(self.function_name, self._runner.ctx)

    @property
    def log_stream_name(self) -> str:
        """The execution environment's log stream: ``YYYY/MM/DD/[$LATEST]<32 hex digits>``."""
        env = self._call.env
        return log_stream_names(self._runner.seed, [env.env_id], [env.created],
                                self._runner.epoch)[0]

    @property
    def lambda_client(self) -> Any:
        """A :class:`~simlab.aws.sources.sdk.LambdaClient` whose calls come from this invocation."""
        from simlab.aws.sources.sdk import LambdaClient

        return LambdaClient(self._runner.run, caller=self._call)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the timeout, at the end of this invocation's simulated run."""
        return self._remaining_ms

    def __repr__(self) -> str:
        return (f"LambdaContext(function_name={self.function_name!r}, "
                f"aws_request_id={self.aws_request_id!r})")


class HandlerBudgetError(TimeoutError):
    """A real handler ran longer than its budget of real time (the run stops)."""


class _OverBudget(BaseException):
    """Raised inside the handler when its real-time budget runs out (not an ``Exception``, so
    that the handler's own ``except Exception`` does not catch it)."""


class _Budget:
    """Interrupts the handler call in progress once ``seconds`` of real time have passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.armed = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        if self.seconds == math.inf:
            yield
            return
        if (hasattr(signal, "setitimer")
                and threading.current_thread() is threading.main_thread()):
            with self._alarm():
                yield
        else:
            with self._watchdog():
                yield

    @contextlib.contextmanager
    def _alarm(self) -> Iterator[None]:
        def expire(signum: int, frame: Any) -> None:
            raise _OverBudget

        previous = signal.signal(signal.SIGALRM, expire)
        t0 = time.monotonic()
        outer = signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if outer[0] > 0:  # someone else's timer was running: give it back what is left
                left = max(outer[0] - (time.monotonic() - t0), 1e-6)
                signal.setitimer(signal.ITIMER_REAL, left, outer[1])

    @contextlib.contextmanager
    def _watchdog(self) -> Iterator[None]:
        thread_id = threading.get_ident()

        def expire() -> None:
            with self.lock:
                if self.armed:
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                                               ctypes.py_object(_OverBudget))

        timer = threading.Timer(self.seconds, expire)
        timer.daemon = True
        self.armed = True
        timer.start()
        try:
            yield
        finally:
            with self.lock:
                self.armed = False
            timer.cancel()


class _LogCapture(logging.Handler):
    """Writes logging records into the output of the handler call in progress (the innermost)."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.stack: list[tuple[io.StringIO, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not self.stack:
            return
        out, stamp, rid = self.stack[-1]
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not break the run
            msg = str(record.msg)
        for part in msg.splitlines() or [""]:
            out.write(f"[{record.levelname}]\t{stamp}\t{rid}\t{part}\n")


class HandlerRunner:
    """Calls real handlers for the engine (``engine.handler_runner``).

    The engine calls the runner with each :class:`~simlab.core.invocation.Call` whose function has a
    handler, when the invocation is admitted. The runner calls the handler at the call's start
    (after any INIT) with one SimPy event; a synchronous call from inside another handler (see
    :class:`~simlab.aws.sources.sdk.LambdaClient`) runs at once, because the caller waits for it.
    """

    def __init__(self, run: Run, budget_s: float = DEFAULT_HANDLER_BUDGET_S) -> None:
        self.run = run
        self.budget_s = budget_s
        self._budget = _Budget(budget_s)
        self._running: list[tuple[str, int]] = []  # (function, invocation id), innermost last
        self._overrun: tuple[str, int] | None = None
        self.seed = run.seed
        self.epoch = run.epoch
        self.ctx = PayloadContext(seed=run.seed, epoch=run.epoch)
        self.kernel = run.kernel
        self.depth = 0
        self.inline = False
        self._capture = _LogCapture()

    def __call__(self, call: Call) -> None:
        if self.inline:
            self.inline = False
            self.execute(call)
            return
        ev = simpy.Timeout(self.kernel, call.init, call)
        ev.callbacks.append(self._deferred)

    def _deferred(self, ev: simpy.Event) -> None:
        self.execute(ev.value)

    def execute(self, call: Call) -> None:
        """Run the handler of ``call`` now and record what it returned, raised and printed."""
        fn = call.fn
        handler = fn.cfg.handler
        iid = call.iid
        context = LambdaContext(call, self)
        payload = resolve(call.payload)  # an event built on first use (simlab.sources.lazy)
        try:
            event = {} if payload is None else json.loads(json.dumps(payload))
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"the event for function {fn.name!r} (invocation {iid}) is not JSON data: {exc}"
            ) from exc
        stamp = self.ctx.iso_ms(call.start)
        out = io.StringIO()
        failure: BaseException | None = None
        result: Any = None
        root = logging.getLogger()
        self._capture.stack.append((out, stamp, context.aws_request_id))
        if self.depth == 0:
            root.addHandler(self._capture)
        self.depth += 1
        self._running.append((fn.name, iid))
        budget = self._budget() if self.depth == 1 else contextlib.nullcontext()
        try:
            with budget, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                result = handler(event, context)
        except _OverBudget:
            if self._overrun is None:  # the innermost call, where the budget ran out
                self._overrun = self._running[-1]
            if self.depth > 1:
                raise
            (name, inner), self._overrun = self._overrun, None
            raise HandlerBudgetError(
                f"the handler of function {name!r} (invocation {inner}) ran for more than "
                f"handler_budget_s={self.budget_s:g} s of real time; a handler's code takes no "
                f"simulated time, so a sleep or a loop to model time only hangs the run: take the "
                f"time from duration_s, or allow more with sim.run(..., handler_budget_s=...)"
            ) from None
        except Exception as exc:  # noqa: BLE001 - the handler's own error is the point
            failure = exc
        except SystemExit as exc:  # the runtime process exits: Lambda resets the environment
            failure = _runtime_exit(exc, context.aws_request_id, out)
            call.exit_runtime()
        finally:
            self.depth -= 1
            self._running.pop()
            self._capture.stack.pop()
            if self.depth == 0:
                root.removeHandler(self._capture)
        lines = out.getvalue().splitlines()
        if failure is None:
            failure = _marshal_error(result)
        if failure is not None:
            kind = (failure.kind if isinstance(failure, _RuntimeError)
                    else type(failure).__name__)
            text = f"{kind}: {failure}"
            lines.append(f"[ERROR] {text}")
            call.annotate("error", text)
            call.fail({"errorType": kind, "errorMessage": str(failure)}
                      if isinstance(failure, _ExitError) else
                      {"errorMessage": str(failure), "errorType": kind,
                       "requestId": context.aws_request_id, "stackTrace": []})
        if lines:
            call.annotate("log_lines", lines)
        if call.status == OK:
            call.reply(result)
            call.annotate("output", result)
        elif call.output is None:
            call.reply(response_payload(call, self.seed, self.ctx))


class _RuntimeError(Exception):
    """An error the runtime reports (not the handler's own exception), of type ``kind``."""

    kind = "Runtime.Error"


class _MarshalError(_RuntimeError):
    kind = "Runtime.MarshalError"


class _ExitError(_RuntimeError):
    kind = "Runtime.ExitError"


def _runtime_exit(exc: SystemExit, rid: str, out: io.StringIO) -> _ExitError:
    """The error of a handler that exited the runtime with ``exc`` (Python's exit rules: no code
    or 0 is status 0, an integer is its status, anything else is printed and is status 1)."""
    code = exc.code
    if code is None or isinstance(code, bool | int):
        status = int(code or 0)
    else:
        out.write(f"{code}\n")
        status = 1
    reason = (f"Runtime exited with error: exit status {status}" if status
              else "Runtime exited without providing a reason")
    return _ExitError(f"RequestId: {rid} Error: {reason}")


def _marshal_error(result: Any) -> BaseException | None:
    try:
        text = json.dumps(result, allow_nan=False)  # NaN and Infinity are not JSON
    except (TypeError, ValueError) as exc:
        where = _non_finite(result, "response")
        detail = f" ({where})" if where else ""
        return _MarshalError(f"Unable to marshal response: {exc}{detail}")
    if len(text.encode()) > MAX_RESPONSE_BYTES:
        return _MarshalError(
            f"Response payload size ({len(text.encode())} bytes) exceeded maximum allowed "
            f"payload size ({MAX_RESPONSE_BYTES} bytes)."
        )
    return None


def _non_finite(value: Any, path: str) -> str | None:
    """Where in ``value`` the first NaN or infinite float is (``"response['a'][0] is nan"``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path} is {value!r}"
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list | tuple) else ())
    for key, item in items:
        found = _non_finite(item, f"{path}[{key!r}]")
        if found:
            return found
    return None


def install_handler_runner(run: Run) -> HandlerRunner | None:
    """Install a :class:`HandlerRunner` on ``run.engine`` if some function has a handler, with the
    run's budget of real time per call (``run.handler_budget_s``, set by ``Simulation.run``).

    Idempotent: the runner is made once per run and kept as ``run.engine.handler_runner``.
    """
    engine = run.engine
    if isinstance(engine.handler_runner, HandlerRunner):
        return engine.handler_runner
    if not any(f.cfg.handler is not None for f in engine.fns):
        return None
    runner = HandlerRunner(run, getattr(run, "handler_budget_s", DEFAULT_HANDLER_BUDGET_S))
    engine.handler_runner = runner
    return runner
