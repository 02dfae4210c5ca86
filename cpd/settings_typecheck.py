"""Settings for type checking only (`[tool.django-stubs]` in pyproject.toml): every app installed.

The cycle app is installed only in a cycle deployment; mypy must see its models whichever regime the
shell that runs it has set, so a plain `mypy` (the pre-commit hook, an editor) checks the same as
`run.py test`.
"""

import os

os.environ["CPD_REGIME"] = "cycle"

from cpd.settings import *  # noqa: F403
