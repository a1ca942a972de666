"""`python -m imf.export`: the export of a trained model (export.py)."""

import sys

from imf.export.export import main

sys.exit(main())
