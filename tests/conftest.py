"""Test-wide settings.

Property tests draw their examples deterministically (``derandomize``) and keep no example
database, so every machine, and CI, runs the same examples: a failure is reproducible, and a pass
does not depend on what an earlier run happened to find.

The longest test files run first. ``scripts/test.sh`` hands whole files to its pytest-xdist
workers in collection order; a long file collected last (``test_properties_scenarios.py`` sorts
late) ran alone at the end while the other core sat idle, for a minute or more.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

settings.register_profile("simlab", derandomize=True, database=None, print_blob=True)
settings.load_profile("simlab")

#: The test files that take longest, run in this order (one core of a 2-core machine, measured
#: with ``pytest --durations=0``: 94, 109 (most of it waiting on kernels), 37, 30, 27, 20 and
#: 13 s); every other file follows in collection order.
LONGEST_FIRST = ("test_properties_scenarios.py", "test_course_grade.py",
                 "test_capstone_lesson.py", "test_readme.py", "test_dashboard_controls.py",
                 "test_properties.py", "test_scenarios.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order in a file
