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

#: The test files that take longest, run in this order (three workers on a 2-core machine, from
#: ``--junitxml`` times: about 60 s mostly waiting for cell timeouts, then 110 and 100 (the
#: lessons' grading, in two halves), 88, 58, 40, 30, 29 and 17 s); every other file follows in
#: collection order. xdist gives each worker one file, then another as it runs short: the file
#: that mostly waits starts first, beside work for the cores.
LONGEST_FIRST = ("test_course_grade_workers.py", "test_course_grade.py",
                 "test_course_grade_more.py", "test_properties_scenarios.py", "test_readme.py",
                 "test_capstone_lesson.py", "test_dashboard_controls.py", "test_scenarios.py",
                 "test_properties.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order in a file
