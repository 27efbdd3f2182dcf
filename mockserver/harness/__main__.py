"""``python -m mockserver.harness --api … --base-url … --api-key …``"""

import sys

from mockserver.harness.cli import main

sys.exit(main())
