"""``python -m mock_runtime libdir|includedir|rebuild``."""
from __future__ import annotations

import argparse
import sys

from mock_runtime import include_dir, libdir


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mock_runtime", description=__doc__)
    parser.add_argument("command", choices=("libdir", "includedir", "rebuild"),
                        help="libdir: build if needed and print the library directory; "
                             "includedir: print the header directory; rebuild: force a fresh build")
    args = parser.parse_args()
    if args.command == "includedir":
        print(include_dir())
        return
    from mock_runtime._build import MockBuildError

    try:
        print(libdir(rebuild=args.command == "rebuild"))
    except MockBuildError as exc:
        sys.exit(f"python -m mock_runtime: {exc}")


if __name__ == "__main__":
    main()
