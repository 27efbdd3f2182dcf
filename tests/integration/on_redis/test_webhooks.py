"""``tests/integration/test_webhooks.py`` on the Redis store (see this folder's conftest)."""

from tests.integration.test_webhooks import *  # noqa: F403
