"""``tests/integration/test_control_plane.py`` on the Redis store (see this folder's conftest)."""

from tests.integration.test_control_plane import *  # noqa: F403
