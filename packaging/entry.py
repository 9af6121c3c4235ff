"""Entry script of the frozen (PyInstaller) hpstudio application.

A frozen app has no separate Python interpreter: every child process that multiprocessing, loky
or joblib starts re-runs *this* executable with interpreter-style arguments (``-c CODE`` or
``-m MODULE``). Before handing control to :func:`hpstudio.cli.main`, this script recognises those
helper invocations and runs them as a Python interpreter would, so study workers start correctly
inside the bundle. Anything else is an ordinary hpstudio command line.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import sys

#: Interpreter flags that ``_args_from_interpreter_flags()`` may put before ``-c``/``-m``;
#: the ones followed by a value are listed in :data:`_FLAGS_WITH_VALUE`.
_FLAGS_WITH_VALUE = frozenset({"-W", "-X"})

#: ``-m`` modules allowed to run as helper processes (loky / joblib worker launchers).
_HELPER_MODULES = frozenset(
    {
        "loky.backend.popen_loky_posix",
        "joblib.externals.loky.backend.popen_loky_posix",
    }
)

#: Prefixes of ``-c`` commands allowed to run as helper processes (loky resource trackers;
#: PyInstaller's own runtime hook already handles the standard-library trackers).
_HELPER_COMMAND_PREFIXES = (
    "from loky.backend.resource_tracker import main",
    "from joblib.externals.loky.backend.resource_tracker import main",
)


def helper_invocation(argv: list[str]) -> tuple[str, str, list[str]] | None:
    """Classify ``argv`` as a helper-process launch.

    Returns ``("-m", module, rest)`` or ``("-c", code, rest)`` when ``argv`` (including
    ``argv[0]``) is an allowed interpreter-style helper invocation, else ``None``. Only known
    helpers are accepted, so a user's own arguments are never executed as code.
    """
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg in ("-m", "-c"):
            if index + 1 >= len(argv):
                return None
            target, rest = argv[index + 1], argv[index + 2 :]
            if arg == "-m" and target in _HELPER_MODULES:
                return ("-m", target, rest)
            if arg == "-c" and target.startswith(_HELPER_COMMAND_PREFIXES):
                return ("-c", target, rest)
            return None
        if arg in _FLAGS_WITH_VALUE:
            index += 2
        elif len(arg) >= 2 and arg[0] == "-" and arg[1] != "-" and arg[1:].isalpha():
            index += 1  # single-letter interpreter flags such as -B, -s, -E, -I, -OO
        else:
            return None
    return None


def _run_helper(kind: str, target: str, rest: list[str]) -> None:
    """Run a helper the way ``python -m`` / ``python -c`` would, then exit."""
    if kind == "-m":
        sys.argv = [target, *rest]
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c", *rest]
        exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
    sys.exit(0)


def _ensure_std_streams() -> None:
    """Give windowed builds real stdout/stderr.

    Windowed (no console) executables on Windows start with ``sys.stdout`` set to ``None``, and
    any ``print`` (``--help``, logging, tqdm) would raise; writing to ``os.devnull`` is harmless.
    """
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def main() -> int:
    """Dispatch helper processes, otherwise run the hpstudio command line."""
    multiprocessing.freeze_support()
    if getattr(sys, "frozen", False):
        helper = helper_invocation(sys.argv)
        if helper is not None:
            _run_helper(*helper)
    _ensure_std_streams()
    from hpstudio.cli import main as cli_main

    return int(cli_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
