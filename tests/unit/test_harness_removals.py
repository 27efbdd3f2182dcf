"""Removals declared with ``x-removes``: which 404s after a create are expected, which are defects."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from mockserver import spec
from mockserver.harness import removals


@dataclass
class FakeCase:
    id: str
    path: str
    path_parameters: dict[str, str]
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def operation(self) -> Any:
        return SimpleNamespace(definition=SimpleNamespace(raw=self.raw))


class FakeRecorder:
    def __init__(self, *cases_and_statuses: tuple[FakeCase, int | None]) -> None:
        self.cases = [case for case, _ in cases_and_statuses]
        self.statuses = {case.id: status for case, status in cases_and_statuses}

    def find_all_cases(self) -> list[FakeCase]:
        return self.cases

    def find_response(self, case_id: str) -> Any:
        status = self.statuses.get(case_id)
        return None if status is None else SimpleNamespace(status_code=status)


REMOVES = {"x-removes": "/v1/predictions/{id}"}


def delete_alias(case_id: str, pid: str) -> FakeCase:
    return FakeCase(case_id, "/v1/predictions/{id}/delete", {"id": pid}, REMOVES)


def lookup(pid: str, path: str = "/v1/predictions/{id}") -> FakeCase:
    return FakeCase("now", path, {"id": pid})


def test_a_successful_declared_removal_explains_a_later_404() -> None:
    recorder = FakeRecorder((delete_alias("c1", "p1"), 200), (lookup("p1"), 404))
    assert removals.removed_by_extension(recorder, lookup("p1"))
    assert removals.removed_by_extension(recorder, lookup("p1", "/v1/predictions/{id}/cancel"))  # below it too


@pytest.mark.parametrize(("prior", "case"), [
    (delete_alias("c1", "p1"), lookup("p2")),  # another prediction was removed
    (delete_alias("c1", "p1"), lookup("p10")),  # another prediction, whose id starts alike
    (FakeCase("c1", "/v1/predictions/{id}/cancel", {"id": "p1"}), lookup("p1")),  # no x-removes: not a removal
    (delete_alias("c1", "p1"), lookup("p1", "/v1/predictions")),  # the collection is not below the resource
])
def test_other_requests_do_not_explain_a_404(prior: FakeCase, case: FakeCase) -> None:
    assert not removals.removed_by_extension(FakeRecorder((prior, 200)), case)


@pytest.mark.parametrize("status", [404, 401, None])
def test_a_removal_that_did_not_succeed_does_not_explain_a_404(status: int | None) -> None:
    assert not removals.removed_by_extension(FakeRecorder((delete_alias("c1", "p1"), status)), lookup("p1"))


def test_removed_path_fills_the_template_from_the_cases_own_parameters() -> None:
    assert removals.removed_path(delete_alias("c1", "abc")) == "/v1/predictions/abc"
    assert removals.removed_path(FakeCase("c1", "/v1/predictions/{id}/delete", {}, REMOVES)) is None
    assert removals.removed_path(lookup("p1")) is None


def test_the_contract_declares_both_spellings_of_the_delete_link() -> None:
    paths = spec.document("skytells")["paths"]
    declared = {(path, method) for path, item in paths.items() for method, operation in item.items()
                if isinstance(operation, dict) and operation.get("x-removes")}
    assert declared == {("/v1/predictions/{id}/delete", "delete"), ("/v1/predictions/{id}/delete", "post")}
    assert all(paths[path][method]["x-removes"] == "/v1/predictions/{id}" for path, method in declared)


def test_the_check_is_registered_only_while_a_run_needs_it() -> None:
    from schemathesis.checks import CHECKS

    name = removals.resource_availability.__name__
    assert name not in CHECKS.get_all_names()
    with removals.installed(), removals.installed():
        assert name in CHECKS.get_all_names()
    assert name not in CHECKS.get_all_names()
