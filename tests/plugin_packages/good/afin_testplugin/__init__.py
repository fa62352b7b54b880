"""A small third-party plugin: a k-nearest-neighbours model, a robust scaler, a recipe."""

from importlib.resources import files

from automl_fin import ColumnKind, Int, ModelSpec, PreprocessorSpec, Slot, Task, hookimpl


def _build_knn(params, ctx):
    from sklearn.neighbors import KNeighborsClassifier

    print(f"knn: {params['n_neighbors']} neighbours")  # a chatty plugin, as many are

    return KNeighborsClassifier(n_neighbors=params["n_neighbors"], weights="distance")


def _build_robust(params, ctx):
    from sklearn.preprocessing import RobustScaler

    return RobustScaler()


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="knn",
            tasks={Task.BINARY, Task.MULTICLASS},
            build=_build_knn,
            space={"n_neighbors": Int(5, 100, log=True)},
            requires={Slot.SCALE},
            description="k nearest neighbours (test plugin)",
        )
    )


@hookimpl
def register_preprocessors(register):
    register(
        PreprocessorSpec(
            name="robust_scale",
            kinds={ColumnKind.NUMERIC},
            slot=Slot.SCALE,
            build=_build_robust,
            description="median/IQR scaling (test plugin)",
        )
    )


@hookimpl
def register_recipes(register):
    register(files(__name__) / "recipes")
