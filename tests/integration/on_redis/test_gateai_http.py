"""``tests/integration/test_gateai_http.py`` on the Redis store (see this folder's conftest)."""

from tests.integration.test_gateai_http import *  # noqa: F403
from tests.integration.test_gateai_http import _fresh_morning  # noqa: F401  (autouse)
