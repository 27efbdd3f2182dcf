"""A named subset of the integration suite, run again on the Redis store (``--store redis://``).

Each module here imports the tests of one integration module, unchanged; only the ``server`` fixture is
replaced, for this folder, by a server whose state lives in a real ``redis-server`` (started by the session's
``redis_url`` fixture; skipped without ``redis-server``, failed without it in CI). The subset: predictions and
their lifecycle (``test_skytells_http``), GateAI tasks, limits, budget and clock rules (``test_gateai_http``), the
control plane's keys, reset, clock and rules (``test_control_plane``, ``test_control_plane_keys``), scripted
outcomes and faults (``test_scripted_outcomes``, ``test_faults``), webhooks (``test_webhooks``), the request
journal (``test_request_journal``) and the dashboard's data routes (``test_dashboard_routes``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver.server import ServerThread
from tests.conftest import CONTRACT_VIOLATIONS, make_settings
from tests.contract_capture import install


@pytest.fixture(scope="package")
def server(redis_url: str) -> Iterator[ServerThread]:
    """The session settings, with state in Redis."""
    with install(ServerThread(make_settings(store=redis_url)), CONTRACT_VIOLATIONS) as running:
        yield running

