"""The `hpstudio` command: the headless front end over the same core as the app.

With no arguments it opens the desktop app. Every user error ends with status 2 and one
line that says what is wrong and what to do, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from hpstudio import __version__
from hpstudio.core.errors import HpstudioError
from hpstudio.demo import demo_spec_path

EXIT_USAGE = 2
EXIT_TERMINATED = 128 + signal.SIGTERM  # what a shell reports for a process ended by SIGTERM
TERMINATED_REASON = "terminated (SIGTERM)"
MAX_JOBS = 1024  # worker processes; more is a typo, not a machine

_EPILOG = """\
commands:
  hpstudio                      open the desktop app with the demo study
  hpstudio demo                 run the demo study headless (a random forest on diabetes)
  hpstudio run SPEC             run a study spec (TOML or JSON); an interrupted study of the same
                                name and spec is resumed, unless --new
  hpstudio resume STUDY         finish an interrupted or stopped study
  hpstudio studies              list the studies in the history
  hpstudio show STUDY           a study's trials, best first
  hpstudio trials STUDY --csv F all trials with scikit-learn cv_results_ column names
  hpstudio export STUDY -o F    best parameters as JSON (or --format python); --model F refits
                                the best (or --trial N) on all the data and saves it
  hpstudio import FILE          store a cv_results_ saved as CSV as a study (read-only)
  hpstudio import optuna --storage URL --study NAME
                                store an Optuna study as a study (read-only)
  hpstudio gui [SPEC]           open the app (--run, --screenshot PNG); --study STUDY opens
                                a study of the history, live while another process runs it

