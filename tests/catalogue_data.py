"""The files and the finished run that the bad-input catalogue (docs/errors.md) uses."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

from automl_fin import datasets


def make_files(tmp: Path) -> None:
    """Write every input a catalogue row names into ``tmp``."""
    credit = datasets.load("german_credit")
    target = "creditability"
    credit.to_csv(tmp / "credit.csv", index=False)
    lines = credit.to_csv(index=False).splitlines(keepends=True)
    lines[4] = lines[4].replace("furniture/equipment", "furniture, equipment")  # unquoted
    (tmp / "ragged.csv").write_text("".join(lines))
    (tmp / "empty.csv").write_bytes(b"")
    (tmp / "undecodable.csv").write_bytes(b"name,y\nx\x81y,1\nbar,0\n")  # no 0x81 in cp1252
    (tmp / "sheet.xlsx").write_bytes(b"PK\x03\x04 not a csv")
    credit.assign(**{target: "good"}).to_csv(tmp / "one_class.csv", index=False)
    credit.assign(**{target: np.nan}).to_csv(tmp / "no_target.csv", index=False)
    credit.to_csv(tmp / "text_target.csv", index=False)
    credit.head(4).to_csv(tmp / "tiny.csv", index=False)
    names = [f"applicant {i:04d}" for i in range(len(credit))]
    credit.assign(applicant=names).to_csv(tmp / "named.csv", index=False)
    rare = pd.concat([credit[credit[target] == "good"], credit[credit[target] == "bad"].head(3)])
    rare.to_csv(tmp / "rare_class.csv", index=False)
    (tmp / "dup_columns.csv").write_text("age,age,y\n1,2,0\n3,4,1\n5,6,0\n")
    order = np.argsort(credit[target].to_numpy() == "bad", kind="stable")
    leak = credit.iloc[order].assign(application_no=np.arange(len(credit)))
    leak.to_csv(tmp / "leak.csv", index=False)
    tags = [["rent", "car"] if i % 3 else ["car"] for i in range(len(credit))]
    credit.assign(tags=tags).to_parquet(tmp / "tags.parquet")  # a column of lists
    credit.assign(opened=["2020-01-0x"] + ["2020-01-02"] * (len(credit) - 1)).to_csv(
        tmp / "bad_dates.csv", index=False
    )
    prices = datasets.load("equities").tail(600)
    prices.to_csv(tmp / "prices.csv", index=False)
    broken = prices.astype({"date": "str"})
    broken.iloc[5, broken.columns.get_loc("date")] = "yesterday"
    broken.to_csv(tmp / "prices_bad_date.csv", index=False)
    pd.concat([prices, prices.tail(1)]).to_csv(tmp / "prices_dup.csv", index=False)
    both = datasets.load("equities").groupby("ticker").tail(300)  # two series, same dates
    both.assign(name=both["ticker"].str.lower()).to_csv(tmp / "prices_two_names.csv", index=False)
    news = datasets.load("financial_phrasebank").head(300)
    news.assign(text="").to_csv(tmp / "no_text.csv", index=False)
    (tmp / "syntax.yaml").write_text("name: broken\nmodels: [logreg, hgb\nseed: 1\n")
    (tmp / "unknown_field.yaml").write_text("name: typo\nbudgett: {trials: 5}\n")
    (tmp / "wrong_type.yaml").write_text("name: typed\nvalidation: {n_splits: many}\n")
    laughs = ["extends: default", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    laughs += ["model_options: {xgboost: {laughs: *l9}}"]  # 6 * 9**9 strings once expanded
    (tmp / "alias_bomb.yaml").write_text("\n".join(laughs) + "\n")
    (tmp / "twice.yaml").write_text("extends: default\nmetric: roc_auc\nmetric: log_loss\n")
    (tmp / "a_file").write_text("not a folder\n")
    (tmp / "no_header.csv").write_text("1,2,3,0\n2,3,4,1\n3,4,5,0\n")
    (tmp / "corrupt.db").write_bytes(bytes(range(256)) * 20)  # a damaged SQLite file
    with contextlib.closing(sqlite3.connect(tmp / "other.db")) as other:  # another app's
        other.execute("CREATE TABLE accounts (id INTEGER, balance REAL)")
        other.commit()
    (tmp / "nightly.yaml").write_text(
        "name: nightly\nrecipes: [default]\ndata:\n  - {path: credit.csv, target: creditability}\n"
    )


def make_run(tmp: Path) -> None:
    """A finished search (study ``base`` in ``tmp/runs``) with a saved predictor, a copy
    of it with a changed pickle, and new rows missing a column or with a wrong kind."""
    from automl_fin import search

    search(
        "default",
        data=tmp / "credit.csv",
        trials=2,
        seed=0,
        study="base",
        runs_dir=tmp / "runs",
        overrides={"models": ["logreg"], "baselines": [], "ensemble": False, "report": False},
    )
    import optuna

    half = optuna.create_study(
        study_name="half", storage=f"sqlite:///{tmp / 'runs' / 'automl_fin.db'}"
    )
    for key, value in {"recipe": "default", "dataset": "0fcc961ce0b4c586"}.items():
        half.set_user_attr(key, value)  # as a process killed while creating it left it
    (tmp / "outside").mkdir()
    (tmp / "runs" / "linked").symlink_to(tmp / "outside")  # a link out of the runs folder
    shutil.copytree(tmp / "runs" / "base" / "predictor", tmp / "tampered")
    shutil.copytree(tmp / "runs" / "base" / "predictor", tmp / "zero_weight")
    manifest = json.loads((tmp / "zero_weight" / "manifest.json").read_text())
    manifest["members"][0]["weight"] = 0  # an edited manifest
    (tmp / "zero_weight" / "manifest.json").write_text(json.dumps(manifest))
    pickled = sorted((tmp / "tampered").glob("member_*.pkl"))[0]
    pickled.write_bytes(pickled.read_bytes() + b"\0")
    credit = pd.read_csv(tmp / "credit.csv").drop(columns=["creditability"])
    credit.head(5).drop(columns=["purpose"]).to_csv(tmp / "new_missing.csv", index=False)
    renamed = {"purpose": "Purpose", "credit_amount": "credit amount"}  # another export's
    credit.head(5).rename(columns=renamed).to_csv(tmp / "new_renamed.csv", index=False)
    credit.head(5).assign(age_in_years="old").to_csv(tmp / "new_wrong_kind.csv", index=False)
    pd.read_csv(tmp / "credit.csv").iloc[:-10].to_csv(tmp / "credit_other.csv", index=False)
