"""The vendor registry: the installed vendors come from the ``mockserver.vendors`` entry points, in their
listed order, and from the package's own list when the package was never installed (a bare source tree)."""

from __future__ import annotations

import pytest

from mockserver import vendors
from mockserver.core import vendor
from mockserver.core.vendor import REGISTRY, Registry


def test_the_installed_vendors_are_the_packages_list_in_order() -> None:
    assert REGISTRY.all() == vendors.INSTALLED
    assert REGISTRY.names() == ("skytells", "gateai")
    assert ("gateai", "POST", "/api/generate") in REGISTRY.outcome_requests()


def test_a_source_tree_without_package_metadata_still_finds_its_vendors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vendor, "entry_points", lambda group: [])
    assert Registry().names() == ("skytells", "gateai")


def test_another_distributions_entry_point_adds_its_vendors_after_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = vendor.Vendor(name="extra", title="Extra API", default_port=9, build=lambda runtime: None)  # type: ignore
    monkeypatch.setattr("tests.architecture.test_registry.EXTRA", extra, raising=False)
    own = vendor.EntryPoint("mockserver", vendor.OWN_LIST, vendor.ENTRY_POINTS)
    theirs = vendor.EntryPoint("extra", "tests.architecture.test_registry:EXTRA", vendor.ENTRY_POINTS)
    monkeypatch.setattr(vendor, "entry_points", lambda group: [own, theirs])
    assert Registry().names() == ("skytells", "gateai", "extra")
