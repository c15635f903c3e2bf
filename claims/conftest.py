"""The claims' pytest configuration. pytest loads a folder's conftest only in sessions that collect
from that folder, so repcore's claims plugin (``repcore.pytest_plugin``: the suite's options, the
prebuild, the fixtures and the report) exists in claims runs alone: no entry point registers it
into any other project's pytest sessions."""

from pathlib import Path


def pytest_addoption(parser, pluginmanager):
    """Register the claims plugin; pytest then gives it this session's options parser too."""
    from repcore import pytest_plugin

    if not pluginmanager.is_registered(pytest_plugin):
        pluginmanager.register(pytest_plugin, "repcore")


def pytest_configure(config):
    from repcore.report.session import mark_claims_folder

    mark_claims_folder(config, Path(__file__).parent)
