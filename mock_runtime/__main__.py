"""``python -m mock_runtime libdir|includedir|rebuild|operators``."""
from __future__ import annotations

import argparse
import json
import sys

from mock_runtime import include_dir, libdir


def _operators() -> dict[str, str]:
    """The catalogue: each operator function the mock's libraries export -> its split library."""
    from mock_runtime import catalogue, extensions

    found = {}
    for library, loaded in ((catalogue.CLASSIC, ()), (extensions.LIBRARY, extensions.configured())):
        for operator in catalogue.operators(library, loaded):
            found.update((proto.name, operator.library) for proto in operator.prototypes)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mock_runtime", description=__doc__)
    parser.add_argument("command", choices=("libdir", "includedir", "rebuild", "operators"),
                        help="libdir: build if needed and print the library directory; "
                             "includedir: print the header directory; rebuild: force a fresh build; "
                             "operators: print the operator functions the mock implements (JSON: name -> library)")
    args = parser.parse_args()
    if args.command == "includedir":
        print(include_dir())
        return
    from mock_runtime._build import MockBuildError

    try:
        if args.command == "operators":
            print(json.dumps(_operators(), sort_keys=True))
        else:
            print(libdir(rebuild=args.command == "rebuild"))
    except (MockBuildError, ValueError) as exc:  # ValueError: an extension package ACLNN_MOCK_OPERATORS names
        sys.exit(f"python -m mock_runtime: {exc}")


if __name__ == "__main__":
    main()
