import sys

from lsm.cli import main

sys.exit(main())
