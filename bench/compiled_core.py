"""The phone core compiled with mypyc, for the speed benchmark: built out of the source tree, and
checked to give exactly the outputs of the same modules run as Python.

Usage (``make bench`` runs both before ``bench/bench_extract.py``):

* ``.venv/bin/python bench/compiled_core.py build`` -- compiles the modules of pyproject's
  ``[tool.phoneunify] compiled`` (as setup.py does for a ``PHONEUNIFY_COMPILE=1`` install) in a copy of
  ``workers/`` under ``.local/compiled/<hash of the sources>/``, once per version of the sources, and
  prints that folder. ``PHONEUNIFY_CORE=<folder> bench/bench_extract.py`` then times the compiled core.
* ``.venv/bin/python bench/compiled_core.py check <folder>`` -- the compiled modules are a fast path of
  the Python ones, so this proves them equal: ``extract`` on every message of every corpus (in its own
  region and two others) and on seeded random texts (digits, separators, cue words, letters glued to
  digits, other scripts' digits, country names), run once with each, must give byte-identical output.
  Exit status 1 on any difference. The frozen test set's outputs are compared like the others, but
  only their count is ever printed.

The folder is never the source tree: a compiled module next to its source would shadow every later
edit of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILDS = ROOT / ".local" / "compiled"
CORPUS = ROOT / "tests" / "corpus"
OPEN_FILES = (
    "business_chat.jsonl",
    "business_chat_tricky.jsonl",
    "business_chat_heldout.jsonl",
    "tuning_chat.jsonl",
    "matcher_suites.jsonl",
)
FROZEN_FILE = "frozen/frozen_chat.jsonl"
# Besides each message's own region, two more, taken in turn from this list.
REGIONS = ("US", "GB", "DE", "FR", "ES", "MX", "BR", "IT", "AU", "IN", "JP", None, "AR", "CH", "NL", "CA")
FUZZ_TEXTS = 5_000


def compiled_sources() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["phoneunify"]["compiled"])


def build() -> Path:
    """The folder of a compiled build of the current sources (built now if there is none)."""
    import mypy.version

    digest = hashlib.sha256(mypy.version.__version__.encode())
    for path in sorted((ROOT / "workers").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    target = BUILDS / digest.hexdigest()[:16]
    if (target / "workers").is_dir():
        return target
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(ROOT / "workers", staging / "workers", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "mypyc", *compiled_sources()],
        cwd=staging,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    shutil.rmtree(staging / "build", ignore_errors=True)
    staging.rename(target)
    return target


# --- the check ----------------------------------------------------------------------------------------


def _records(path: Path) -> Iterator[dict[str, object]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def _fuzz(count: int) -> Iterator[dict[str, object]]:
    """Seeded random texts in the shapes extraction must read: numbers written many ways, cue words of
    every language, letters glued to digits, digits of other scripts, country names, lists."""
    from workers.domain.phone_cue_words import LANGUAGES

    words = sorted(
        {w.strip() for cues in LANGUAGES.values() for m in cues.macros.values() for w in m.split("|")}
        | {w for cues in LANGUAGES.values() for w in (*cues.glue, *cues.courtesy, *cues.verbs)}
        | {"my UK mobile", "u.s.", "USA", "méxico", "Deutschland", "brasil"}
    )
    words = [w for w in words if w]
    phones = [
        "415-555-0134", "(212) 555-0199", "+1 503 555 0120", "07911 123456", "+44 7911 123456",
        "0151 23456789", "06 12 34 56 78", "+33 6 12 34 56 78", "612 345 678", "(11) 98765-4321",
        "+55 11 98765-4321", "+52 55 1234 5678", "4155550134", "202.555.0178", "0xx62 3212-3456",
        "00 91 98765 43210", "+49 30 1234567", "1-800-555-0199", "0412 345 678", "wa.me/5511987654321",
    ]  # fmt: skip
    extras = [
        "$", "R$ ", "%", " pm", ":30", " min", "1) ", "\n", "İ", "12/05/2024", "192.168.1.10", "v2.13.4",
        "4111 1111 1111 1111", "94110-1234", "(my son)", "is my number", "call me at", "order #", "ext 12",
    ]  # fmt: skip
    separators = [" ", "-", ".", "/", "(", ")", " - ", "--", ". ", "\u2013", "\u00a0", "\n", ",", ":"]
    rng = random.Random(20251111)

    def digits() -> str:
        return "".join(
            rng.choice("0123456789") + (rng.choice(separators) if rng.random() < 0.2 else "")
            for _ in range(rng.randint(1, 13))
        )

    def other_script(text: str) -> str:
        zero = rng.choice("\u0660\u06f0\uff10\u0966")
        return "".join(chr(ord(zero) + int(c)) if c.isascii() and c.isdigit() else c for c in text)

    makers = [
        lambda: rng.choice(words),
        lambda: rng.choice(phones),
        lambda: other_script(rng.choice(phones)),
        digits,
        lambda: rng.choice(words) + digits(),
        lambda: digits() + rng.choice(words),
        lambda: rng.choice(extras),
        lambda: rng.choice(separators),
    ]
    contexts = [{"direction": "in"}, {"direction": "out"}, {"business_numbers": ["+14155550134"]}]
    for i in range(count):
        parts = [rng.choice(makers)() for _ in range(rng.randint(1, 10))]
        text = "".join(p + rng.choice([" ", " ", "", ", ", "\n", ". "]) for p in parts)
        yield {"text": text, "region": REGIONS[i % len(REGIONS)], **contexts[i % len(contexts)]}


def _dump(frozen: bool) -> None:
    """Print the outputs of ``extract`` (one JSON line per message and region) with the core first on
    the path (see ``check``)."""
    from workers.domain import phone_extract
    from workers.domain.phones import ExtractionContext, extract, warm_up

    warm_up()
    print("compiled" if phone_extract.__file__.endswith(".so") else "python")  # which core ran
    if frozen:
        items = list(_records(CORPUS / FROZEN_FILE))
    else:
        items = [r for name in OPEN_FILES for r in _records(CORPUS / name)] + list(_fuzz(FUZZ_TEXTS))
    out = sys.stdout
    for i, record in enumerate(items):
        context = ExtractionContext(
            direction=str(record.get("direction", "in")),
            business_numbers=frozenset(record.get("business_numbers", ())),  # type: ignore[arg-type]
            channel=str(record.get("channel", "")),
        )
        own = record.get("region")
        others = [r for r in (REGIONS[(i * 7 + k) % len(REGIONS)] for k in range(4)) if r != own][:2]
        for region in (own, *others):
            found = extract(str(record["text"]), region if isinstance(region, str) else None, context)
            rows = [[c.e164, c.start, c.end, c.confidence, c.evidence, c.owner, c.raw] for c in found]
            out.write(json.dumps([i, region, rows], ensure_ascii=False) + "\n")


def _outputs(core: Path | None, frozen: bool) -> list[str]:
    """The outputs of ``_dump`` run with ``core`` first on the path (None: the source tree)."""
    env = {**os.environ, "PHONEUNIFY_CORE": str(core) if core else ""}
    args = [sys.executable, str(Path(__file__).resolve()), "dump-frozen" if frozen else "dump"]
    done = subprocess.run(args, env=env, check=True, capture_output=True, text=True, encoding="utf-8")
    ran, *lines = done.stdout.splitlines()
    if ran != ("compiled" if core else "python"):
        raise SystemExit(f"expected the {'compiled' if core else 'Python'} core, {ran} ran")
    return lines


def check(core: Path) -> int:
    failed = False
    for frozen in (False, True):
        python, compiled = _outputs(None, frozen), _outputs(core, frozen)
        differing = [(a, b) for a, b in zip(python, compiled, strict=False) if a != b]
        differing += [("", "")] * abs(len(python) - len(compiled))
        label = "frozen test set" if frozen else "corpora and random texts"
        print(f"compiled vs Python, {label}: {len(python)} outputs, {len(differing)} differ")
        if not frozen:
            for a, b in differing[:10]:
                print(f"  Python:   {a}\n  compiled: {b}")
        failed = failed or bool(differing)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "build":
        print(build())
        return 0
    if command == "check" and len(argv) == 3:
        return check(Path(argv[2]))
    if command in ("dump", "dump-frozen"):
        _dump(frozen=command == "dump-frozen")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    # The core to run first on the path (a compiled build), else the source tree.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    for first in (str(ROOT), os.environ.get("PHONEUNIFY_CORE", "")):
        if first:
            sys.path.insert(0, first)
    raise SystemExit(main(sys.argv))
