"""``aclnn-py`` (``python -m aclnn_py``): ``info`` prints the backend, libraries, SoC, devices
and versions; ``selfcheck`` runs every mode on the present backend against the golden
(:mod:`aclnn_py.selfcheck`)."""
from __future__ import annotations

import argparse
import sys


def info() -> int:
    import numpy

    import aclnn_py
    from .semantics.headers import include_dir
    from ._ffi import ffi
    from ._loader import library, requested_backend

    print(f"aclnn-py       {aclnn_py.__version__} (numpy {numpy.__version__}, python {sys.version.split()[0]})")
    print(f"headers        {include_dir()}")
    print(f"requested      ACLNN_PY_BACKEND={requested_backend()}")
    lib = library()
    print(f"backend        {lib.backend}")
    for name, paths in lib.paths.items():
        print(f"lib{name:<11}{', '.join(str(p) for p in paths)}")
    with aclnn_py.Runtime() as runtime:
        major, minor, patch = (ffi.new("int32_t *") for _ in range(3))
        if lib.aclrtGetVersion(major, minor, patch) == 0:
            print(f"ACL API        {major[0]}.{minor[0]}.{patch[0]}")
        text = ffi.new("char[128]")
        if lib.aclsysGetVersionStr(b"CANN", text) == 0:
            print(f"CANN           {ffi.string(text).decode()}")
        print(f"SoC            {runtime.soc_name}")
        print(f"devices        {runtime.device_count}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from . import selfcheck

    parser = argparse.ArgumentParser(prog="aclnn-py", description="aclnn-py tools")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{info,selfcheck,ops}")
    commands.add_parser("info", help="print backend, libraries, SoC, devices and versions")
    from . import _ops_command

    _ops_command.add_arguments(commands.add_parser("ops", help="list every operator of the headers read",
                                                   description=_ops_command.__doc__.split("\n\n")[0]))
    check = commands.add_parser("selfcheck", help="run every mode on this backend and compare with the golden",
                                description=selfcheck.__doc__.split("\n\n")[0])
    selfcheck.add_arguments(check)
    args = parser.parse_args(argv)
    from .errors import LibraryNotFoundError, StatusError

    try:
        if args.command == "ops":
            return _ops_command.main(args)
        return selfcheck.main(args) if args.command == "selfcheck" else info()
    except (LibraryNotFoundError, StatusError, ValueError) as exc:  # a bad setting: one line, no traceback
        print(f"aclnn-py {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
