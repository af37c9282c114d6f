"""``aclnn-py`` (``python -m aclnn_py``): ``info`` prints the backend, libraries, SoC, devices
and versions (``--json`` for a script); ``selfcheck`` runs every mode on the present backend
against the golden (:mod:`aclnn_py.selfcheck`); ``--version``.

Safe to script: a bad setting is one line on stderr and exit status 1, never a traceback; a
reader that stops early (``aclnn-py selfcheck --list | head``) ends it quietly with status 141
(128 + SIGPIPE, as the shell reports a program killed by a broken pipe); Ctrl-C prints one line
and the process ends by SIGINT after cleaning up, which the shell reports as status 130.
Reference: docs/cli.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

#: Exit status after a broken pipe: 128 + SIGPIPE (13), what a shell shows for a killed writer.
BROKEN_PIPE_STATUS = 141


def info_fields() -> dict[str, Any]:
    """What ``aclnn-py info`` reports, as data (the keys of ``info --json``)."""
    import numpy

    import aclnn_py
    from ._ffi import ffi
    from ._loader import library, requested_backend
    from .semantics.headers import include_dir

    fields: dict[str, Any] = {"aclnn_py": aclnn_py.__version__, "numpy": numpy.__version__,
                              "python": sys.version.split()[0], "headers": str(include_dir()),
                              "requested_backend": requested_backend()}
    lib = library()
    fields["backend"] = lib.backend
    fields["libraries"] = {f"lib{name}": [str(p) for p in paths] for name, paths in lib.paths.items()}
    with aclnn_py.Runtime() as runtime:
        major, minor, patch = (ffi.new("int32_t *") for _ in range(3))
        ok = lib.aclrtGetVersion(major, minor, patch) == 0
        fields["acl_api"] = f"{major[0]}.{minor[0]}.{patch[0]}" if ok else None
        text = ffi.new("char[128]")
        fields["cann"] = ffi.string(text).decode() if lib.aclsysGetVersionStr(b"CANN", text) == 0 else None
        fields["soc"] = runtime.soc_name
        fields["device_count"] = runtime.device_count
    return fields


def info_rows(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """The lines of ``aclnn-py info``: (label, value); the versions the runtime did not give are left out."""
    rows = [("aclnn-py", f"{fields['aclnn_py']} (numpy {fields['numpy']}, python {fields['python']})"),
            ("headers", fields["headers"]),
            ("requested", f"ACLNN_PY_BACKEND={fields['requested_backend']}"),
            ("backend", fields["backend"])]
    rows += [(name, ", ".join(paths)) for name, paths in fields["libraries"].items()]
    rows += [(label, str(fields[key])) for label, key in (("ACL API", "acl_api"), ("CANN", "cann"))
             if fields[key] is not None]
    rows += [("SoC", str(fields["soc"])), ("devices", str(fields["device_count"]))]
    return rows


def columns(rows: list[tuple[str, str]]) -> str:
    """``label  value`` lines, the values starting in one column."""
    width = max(len(label) for label, _ in rows) + 2
    return "\n".join(f"{label:<{width}}{value}" for label, value in rows)


def info(as_json: bool = False) -> int:
    fields = info_fields()
    print(json.dumps(fields, indent=2) if as_json else columns(info_rows(fields)))
    return 0


def parser() -> argparse.ArgumentParser:
    import aclnn_py

    from . import selfcheck

    main_parser = argparse.ArgumentParser(prog="aclnn-py", description="aclnn-py tools")
    main_parser.add_argument("--version", action="version", version=f"aclnn-py {aclnn_py.__version__}")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="{info,selfcheck,ops}")
    info_parser = commands.add_parser("info", help="print backend, libraries, SoC, devices and versions")
    info_parser.add_argument("--json", action="store_true", help="print them as one JSON object")
    from . import _ops_command

    _ops_command.add_arguments(commands.add_parser("ops", help="list every operator of the headers read",
                                                   description=_ops_command.__doc__.split("\n\n")[0]))
    check = commands.add_parser("selfcheck", help="run every mode on this backend and compare with the golden",
                                description=selfcheck.__doc__.split("\n\n")[0])
    selfcheck.add_arguments(check)
    return main_parser


def _run(argv: list[str] | None) -> int:
    from . import _ops_command, selfcheck
    from .errors import LibraryNotFoundError, StatusError

    args = parser().parse_args(argv)
    try:
        if args.command == "ops":
            return _ops_command.main(args)
        return selfcheck.main(args) if args.command == "selfcheck" else info(args.json)
    except (LibraryNotFoundError, StatusError, ValueError) as exc:  # a bad setting: one line, no traceback
        print(f"aclnn-py {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _quiet_interrupt(kind: type[BaseException], value: BaseException, traceback: Any) -> None:
    """``sys.excepthook`` once interrupted: no traceback for the KeyboardInterrupt on its way out."""
    if not issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (KeyboardInterrupt propagates, see the module doc)."""
    try:
        status = _run(argv)
        sys.stdout.flush()  # a reader gone by now is reported here, not at interpreter exit
        return status
    except BrokenPipeError:
        # Nothing more can reach the reader: point stdout at /dev/null so the flush at exit is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_STATUS
    except KeyboardInterrupt:
        print("\naclnn-py: interrupted", file=sys.stderr)
        # Python ends a process whose KeyboardInterrupt was not handled by SIGINT once it has
        # finalised (the shell then shows 130 and stops a loop around it): let it, without the traceback.
        sys.excepthook = _quiet_interrupt
        raise


if __name__ == "__main__":
    sys.exit(main())
