"""Every example in simlab's docstrings runs and prints what it shows (``>>>`` lines).

A module is imported and its examples run with :func:`doctest.testmod`; a module without examples
passes trivially. The examples are documentation: when a change of the model changes what one
prints, the docstring must change with it.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import simlab

MODULES = sorted(m.name for m in pkgutil.walk_packages(simlab.__path__, "simlab.")
                 if not m.name.endswith("__main__"))


def test_the_walk_finds_the_three_layers() -> None:
    assert {"simlab.core.engine", "simlab.aws.sweep", "simlab.course.exercises"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_as_shown(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
