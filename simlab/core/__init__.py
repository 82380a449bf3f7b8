"""The core layer: the platform model of one account in one region.

Configuration and eras (:mod:`~simlab.core.config`, :mod:`~simlab.core.features`), the engine that
places requests on execution environments on hosts (:mod:`~simlab.core.engine`, with its
keep-alive and scaling policies), named random streams, the flat records a run produces and the
:class:`~simlab.core.result.Result` that holds them, and everything that is a pure function of
those records: billing and prices, CloudWatch logs and metrics, plots, queueing theory and the
distributions. It imports nothing from :mod:`simlab.aws` or :mod:`simlab.course`.
"""
