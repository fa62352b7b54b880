"""The run report: one self-contained HTML file (inline SVG plots, no external files).

Sections: the run's summary, the leaderboard, the optimisation history, parameter
importances per model, the plot a practitioner looks at first for the task (ROC and
calibration curves for binary targets, the confusion matrix for classes, actual vs
forecast against the random walk for prices, predicted vs actual otherwise), and
feature contributions (XGBoost's ``pred_contribs`` when the predictor has an XGBoost
member, and permutation importance of the predictor).

Plots come from the out-of-fold predictions stored with the trials, so they show the
validation rows the leaderboard scores were computed on.
"""

from __future__ import annotations

import datetime as dt
import html
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl_fin.engine._trial_record import TrialRecord
from automl_fin.errors import ArtifactError
from automl_fin.plugin._specs import ColumnKind
from automl_fin.results._ensemble import rows_of
from automl_fin.results._reality_check import chosen_row
from automl_fin.results._report_html import bars, figure, note, section, table
from automl_fin.storage._storage import atomic_write

if TYPE_CHECKING:
    import optuna

    from automl_fin.engine._problem import Problem
    from automl_fin.results._predictor import Predictor

__all__ = ["REPORT", "write_report"]

REPORT = "report.html"
TOP_MODELS = 3  # models whose parameter importances and curves are shown
MIN_TRIALS = 10  # completed trials a model needs for its parameter importances
PERMUTATION_ROWS = 500
# the Shapley figure's rows: timed on the first SHAP_PILOT, as many as SHAP_SECONDS allow
# (LightGBM's TreeSHAP of 535 trees of 255 leaves took 110 s on 1,000 rows: the report
# of a 33 s search ran 119 s)
SHAP_PILOT = 50
SHAP_SECONDS = 15.0
PERMUTATION_REPEATS = 3
PERMUTED_COLUMNS = 50  # at most this many columns are shuffled (wide data: screened)
PERMUTATION_S = 20.0  # seconds the shuffled predictions may take (a bag predicts k times)
LATEST = 250  # forecast steps drawn one by one
_CSS = """body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
h3{font-size:1em;margin:.6em 0 .3em}
table{border-collapse:collapse;font-size:.85em}td,th{padding:2px 8px;text-align:right}
th{background:#f0f0f0}tr:nth-child(even){background:#fafafa}
figure{margin:8px 0}figcaption,p.note{font-size:.85em;color:#555}
figure svg{max-width:100%;height:auto}div.wide{overflow-x:auto;max-width:100%}
.cards{display:flex;flex-wrap:wrap;gap:8px 32px}.cards>div{flex:1 1 300px;min-width:0}
dl{margin:0}dt{font-weight:600}dd{margin:0 0 6px 0;overflow-wrap:anywhere}
"""
# Records the rendered size of every figure on the element, and how far the page is wider
# than the window (0: nothing overflows), on <body> (read by tests and tools).
_SCRIPT = """
window.addEventListener('load',()=>{for(const f of document.querySelectorAll('figure')){
const s=f.querySelector('svg');const r=s?s.getBoundingClientRect():{width:0,height:0};
f.dataset.rendered=Math.round(r.width)+'x'+Math.round(r.height);}
const d=document.documentElement;document.body.dataset.overflow=d.scrollWidth-d.clientWidth;});
"""


