"""``python -m contracts.harness --api … --base-url … --api-key …``"""

import sys

from contracts.harness.cli import main

sys.exit(main())
