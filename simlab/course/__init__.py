"""The course layer: lessons, dashboards, exercises, concept checks and grading.

It builds on :mod:`simlab.aws` and :mod:`simlab.core` and nothing builds on it.
"""
