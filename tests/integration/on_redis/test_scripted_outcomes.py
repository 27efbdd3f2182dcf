"""``tests/integration/test_scripted_outcomes.py`` on the Redis store (see this folder's conftest)."""

from tests.integration.test_scripted_outcomes import *  # noqa: F403
