"""``python -m batchkit.emulator --port 8765``: serve the emulator until Ctrl-C."""

import sys

from batchkit.emulator._cli import main

sys.exit(main())
