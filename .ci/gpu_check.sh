#!/usr/bin/env bash
# GPU check of the Lightning models on a CUDA machine (not part of CI): installs the
# project without network from wheels carried in .whl/, runs the GPU-marked tests and
# the Lightning tests, and times a text model's fit on the GPU against the CPU.
set -uo pipefail
source .ci/device_env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, lightning, pandas, optuna; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'lightning', lightning.__version__, 'pandas', pandas.__version__, 'optuna', optuna.__version__)"
python3 -m pytest -q -p no:cacheprovider tests/test_lightning.py -rfs > $OUT/pytest_gpu.txt 2>&1; tail -5 $OUT/pytest_gpu.txt; grep -E "^(FAILED|E )" $OUT/pytest_gpu.txt | head -20
python3 - <<'PY'
import time
import numpy as np
from automl_fin import datasets
from automl_fin_lightning.text import TextClassifier
from automl_fin_lightning.training import choose_precision
frame = datasets.load("financial_phrasebank")
X = frame["text"].to_numpy(dtype=object)
y = frame["label"].astype("category").cat.codes.to_numpy()
rng = np.random.default_rng(0)
order = rng.permutation(len(y))
train, valid = order[:3800], order[3800:]
for acc in ("gpu", "cpu"):
    t = time.perf_counter()
    m = TextClassifier(n_classes=3, max_epochs=20, accelerator=acc, seed=0).fit(X[train], y[train])
    acc_ = float((m.predict(X[valid]) == y[valid]).mean())
    print(f"text_nn 20 epochs on {acc}: {time.perf_counter() - t:.1f} s, holdout accuracy {acc_:.3f}")
print("precision chosen on this machine:", choose_precision("gpu"))
PY
