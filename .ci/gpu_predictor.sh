#!/usr/bin/env bash
# GPU check of saved predictors (not part of CI): a Lightning model searched and refitted
# on a CUDA machine is saved under $OUT with its predictions of held-out rows; loaded back
# on a CPU machine it must predict the same (see docs/using-results.md).
set -uo pipefail
source .ci/device_env.sh
python3 - <<'PY'
import os, time
import numpy as np, torch
import automl_fin
from automl_fin import datasets
frame = datasets.load("german_credit")
t = time.perf_counter()
result = automl_fin.search(
    "default", data=frame.iloc[:900], trials=4, seed=1, runs_dir="/tmp/runs",
    overrides={"models": ["mlp"], "report": False, "validation.repeats": 1, "ensemble": False},
)
print("cuda", torch.cuda.is_available(), "search+refit", round(time.perf_counter() - t, 1), "s")
print(result.predictor)
import shutil
shutil.copytree(result.predictor.path, os.environ["OUT"] + "/predictor")  # $OUT keeps 2 levels
proba = result.predictor.predict_proba(frame.iloc[900:]).to_numpy()
np.save(os.environ["OUT"] + "/gpu_proba.npy", proba)
print("first rows", proba[:3].round(6).tolist())
PY
