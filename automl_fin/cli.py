"""The ``automl-fin`` command. Heavy libraries are imported inside the subcommands.

automl-fin run RECIPE [RECIPE ...] | BATCH.yaml [--data PATH] [--target COL] [--trials N]
                      [--budget SECONDS]
                      [--storage URL] [--study NAME] [--seed N] [--set KEY=VALUE ...]
automl-fin leaderboard [--storage URL] [--recipe R] [--study S] [--top K]
                       [--format table|csv|json] [--wide | --columns A,B] [--flat-params]
automl-fin compare [--by data|model] [--storage URL] [--recipe R] [--format ...]
automl-fin worker --study NAME [--storage URL] [--data PATH]
automl-fin predict RUN --data PATH [--out PATH] [--keep COL] [--interval COVERAGE]
automl-fin report RUN [--data PATH]
automl-fin plugins
automl-fin recipes
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import signal
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

PROG = "automl-fin"
EXIT_STATUS = (
    "exit status: 0 done; 1 a run or batch ended incomplete (no predictor saved, a step "
    "after the search or one of a batch's searches failed: said on stderr); 2 bad input "
    "or usage (one line on stderr); 70 an internal error (a bug: a traceback); 130 "
    "interrupted (Ctrl-C); 141 the output's pipe closed; 143 terminated (SIGTERM)"
)
INTERNAL = 70  # exit status of an unexpected error (sysexits' EX_SOFTWARE)
BATCH_NOTE = "automl-fin batch"  # on a Ctrl-C that stopped a batch: its own advice
# the table's columns by default (fits 80 columns; the error is cut to the width left)
# and with --wide (every metric, the preprocessing chain and the plugin as well)
ESSENTIAL = ["rank", "trial", "model", "score", "score_std", "folds", "fit_s", "state", "error"]
WIDE = ESSENTIAL[:-1]  # the error goes last, after the metrics and the plugin
OPTIONAL = ["recipe", "metric", "score_std", "fit_s", "folds"]  # left out first where narrow
# (the studies' mean and spread last: a group of six seeds showed only its best score,
# its optimistic maximum, while the target and the recipe hash kept their room)
COMPARE_OPTIONAL = ["recipe_hash", "direction", "score_std", "trial", "trials", "target",
                    "study_sd", "studies", "study_mean"]  # fmt: skip
LINE = 160  # the longest line a trial gets (--no-progress); the leaderboard has the rest
MIN_NAME = 16  # a name cut to fit the terminal keeps at least this many characters


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="do not load this plugin (entry-point or distribution name); repeatable",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def _table_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wide",
        action="store_true",
        help="table: every column (metrics, final test, preprocessors, plugin)",
    )
    parser.add_argument(
        "--columns",
        metavar="A,B,...",
        help="these leaderboard columns, in this order (e.g. rank,model,score,metric:ks)",
    )


def _storage_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--storage", metavar="URL", help="Optuna storage URL (default: SQLite in --runs-dir)"
    )
    parser.add_argument(
        "--runs-dir",
        default=None,
        metavar="DIR",
        help="folder of the default storage and run files (default: ./automl_fin_runs)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``automl-fin`` (cheap: imports nothing heavy)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Plugin-based AutoML for finance: Optuna searches driven by recipes.",
        epilog=EXIT_STATUS,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a recipe's search and print its leaderboard")
    run.add_argument(
        "recipe",
        nargs="+",
        help="recipe name (see `automl-fin recipes`) or a .yaml path; several, or a batch "
        "file (recipes x data x seeds), run one after another",
    )
    run.add_argument(
        "--data",
        action="append",
        metavar="PATH",
        help="CSV or Parquet file (default: the recipe's); repeated, a batch over the files",
    )
    run.add_argument(
        "--target",
        action="append",
        metavar="COL",
        help="target column (data.target); with several --data, one for all or one per file",
    )
    run.add_argument("--trials", type=int, metavar="N", help="number of trials (budget.trials)")
    run.add_argument(
        "--budget", type=float, metavar="SECONDS", help="wall-clock budget (budget.seconds)"
    )
    run.add_argument(
        "--study",
        metavar="NAME",
        help="study name; an existing one is resumed (several recipes: the batch's name)",
    )
    run.add_argument("--seed", type=int, metavar="N", help="random seed (seed)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a recipe field, e.g. --set validation.n_splits=3; repeatable",
    )
    run.add_argument(
        "--no-ensemble",
        action="store_true",
        help="skip the ensemble selection and the stack after the search",
    )
    run.add_argument(
        "--no-predictor", action="store_true", help="do not refit and save the best row"
    )
    run.add_argument("--no-report", action="store_true", help="do not write report.html")
    run.add_argument(
        "--top", type=_positive, default=10, metavar="K", help="leaderboard rows shown"
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--check",
        action="store_true",
        help="read the recipe, the data and the plugins, say what would be searched, and "
        "stop: no trial, nothing written",
    )
    run.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="Dask scheduler (tcp://host:8786): one worker search per Dask worker joins "
        "the study (pip install 'automl-fin[cluster]'; a storage they reach)",
    )
    run.add_argument(
        "--cluster-workers", type=_positive, metavar="N", help="use N of the cluster's workers"
    )
    _table_args(run)
    _storage_args(run)
    _common(run)

    board = sub.add_parser("leaderboard", help="query trials across all studies of a storage")
    _storage_args(board)
    board.add_argument("--recipe", action="append", help="only this recipe; repeatable")
    board.add_argument("--dataset", action="append", help="only this dataset fingerprint")
    board.add_argument(
        "--study", action="append", help="only this study (or pattern: 'nightly-*'); repeatable"
    )
    board.add_argument("--model", action="append", help="only this model; repeatable")
    board.add_argument(
        "--state", action="append", help="COMPLETE, PRUNED, FAIL, RUNNING, WAITING (any case)"
    )
    board.add_argument("--top", type=_positive, metavar="K", help="best K rows per study")
    board.add_argument("--format", choices=["table", "csv", "json"], default="table")
    board.add_argument(
        "--flat-params", action="store_true", help="one param:<name> column per parameter"
    )
    _table_args(board)
    _common(board)

    compare = sub.add_parser(
        "compare", help="which model wins where: the best row per data set (or model)"
    )
    _storage_args(compare)
    compare.add_argument(
        "--by", choices=["data", "model"], default="data", help="best row per data set or model"
    )
    compare.add_argument("--recipe", action="append", help="only this recipe; repeatable")
    compare.add_argument("--dataset", action="append", help="only this data (fingerprint/source)")
    compare.add_argument("--model", action="append", help="only this model; repeatable")
    compare.add_argument(
        "--study", action="append", help="only this study (or pattern: 'nightly-*'); repeatable"
    )
    compare.add_argument("--format", choices=["table", "csv", "json"], default="table")
    compare.add_argument(
        "--wide", action="store_true", help="table: every column whole, none cut to the terminal"
    )
    _common(compare)

    worker = sub.add_parser(
        "worker", help="join a search started on another machine (same storage and study)"
    )
    worker.add_argument(
        "--storage",
        metavar="URL",
        help="the search's storage (default: the SQLite file in --runs-dir)",
    )
    worker.add_argument("--study", required=True, metavar="NAME", help="the search's study")
    worker.add_argument("--data", metavar="PATH", help="the data (default: where the run read it)")
    worker.add_argument(
        "--runs-dir", default=None, metavar="DIR", help="where this worker writes its files"
    )
    worker.add_argument("--no-progress", action="store_true", help="no progress bar")
    worker.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for a study the run has not created yet (started together)",
    )
    _common(worker)

    predict = sub.add_parser("predict", help="predict new rows with a run's saved predictor")
    predict.add_argument("run", metavar="RUN", help="run folder, predictor folder or study name")
    predict.add_argument("--data", required=True, metavar="PATH", help="CSV or Parquet file")
    predict.add_argument(
        "--out",
        metavar="PATH",
        help="file to write, in the format its name says: .csv, .tsv (+ .gz, .zip, ...) or "
        ".parquet (by default, or '-': CSV on stdout)",
    )
    predict.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="COL",
        help="carry this input column into the output (e.g. an id); repeatable",
    )
    predict.add_argument(
        "--require-signature",
        action="store_true",
        help="refuse a predictor that is not signed under AUTOML_FIN_SIGNING_KEY",
    )
    predict.add_argument(
        "--interval",
        type=_coverage,
        metavar="COVERAGE",
        help="regression: add columns lower and upper, a prediction interval of this "
        "coverage (e.g. 0.9; split-conformal on the out-of-fold errors)",
    )
    predict.add_argument(
        "--explain",
        type=_positive,
        default=0,
        metavar="K",
        help="add columns reason_1..K: the input columns that pushed each row's score "
        "toward the positive (or last) class most",
    )
    predict.add_argument(
        "--explain-class",
        metavar="CLASS",
        help="with --explain: the class whose score the reasons raised (e.g. low)",
    )
    predict.add_argument(
        "--runs-dir", default=None, metavar="DIR", help="where study names are looked up"
    )
    _common(predict)

    evaluate = sub.add_parser(
        "evaluate", help="score a run's saved predictor on labelled rows (every recipe metric)"
    )
    evaluate.add_argument("run", metavar="RUN", help="run folder, predictor folder or study name")
    evaluate.add_argument(
        "--data", required=True, metavar="PATH", help="CSV or Parquet file with the target column"
    )
    evaluate.add_argument(
        "--importance",
        action="store_true",
        help="also permutation importance of each input column on these rows",
    )
    evaluate.add_argument(
        "--repeats", type=_repeats, default=5, metavar="N", help="shuffles a column (2+; default 5)"
    )
    evaluate.add_argument("--format", choices=["table", "csv", "json"], default="table")
    evaluate.add_argument(
        "--require-signature",
        action="store_true",
        help="refuse a predictor that is not signed under AUTOML_FIN_SIGNING_KEY",
    )
    evaluate.add_argument(
        "--runs-dir", default=None, metavar="DIR", help="where study names are looked up"
    )
    _common(evaluate)

    report = sub.add_parser("report", help="write a run's report.html")
    report.add_argument("run", metavar="RUN", help="run folder or study name")
    report.add_argument("--data", metavar="PATH", help="the run's data (default: where it was)")
    report.add_argument("--out", metavar="PATH", help="HTML file (default: RUN/report.html)")
    report.add_argument(
        "--pdf", metavar="PATH", help="also print it to this PDF file (headless Chromium)"
    )
    _storage_args(report)
    _common(report)

    plugins = sub.add_parser("plugins", help="list plugins and the specs they register")
    plugins.add_argument("--format", choices=["table", "csv", "json"], default="table")
    _common(plugins)

    recipes = sub.add_parser("recipes", help="list the available recipes")
    _common(recipes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``automl-fin`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from automl_fin import __version__

        print(f"{PROG} {__version__}")
        return 0
    if not args.command:
        parser.print_help()
        return 2
    warnings.showwarning = _show_warning
    from automl_fin._words import COMMAND_LINE

    said = COMMAND_LINE.set(True)  # errors in the words of the flags, not search()'s arguments
    # an ASCII stream (PYTHONIOENCODING=ascii) ended a saved run in a traceback, exit 1,
    # at its summary's '±': messages and a run's text replace what it cannot write
    texts = [sys.stderr] + [sys.stdout] * (args.command in ("run", "worker"))
    streams = {s: s.errors for s in texts if isinstance(s, io.TextIOWrapper)}
    for stream in streams:
        stream.reconfigure(errors="backslashreplace")
    try:
        return _main(args)
    except UnicodeEncodeError as exc:  # a table on stdout: refused, never altered
        if _codec(getattr(sys.stdout, "encoding", None)) != _codec(exc.encoding):
            raise
        out = ", or write to a file (--out FILE)" if hasattr(args, "out") else ""
        print(f"{PROG}: error: standard output's encoding ({exc.encoding}) cannot write "
              f"{exc.object[exc.start : exc.end]!r}; set PYTHONIOENCODING=utf-8{out}",
              file=sys.stderr)  # fmt: skip
        return 2
    except Exception:  # a bug: its own exit status, so a script tells it from a run's
        if args.debug:
            raise
        import traceback

        traceback.print_exc()
        print(f"{PROG}: internal error: the traceback above is a bug of automl-fin or of a "
              f"plugin; please report it (exit status {INTERNAL})", file=sys.stderr)  # fmt: skip
        return INTERNAL
    finally:  # (main called in a Python process: its own search() calls speak Python)
        COMMAND_LINE.reset(said)
        for stream, errors in streams.items():
            stream.reconfigure(errors=errors)


def _codec(name: str | None) -> str:
    """A codec's name as Python's registry spells it (``ANSI_X3.4-1968``: ``ascii``)."""
    import codecs

    try:
        return codecs.lookup(name or "").name
    except LookupError:
        return str(name)


def _main(args: argparse.Namespace) -> int:
    from automl_fin.engine import _interrupts
    from automl_fin.errors import AutomlFinError, Terminated

    _interrupts.forget(listening=True)
    previous: dict[int, Any] = {}
    with contextlib.suppress(ValueError):  # (not the main thread: left as it is)
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _terminate)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # (not ignored)
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, _interrupts.on_sigint)
    try:
        done = int(COMMANDS[args.command](args) or 0)
        _interrupts.check()  # Ctrl-C that Python dropped after the engine's last check
        return done
    except AutomlFinError as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`automl-fin leaderboard | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141  # as a shell reports SIGPIPE
    except OSError as exc:  # a path the system refuses: a folder for a file, no access, full
        if args.debug:
            raise
        where = exc.filename2 or exc.filename  # (a rename's target is its second name)
        what = f"{exc.strerror}: '{where}'; check that path" if exc.strerror and where else exc
        print(f"{PROG}: error: {what} (--debug shows where)", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        resume = (
            "; the trials that finished are kept: the same command again resumes the search"
            if args.command in ("run", "worker")
            else ""
        )
        from automl_fin.engine._search import STEP_NOTE, STUDY_NOTE

        notes = getattr(exc, "__notes__", ())
        stopped = [n[len(STUDY_NOTE) :] for n in notes if n.startswith(STUDY_NOTE)]
        step = [n[len(STEP_NOTE) :] for n in notes if n.startswith(STEP_NOTE)]
        if resume and stopped:  # a run that named no study: the same command makes a new one
            resume = (
                "; the trials that finished are kept: the same command with --study "
                f"{stopped[0]} resumes the search"
            )
        if resume and BATCH_NOTE in notes:  # --trials N would hold every search to N
            resume = (
                "; the searches that finished are kept: the same command again skips them "
                "and goes on with the one stopped (its finished trials kept)"
            )
        elif resume and step:  # after the search: its steps, not more search, are wanted
            holds, doing = step[0].split(" ", 1)
            study = f" --study {stopped[0]}" if stopped else ""
            resume = (
                f" while {doing}, after the search: its trials are kept, and this step and "
                f"any after it did not run; the same command{study} --trials {holds} runs "
                "them without searching more"
            )
        said = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"{PROG}: {said}{resume}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except Exception as exc:
        known = hasattr(args, "storage") and hasattr(args, "runs_dir")
        url = _storage_url(args) if known else ""  # (a string: nothing opened)
        lost = None if args.debug else _storage_lost(exc, args.command in ("run", "worker"), url)
        if lost is None:
            raise
        print(f"{PROG}: error: {lost}", file=sys.stderr)
        return 2
    finally:  # a process that goes on (main called from Python): as it was before
        for number, handler in previous.items():
            signal.signal(number, handler)
        _interrupts.forget()
        Terminated.received = False


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM handled as Ctrl-C is (it ended the process with the trial left RUNNING,
    the storage's write-ahead log beside it, and no word of how to resume)."""
    from automl_fin.engine._interrupts import received
    from automl_fin.errors import Terminated

    Terminated.received = True
    received("SIGTERM")
    raise Terminated("SIGTERM")