def write_report(
    study: optuna.Study,
    problem: Problem,
    run_dir: str | Path,
    *,
    storage: Any,
    predictor: Predictor | None = None,
    out: str | Path | None = None,
) -> Path:
    """Write the report of ``study`` (searched on ``problem``, kept in ``storage``: a URL
    or an Optuna storage; its files in ``run_dir``) to ``out`` (default:
    ``run_dir/report.html``); with the run's ``predictor``, its feature contributions too."""
    given, out = out is not None, Path(out or Path(run_dir) / REPORT)
    if out.is_dir():  # before the work, not at the rename
        raise ArtifactError(
            f"--out {out} is a folder; pass a file name (e.g. {out}/report.html)"
            if given
            else f"{out} is a folder, where the run's report goes; move it away"
        )
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    # text.parse_math off: a "$" in a column name or label is a dollar, not mathtext
    plt.rcParams.update(
        {"svg.fonttype": "none", "figure.dpi": 100, "font.size": 9, "text.parse_math": False}
    )
    from automl_fin.results._leaderboard import Leaderboard
    from automl_fin.results._report_card import model_card

    board = Leaderboard(storage).query(study=study.study_name)
    best = chosen_row(study, problem)
    with warnings.catch_warnings():  # a name with a control character (\r): a box drawn,
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")  # said 3x
        sections = [section("Model card", model_card(study, problem, board, best, predictor))]
        sections.append(section("Leaderboard", _table(board, problem)))
        sections.append(section("Optimisation history", _history(board, problem)))
        sections.append(section("Parameter importances", _importances(study, board, problem)))
        if best is not None:
            oof, label = _oof(study, best, Path(run_dir))
            sections += _task_sections(problem, oof, label, board, study, Path(run_dir))
        if predictor is not None:
            sections.append(section("Feature contributions", _contributions(predictor, problem)))
    page = _page(study, problem, best, sections)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own: two runs of one study at once each write the report
        atomic_write(out, lambda fh: fh.write(page.encode("utf-8")))
    except OSError as exc:
        if given:
            raise
        raise ArtifactError(  # a run folder this user may read, not write (a team's)
            f"{out}: cannot write the report there ({exc.strerror}); write it elsewhere: "
            "automl-fin report RUN --out FILE"
        ) from None
    return out


# -- page ------------------------------------------------------------------------------


def _page(study: Any, problem: Problem, best: Any, sections: list[str]) -> str:
    ds = problem.dataset
    attrs = study.user_attrs
    lines = [
        f"recipe <b>{html.escape(problem.recipe.name)}</b>, task {problem.task}, metric "
        f"{problem.metric.name} ({problem.metric.direction}), validation "
        f"{problem.validation_words()}",
        f"data {html.escape(ds.source)}: {len(ds.y)} rows, {len(ds.kinds)} features; "
        f"fingerprint {ds.fingerprint}",
        f"study {html.escape(study.study_name)}, created {attrs.get('created', '?')}; "
        f"report written {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
    ]
    if best is not None:
        lines.append(
            f"best row: <b>{html.escape(_label(best))}</b>, {problem.metric.name} "
            f"{best.value:.4f} ± {TrialRecord.of(best).score_std or 0:.4f}"
        )
    info = "".join(f"<li>{line}</li>" for line in lines)
    body = "\n".join(sections)
    title = f"automl-fin report: {html.escape(study.study_name)}"
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{_CSS}</style></head><body><h1>{title}</h1><ul>{info}</ul>{body}"
        f"<script>{_SCRIPT}</script></body></html>"
    )


# -- study -----------------------------------------------------------------------------


def _label(trial: Any) -> str:
    model = TrialRecord.of(trial).model
    return str(model) if trial.number < 0 else f"trial {trial.number} {model}"


def _oof(study: Any, trial: Any, run_dir: Path) -> tuple[np.ndarray | None, str]:
    """The out-of-fold predictions of a row and its label."""
    from automl_fin.results._members import oof_of

    oof = oof_of(study, trial, run_dir)
    return oof, _label(trial) if oof is not None else ""


def _table(board: pd.DataFrame, problem: Problem) -> str:
    if board.empty:
        return note("no trials")
    cols = ["rank", "trial", "model", "score", "score_std", "folds", "fit_s", "state"]
    same = f"metric:{problem.metric.name}"  # the score itself: one column of that name
    cols += [c for c in board.columns if c.startswith(("metric:", "test:")) and c != same]
    cols += ["preprocessors", "error"]
    view = board[(board["rank"] <= 15) | board["baseline"]][cols]
    view = view.rename(columns={"score": problem.metric.name})
    view["error"] = view["error"].fillna("").astype(str).str.slice(0, 80)
    view = view.rename(columns=lambda c: c.split(":", 1)[-1] if c.startswith("metric:") else c)
    return table(view, "leaderboard")


def _history(board: pd.DataFrame, problem: Problem) -> str:
    import matplotlib.pyplot as plt

    done = board[(board["state"] == "COMPLETE") & (board["trial"] >= 0)]  # trials only
    done = done[~done["baseline"]].sort_values("trial")
    if done.empty:
        return note("no completed trial")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for model, rows in done.groupby("model"):
        ax.scatter(rows["trial"], rows["score"], s=16, label=str(model))
    best = done["score"].cummax() if problem.metric.sign > 0 else done["score"].cummin()
    ax.step(done["trial"], best, where="post", color="black", lw=1.2, label="best so far")
    for _, row in board[board["baseline"] & (board["state"] == "COMPLETE")].iterrows():
        ax.axhline(row["score"], ls=":", color="grey", lw=1)
        ax.annotate(str(row["model"]), (done["trial"].max(), row["score"]), fontsize=7)
    ax.set(xlabel="trial", ylabel=problem.metric.name)
    ax.legend(fontsize=7, ncol=4, loc="best")
    return figure(fig, "history", "Completed trials by model; baselines dotted.")


