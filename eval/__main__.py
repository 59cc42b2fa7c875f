"""`python -m eval`: the same as `assistant eval`."""

import sys

from eval.harness import main

sys.exit(main())
