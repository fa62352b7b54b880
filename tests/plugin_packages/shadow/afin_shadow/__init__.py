"""A plugin whose entry point takes the name of a built-in plugin (``sklearn``)."""

from automl_fin import ModelSpec, Task, hookimpl


def _build(params, ctx):
    from sklearn.dummy import DummyClassifier

    return DummyClassifier()


@hookimpl
def register_models(register):
    register(ModelSpec(name="shadowmodel", tasks={Task.BINARY}, build=_build))
