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


def test_each_vendor_brings_its_port_and_settings_section() -> None:
    from mockserver import settings

    names = settings.field_names()
    assert names[:3] == ["host", "skytells_port", "gateai_port"]
    assert {"rate_limit_per_minute", "safety_terms", "tokens_per_second"} <= set(names)
    made = settings.from_sources(env={"MOCKSERVER_GATEAI_PORT": "9001", "MOCKSERVER_RATE_LIMIT_PER_MINUTE": "7"})
    assert (made.port_of(REGISTRY.get("gateai")), made.rate_limit_per_minute) == (9001, 7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rate_limit_per_minute must be at least 1"):
        settings.Settings(rate_limit_per_minute=0)
    toy = vendor.Vendor(name="toy", title="Toy API", default_port=18099, build=lambda runtime: None)  # type: ignore
    assert made.port_of(toy) == 18099  # a vendor installed after start-up: its default port


def test_each_vendors_job_kinds_read_the_store_kind_its_domain_writes() -> None:
    from mockserver.gateai import tasks
    from mockserver.skytells import predictions

    stored = {jobs.kind: jobs.stored for vendor in REGISTRY.all() for jobs in vendor.jobs}
    assert stored == {"prediction": predictions.KIND, "task": tasks.KIND}  # the descriptors stay light: no import
    assert all(vendor.usage is not None for vendor in REGISTRY.all())