def _importances(study: Any, board: pd.DataFrame, problem: Problem) -> str:
    import matplotlib.pyplot as plt
    import optuna

    done = board[(board["state"] == "COMPLETE") & ~board["baseline"] & (board["trial"] >= 0)]
    models = list(done["model"].drop_duplicates())[:TOP_MODELS]
    found: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    few: list[str] = []
    by_number = {t.number: t for t in rows_of(study)}
    for model in models:
        trials = [by_number[int(n)] for n in done.loc[done["model"] == model, "trial"]]
        if len(trials) < MIN_TRIALS:
            few.append(f"{model} ({len(trials)})")
            continue
        counts[model] = len(trials)
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" line
        try:
            sub = optuna.create_study(direction=problem.metric.direction)
        finally:
            optuna.logging.set_verbosity(verbosity)
        sub.add_trials(trials)
        try:
            values = optuna.importance.get_param_importances(
                sub, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=problem.recipe.seed)
            )
        except (ValueError, RuntimeError):  # too few distinct parameter values
            continue
        if values:
            values = {k.split(".", 1)[-1]: v for k, v in values.items() if k != "model"}
            found[model] = dict(list(values.items())[:8])
    left_out = (
        f"Left out, with fewer than {MIN_TRIALS} completed trials (too few to tell a "
        f"parameter's effect from noise): {', '.join(few)}."
        if few
        else ""
    )
    if not found:
        return note(left_out or "No completed model trials.")
    fig, axes = plt.subplots(1, len(found), figsize=(3.6 * len(found), 3), squeeze=False)
    for ax, (model, values) in zip(axes[0], found.items(), strict=True):
        names = list(values)[::-1]
        bars(ax, names, [values[n] for n in names], "#4878a8")
        ax.set_title(f"{model} ({counts[model]} trials)")
        ax.set_xlabel("importance (fANOVA)")
    return figure(
        fig,
        "importances",
        "The share of the score's variance across a model's completed trials that each of "
        "its parameters explains (fANOVA): where tuning mattered. The count of trials it "
        "rests on is in each title. " + left_out,
    )


# -- task plots ------------------------------------------------------------------------


def _decided_cutoff(problem: Problem, study: Any, run_dir: Path) -> tuple[float, str] | None:
    """A binary predictor's own cutoff on P(positive), from its decision rule, and its
    cross-fitted score (``None`` without a rule: the arg-max)."""
    from automl_fin.results._decision import rule_of

    best = chosen_row(study, problem)
    rule = rule_of(study, problem, best, run_dir) if best is not None else None
    chooser = problem.decision_metric
    if rule is None or chooser is None:
        return None
    low, high = rule.factors
    if not rule.fitted:  # the costs' own weights
        return low / (low + high), f"the costs' weights; {chooser.name} {rule.plain:.4g}"
    return low / (low + high), (
        f"a rule fitted on these rows; {chooser.name} {rule.crossfit:.4g} where each part "
        "of them is labelled by a rule fitted on the others"
    )


