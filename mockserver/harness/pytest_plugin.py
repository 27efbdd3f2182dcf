"""pytest plugin (entry point ``pytest11: mockserver_contracts``): the contract harness as parametrized tests.

Nothing happens unless a test asks for the ``contract_check`` fixture. In another project::

    # tests/test_contracts.py
    from mockserver.harness.pytest_plugin import test_contract  # noqa: F401  (one test per check)

    $ pytest tests/test_contracts.py --contract-api skytells --contract-base-url http://127.0.0.1:8080/v1 \\
          --contract-api-key sk-… [--contract-max-examples 10] [--contract-read-only] [--contract-max-spend 1.0]

Each schemathesis operation (all enabled phases) and each behaviour check becomes one test, e.g.
``test_contract[schemathesis:GET /v1/models]`` and ``test_contract[behaviour:skytells.prediction_lifecycle]``;
a failing one shows the harness' summary and every violation's reproduction. Without
``--contract-base-url`` these tests are skipped.
"""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.harness import EXTRA_INSTALL, lacks_extra
from mockserver.harness.options import APIS, PHASES, ST_PHASES, Options

NOT_CONFIGURED = "not-configured"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver_contracts", "contract checks of a Skytells / GateAI API")
    group.addoption("--contract-base-url", default=None,
                    help="run the contract checks against this base URL (Skytells: …/v1; GateAI: the root)")
    group.addoption("--contract-api", default=APIS[0], choices=APIS, help="which API the base URL serves")
    group.addoption("--contract-api-key", default=None, help="API key for the checks")
    group.addoption("--contract-other-api-key", default=None, help="a second key for owner-only checks")
    group.addoption("--contract-max-examples", type=int, default=10, help="examples per operation / programs")
    group.addoption("--contract-seed", type=int, default=0, help="seed of every generator")
    group.addoption("--contract-phases", default=",".join(PHASES), help="comma-separated phases to run")
    group.addoption("--contract-read-only", action="store_true", help="GET requests only")
    group.addoption("--contract-max-spend", type=float, default=None, help="US dollars the checks may spend")


def pytest_configure(config: pytest.Config) -> None:
    """With ``--contract-base-url`` on a server-only install: one clear usage error, not a collection traceback."""
    if not config.getoption("--contract-base-url", default=None):
        return
    try:
        from mockserver.harness import runner  # noqa: F401  (schemathesis and hypothesis)
    except ModuleNotFoundError as exc:
        if not lacks_extra(exc):
            raise
        raise pytest.UsageError(f"the contract checks need the harness extra: {EXTRA_INSTALL}") from None


def contract_options(config: pytest.Config) -> Options | None:
    """The run's options from the command line (None: no ``--contract-base-url``)."""
    option = config.getoption
    base_url = option("--contract-base-url")
    if not base_url:
        return None
    phases = tuple(p.strip() for p in option("--contract-phases").split(",") if p.strip())
    return Options(api=option("--contract-api"), base_url=base_url, api_key=option("--contract-api-key") or "",
                   other_api_key=option("--contract-other-api-key"), max_examples=option("--contract-max-examples"),
                   seed=option("--contract-seed"), phases=phases, read_only=option("--contract-read-only"),
                   max_spend=option("--contract-max-spend"))


def check_ids(options: Options) -> list[str]:
    """One id per schemathesis operation and per behaviour check of the options' API."""
    from mockserver.harness.harness import selected_machines
    from mockserver.harness.runner import load_schema, operation_labels
    from mockserver.harness.target import Target

    ids: list[str] = []
    if options.st_phases:
        target = Target(options=options)
        ids += [f"schemathesis:{label}" for label in operation_labels(load_schema(options, target))]
    if options.runs_behaviour:
        ids += [f"behaviour:{machine.name}" for machine in selected_machines(options)]
    return ids


def options_for(options: Options, check_id: str) -> Options:
    """The options that run exactly one check."""
    kind, _, name = check_id.partition(":")
    if kind == "schemathesis":
        return options.replace(phases=tuple(p for p in options.phases if p in ST_PHASES), operations=(name,))
    return options.replace(phases=("behaviour",), machines=(name,))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "contract_check" not in metafunc.fixturenames:
        return
    options = contract_options(metafunc.config)
    ids = check_ids(options) if options is not None else [NOT_CONFIGURED]
    metafunc.parametrize("contract_check", ids, ids=ids)


@pytest.fixture(scope="session")
def contract_settings(pytestconfig: pytest.Config) -> Options:
    """The harness options from ``--contract-*`` (skips the test without ``--contract-base-url``)."""
    options = contract_options(pytestconfig)
    if options is None:
        pytest.skip("contract checks need --contract-base-url (and --contract-api, --contract-api-key)")
    return options


@pytest.fixture
def contract_runner(contract_settings: Options) -> Any:
    """``contract_runner(check_id) -> RunResult``: run one check of the configured API."""
    from mockserver.harness import harness

    def run(check_id: str) -> Any:
        return harness.run(options_for(contract_settings, check_id), out=lambda line: None,
                           progress=lambda line: None)

    return run


def test_contract(contract_check: str, contract_runner: Any) -> None:
    """One contract check against ``--contract-base-url`` (import this into a test module to collect it)."""
    from mockserver.harness import report

    result = contract_runner(contract_check)
    details = "\n".join(f"\n--- {f.headline()}\n{f.details}" for f in result.findings)
    assert result.exit_code == 0, report.summary(result) + details
