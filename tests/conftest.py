"""Test-wide settings.

Property tests draw their examples deterministically (``derandomize``) and keep no example
database, so every machine, and CI, runs the same examples: a failure is reproducible, and a pass
does not depend on what an earlier run happened to find.
"""

from hypothesis import settings

settings.register_profile("simlab", derandomize=True, database=None, print_blob=True)
settings.load_profile("simlab")
