"""`python -m station` is the `station` command."""

import sys

try:
    from station.cli import main
except KeyboardInterrupt:  # Ctrl-C while starting: as quiet as during a command
    sys.exit(130)

sys.exit(main())
