"""The image runs the phone core compiled with mypyc (setup.py, deploy/Dockerfile): a fast path of the
Python modules, so it must give exactly their outputs. This builds it as ``make bench`` does (once per
version of the sources, under .local/compiled/) and compares ``extract`` on every corpus message in
three regions and on thousands of seeded random texts, run with each."""

from __future__ import annotations

import shutil

import pytest

from bench import compiled_core

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="mypyc needs a C compiler")


def test_the_compiled_phone_core_gives_the_python_modules_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    core = compiled_core.build()
    assert any(core.joinpath("workers", "domain").glob("phone_extract*.so")), "nothing was compiled"
    assert compiled_core.check(core) == 0, capsys.readouterr().out
