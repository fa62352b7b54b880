"""A plugin whose import fails, as one with a missing dependency does."""

import a_module_that_is_not_installed  # noqa: F401
