"""The checkout's unit tests (``tests/``) run under the claims' settings: derandomized property
tests and one intra-op thread per xdist worker (2 workers x 2 threads oversubscribe 2 cores). The
claims' options, fixtures and report come from the installed plugin, ``repcore.pytest_plugin``."""

from repcore.pytest_plugin import load_property_settings, one_thread_per_worker

load_property_settings()
one_thread_per_worker()
