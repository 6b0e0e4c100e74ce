"""Entry script of the bundled app: `Station` with no arguments opens the window,
with arguments it is the `station` command line."""

import sys

from station.cli import main

if __name__ == "__main__":
    sys.exit(main())
