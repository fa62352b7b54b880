"""A plugin that registers a model name the built-in sklearn plugin already uses."""

from automl_fin import ModelSpec, Task, hookimpl


def _build(params, ctx):
    from sklearn.dummy import DummyClassifier

    return DummyClassifier()


@hookimpl
def register_models(register):
    register(ModelSpec(name="rf", tasks={Task.BINARY}, build=_build))
