"""``python -m mock_runtime libdir|includedir|rebuild|clean|cflags|libs|pc`` (docs/mock-build.md, docs/c-programs.md)."""
from __future__ import annotations

import argparse
import sys

from mock_runtime import include_dir, libdir


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mock_runtime", description=__doc__)
    parser.add_argument("command", choices=("libdir", "includedir", "rebuild", "clean", "cflags", "libs", "pc"),
                        help="libdir: build if needed and print the library directory; "
                             "includedir: print the header directory; rebuild: force a fresh build; "
                             "clean: remove this user's builds; "
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
        else:
            print(libdir(rebuild=args.command == "rebuild"))
    except MockBuildError as exc:
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
