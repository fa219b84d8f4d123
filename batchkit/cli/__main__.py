"""``python -m batchkit.cli``: the same as the ``batchkit`` command."""

from batchkit.cli import main

main()