options of run, demo and resume: --jobs N (worker processes, default all cores),
--cluster ADDRESS (a Dask scheduler, or local:N), --allow-package PKG, --quiet.
--db PATH and --allow-package PKG go before or after any command (hpstudio --db F studies).
STUDY is a study id or name. The history lives in the per-user data directory unless --db
(or the HPSTUDIO_DB environment variable) names another file.
"""

_DB_HELP = "history file (default: per-user data dir)"
_ALLOW_HELP = ("allow estimator classes from this package besides scikit-learn (repeatable); "
               "its code runs when a study uses it, so allow only packages you trust")
#: Where --allow-package given before the command is parsed to, before being merged.
_ALLOW_BEFORE = "allow_package_before_command"


class _Parser(argparse.ArgumentParser):
    """argparse, with the one-line error and exit status 2 the rest of the CLI uses."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"hpstudio: error: {message} (see hpstudio --help)\n")

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None,
                         ) -> tuple[argparse.Namespace, list[str]]:
        """Packages allowed before the command and after it add up.

        A subcommand parses into a namespace of its own and would replace a list given
        before it, so the two lists have different destinations and meet here.
        """
        parsed, extras = super().parse_known_args(args, namespace)
        if hasattr(parsed, _ALLOW_BEFORE):
            before = getattr(parsed, _ALLOW_BEFORE)
            delattr(parsed, _ALLOW_BEFORE)
            parsed.allow_package = [*before, *getattr(parsed, "allow_package", [])]
        return parsed, extras


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hpstudio", description="Hyperparameter tuning studio for "
                     "scikit-learn models.", epilog=_EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"hpstudio {__version__}")
    # Before the command: for every command, and for the app when there is none.
    parser.add_argument("--db", metavar="PATH", help=_DB_HELP)
    parser.add_argument("--allow-package", action="append", default=[], metavar="PKG",
                        dest=_ALLOW_BEFORE, help=_ALLOW_HELP)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def with_db(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        # SUPPRESS: a subcommand's default must not overwrite a value given before it
        sub.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=_DB_HELP)
        return sub

    def with_allow_package(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--allow-package", action="append", default=argparse.SUPPRESS,
                         metavar="PKG", help=_ALLOW_HELP)

    def with_run_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--jobs", "-j", type=int, metavar="N",
                         help="worker processes (default: all cores)")
        sub.add_argument("--cluster", metavar="ADDRESS",
                         help="run folds on a Dask cluster: tcp://HOST:8786, or local:N for a "
                         "local cluster of N worker processes (needs hpstudio[dask])")
        with_allow_package(sub)
        sub.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    run = with_db(commands.add_parser("run", help="run a study spec"))
    run.add_argument("spec", help="study spec file (.toml or .json)")
    run.add_argument("--new", action="store_true",
                     help="always start a new study, even if one of the same name can be resumed")
    with_run_options(run)

    demo = with_db(commands.add_parser("demo", help="run the demo study headless"))
    with_run_options(demo)

    resume = with_db(commands.add_parser("resume", help="finish an interrupted study"))
    resume.add_argument("study", help="study id or name")
    with_run_options(resume)

    with_db(commands.add_parser("studies", help="list studies"))

    show = with_db(commands.add_parser("show", help="a study's trials, best first"))
    show.add_argument("study")
    show.add_argument("--top", type=int, default=20, metavar="N", help="rows to show (0: all)")
    show.add_argument("--compare", type=int, default=5, metavar="N",
                      help="test whether the best is really better than the next N-1 trials "
                           "(corrected t-test and Bayesian comparison; 0: skip)")
    show.add_argument("--rope", type=float, default=0.01, metavar="R",
                      help="half-width of the region of practical equivalence, in score units "
                           "(default 0.01)")
    with_allow_package(show)

    trials = with_db(commands.add_parser("trials", help="export all trials as CSV"))
    trials.add_argument("study")
    trials.add_argument("--csv", required=True, metavar="FILE")

    export = with_db(commands.add_parser("export", help="export the best parameters or model"))
    export.add_argument("study")
    export.add_argument("-o", "--output", metavar="FILE", help="parameters file to write")
    export.add_argument("--format", choices=("json", "python"), default=None,
                        help="json (default) or a python snippet (default for .py files)")
    export.add_argument("--model", metavar="FILE",
                        help="refit on all data and save the model (skops; joblib if .joblib)")
    export.add_argument("--trial", type=int, metavar="N", help="a trial number instead of the best")
    with_allow_package(export)

    imported = with_db(commands.add_parser(
        "import", help="store a cv_results_ CSV or an Optuna study as a study"))
    imported.add_argument("source", metavar="FILE",
                          help="a cv_results_ CSV, or the word optuna with --storage and --study")
    imported.add_argument("--storage", metavar="URL",
                          help="Optuna storage URL, e.g. sqlite:///optuna.db")
    imported.add_argument("--study", metavar="NAME", help="the Optuna study's name")
    imported.add_argument("--name", metavar="NAME", help="the new study's name")
    imported.add_argument("--refit", metavar="METRIC",
                          help="the metric that ranks trials, when the CSV has several")

    gui = with_db(commands.add_parser("gui", help="open the desktop app"))
    gui.add_argument("spec", nargs="?", help="study spec to open")
    gui.add_argument("--study", metavar="STUDY",
                     help="open this study of the history (id or name)")
    gui.add_argument("--run", action="store_true", help="run the spec to the end")
    gui.add_argument("--screenshot", metavar="PNG", help="save a picture of the window and exit")
    gui.add_argument("--tab", metavar="NAME", help="plot tab to show in the screenshot")
    with_allow_package(gui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_arguments(args)
        if args.command in (None, "gui"):
            return _open_gui(args)
        handler = {"run": cmd_run, "demo": cmd_run, "resume": cmd_run, "studies": cmd_studies,
                   "show": cmd_show, "trials": cmd_trials, "export": cmd_export,
                   "import": cmd_import}[args.command]
        return handler(args)
    except HpstudioError as exc:
        print(f"hpstudio: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("hpstudio: interrupted; finished trials are saved, `hpstudio resume` goes on",
              file=sys.stderr)
        return 130


def _one_line(message: str) -> str:
    """The message on one line, whatever a file name or a library put in it."""
    return " ".join(message.split()) if len(message.splitlines()) > 1 else message


# ----- arguments, checked before any work ------------------------------------------------------

# The options that name a file hpstudio writes, per command.
_OUTPUTS = {"trials": (("csv", "--csv"),),
            "export": (("output", "-o"), ("model", "--model")),
            "gui": (("screenshot", "--screenshot"),)}


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse impossible option values and unwritable output paths before doing the work.

    A refit or a study may take minutes; learning only afterwards that the output folder
    does not exist would waste them.
    """
    jobs = getattr(args, "jobs", None)
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise HpstudioError(f"--jobs: expected a number of worker processes from 1 to "
                            f"{MAX_JOBS}, got {jobs}")
    cluster = getattr(args, "cluster", None)
    if cluster is not None:
        check_cluster_address(cluster)
    if getattr(args, "top", 0) < 0:
        raise HpstudioError(f"--top: expected a number of rows ≥ 0 (0: all), got {args.top}")
    compare = getattr(args, "compare", 0)
    if compare < 0 or compare == 1:
        raise HpstudioError(f"--compare: expected 0 (skip) or a number of trials ≥ 2, "
                            f"got {compare}")
    rope = getattr(args, "rope", 0.0)
    if not (math.isfinite(rope) and rope >= 0):
        raise HpstudioError(f"--rope: expected a half-width ≥ 0 in score units, got {rope}")
    trial = getattr(args, "trial", None)
    if trial is not None and trial < 0:
        raise HpstudioError(f"--trial: expected a trial number ≥ 0, got {trial}")
    for attribute, option in _OUTPUTS.get(args.command or "", ()):
        value = getattr(args, attribute, None)
        if value is not None:
            check_output_path(option, value)


_SCHEDULER_ADDRESS = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^\s/]+:\d{1,5}$")


def check_cluster_address(text: str) -> None:
    """``local``, ``local:N`` or a scheduler address with its port, before connecting."""
    from hpstudio.core.cluster import parse_cluster_address

    address = parse_cluster_address(text)
    if address.scheduler is not None and not _SCHEDULER_ADDRESS.match(address.scheduler):
        raise HpstudioError(f"--cluster {text}: not a scheduler address; write "
                            "tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786) or local:N")


def check_output_path(option: str, value: str) -> None:
    """The file ``value`` can be created or replaced: its folder exists and it is no folder."""
    if not value.strip():
        raise HpstudioError(f"{option}: empty file name; give a path such as results/out.csv")
    path = Path(value)
    if path.is_dir():
        raise HpstudioError(f"{option}: {path} is a folder; give a file name inside it, "
                            f"e.g. {path / ('out' + _example_suffix(option))}")
    folder = path.parent
    if not folder.exists():
        missing = folder  # name the outermost missing folder, the one to create first
        while missing.parent != missing and not missing.parent.exists():
            missing = missing.parent
        needed = f" (nor {folder})" if missing != folder else ""
        raise HpstudioError(f"{option}: the folder {missing} does not exist{needed}; create "
                            "it first or choose another path")
    if not folder.is_dir():
        raise HpstudioError(f"{option}: {folder} is a file, not a folder; choose another path")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise HpstudioError(f"{option}: no permission to write {path}; choose another path")


def _example_suffix(option: str) -> str:
    return {"--csv": ".csv", "-o": ".json", "--model": ".skops", "--screenshot": ".png"}[option]


def gui_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hpstudio-gui`` launcher: the same options as ``hpstudio gui``."""
    args = list(sys.argv[1:] if argv is None else argv)
    return main(["gui", *args])


def _open_gui(args: argparse.Namespace) -> int:
    import importlib.util

    try:
        from hpstudio.gui.app import run_app

        for toolkit in ("PySide6", "pyqtgraph"):  # imported later, inside the app
            if importlib.util.find_spec(toolkit) is None:
                raise ImportError(f"No module named {toolkit!r}")
    except ImportError as exc:
        print(f"hpstudio: error: the desktop app cannot start ({exc}); "
              "headless commands still work, see hpstudio --help", file=sys.stderr)
        return EXIT_USAGE
    return run_app(spec=getattr(args, "spec", None), db=getattr(args, "db", None),
                   run=getattr(args, "run", False), screenshot=getattr(args, "screenshot", None),
                   tab=getattr(args, "tab", None),
                   allowed_packages=getattr(args, "allow_package", ()),
                   study=getattr(args, "study", None))


def _store(args: argparse.Namespace) -> Any:
    from hpstudio.core.storage import HistoryStore

    return HistoryStore(args.db)


def make_executor(args: argparse.Namespace) -> Any:
    if getattr(args, "cluster", None):
        from hpstudio.core.cluster import make_cluster_executor

        return make_cluster_executor(args.cluster)
    from hpstudio.core.executor import LocalExecutor

    if args.jobs is not None and args.jobs < 1:
        raise HpstudioError("--jobs: expected a whole number ≥ 1")
    return LocalExecutor(args.jobs)


# ----- run / demo / resume ------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from hpstudio.core.records import StudyStatus
    from hpstudio.core.spec import StudySpec
    from hpstudio.core.study import StudyRunner, resumable_study

    store = _store(args)
    study_id: int | None = None
    spec: StudySpec | None = None
    if args.command == "resume":
        study_id = store.resolve(args.study)
    else:
        spec = StudySpec.from_file(demo_spec_path() if args.command == "demo" else args.spec)
        if not getattr(args, "new", False):
            study_id = resumable_study(store, spec)
            if study_id is not None:
                spec = None
    if study_id is not None:
        row = store.get_study(study_id)
        row.study_spec("resume it")  # a study recorded or imported without a spec cannot run
        if row.status is StudyStatus.FINISHED:
            print(f"study #{study_id} {row.name!r} is already finished", file=sys.stderr)
            return 0
        done, failed = store.count_trials(study_id)
        print(f"resuming study #{study_id} {row.name!r}: {done + failed} trials already done",
              file=sys.stderr)
    progress = _Progress(quiet=args.quiet)
    runner = StudyRunner(store, executor=make_executor(args), listener=progress,
                         allowed_packages=getattr(args, "allow_package", ()))
    with _StopOnSigterm(runner) as sigterm:
        try:
            outcome = runner.run(spec, study_id=study_id)
        finally:
            progress.close()
    name = store.get_study(outcome.study_id).name
    print(f"study #{outcome.study_id} {name!r}: {outcome.status.value}"
          + (f" ({outcome.reason})" if outcome.reason else ""))
    print(f"trials: {outcome.n_complete} complete, {outcome.n_failed} failed, "
          f"{outcome.elapsed:.1f} s")
    if outcome.best is not None:
        metric = store.get_study(outcome.study_id).metric
        print(f"best {metric}: {outcome.best.mean_test_score:.6g} "
              f"(± {outcome.best.std_test_score:.3g}), trial {outcome.best.number}")
        print(f"best params: {outcome.best.params}")
        _print_rule_choice(store, outcome.study_id)
    else:
        print("no successful trial")
    if sigterm.received and outcome.status is StudyStatus.STOPPED:
        resume = f"hpstudio resume {outcome.study_id}"
        if args.db:
            resume += f" --db {shlex.quote(str(args.db))}"
        print(f"hpstudio: terminated; finished trials are saved, `{resume}` goes on",
              file=sys.stderr)
        return EXIT_TERMINATED
    return 0 if outcome.status is not StudyStatus.FAILED else 1


def _print_rule_choice(store: Any, study_id: int) -> None:
    """The trial a refit rule other than "highest mean" picks (what export uses)."""
    from hpstudio.core.scoring import choose_best_trial, rule_text

    scoring = store.get_study(study_id).study_spec().scoring
    if scoring.refit_rule == "best":
        return
    chosen = choose_best_trial(store.load_trials(study_id), scoring)
    if chosen is not None:
        print(f"refit rule ({rule_text(scoring)}) picks trial {chosen.number}: "
              f"{chosen.params}")


class _StopOnSigterm:
    """While a study runs, SIGTERM stops it the way the app's Stop button does.

    The handler only asks the runner to stop: folds in flight get their grace period,
    then the study is stored as stopped (resumable) and the command exits with
    ``EXIT_TERMINATED``. Raising from the handler instead could interrupt a write to
    the history at any point. The previous handler is restored once the run returns.
    Python lets only the main thread install handlers; elsewhere SIGTERM is left alone.
    """

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.received = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _StopOnSigterm:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
            self._installed = True
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._installed:
            # None: the previous handler was not set from Python; the default is closest.
            previous = signal.SIG_DFL if self._previous is None else self._previous
            signal.signal(signal.SIGTERM, previous)
            self._installed = False

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.received = True
        self.runner.stop(TERMINATED_REASON)


class _Progress:
    """A tqdm bar on stderr with the best score so far; quiet mode prints nothing."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None

    def __call__(self, event: Any) -> None:
        from hpstudio.core import events

        if isinstance(event, events.StudyStarted):
            print(f"study #{event.study_id} {event.name!r}: {event.n_total} trials on "
                  f"{event.n_workers} workers", file=sys.stderr)
            if not self.quiet:
                from tqdm import tqdm

                self.bar = tqdm(total=event.n_total, initial=event.n_complete + event.n_failed,
                                unit="trial", file=sys.stderr, dynamic_ncols=True)
        elif isinstance(event, events.TrialFinished) and self.bar is not None:
            self.bar.update(1)
            if event.best is not None:
                self.bar.set_postfix(best=f"{event.best.mean_test_score:.4g}",
                                     failed=event.n_failed, refresh=False)
        elif isinstance(event, events.StudyLog) and event.level != "info":
            message = f"{event.level}: {event.message}"
            if self.bar is not None:
                self.bar.write(message, file=sys.stderr)
            else:
                print(message, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ----- inspecting ---------------------------------------------------------------------------


def cmd_studies(args: argparse.Namespace) -> int:
    studies = _store(args).list_studies()
    if not studies:
        print("no studies yet; try `hpstudio demo`")
        return 0
    rows = [("id", "name", "strategy", "estimator", "trials", "best", "status", "created")]
    for s in studies:
        total = s.n_total if s.n_total is not None else "?"
        extra = [f"{n} {what}" for n, what in ((s.n_failed, "failed"), (s.n_pruned, "pruned"))
                 if n]
        done = f"{s.n_complete + s.n_failed + s.n_pruned}/{total}" + (
            f" ({', '.join(extra)})" if extra else "")
        status = s.status.value + (f": {s.stop_reason}" if s.stop_reason and
                                   s.status.value != "finished" else "")
        if not s.has_spec:
            status += f" ({s.origin.value}, read-only)"
        rows.append((str(s.id), s.name, s.strategy, s.estimator.rsplit(".", 1)[-1], done,
                     _fmt(s.best_score), status,
                     time.strftime("%Y-%m-%d %H:%M", time.localtime(s.created))))
    _print_table(rows)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from hpstudio.core.export import cv_results_frame

    store = _store(args)
    study = store.get_study(store.resolve(args.study))
    trials = store.load_trials(study.id)
    about = study.spec if study.spec is not None else study.description
    done = len(trials)
    origin = "" if study.runnable else f" [{study.origin.value}, read-only]"
    print(f"study #{study.id} {study.name!r}: {study.status.value}"
          + (f" ({study.stop_reason})" if study.stop_reason else "") + origin)
    print(f"  data {about.get('data', '?')}  estimator {study.estimator or '?'}  "
          f"strategy {about.get('search', {}).get('strategy', 'grid')}")
    metric = study.metric
    print(f"  metric {metric}  splits {study.n_splits or '?'}  "
          f"trials {done}/{study.n_total if study.n_total is not None else '?'}  "
          f"elapsed {study.elapsed:.1f} s")
    if not trials:
        print("no finished trials yet")
        return 0
    key = "score" if len(study.metrics) == 1 else study.refit
    frame = cv_results_frame(trials).sort_values([f"rank_test_{key}", "number"])
    if args.top:
        frame = frame.head(args.top)
    others = [m for m in study.metrics if m != key]
    rows = [("rank", "trial", f"mean {metric}", "std", *(f"mean {m}" for m in others), "fit s",
             "state", "params")]
    for _, r in frame.iterrows():
        params = r["params"] if r["state"] == "complete" else f"{r['params']}  {r['error']}"
        rows.append((str(r[f"rank_test_{key}"]), str(r["number"]), _fmt(r[f"mean_test_{key}"]),
                     _fmt(r[f"std_test_{key}"]), *(_fmt(r[f"mean_test_{m}"]) for m in others),
                     f"{r['mean_fit_time']:.3f}", r["state"], params))
    _print_table(rows)
    from hpstudio.core.evaluation_report import evaluation_report

    for section in evaluation_report(store, study, trials, compare=args.compare, rope=args.rope,
                                     allowed_packages=getattr(args, "allow_package", ())):
        print()
        print(section.title)
        if section.rows:
            _print_table(section.rows)
    return 0


def cmd_trials(args: argparse.Namespace) -> int:
    from hpstudio.core.export import write_trials_csv

    store = _store(args)
    study_id = store.resolve(args.study)
    trials = store.load_trials(study_id)
    with _writing("--csv", args.csv):
        write_trials_csv(args.csv, trials)
    print(f"wrote {len(trials)} trials to {args.csv}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from hpstudio.core import export

    if not args.output and not args.model:
        raise HpstudioError("export: give -o FILE for the parameters and/or --model FILE")
    store = _store(args)
    study = store.get_study(store.resolve(args.study))
    scoring = study.study_spec().scoring if study.runnable else None
    trial = export.pick_trial(store.load_trials(study.id), args.trial, scoring)
    if args.output:
        fmt = args.format or ("python" if args.output.endswith(".py") else "json")
        with _writing("-o", args.output):
            if fmt == "python":
                Path(args.output).write_text(
                    export.python_snippet(study, trial, args.allow_package), encoding="utf-8")
            else:
                export.write_params_json(args.output, study, trial)
        print(f"wrote trial {trial.number}'s parameters to {args.output} ({fmt})")
    if args.model:
        with _writing("--model", args.model):
            sidecar = export.refit_model(study, trial, args.model, args.allow_package)
        print(f"refitted trial {trial.number} on all data: {args.model} (details in {sidecar})")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """A cv_results_ CSV or an Optuna study, stored as a read-only study."""
    from hpstudio.core.recording import read_cv_results_csv, read_optuna_study

    if args.source == "optuna" and not Path(args.source).is_file():
        if not args.storage or not args.study:
            raise HpstudioError("import optuna: give --storage URL (e.g. sqlite:///optuna.db) "
                                "and --study NAME")
        recording = read_optuna_study(args.storage, args.study, name=args.name)
    else:
        for option in ("storage", "study"):
            if getattr(args, option):
                raise HpstudioError(f"import: --{option} goes with `hpstudio import optuna`; "
                                    f"{args.source} is read as a cv_results_ CSV")
        recording = read_cv_results_csv(args.source, name=args.name, refit=args.refit)
    store = _store(args)
    study_id = recording.save(store)
    row = store.get_study(study_id)
    skipped = (f" ({recording.skipped} trials still running or waiting were left out)"
               if recording.skipped else "")
    print(f"study #{study_id} {row.name!r}: {len(recording.trials)} trials "
          f"{row.origin.value} from {args.source if args.source != 'optuna' else args.study}"
          f"{skipped}; `hpstudio gui --study {study_id}` shows it")
    return 0


@contextlib.contextmanager
def _writing(option: str, path: str) -> Iterator[None]:
    """An output file that cannot be written (disk full, read-only) as a one-line error."""
    try:
        yield
    except OSError as exc:
        raise HpstudioError(f"{option}: cannot write {path}: "
                            f"{exc.strerror or type(exc).__name__}") from None


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.6g}"


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        print("  ".join([*cells, str(row[-1])]))


if __name__ == "__main__":
    sys.exit(main())
