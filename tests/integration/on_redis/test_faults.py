"""``tests/integration/test_faults.py`` on the Redis store (see this folder's conftest)."""

from tests.integration.test_faults import *  # noqa: F403