def _storage_lost(exc: BaseException, searching: bool, url: str = "") -> str | None:
    """The line for a database that stopped answering in the middle of a command (a
    PostgreSQL server gone: a 460-line traceback ending in Optuna's "invalid data in the
    commit, e.g. exceeding max length") or turned out damaged (the storage ``url``), or
    None for any other error."""
    import sqlalchemy.exc  # (loaded already wherever a database was used)

    from automl_fin.storage._storage import short_error, unreadable

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
            cause = short_error(exc.orig or exc)
            resume = (
                "; the trials that finished are kept: once it answers, the same command "
                "resumes the search"
                if searching
                else ""
            )
            return f"the storage stopped answering ({cause}){resume}"
        damaged = ("malformed", "file is not a database")  # SQLite's words for a damaged file
        if isinstance(exc, sqlalchemy.exc.DatabaseError) and any(
            w in str(exc.orig) for w in damaged
        ):
            return unreadable(url or "?", exc.orig or exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None


def _show_warning(message: Any, category: Any, filename: str, lineno: int, *_: Any) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _registry(args: argparse.Namespace) -> Any:
    from automl_fin.plugin._registry import get_registry

    return get_registry(disable=args.no_plugin)


def _storage_url(args: argparse.Namespace) -> str:
    from automl_fin.storage._storage import DEFAULT_RUNS_DIR, default_url

    return args.storage or default_url(args.runs_dir or DEFAULT_RUNS_DIR)


def _cmd_run(args: argparse.Namespace) -> int:
    from automl_fin.engine._recipes import parse_overrides
    from automl_fin.engine._search import interactive

    overrides = parse_overrides(args.overrides)
    for flag, field in (
        (args.no_ensemble, "ensemble"),
        (args.no_predictor, "predictor"),
        (args.no_report, "report"),
    ):
        if flag:
            overrides[field] = False
    # a bar needs a terminal that reports its width; else one line per trial
    progress = not args.no_progress and interactive()
    batch = _batch_of(args)
    if args.check:
        return _check_run(args, overrides, batch)
    if batch is not None:
        if args.cluster:
            from automl_fin.errors import RecipeError

            raise RecipeError("--cluster", None, "runs one recipe's search; drop it for batches")
        return _run_batch(batch, args, overrides, progress)
    with _plugins_print_to_stderr():
        result = _search_of(args, overrides, progress)
    return _print_run(result, args)


def _plugins_print_to_stderr() -> Any:
    """Where a plugin's ``print`` during the search goes: stderr, beside the trial
    lines, not into the leaderboard that ``run`` writes to stdout (``> board.txt``)."""
    import contextlib

    return contextlib.redirect_stdout(sys.stderr)


def _search_of(args: argparse.Namespace, overrides: dict[str, Any], progress: bool) -> Any:
    from automl_fin.engine._search import search
    from automl_fin.storage._storage import DEFAULT_RUNS_DIR

    return search(
        args.recipe[0],
        data=args.data[0] if args.data else None,
        target=args.target[0] if args.target else None,
        trials=args.trials,
        seconds=args.budget,
        seed=args.seed,
        overrides=overrides,
        storage=args.storage,
        study=args.study,
        runs_dir=args.runs_dir or DEFAULT_RUNS_DIR,
        registry=_registry(args),
        progress=progress,
        on_trial=_trial_printer(progress),
        announce=_announce,
        cluster=args.cluster,
        cluster_workers=args.cluster_workers,
    )


def _print_run(result: Any, args: argparse.Namespace) -> int:
    """The run's leaderboard and its closing lines."""
    from automl_fin.storage._storage import redact

    board = result.leaderboard()
    shown = board[(board["rank"] <= args.top) | board["baseline"]]  # baselines always shown
    metric = str(board["metric"].iloc[0]) if len(board) else ""
    # the final test has its own table below, but a test: column asked for is shown (it
    # was refused after the whole search: "no column 'test:rmse'")
    asked = {c.strip() for c in (args.columns or "").split(",")}
    shown = shown.drop(columns=[c for c in board if c.startswith("test:") and c not in asked])
    print(_table(shown, metric=metric, wide=args.wide, columns=args.columns))
    done = board[board["state"] == "COMPLETE"]
    trials = board[board["trial"] >= 0]  # the ensemble (-1) and the stack (-2) are rows only
    states = _counted(trials["state"].str.lower(), ["complete", "pruned", "fail", "running"])
    steps = ", ".join(f"{k.replace('_', ' ')} {v:.1f} s" for k, v in result.timings.items())
    rows = {-1: "ensemble", -2: "stack"}
    extra = " and ".join(rows[t] for t in sorted(board["trial"], reverse=True) if t in rows)
    extra = f" + the {extra} row{'s' if ' and ' in extra else ''}" if extra else ""
    print(
        f"\nstudy {result.study_name}: {len(trials)} trials{f' ({states})' if states else ''}"
        f"{extra} in "
        f"{result.seconds:.1f} s ({steps}); storage {redact(result.storage)}",
    )
    if result.recipe.ensemble and -1 not in set(board["trial"]) and (alone := _alone(result)):
        print(f"ensemble: the selection kept trial {alone['trial']} {alone['model']} alone, "
              "as it is: no ensemble row")  # fmt: skip
    print(_ended(result, _counted_trials(result)))
    if unscored := _unscored(result.problem.models, trials, result.ended_by):
        print(f"no completed trial of {unscored}")
    models = done[~done["baseline"]]
    if len(done) and models.empty:  # the search warned: only the baselines completed
        return 1
    if len(done):
        best = done[done["chosen"]].iloc[0]
        row = (
            f"the {best['model']}"
            if best["trial"] < 0
            else f"trial {best['trial']} {best['model']}"
        )
        kept = " (baseline kept by the reality check)" if best["baseline"] else ""
        spread = (  # one split (a holdout) has no spread: "± 0.0000" read as none
            f" ± {best['score_std']:.4f} across folds" if (best["folds"] or 0) > 1 else
            " on one validation split"
        )  # fmt: skip
        print(f"best: {row}{kept} {best['metric']} = {best['score']:.4f}{spread}")
        _print_final_test(result, board)
        if result.predictor is not None:
            print(f"predictor: {result.predictor!r} saved in {result.predictor.path}")
        if (
            result.recipe.report
            and "report" not in result.errors  # an earlier run's page is not this run's
            and (result.run_dir / "report.html").is_file()
        ):
            print(f"report: {result.run_dir / 'report.html'}")
        if result.errors:  # warned above; a script must not go on as if all was saved
            failed = ", ".join(result.errors)
            print(f"{PROG}: error: after the search, {failed} failed (see the warning above); "
                  "the trials are kept: once its cause is fixed, the same command with --study "
                  f"{result.study_name} does those steps again", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    said = "see the error column above" if len(trials) else "none ran within the budget"
    print(f"{PROG}: no trial completed; {said}", file=sys.stderr)
    return 1


def _batch_of(args: argparse.Namespace) -> Any:
    """The batch ``automl-fin run`` was given: several recipes or data files (recipes x
    files), or one batch file (a YAML file with a ``recipes:`` list); None for one
    recipe on at most one file."""
    from automl_fin.engine._batch import Batch, load_batch
    from automl_fin.errors import RecipeError

    given = args.recipe
    batch_files = [g for g in given if _batch_file(Path(g))]
    if batch_files and len(given) > 1:
        raise RecipeError(batch_files[0], None, "is a batch file (a `recipes:` list): run it "
                          f"alone (automl-fin run {batch_files[0]}), or list its recipes "
                          "beside the others")  # fmt: skip
    if batch_files:
        if args.data or args.target or args.study or args.seed is not None:
            raise RecipeError(given[0], None, "a batch file names its data, studies and "
                              "seeds (seeds: [...]); drop --data, --target, --study and "
                              "--seed")  # fmt: skip
        return load_batch(Path(given[0]))
    files, targets = args.data or [], args.target or []
    if len(targets) > 1 and len(targets) != len(files):
        raise RecipeError("--target", None, f"given {len(targets)} times for {len(files)} "
                          "--data file(s): give one target for all files, or one per --data "
                          "in the same order")  # fmt: skip
    if len(given) == 1 and len(files) < 2:
        return None
    if not files:
        data: list[Any] = [None]
    elif len(targets) > 1:  # one per file, in order
        data = list(zip(files, targets, strict=True))
    else:
        data = [(path, targets[0] if targets else None) for path in files]
    seeds = [args.seed] if args.seed is not None else [None]
    # --study names the batch: its studies are NAME-<recipe>-<data> (default: batch-...)
    return Batch(args.study or "batch", list(given), data, seeds)


def _batch_file(path: Path) -> bool:
    """Whether ``path`` is a batch file: YAML with a ``recipes:`` list (a recipe file
    that does not read is left for the recipe loader to say what is wrong with it)."""
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return False
    import yaml

    from automl_fin.engine._recipes import load_yaml

    try:
        head = load_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return False
    if not isinstance(head, dict):
        return False
    import difflib

    # ``recipe: [default]`` (a misspelt ``recipes``) is a batch whose field is misspelt,
    # said so by the batch loader: a recipe's loader said "field 'data': Input should be
    # a valid dictionary", of a field that was right
    return "recipes" in head or any(
        isinstance(value, list) and difflib.get_close_matches(str(key), ["recipes"], cutoff=0.8)
        for key, value in head.items()
    )


def _run_batch(
    batch: Any, args: argparse.Namespace, overrides: dict[str, Any], progress: bool
) -> int:
    if not args.data and args.target:
        overrides["data.target"] = args.target[0]
    with _plugins_print_to_stderr():
        try:
            summary = _batch_of_runs(batch, args, overrides, progress)
        except KeyboardInterrupt as exc:  # its advice is the batch's, not the search's
            exc.add_note(BATCH_NOTE)
            raise
    unseeded = bool("seed" in summary and summary["seed"].isna().all())  # the recipe's seed
    shown = summary.drop(columns=["error"] * ("error" in summary) + ["seed"] * unseeded)
    print(_render(shown))
    for _, row in summary[summary["status"].isin(["failed", "incomplete"])].iterrows():
        print(f"{PROG}: error: {row['study']}: {row['error']}", file=sys.stderr)
    done = summary["status"].value_counts().to_dict()
    states = _counted(summary["status"], ["done", "skipped", "incomplete", "failed"])
    print(f"\nbatch {batch.name}: {len(summary)} search{'es' * (len(summary) != 1)} ({states})")
    return 1 if done.get("failed") or done.get("incomplete") else 0


def _batch_of_runs(
    batch: Any, args: argparse.Namespace, overrides: dict[str, Any], progress: bool
) -> Any:
    from automl_fin.engine._batch import run_batch
    from automl_fin.storage._storage import DEFAULT_RUNS_DIR

    return run_batch(
        batch,
        storage=args.storage,
        runs_dir=args.runs_dir or DEFAULT_RUNS_DIR,
        overrides=overrides,
        trials=args.trials,
        seconds=args.budget,
        registry=_registry(args),
        progress=progress,
        on_trial=_trial_printer(progress),
        announce=_announce,
    )


def _counted_trials(result: Any) -> int:
    """The study's trials its trial budget counts (a trial killed with its process, or
    failed unrun as surplus, is not: "held 5 trials" of a budget of 4 that ran one more)."""
    import optuna

    from automl_fin.engine._trial_record import counts_toward_budget

    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    return sum(map(counts_toward_budget, study.get_trials(deepcopy=False)))


def _unscored(models: Mapping[str, Any], trials: Any, ended_by: str = "") -> str:
    """The searched models without a completed trial, by why (a plugin's model the
    budget never reached was unsaid: the run read as if every model had been tried)."""
    why: dict[str, list[str]] = {}
    for model in sorted(models):
        rows = trials[trials["model"] == model]
        if (rows["state"] == "COMPLETE").any():
            continue
        errors = rows["error"].dropna().astype(str)
        if rows.empty:
            reason = "never tried"
        elif errors.str.startswith("budget").any():
            reason = "their folds did not fit the time left"
        elif (rows["state"] == "FAIL").all():
            reason = "failed: see the error column"
        else:
            reason = "pruned"
        why.setdefault(reason, []).append(model)
    said = "; ".join(f"{', '.join(names)} ({reason})" for reason, names in why.items())
    if ended_by == "trials" and "never tried" in why:
        return said + "; more trials: --trials N"
    timed = {"never tried", "their folds did not fit the time left"} & set(why)
    return said + ("; more time: --budget SECONDS" if timed else "")


def _alone(result: Any) -> dict[str, Any] | None:
    """The one trial the ensemble selection kept as it is (no ensemble row), if it did."""
    import optuna

    from automl_fin.results._ensemble import ALONE

    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    return study.user_attrs.get(ALONE)


EARLY = 0.9  # a search ended by its time budget before this share of it: said so


def _ended(result: Any, held: int) -> str:
    """Which budget ended the search, and how to raise it (``held``: the study's trials,
    an earlier run's included)."""
    budget = result.recipe.budget
    took = result.timings.get("search", result.seconds)  # the budget's: steps after aside
    if result.ended_by == "trials":
        of = f" of the {budget.seconds:g} s budget" if budget.seconds else ""
        if held >= (budget.trials or 0) and not result.n_trials:  # a resumed study, full
            return (
                f"ended by the trial budget: the study held {held} trials already, as many "
                f"as --trials {budget.trials} asks (it counts the study's trials, earlier "
                f"runs' included); for more: --trials N above {held}"
            )
        return (
            f"ended by the trial budget ({budget.trials} trials) after {took:.0f} s"
            f"{of}; for more trials: --trials N"
        )
    if result.ended_by == "time":
        cap = f" (trial budget {budget.trials})" if budget.trials else ""
        early = (
            f" at {took:.0f} s: no model's next folds fit the time left"
            if budget.seconds and took < EARLY * budget.seconds
            else ""
        )
        return (
            f"ended by the time budget ({budget.seconds:g} s){cap}{early}; "
            "for more: --budget SECONDS"
        )
    return "ended: no trial left to run"


def _counted(values: pd.Series, order: list[str]) -> str:
    """``3 complete, 2 pruned``: each value's count, in ``order`` (then the rest by name),
    not by count (one run said "8 complete, 3 pruned", the next "15 pruned, 9 complete")."""
    counts = values.value_counts().to_dict()
    ranked = sorted(counts, key=lambda v: (order.index(v) if v in order else len(order), v))
    return ", ".join(f"{counts[v]} {v}" for v in ranked)


def _check_run(args: argparse.Namespace, overrides: dict[str, Any], batch: Any) -> int:
    """``run --check``: what the search would be (the run's summary lines, its warnings),
    read without a storage, a study or a file written."""
    from automl_fin.data._shape import as_data
    from automl_fin.data._table_facts import loosened
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._search import recipe_of
    from automl_fin.errors import RecipeError

    if batch is not None:
        raise RecipeError("--check", None, "checks one recipe on one data set; run them one by one")
    registry = _registry(args)
    recipe, merged = recipe_of(
        args.recipe[0], registry, args.target[0] if args.target else None, args.trials,
        args.budget, args.seed, overrides,
    )  # fmt: skip
    data = as_data(args.data[0] if args.data else None)
    problem = resolve(recipe, data, registry, soft=loosened(recipe, data, merged))
    budget = recipe.budget
    print(problem.summary())
    print(
        f"budget: {budget.trials or 'no'} trial cap, "
        + (f"{budget.seconds:g} s" if budget.seconds else "no time limit")
        + "; nothing searched or written (--check)"
    )
    return 0


def _announce(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _trial_printer(progress: bool) -> Any:
    """One line per finished trial (a failure only, when a progress bar shows the rest)."""
    from automl_fin.engine._trial_record import TrialRecord

    def on_trial(study: Any, trial: Any) -> None:
        if not progress:
            value = f"{trial.value:.4f}" if trial.value is not None else "-"
            rec = TrialRecord.of(trial)
            note = rec.error or rec.stopped or ""
            model = rec.model or "?"
            line = f"trial {trial.number:>3} {trial.state.name:<8} {model:<14} {value}  {note}"
            if len(line) > LINE:  # cut at a word, and said to be cut ("must lie in [0, ")
                at = line.rfind(" ", 0, LINE - 1)
                line = line[: at if at > LINE // 2 else LINE - 2] + " …"  # (one long word)
            print(line, file=sys.stderr, flush=True)
        elif trial.state.name == "FAIL":
            print(
                f"{PROG}: trial {trial.number} failed: {TrialRecord.of(trial).error}",
                file=sys.stderr,
            )

    return on_trial


def _cmd_worker(args: argparse.Namespace) -> int:
    from automl_fin.engine._search import work
    from automl_fin.storage._storage import DEFAULT_RUNS_DIR, default_url

    progress = not args.no_progress and sys.stderr.isatty()
    result = work(
        args.storage or default_url(args.runs_dir or DEFAULT_RUNS_DIR),  # as run's default
        args.study,
        data=args.data,
        runs_dir=args.runs_dir or DEFAULT_RUNS_DIR,
        registry=_registry(args),
        progress=progress,
        on_trial=_trial_printer(progress),
        announce=_announce,
        wait=args.wait,
    )
    why = {
        "run": "the study's run ended its search",
        "time": "its time budget ran out",
        "ended": "the study's run had ended its search, so there was nothing to join "
        "(trials now would be in none of its ensemble, predictor and report); run the "
        "study again to search it more, with workers beside that run",
    }.get(result.ended_by, "the study's trial budget is taken")
    print(
        f"worker: {result.n_trials} trials of study {result.study_name} in "
        f"{result.seconds:.1f} s; {why}"
    )
    return 0


def _print_final_test(result: Any, board: pd.DataFrame) -> None:
    """The rows scored once on the final test rows that the search never saw."""
    tested = [c for c in board.columns if c.startswith("test:")]
    if not tested:
        return
    rows = board[board[tested].notna().any(axis=1)]
    view = rows[["trial", "model", *tested]].rename(columns={c: c[5:] for c in tested})
    info = result.final_test or {}
    note = f", always-up share {info['up_share']:.4f}" if "up_share" in info else ""
    how = {
        "bags": "each model as its kept fold models (a bag)",
        "both": "kept fold models where kept, else refitted on all search rows",
    }.get(info.get("members", ""), "refitted on all search rows")
    print(f"\nfinal test: {info.get('rows')} held-out rows; {how}{note}")
    from automl_fin.results._report_html import number_text

    print(view.to_string(index=False, float_format=number_text, na_rep="-"))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more, not {text!r}")
    return value


def _repeats(text: str) -> int:
    value = _positive(text)
    if value < 2:
        raise argparse.ArgumentTypeError("2 or more: one shuffle gives no interval")
    return value


def _coverage(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"a coverage between 0 and 1 (e.g. 0.9), not {text!r}")
    return value


def _cmd_predict(args: argparse.Namespace) -> int:
    from automl_fin.errors import ArtifactError
    from automl_fin.results._artifacts import load
    from automl_fin.storage._runs import locate

    out = Path(args.out) if args.out and args.out != "-" else None  # '-': stdout, as usual
    if out is not None and out.is_dir():
        raise ArtifactError(f"--out {out} is a folder; pass a file name (e.g. {out}/preds.csv)")
    if out is not None:
        from automl_fin.storage._table_files import table_format, write_table

        _safe_out(out, "--out", args.data)  # (first: what it would overwrite says more)
        _safe_out(out.with_name(f"{out.stem}.stability.csv"), "--out (its .stability.csv)",
                  args.data)  # fmt: skip
        table_format(out, "--out")  # a name of no table format: refused before the work
    folder = locate(args.run, args.runs_dir, must_exist=True)[1]
    if args.explain_class is not None and not args.explain:
        raise ArtifactError("--explain-class: give --explain K too (the reasons to write)")
    # the predictions on stdout: what a plugin prints goes to stderr (a leftover debug
    # print was written into the CSV, which then did not read)
    with contextlib.redirect_stdout(sys.stderr) if out is None else contextlib.nullcontext():
        _refuse_turned_off(folder, args)
        predictor = load(folder, require_signature=args.require_signature or None)
        table = predictor.predict_frame(
            args.data,
            keep=args.keep,
            interval=args.interval,
            explain=args.explain,
            outcome=args.explain_class,
        )
    if "reasons" in table.attrs:  # which class the reasons are of (the highest tier ...)
        print(f"reason_1..{args.explain}: the columns that raised the "
              f"{table.attrs.pop('reasons')} most", file=sys.stderr)  # fmt: skip
    if out is not None:
        stability = table.attrs.get("stability")
        beside = out.with_name(f"{out.stem}.stability.csv")
        special = out.exists() and not out.is_file()  # /dev/null, a pipe: no file beside it
        try:
            out.parent.mkdir(parents=True, exist_ok=True)  # a missing folder is made
            write_table(table, out, "--out", **_csv_line_ends(table))  # all or nothing
            if special:
                stability = None
            else:
                beside.unlink(missing_ok=True)  # never a stale table beside new predictions
            if stability is not None:
                import pandas as pd

                write_table(pd.DataFrame(stability), beside, "--out")
        except OSError as exc:
            raise ArtifactError(f"--out {out}: cannot write it ({exc.strerror})") from None
        print(f"{len(table)} predictions by {predictor!r} -> {args.out}", file=sys.stderr)
        if stability is not None:
            print(f"population stability (PSI) of inputs and score -> {beside}", file=sys.stderr)
    else:
        print(table.to_csv(index=False, **_csv_line_ends(table)), end="")
    return 0


def _refuse_turned_off(folder: Path, args: argparse.Namespace) -> None:
    """Refuse a predictor whose members run code of a plugin that ``--no-plugin`` turns
    off (or ``AUTOML_FIN_DISABLE_PLUGINS``, as :func:`~automl_fin.load` itself does),
    before its pickles are read."""
    import json

    from automl_fin.results._artifacts import MANIFEST, PREDICTOR_DIR, refuse_turned_off

    inside = folder / PREDICTOR_DIR / MANIFEST  # a run's folder, or the predictor's own
    try:
        path = inside if inside.is_file() else folder / MANIFEST
        plugins = json.loads(path.read_text()).get("plugins") or {}
    except (OSError, ValueError, AttributeError):
        return  # load() says what is wrong with it
    refuse_turned_off(folder, plugins if isinstance(plugins, dict) else {}, args.no_plugin)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from automl_fin.results._artifacts import load
    from automl_fin.storage._runs import locate

    folder = locate(args.run, args.runs_dir, must_exist=True)[1]
    _refuse_turned_off(folder, args)
    predictor = load(folder, require_signature=args.require_signature or None)
    if args.importance and args.format == "csv":
        from automl_fin.errors import AutomlFinError

        raise AutomlFinError("--format csv holds one table; use --format json with --importance")
    if args.importance and predictor.schema.series is not None:  # refused before any table
        from automl_fin.results._evaluation import refuse_series

        refuse_series(predictor, "--importance")
    scores = predictor.evaluate(args.data)
    if args.format == "json" and args.importance:
        import json

        importance = predictor.feature_importance(args.data, repeats=args.repeats)
        both = {
            "metrics": scores.reset_index().to_dict(orient="records"),
            "importance": importance.reset_index().to_dict(orient="records"),
        }
        print(json.dumps(both, indent=1, default=_jsonable))
        return 0
    if args.format == "table":
        print(f"{predictor!r} on {scores.attrs['rows']} rows of {args.data}")
    _emit(scores.reset_index(), args.format, table=_render)
    if args.importance:
        importance = predictor.feature_importance(args.data, repeats=args.repeats)
        if args.format == "table":
            print(f"\npermutation importance ({importance.attrs['metric']} lost when a column "
                  f"is shuffled; {args.repeats} shuffles, 95 % interval)")  # fmt: skip
        _emit(importance.reset_index(), args.format, table=_render)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from automl_fin.engine._reopen import reopen
    from automl_fin.engine._run_state import searching_since
    from automl_fin.results._artifacts import PREDICTOR_DIR, load
    from automl_fin.results._report import write_report

    run = reopen(
        args.run,
        storage=args.storage,
        runs_dir=args.runs_dir,
        data=args.data,
        registry=_registry(args),
    )
    for flag, given in (("--out", args.out), ("--pdf", args.pdf)):
        if given:
            _safe_out(Path(given), flag, args.data)
    saved = run.folder / PREDICTOR_DIR
    predictor = load(saved) if saved.is_dir() else None
    gone = not run.folder.is_dir() and searching_since(run.study.user_attrs) is None
    out = write_report(
        run.study, run.problem, run.folder, storage=run.storage, predictor=predictor, out=args.out
    )
    since = searching_since(run.study.user_attrs)
    if since is not None:  # a page like a finished run's, of a search still going (or cut)
        kept = "no predictor is saved yet" if predictor is None else "its predictor is older"
        print(f"{PROG}: warning: study '{run.study.study_name}' has not ended its search "
              f"(started {since}; or its run was stopped mid-search): this report is of its "
              f"trials so far, and {kept}", file=sys.stderr)  # fmt: skip
    if gone:  # the report of the storage alone: no predictor, no out-of-fold figures
        from shlex import quote

        print(f"{PROG}: warning: {run.folder}, the run folder of study "
              f"'{run.study.study_name}', was moved or deleted: this report holds what the "
              "storage keeps (no predictor, "
              "no out-of-fold figures); to make them again, run the study again with --study "
              f"{quote(run.study.study_name)}", file=sys.stderr)  # fmt: skip
    print(f"report of {run.study.study_name}: {out}")
    if args.pdf:
        from automl_fin.results._report_html import print_pdf

        print(f"PDF: {print_pdf(out, Path(args.pdf))}")
    return 0


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from automl_fin.results._leaderboard import Leaderboard

    url = _storage_url(args)
    studies = {"recipe": args.recipe, "dataset": args.dataset, "study": args.study,
               "params": "flat" if args.flat_params else "dict"}  # fmt: skip
    board = Leaderboard(url).query(model=args.model, state=args.state, top=args.top, **studies)
    table = functools.partial(_table, with_study=True, wide=args.wide, columns=args.columns)
    if args.columns is not None:  # these, in any format (checked if no row)
        # a parameter or metric column of these studies' rows that no row left holds
        # (--top 3 without the model that has it): empty, not unknown
        unfiltered = lambda: Leaderboard(url).query(**studies).columns  # noqa: E731
        named = _named_columns(board, args.columns, unfiltered)
        board = board.reindex(columns=[*board.columns, *(c for c in named if c not in board)])
        if args.format != "table":
            board = board[named]
    _emit(board, args.format, table=table)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from automl_fin.results._leaderboard import Leaderboard

    best = Leaderboard(_storage_url(args)).compare(
        args.by, recipe=args.recipe, dataset=args.dataset, model=args.model, study=args.study
    )
    _emit(best, args.format, table=lambda b: _compare_table(b, wide=args.wide))
    return 0


def _compare_table(best: pd.DataFrame, wide: bool = False) -> str:
    """``compare``'s answer fitted to the terminal; ``recipe_hash`` stays where two groups
    of one recipe, data and metric differ only by it (two rank-1 rows, and nothing
    seen to tell them apart)."""
    if not len(best):
        return "(no completed trials)"
    group = ["recipe", "data", "target", "metric", "recipe_hash"]
    groups = best.drop_duplicates([*group, "dataset"])
    twice = groups.drop_duplicates(group).duplicated(group[:-1]).any()
    kept = {"recipe_hash"} if twice else set()
    if best["target"].nunique(dropna=False) > 1:  # two targets of one table: told apart
        kept.add("target")
    optional = [c for c in COMPARE_OPTIONAL if c not in kept]
    view = best.drop(columns="dataset")
    if (best["studies"] <= 1).all():  # one study a group: its mean is its score
        view = view.drop(columns=["study_mean", "study_sd"])
    if groups.duplicated(group).any():  # one file's path, two contents (a monthly extract)
        view.insert(view.columns.get_loc("metric"), "dataset", best["dataset"].str[:12])
    if wide:
        return _render(view)
    # long names are cut before the studies' mean and spread go
    stats = [c for c in optional if c.startswith("stud")]
    view = _fit(view, _width(), [c for c in optional if c not in stats])
    return _render(_fit(view, _width(), stats))


def _cmd_plugins(args: argparse.Namespace) -> int:
    registry = _registry(args)
    _emit(registry.to_frame(), args.format, table=lambda f: f.to_string(index=False))
    print()
    wide = max((len(p.name) for p in registry.plugins), default=0)  # names line up
    for p in registry.plugins:
        extra = f": {p.error}" if p.error else ""
        print(f"plugin {p.name:<{wide}} {p.distribution} {p.version}  [{p.status}]{extra}")
    return 0


def _cmd_recipes(args: argparse.Namespace) -> int:
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.errors import AutomlFinError
    from automl_fin.plugin._specs import TASK_METRICS

    registry = _registry(args)
    for name, source in sorted(registry.recipes.items()):
        origin = "" if source.provider.plugin == "core" else f"  [{source.provider}]"
        try:
            recipe = load_recipe(name, registry=registry)
        except AutomlFinError as exc:  # one plugin's recipe hides no other (it listed `auto` alone)
            print(f"{name:<12} (cannot be read: {exc}){origin}", file=sys.stderr)
            continue
        metric = recipe.metric  # auto of a known task: its own (cost under costs)
        if metric == "auto" and recipe.task != "auto":
            metric = TASK_METRICS[recipe.task]
        print(f"{name:<12} {recipe.task!s:<11} {metric:<9} {recipe.description}{origin}")
    return 0


def _emit(frame: pd.DataFrame, fmt: str, *, table: Any) -> None:
    """``frame`` as CSV or JSON (floats exact: they read back equal) or a table."""
    import json

    import pandas as pd

    if fmt == "json":
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        print(json.dumps(records, indent=1, default=_jsonable))
    elif fmt == "csv":
        out = frame.copy()
        for col in out.columns:  # (a datetime column asked for its dicts: an empty one raised)
            if pd.api.types.is_datetime64_any_dtype(out[col]):
                out[col] = out[col].map(lambda v: v.isoformat() if pd.notna(v) else "")
            elif out[col].map(lambda v: isinstance(v, dict | list)).any():
                out[col] = out[col].map(lambda v: json.dumps(v, default=str))
        print(out.to_csv(index=False, **_csv_line_ends(out)), end="")
    else:
        print(table(frame))


def _safe_out(out: Path, flag: str, *inputs: Any) -> None:
    """Refuse an output path that would overwrite what a run keeps or was given: an
    input file (``--data``), a SQLite database (a runs folder's storage: every trial was
    lost), or a file in a saved predictor's folder (its manifest, or files it then
    refused as a changed folder) or in a run's ``oof`` / ``folds``."""
    from automl_fin.errors import ArtifactError
    from automl_fin.storage._runs import kept_folder

    target = out.resolve()
    for given in inputs:
        if isinstance(given, (str, Path)) and str(given) != "-" and Path(given).resolve() == target:
            raise ArtifactError(f"{flag} {out} is the input file (--data); pass another file name")
    if target.is_file():
        with open(target, "rb") as head:
            if head.read(16) == b"SQLite format 3\x00":
                raise ArtifactError(f"{flag} {out} is a SQLite database (a run's storage); pass "
                                    "another file name")  # fmt: skip
    if (kept := kept_folder(target.parent)) is not None:
        raise ArtifactError(
            f"{flag} {out} is inside {kept}, which a run keeps as it saved it (a file "
            "written there makes a predictor refuse its folder); pass a path outside it"
        )


def _csv_line_ends(frame: pd.DataFrame) -> dict[str, str]:
    """``to_csv``'s line end for ``frame``: ``\\r\\n`` (RFC 4180's) where a text holds a
    carriage return, which pandas' writer quotes only when it is part of the line end
    (left bare, a reader ends the row there: pandas read a kept ``"L00000\\rreissued"``
    as two rows); ``\\n`` otherwise, as before."""
    import pandas as pd

    texts = [c for c, t in frame.dtypes.items() if pd.api.types.is_string_dtype(t)
             or pd.api.types.is_object_dtype(t)]  # fmt: skip
    if any(frame[c].astype(str).str.contains("\r", regex=False).any() for c in texts):
        return {"lineterminator": "\r\n"}
    return {}


def _jsonable(value: Any) -> Any:
    """What ``json`` cannot write itself: time stamps, numpy scalars."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else str(value)


def _width() -> int:
    """The terminal's columns for the table on stdout (100 when not a terminal)."""
    import os
    import shutil

    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return shutil.get_terminal_size((100, 24)).columns


def _named_columns(
    board: pd.DataFrame, columns: str, unfiltered: Callable[[], pd.Index] | None = None
) -> list[str]:
    """The board's columns ``--columns`` names (``A,B,...``), each checked; a
    ``metric:``, ``param:`` or ``test:`` column the board lacks is checked against the
    ``unfiltered`` board's columns (the same studies' every row) when given. A column
    named as the table heads it (``ks``, ``logreg.C``) is the one column it heads."""
    from automl_fin.errors import StorageError

    cols = list(dict.fromkeys(c.strip() for c in columns.split(",") if c.strip()))
    if not cols:
        raise StorageError(f"--columns {columns!r} names no column; e.g. --columns rank,model")
    prefixed = ("metric:", "param:", "test:")  # the open-ended columns
    for i, c in enumerate(cols):
        heads = [f"{p}{c}" for p in prefixed if f"{p}{c}" in board.columns]
        if c not in board.columns and len(heads) == 1:
            cols[i] = heads[0]
    cols = list(dict.fromkeys(cols))
    # a board with no rows has no metric:, param: or test: columns to check them against
    open_ended = prefixed if board.empty else ()
    unknown = [c for c in cols if c not in board.columns and not c.startswith(open_ended)]
    wider = [c for c in unknown if c.startswith(prefixed)]
    if wider and unfiltered is not None:
        held = set(unfiltered())
        unknown = [c for c in unknown if c not in held]
    if unknown:
        hint = ""
        if any(c.startswith("param:") for c in unknown) and "params" in board.columns:
            hint = " (parameter columns: add --flat-params)"
        raise StorageError(
            f"--columns: no column {', '.join(map(repr, unknown))}{hint}; columns: "
            f"{', '.join(map(str, board.columns))}"
        )
    return cols


def _table(
    board: pd.DataFrame,
    *,
    metric: str = "",
    with_study: bool = False,
    wide: bool = False,
    columns: str | None = None,
) -> str:
    """The leaderboard as a text table: the essential columns, cut to the terminal's
    width (the error column is shortened); ``wide``: every column; ``columns``: those.
    A board with flat parameter columns (``param:<name>``, ``--flat-params``) shows them
    all before the error (not cut to the width), named without the prefix where no
    other column has that name."""

    named = None if columns is None else _named_columns(board, columns)  # with no row too
    if board.empty:
        return "(no trials)"
    extra = [c for c in board.columns if c.startswith("metric:")]
    flat = [c for c in board.columns if c.startswith("param:")]
    if metric:
        extra = [c for c in extra if c != f"metric:{metric}"]  # the score column already
    lead = ["study", "recipe", "metric"] if with_study else []
    if named:
        cols = named
    elif wide:
        tested = [c for c in board.columns if c.startswith("test:")]  # the final test's
        cols = [*lead, *WIDE, *extra, *tested, "preprocessors", "plugin", *flat, "error"]
    else:
        cols = [*lead, *ESSENTIAL[:-1], *flat, "error"]
    view = board[cols].copy()
    if "plugin" in view:  # "automl-fin 0.1.0 (plugin 'xgboost')" -> "automl-fin 0.1.0/xgboost"
        view["plugin"] = view["plugin"].fillna("").astype(str)
        view["plugin"] = view["plugin"].str.replace(r" \(plugin '(.*)'\)$", r"/\1", regex=True)
    # a leaderboard column's name is taken whether shown or not (the price recipe's
    # metric:direction headed as direction beside the board's own maximize/minimize)
    taken = set(view.columns) | {c for c in board.columns if ":" not in c}
    short = {c: c.split(":", 1)[1] for c in [*extra, *flat]}
    view = view.rename(columns={c: s for c, s in short.items() if s not in taken})
    if metric:
        view = view.rename(columns={"score": metric})
    if "error" in view:
        view["error"] = _clip(view["error"].fillna("").astype(str), 60)
    if wide or columns or flat:  # asked for: every parameter, however wide
        return _render(view)
    # narrow terminals: leave out the optional columns until the rest fits, with room
    # for at least 12 characters of error where a row has one; the error gets the rest
    width = _width()
    errors = view.pop("error") if "error" in view else None
    need = 14 if errors is not None and errors.str.len().any() else 0
    # a score column mixing metrics keeps the column that says which each is
    mixed = "metric" in view and view["metric"].nunique() > 1
    keep = ["metric"] if mixed else []
    view = _fit(view, width - need, [c for c in OPTIONAL if c not in keep])
    room = width - _span(_render(view)) - 2
    if need and room >= 12:
        view["error"] = _clip(errors, room)
    return _render(view)


def _clip(texts: pd.Series, room: int) -> pd.Series:
    """Each text within ``room`` characters: a longer one cut after its last whole word
    that fits, with ``…`` (cut mid-word, ``stopped after 992 steps`` read ``stopped after
    992 s``, a prober's find); ``--format csv`` shows them whole."""
    cut = texts.str.slice(0, room - 1)
    whole = cut.str.replace(r"\s*\S*$", "", regex=True)  # (the word the cut split)
    cut = cut.where(whole.str.len() < room // 2, whole)
    return texts.where(texts.str.len() <= room, cut + "…")


def _fit(view: pd.DataFrame, width: int, optional: list[str]) -> pd.DataFrame:
    """``view`` within ``width`` characters where it can be: the ``optional`` columns
    left out in order until it fits, then long names (a study, a data file) cut in the
    middle, the ends kept (``nightly-def…loans_2024-s0``; ``--format csv`` and the
    leaderboard's ``--wide`` show them whole)."""
    for col in optional:
        if _span(_render(view)) <= width:
            return view
        view = view.drop(columns=col, errors="ignore")
    names = [c for c in ("study", "data", "recipe", "model") if c in view]
    over = _span(_render(view)) - width
    if over <= 0 or not names:
        return view
    longest = {c: int(view[c].fillna("").astype(str).str.len().max()) for c in names}
    floor = {c: max(MIN_NAME, len(c)) for c in names}

    def saved(level: int) -> int:  # characters saved by cutting every name to ``level``
        return sum(max(0, longest[c] - max(level, floor[c])) for c in names)

    level = max(longest.values())  # the longest names are cut to one length first
    while level > MIN_NAME and saved(level) < over:
        level -= 1
    for col in names:
        size = max(level, floor[col])
        distinct = view[col].nunique()
        while longest[col] > size:  # cut, but never two names into one (alike…-70d69c-s0)
            cut = view[col].map(lambda v, n=size: _middle(v, n) if isinstance(v, str) else v)
            if cut.nunique() == distinct:
                view[col] = cut
                break
            size += 1
    return view


def _middle(text: str, size: int) -> str:
    """``text`` in at most ``size`` characters: a third of them from its start, the
    rest from its end (where a file name and a batch's ``-s<seed>`` are), around a "…"."""
    if len(text) <= size:
        return text
    head = (size - 1) // 3
    return f"{text[:head]}…{text[len(text) - (size - 1 - head) :]}"


def _span(text: str) -> int:
    return max(map(len, text.splitlines()))


def _render(view: pd.DataFrame) -> str:
    import pandas as pd

    from automl_fin.results._report_html import number_text

    # a column of numbers from 1 on, some of them 1,000 or more: two decimals in every row
    # (an RMSE column showed 1512.30 beside 823.8)
    level = {
        c: lambda v: "-" if pd.isna(v) else f"{v:.2f}"
        for c in view.columns
        if pd.api.types.is_float_dtype(view[c])
        and (known := view[c].dropna().abs()).size
        and known.max() >= 1000
        and known.min() >= 1
    }
    # a nullable column's missing values (folds, a whole-number parameter) are "-" too:
    # pandas writes them <NA> whatever na_rep says
    nullable = [
        c
        for c in view.columns
        if isinstance(view[c].dtype, pd.api.extensions.ExtensionDtype)
        and not pd.api.types.is_string_dtype(view[c])
        and view[c].isna().any()
    ]
    if nullable:
        view = view.assign(
            **{c: view[c].astype(object).where(view[c].notna(), "-") for c in nullable}
        )
    text = view.to_string(index=False, float_format=number_text, formatters=level, na_rep="-")
    return "\n".join(line.rstrip() for line in text.splitlines())


COMMANDS = {
    "run": _cmd_run,
    "leaderboard": _cmd_leaderboard,
    "evaluate": _cmd_evaluate,
    "compare": _cmd_compare,
    "predict": _cmd_predict,
    "worker": _cmd_worker,
    "report": _cmd_report,
    "plugins": _cmd_plugins,
    "recipes": _cmd_recipes,
}


if __name__ == "__main__":
    sys.exit(main())
