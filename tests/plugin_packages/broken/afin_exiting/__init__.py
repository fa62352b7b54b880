"""A plugin that ends the process as it is imported (a licence check that calls
``sys.exit(0)``): every command printed nothing and exited 0."""

import sys

sys.exit(0)
