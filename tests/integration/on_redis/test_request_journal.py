"""``tests/integration/test_request_journal.py`` on the Redis store (see this folder's conftest)."""

from tests.integration.test_request_journal import *  # noqa: F403
