"""The AWS layer: the services around the platform model.

Event sources and their payloads (:mod:`~simlab.aws.sources`), the handler runtime and its context,
CloudTrail, schedules (:mod:`~simlab.aws.cron`), traces and scenarios, and the user-facing
:class:`~simlab.aws.simulation.Simulation` that wires sources to the engine and returns a
:class:`~simlab.core.result.Result`. It builds on :mod:`simlab.core` only; the course builds on it.
"""
