import sys

from pal_eval.cli import main

sys.exit(main())
