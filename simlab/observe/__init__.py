"""Observation of a run: the records it keeps, and the logs, metrics and trail built from them."""
