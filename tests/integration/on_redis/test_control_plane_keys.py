"""``tests/integration/test_control_plane_keys.py`` on the Redis store (see this folder's conftest)."""

from tests.integration.test_control_plane_keys import *  # noqa: F403
