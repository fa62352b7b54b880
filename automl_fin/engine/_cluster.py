"""Workers on an existing Dask cluster, started by the run that creates the study.

``automl-fin run RECIPE --storage postgresql://... --cluster tcp://scheduler:8786``
(``search(..., cluster=...)``) creates the study and queues its first trials as usual,
then submits one :func:`automl_fin.engine._search.work` task per Dask worker (or
``cluster_workers`` of them): each joins the study, as ``automl-fin worker`` would, and
runs queued trials until the shared budget is spent. The run takes part itself, waits
for them, and finishes the search (ensemble, final test, predictor, report).

Why Dask (``pip install 'automl-fin[cluster]'``): a pure-Python wheel with no runtime of
its own to install on the machines, a local cluster in one line for tests, and cluster
managers for SSH, Kubernetes and HPC schedulers (dask-jobqueue) where finance compute
lives. Ray would bring a compiled core, its own object store and dashboard, none of which
a search that shares its state through the Optuna storage needs.

Every worker needs automl-fin and the plugins installed as on the machine that runs, and
must reach the storage. A DataFrame passed to ``search`` is sent to the workers; a file
path must be readable at the same path there (or use a bundled data set). A worker that
dies mid-trial leaves a trial that is failed as stale (heartbeats) and its budget queued
again; Dask itself re-runs a lost worker's task elsewhere.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from automl_fin.errors import StorageError

__all__ = ["Workers"]


def _work(storage: str, study: str, data: Any, runs_dir: str) -> str:
    """One worker's share of the search (runs on a Dask worker)."""
    from automl_fin.engine._process import this_process
    from automl_fin.engine._search import work

    result = work(storage, study, data=data, runs_dir=runs_dir, progress=False)
    return f"{this_process()} ran {result.n_trials} trials"


class Workers:
    """Searches running on a Dask cluster's workers against one study."""

    def __init__(
        self,
        address: str,
        *,
        storage: str,
        study: str,
        data: Any,
        runs_dir: str | Path,
        n: int | None = None,
    ) -> None:
        try:
            from distributed import Client
        except ModuleNotFoundError:
            raise StorageError("--cluster needs Dask: pip install 'automl-fin[cluster]'") from None
        try:
            self.client = Client(address, timeout="10s", set_as_default=False)
        except OSError as exc:
            raise StorageError(f"--cluster {address}: no Dask scheduler there ({exc})") from None
        targets = list(self.client.scheduler_info()["workers"])
        if not targets:
            self.client.close()
            raise StorageError(f"--cluster {address}: the scheduler has no workers")
        if n is not None:
            if n > len(targets):
                warnings.warn(
                    f"--cluster-workers {n}: the cluster has {len(targets)} workers; "
                    f"using {len(targets)}",
                    stacklevel=2,
                )
            targets = targets[:n]
        shipped = self.client.scatter(data, broadcast=True) if data is not None else None
        self.futures = [
            self.client.submit(
                _work,
                storage,
                study,
                shipped,
                str(Path(runs_dir).resolve()),
                key=f"automl-fin-{study}-{i}",
                workers=[target],
                allow_other_workers=True,
                pure=False,
            )
            for i, target in enumerate(targets)
        ]

    def finish(self) -> list[str]:
        """Wait for every worker's search; what each did (a failure is warned about,
        the search goes on without it)."""
        done = []
        for future in self.futures:
            try:
                done.append(str(future.result()))
            except Exception as exc:  # a worker's search failed: the others' stand
                warnings.warn(f"a cluster worker's search failed: {exc}", stacklevel=2)
        return done

    def close(self) -> None:
        """Cancel what is still running and disconnect."""
        for future in self.futures:
            future.cancel()
        self.client.close()