def _task_sections(
    problem: Problem,
    oof: np.ndarray | None,
    label: str,
    board: pd.DataFrame,
    study: Any,
    run_dir: Path,
) -> list[str]:
    if oof is None:  # stored (a trial's file, an ensemble's members'), not readable here
        best = chosen_row(study, problem)
        stored = best is not None and (best.number < 0 or TrialRecord.of(best).oof)
        said = (
            f"the out-of-fold predictions stored for this row are not in {run_dir / 'oof'} "
            "(its run folder was moved or deleted): no figures of them"
            if stored
            else "no out-of-fold predictions were stored"
        )
        return [section("Predictions", note(said))]
    y = problem.dataset.y
    seen = ~np.isnan(oof if oof.ndim == 1 else oof[:, 0])
    if problem.dataset.scale is not None:
        return _price_sections(problem, oof, seen, label, study, run_dir)
    binary = problem.task.is_classification and problem.dataset.n_classes == 2
    # two classes of texts (great / other reviews) are no credit decision: their
    # classes and the most confidently wrong texts, not score bands of "the riskiest"
    text = ColumnKind.TEXT in set(problem.dataset.kinds.values())
    if binary and not text:
        from automl_fin.results._report_credit import credit_sections

        positive = str(problem.dataset.classes[1])
        decided = _decided_cutoff(problem, study, run_dir)
        return [
            section("ROC curve", _roc(problem, study, board, seen, run_dir)),
            *credit_sections(y[seen], oof[seen, 1], label, positive, decided),
            section("Calibration", _calibration(y[seen], oof[seen, 1], label)),
        ]
    if problem.task.is_classification:
        from automl_fin.results._decision import crossfit_decide, rule_of
        from automl_fin.results._report_classes import class_parts

        rows = np.flatnonzero(seen)
        best = chosen_row(study, problem)
        rule = rule_of(study, problem, best, run_dir) if best is not None else None
        # the predictor's labels, its rule fitted on other rows than each it labels
        chooser = problem.decision_metric or problem.metric
        predicted = crossfit_decide(chooser, y[seen], oof[seen], rule, problem.recipe.seed)
        parts = [
            section("Classes", class_parts(problem, y[seen], oof[seen], predicted, rows)),
            section("Confusion matrix", _confusion(problem, y[seen], predicted, label)),
        ]
        if binary:
            roc = section("ROC curve", _roc(problem, study, board, seen, run_dir))
            calibration = section("Calibration", _calibration(y[seen], oof[seen, 1], label))
            parts = [roc, *parts, calibration]
        return parts
    from automl_fin.results._report_regression import regression_parts

    best = chosen_row(study, problem)
    return [
        section("Predicted vs actual", _scatter(y[seen], oof[seen], label)),
        section("Residuals", regression_parts(problem, y[seen], oof[seen], study, best)),
    ]


def _roc(problem: Problem, study: Any, board: pd.DataFrame, seen: np.ndarray, run_dir: Path) -> str:
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_auc_score, roc_curve

    y = problem.dataset.y
    done = board[(board["state"] == "COMPLETE") & ~board["baseline"]]
    picks = done.drop_duplicates("model").head(TOP_MODELS + 1)  # best row of each model
    by_number = {t.number: t for t in rows_of(study)}
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    for _, row in picks.iterrows():
        oof, label = _oof(study, by_number[int(row["trial"])], run_dir)
        if oof is None:
            continue
        rows = seen & ~np.isnan(oof[:, 1])
        fpr, tpr, _ = roc_curve(y[rows], oof[rows, 1])
        ax.plot(fpr, tpr, lw=1.4, label=f"{label} (AUC {roc_auc_score(y[rows], oof[rows, 1]):.3f})")
    ax.plot([0, 1], [0, 1], ls=":", color="grey", label="chance")
    positive = problem.dataset.classes[1]
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"'{positive}'")
    ax.legend(fontsize=7, loc="lower right")
    return figure(
        fig,
        "roc",
        f"Out-of-fold ROC curves of the best row of each of the {TOP_MODELS + 1} leading "
        "models (the leaderboard lists every model); the AUC in the legend pools "
        "all out-of-fold rows (the leaderboard averages the folds' AUCs).",
    )


def _calibration(y: np.ndarray, proba: np.ndarray, label: str) -> str:
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    true, pred = calibration_curve(y, proba, n_bins=10, strategy="quantile")
    brier = float(np.mean((proba - y) ** 2))
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], ls=":", color="grey", label="perfect")
    ax.plot(pred, true, marker="o", lw=1.4, label=f"{label} (Brier {brier:.4f})")
    ax.set(xlabel="mean predicted probability", ylabel="observed frequency")
    ax.legend(fontsize=7, loc="upper left")
    return figure(fig, "calibration", "Reliability of the best row's out-of-fold probabilities.")


def _confusion(problem: Problem, y: np.ndarray, predicted: np.ndarray, label: str) -> str:
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    classes = [str(c) for c in problem.dataset.classes]
    counts = confusion_matrix(y, predicted, labels=range(len(classes)))
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 2.4, 1.1 * len(classes) + 1.6))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            color = "white" if share[i, j] > 0.6 else "black"
            ax.text(
                j, i, f"{counts[i, j]}\n{share[i, j]:.0%}", ha="center", va="center", color=color
            )
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="actual", title=label)
    return figure(fig, "confusion", "Out-of-fold counts; colour: share of each actual class.")


