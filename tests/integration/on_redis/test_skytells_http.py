"""``tests/integration/test_skytells_http.py`` on the Redis store (see this folder's conftest)."""

from tests.integration.test_skytells_http import *  # noqa: F403
