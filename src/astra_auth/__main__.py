"""`python -m astra_auth` runs the same program as the `astra-auth` script."""

import sys

from astra_auth.cli.app import main

sys.exit(main())