def _price_sections(
    problem: Problem, oof: np.ndarray, seen: np.ndarray, label: str, study: Any, run_dir: Path
) -> list[str]:
    """Walk-forward validation rows, then the final test span with the Diebold-Mariano
    verdict in words (when the run held rows out and saved their predictions)."""
    from automl_fin.results._final_test import final_predictions
    from automl_fin.results._report_card import random_walk_words

    rows = np.flatnonzero(seen)
    out = [
        section(
            "Actual vs forecast",
            _forecast(problem, rows, oof[rows], label, "forecast", "Walk-forward validation rows."),
        )
    ]
    best = chosen_row(study, problem)
    saved = final_predictions(run_dir, best.number) if best is not None else None
    if saved is None:
        why = (
            "the chosen row's predictions of them were not saved (a run of an older version)"
            if len(problem.test_rows)
            else "no final test rows were held out (validation.final_test)"
        )
        return [*out, section("Final test", note(f"Not shown: {why}."))]
    test, pred = saved
    verdict = random_walk_words(study, best)
    first, last = _span(problem, test)
    return [
        *out,
        section(
            "Final test",
            _forecast(
                problem,
                test,
                pred,
                label,
                "final-test",
                f"The {len(test)} final test rows ({first} to {last}), held out of the "
                f"search and predicted once by the chosen row refitted on the rest: "
                f"{verdict}.",
            ),
        ),
    ]


def _span(problem: Problem, rows: np.ndarray) -> tuple[str, str]:
    from automl_fin.engine._problem import _day

    times = problem.dataset.times
    if times is None:
        return f"row {rows.min()}", f"row {rows.max()}"
    return _day(times[rows].min()), _day(times[rows].max())


def _forecast(
    problem: Problem, rows: np.ndarray, predicted: np.ndarray, label: str, name: str, intro: str
) -> str:
    import matplotlib.pyplot as plt

    ds = problem.dataset
    scale = ds.scale
    assert scale is not None
    truth = scale.to_report(ds.y[rows], rows)
    pred = scale.to_report(predicted, rows)
    walk = scale.to_report(np.zeros(len(rows)), rows)
    x = ds.times[rows] if ds.times is not None else rows
    series = "the series"
    if problem.recipe.data.entity:  # one series: the entity with the most rows
        names = ds.X[problem.recipe.data.entity].to_numpy()[rows]
        shown = pd.Series(names).mode().iloc[0]
        keep, series = names == shown, f"one series ({problem.recipe.data.entity} {shown})"
    else:
        keep = np.ones(len(rows), dtype=bool)
    keep[np.flatnonzero(keep)[:-LATEST]] = False  # the latest steps, readable day by day
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.4))
    top.plot(x[keep], truth[keep], lw=0.6, color="#999", label="actual")
    top.plot(x[keep], pred[keep], lw=0.9, color="#1f77b4", label=label)
    top.plot(x[keep], walk[keep], lw=0.8, ls="--", color="#d62728", label="random walk")
    top.set_ylabel("price" if scale.level else "return")
    top.legend(fontsize=7, loc="upper left")
    gain = np.cumsum((truth - walk) ** 2 - (truth - pred) ** 2)
    bottom.plot(x, gain, color="#2ca02c", lw=1.2)
    bottom.axhline(0, color="grey", lw=0.8)
    bottom.set_ylabel("cum. squared-error gain\nover the random walk")
    return figure(
        fig,
        name,
        f"{intro} Top: the latest {LATEST} steps of {series}, forecast vs actual and the "
        "random walk. Bottom: all these rows; the curve rises where the model beats the "
        "random walk and falls where it loses to it.",
    )


def _scatter(y: np.ndarray, pred: np.ndarray, label: str) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.scatter(y, pred, s=6, alpha=0.5)
    low, high = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
    ax.plot([low, high], [low, high], ls=":", color="grey")
    ax.set(xlabel="actual", ylabel="predicted", title=label)
    return figure(fig, "scatter", "Out-of-fold predictions against the actual values.")


# -- feature contributions -------------------------------------------------------------


