"""Benchmark: what starting costs -- ``import aclnn_py``, its first uses, and the pytest plugin in a
session that does not use it -- each timed as a fresh child interpreter.

Prints the machine, the versions, then for every command the best and the median wall time of
``--repeat`` runs (interleaved, so every command sees the same load) and the time above the bare
interpreter (``python -c pass``) or, for pytest, above the same session with ``-p no:aclnn_py``.
The tests hold which modules get imported (tests/binding/test_startup.py); this prints how long.

    python benchmarks/startup.py [--repeat 15]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = {
    "python -c pass": "pass",
    "import numpy": "import numpy",
    "import ml_dtypes": "import ml_dtypes",
    "import aclnn_py": "import aclnn_py",
    "aclnn_py.DataType (headers parsed, NumPy)": "import aclnn_py; aclnn_py.DataType",
    "import aclnn_py.ops": "import aclnn_py.ops",
    "bfloat16 host dtype (imports ml_dtypes)": "from aclnn_py.semantics import dtypes; dtypes.host_dtype('bfloat16')",
}
TRIVIAL_TEST = "def test_trivial():\n    assert True\n"


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("numpy", "ml_dtypes", "cffi", "pytest"))
    print(f"machine: {describe()}; Python {sys.version.split()[0]}; {versions}")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "test_trivial.py").write_text(TRIVIAL_TEST)
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_trivial.py"]
        commands = {label: ([sys.executable, "-c", code], ROOT) for label, code in IMPORTS.items()}
        commands["pytest, a trivial test"] = (pytest, directory)
        commands["the same with -p no:aclnn_py"] = (pytest + ["-p", "no:aclnn_py"], directory)
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.repeat):
            for label, (command, cwd) in commands.items():
                times[label].append(timed(command, cwd))
    best = {label: min(values) for label, values in times.items()}
    for label, values in times.items():
        base = best["the same with -p no:aclnn_py"] if label.startswith("pytest") else best["python -c pass"]
        extra = "" if label in ("python -c pass", "the same with -p no:aclnn_py") else \
            f"  (+{(best[label] - base) * 1e3:6.1f} ms)"
        print(f"{label:45s} best {best[label] * 1e3:7.1f} ms  median {statistics.median(values) * 1e3:7.1f} ms{extra}")


if __name__ == "__main__":
    main()
