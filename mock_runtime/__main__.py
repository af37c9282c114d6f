"""``python -m mock_runtime libdir|includedir|rebuild|clean|operators|cflags|libs|pc`` (docs/mock-build.md, docs/c-programs.md)."""
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
    parser.add_argument("command", choices=("libdir", "includedir", "rebuild", "clean", "operators", "cflags", "libs",
                                            "pc"),
                        help="libdir: build if needed and print the library directory; "
                             "includedir: print the header directory; rebuild: force a fresh build; "
                             "clean: remove this user's builds; "
                             "operators: print the operator functions the mock implements (JSON: name -> library); "
                             "cflags, libs: compiler and linker flags for C/C++ programs; "
                             "pc: the pkg-config file aclnn-mock.pc (mock_runtime.flags)")
    args = parser.parse_args()
    if args.command == "includedir":
        print(include_dir())
        return
    if args.command in ("cflags", "libs", "pc"):
        sys.exit(_flags(args.command))
    from mock_runtime._build_dirs import MockBuildError, clean

    try:
        if args.command == "clean":
            print("\n".join(clean()) or "no builds to remove")
        elif args.command == "operators":
            print(json.dumps(_operators(), sort_keys=True))
        else:
            print(libdir(rebuild=args.command == "rebuild"))
    except (MockBuildError, ValueError) as exc:  # ValueError: an extension package ACLNN_MOCK_OPERATORS names
        sys.exit(f"python -m mock_runtime: {exc}")


def _flags(command: str) -> str | None:
    """Print what ``command`` asks of :mod:`mock_runtime.flags`; the error text when the build fails."""
    from mock_runtime import flags
    from mock_runtime._build import MockBuildError

    if command == "cflags":
        print(flags.cflags())
        return None
    try:
        directory = libdir()
    except MockBuildError as exc:
        return f"python -m mock_runtime: {exc}"
    text = flags.libs(directory) if command == "libs" else flags.pc_file(directory)
    print(text.rstrip("\n"))
    return None


if __name__ == "__main__":
    main()