def _contributions(predictor: Predictor, problem: Problem) -> str:
    from automl_fin.results._report_explain import explanation_parts

    baselines = [m.model for m in predictor.members if problem.spec(m.model).baseline]
    if len(baselines) == len(predictor.members):  # (15 bars of 0 on a price report)
        return note(
            f"The predictor is the baseline {baselines[0]}, which reads no column: no column "
            "moves its predictions."
        )
    light, stand_in = _first_folds(predictor)
    parts = [_permutation(light, stand_in, problem)]
    if problem.dataset.scale is None:  # a price forecast's inputs are its own windows
        parts += explanation_parts(predictor, light, stand_in, problem)
    explained = [m for m in predictor.members if problem.spec(m.model).explain is not None]
    if explained:  # any plugin's model that offers ModelSpec.explain, the heaviest first
        parts.append(_shap(max(explained, key=lambda m: m.weight), problem))
    return "".join(parts)


def _permutation(predictor: Predictor, stand_in: str, problem: Problem) -> str:
    """Drop of the metric when one input column is shuffled (in-sample rows). The
    shuffled copies are predicted in batches (``_evaluation.shuffled_scores``), and
    at most :data:`PERMUTED_COLUMNS` columns are shuffled, fewer when predicting the
    rows once says that they would take over :data:`PERMUTATION_S` (a bag of fold
    models predicts once per model): memory and time stay bounded on a table of 10,000
    columns (all the copies at once grew with the square of the column count)."""
    import matplotlib.pyplot as plt

    from automl_fin.results._evaluation import shuffled_scores

    ds = problem.dataset
    rng = np.random.default_rng(problem.recipe.seed)
    rows = _sample(ds.y, problem.task.is_classification, rng)
    X = ds.X.iloc[rows].reset_index(drop=True)
    everything = np.arange(len(ds.y))

    rule = predictor.rule
    decision = None if rule is None else rule.factors

    def score(pred: np.ndarray) -> float:
        return problem.metric.sign * problem.score(everything, rows, pred, decision=decision)

    started = time.perf_counter()
    base = score(predictor._blend(X))
    once = time.perf_counter() - started
    fewest = min(5, X.shape[1])  # columns shuffled at the least
    if once * PERMUTATION_REPEATS * fewest > 4 * PERMUTATION_S:  # 80k-character texts
        return note(
            f"Permutation importance left out: shuffling {fewest} columns of {len(rows)} rows "
            f"{PERMUTATION_REPEATS} times would take ~{once * PERMUTATION_REPEATS * fewest:.0f} "
            "s with this predictor (predictor.feature_importance on chosen rows gives it)."
        )
    affordable = max(5, int(PERMUTATION_S / max(once, 1e-6) / PERMUTATION_REPEATS))
    columns, screened = _screen(X, ds.y[rows], min(PERMUTED_COLUMNS, affordable))
    shuffled = shuffled_scores(predictor._blend, X, columns, PERMUTATION_REPEATS, rng, score)
    drops = {str(c): base - float(np.mean(v)) for c, v in zip(columns, shuffled, strict=True)}
    top = sorted(drops, key=drops.get, reverse=True)[:15][::-1]  # type: ignore[arg-type]
    fig, ax = plt.subplots(figsize=(6.5, 0.25 * len(top) + 1.2))
    bars(ax, top, [drops[c] for c in top], "#4878a8")
    ax.set_xlabel(f"drop of {problem.metric.name} when shuffled")
    return figure(
        fig,
        "permutation",
        f"Permutation importance of the predictor on {len(rows)} rows it was fitted on "
        f"({PERMUTATION_REPEATS} shuffles each{stand_in}): what the model relies on, not "
        "its out-of-sample value." + screened,
    )


def _first_folds(predictor: Predictor) -> tuple[Predictor, str]:
    """The predictor with each bagged member's first fold model standing in for its bag
    (a bag of 15 fold models costs 15 predictions of every shuffled copy; its fold models
    are fits of one configuration on 80 % of the rows), and the caption's note."""
    import dataclasses

    from automl_fin.engine._bag import Bag
    from automl_fin.results._predictor import Predictor

    if not any(isinstance(m.pipeline, Bag) for m in predictor.members):
        return predictor, ""
    members = [
        dataclasses.replace(m, pipeline=m.pipeline.pipes[0]) if isinstance(m.pipeline, Bag) else m
        for m in predictor.members
    ]
    light = Predictor(
        members,
        predictor.schema,
        predictor.manifest,
        scores=predictor.scores,
        reference=predictor.reference,
        background=predictor.background,
    )
    return light, "; each bagged member's first fold model standing in for its bag"


