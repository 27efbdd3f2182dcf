"""``tests/integration/test_dashboard_routes.py`` on the Redis store (see this folder's conftest)."""

from tests.integration.test_dashboard_routes import *  # noqa: F403
