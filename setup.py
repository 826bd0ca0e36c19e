"""Build hook: with PHONEUNIFY_COMPILE=1, the phone core is compiled to C with mypyc.

The core (the modules in pyproject's ``[tool.phoneunify] compiled``) is pure, strictly typed Python:
mypyc turns the same source into C extension modules, with the same behaviour, that run extraction
about 1.7 times as fast (``make bench`` measures both and checks that they give identical outputs). A
build without the variable -- and every editable install, where a compiled module would shadow the
source being edited -- installs the plain Python modules.

A compiled build needs mypy (which brings mypyc) and a C compiler in the build environment:
``pip install mypy==2.4.1 setuptools wheel && PHONEUNIFY_COMPILE=1 pip install --no-build-isolation .``
(see deploy/Dockerfile).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent


def compiled_modules() -> list[str]:
    """The source files mypyc compiles (pyproject's ``[tool.phoneunify] compiled``)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["phoneunify"]["compiled"])


ext_modules = []
if os.environ.get("PHONEUNIFY_COMPILE") == "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(compiled_modules(), opt_level="3")

setup(ext_modules=ext_modules)
