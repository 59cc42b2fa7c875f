"""`python -m eval.suites.everyday`: check the everyday suite and rebuild its PDFs (see main)."""

import sys

from eval.suites.everyday import main

sys.exit(main())