def _screen(X: pd.DataFrame, y: np.ndarray, limit: int) -> tuple[list[Any], str]:
    """The columns to shuffle: all, or beyond ``limit`` the ``limit`` most correlated
    with the target (every non-numeric column first), and the caption's note saying so."""
    if X.shape[1] <= limit:
        return list(X.columns), ""
    numeric = X.select_dtypes("number")
    values = numeric.to_numpy(dtype=float, na_value=np.nan)
    centred = np.nan_to_num(values - np.nanmean(values, axis=0))
    target = (y - y.mean()).astype(float)
    spread = np.linalg.norm(centred, axis=0) * np.linalg.norm(target)
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.nan_to_num(np.abs(centred.T @ target) / spread)
    others = [c for c in X.columns if c not in numeric.columns]
    ranked = [numeric.columns[i] for i in np.argsort(-strength, kind="stable")]
    picked = (others + ranked)[:limit]
    note = (
        f" Of the {X.shape[1]:,} columns, the {len(picked)} most correlated with the target "
        "were shuffled (the rest: not computed"
        + ("" if limit == PERMUTED_COLUMNS else f", to stay within {PERMUTATION_S:g} s")
        + ")."
    )
    return picked, note


def _sample(y: np.ndarray, classes: bool, rng: np.random.Generator) -> np.ndarray:
    """Up to ``PERMUTATION_ROWS`` rows; for classes a stratified sample with at least
    two rows of each class (so per-class metrics stay defined)."""
    n = min(PERMUTATION_ROWS, len(y))
    if not classes:
        return np.sort(rng.choice(len(y), n, replace=False))
    picked = []
    for label in np.unique(y):
        where = np.flatnonzero(y == label)
        take = min(len(where), max(2, round(n * len(where) / len(y))))
        picked.append(rng.choice(where, take, replace=False))
    return np.sort(np.concatenate(picked))


def _shap(member: Any, problem: Problem) -> str:
    """Mean |contribution| per feature from the member's ``ModelSpec.explain``."""
    import matplotlib.pyplot as plt

    from automl_fin.engine._bag import Bag
    from automl_fin.engine._pipeline import feature_info

    spec = problem.spec(member.model)
    pipe, which = member.pipeline, ""
    if isinstance(pipe, Bag):  # fold models may one-hot different columns: the first one
        pipe, which = pipe.pipes[0], f", the first of its {len(pipe)} fold models"
    prep, model = pipe[0], pipe[-1]
    if hasattr(model, "calibrated_classifiers_"):  # calibrated: explain the first fold's model
        model = model.calibrated_classifiers_[0].estimator
    rows = problem.dataset.X.iloc[: 2 * PERMUTATION_ROWS]
    Xt = prep.transform(rows)
    names, _ = feature_info(prep)

    def explained(start: int, stop: int) -> np.ndarray:
        part = Xt.iloc[start:stop] if hasattr(Xt, "iloc") else Xt[start:stop]
        return np.asarray(spec.explain(model, part), dtype=float)

    try:  # as many rows as SHAP_SECONDS allow at the pace of the first SHAP_PILOT
        started = time.perf_counter()
        contribs = explained(0, SHAP_PILOT)
        pace = (time.perf_counter() - started) / max(len(contribs), 1)
        n = min(len(rows), max(SHAP_PILOT, int(SHAP_SECONDS / pace) if pace > 0 else len(rows)))
        if n > SHAP_PILOT:
            contribs = np.concatenate([contribs, explained(SHAP_PILOT, n)])
    except Exception as exc:  # a plugin's explanation that fails costs its figure only
        why = html.escape(f"{member.model} could not explain its predictions: {exc}")
        return f"<p>{why}</p>"
    which += f", on {len(contribs):,} rows" if len(contribs) < len(rows) else ""
    mean = np.abs(contribs).mean(axis=0)
    if mean.ndim == 2:  # multiclass: (classes, features + 1)
        mean = mean.sum(axis=0)
    mean = mean[:-1]  # the last column is the bias
    names = names or [f"f{i}" for i in range(len(mean))]
    order = np.argsort(mean)[::-1][:15][::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.25 * len(order) + 1.2))
    bars(ax, [names[i] for i in order], mean[order], "#c44e52")
    ax.set_xlabel("mean |contribution| (margin)")
    return figure(
        fig,
        "shap",
        f"{member.model} (trial {member.trial}{which}) feature contributions from its plugin's "
        "explain (TreeSHAP for tree models), on the preprocessed features.",
    )
