"""``python -m mock_runtime libdir|includedir|rebuild|clean`` (docs/mock-build.md)."""
from __future__ import annotations

import argparse
import sys

from mock_runtime import include_dir, libdir


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mock_runtime", description=__doc__)
    parser.add_argument("command", choices=("libdir", "includedir", "rebuild", "clean"),
                        help="libdir: build if needed and print the library directory; "
                             "includedir: print the header directory; rebuild: force a fresh build; "
                             "clean: remove this user's builds")
    args = parser.parse_args()
    if args.command == "includedir":
        print(include_dir())
        return
    from mock_runtime._build_dirs import MockBuildError, clean

    try:
        if args.command == "clean":
            print("\n".join(clean()) or "no builds to remove")
        else:
            print(libdir(rebuild=args.command == "rebuild"))
    except MockBuildError as exc:
        sys.exit(f"python -m mock_runtime: {exc}")


if __name__ == "__main__":
    main()
