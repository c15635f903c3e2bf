"""Suite-wide options and the session fixtures that hand claims the fixture-model zoo."""

import os

# One intra-op thread per xdist worker: 2 workers x 2 threads oversubscribe 2 cores. Must be set
# before torch is imported.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"

import signal  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from claims.zoo_views import MeasuredMargins  # noqa: E402
from fixtures import options  # noqa: E402
from fixtures.cache import default_cache_dir  # noqa: E402
from fixtures.checkpoints import CheckpointError  # noqa: E402
from fixtures.checkpoints import validate as validate_checkpoints  # noqa: E402
from fixtures.data import DISPLAY_NAMES  # noqa: E402
from fixtures.options import add_options  # noqa: E402
from fixtures.profiles import Profile  # noqa: E402
from fixtures.zoo import (BUILD_ERRORS, SettingRuns, Zoo, build_zoo, default_jobs, exit_with_parent,  # noqa: E402
                          resolve_device)
from repcore.report.plugin import ClaimsReport, ReportDirError, check_report_dir, session_header  # noqa: E402

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


def _interrupt(signum: int, frame) -> None:
    """SIGTERM (a CI cancel, ``timeout``) stops a claims run as Ctrl-C does: the tests that finished
    are reported, in the partial report beside the complete one."""
    raise KeyboardInterrupt(f"signal {signum}")

# Property tests are derandomized (same examples every run) and have no deadline (torch, L-BFGS).
# Under CI, hypothesis loads its own "ci" profile; extend it rather than replace it.
_PROPERTY_SETTINGS = dict(max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("CI"):
    settings.register_profile("ci", parent=settings.get_profile("ci"), **_PROPERTY_SETTINGS)
    settings.load_profile("ci")
else:
    settings.register_profile("repcore", **_PROPERTY_SETTINGS)
    settings.load_profile("repcore")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("repcore")
    add_options(group.addoption)
    group.addoption("--report-dir", type=Path, default=Path("reports"),
                    help="where the claims report is written (default reports/)")
    group.addoption("--previous-report", type=Path, default=None,
                    help="an earlier claims.json: the report shows each claim's previous verdict and marks changes")
    group.addoption("--no-prebuild", action="store_true",
                    help="do not train the profile's missing models at session start; tests then "
                         "train (once, under locks) only the models they use")


def selected_profile(config: pytest.Config) -> Profile:
    """The --profile, with --seeds, --settings and --regularizer applied."""
    return options.selected_profile(config.getoption)


def pytest_configure(config: pytest.Config) -> None:
    """Validate the suite's options; on the controller, register the claims report writer and take
    SIGTERM as Ctrl-C; on an xdist worker, watch that the controller lives."""
    try:
        profile = selected_profile(config)
        device = resolve_device(config.getoption("--device"))
    except ValueError as err:
        raise pytest.UsageError(str(err)) from err
    if hasattr(config, "workerinput"):
        threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
        return
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    if _runs_claims(config):
        try:
            check_report_dir(Path(config.getoption("--report-dir")))
        except ReportDirError as err:
            raise pytest.UsageError(str(err)) from err
    datasets = sorted({DISPLAY_NAMES[spec.data.name] for spec in profile.models.values()})
    config.pluginmanager.register(
        ClaimsReport(config, session_header(config, profile, device, datasets)), "repcore-claims-report")


def _runs_claims(config: pytest.Config) -> bool:
    """Whether this run collects claims (the zoo is needed) rather than only unit tests."""
    claims = Path(config.rootpath, "claims").resolve()
    args = [Path(a.split("::")[0]).resolve() for a in config.args] or [Path(config.rootpath)]
    return any(a == claims or claims in a.parents or a in claims.parents for a in args)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Before xdist workers start, train the profile's missing models with visible progress, or
    with ``--checkpoints`` load every checkpoint once (a bad one stops the run, one line, exit 4).

    Runs on the controller (or a run without xdist) only; workers then load from the cache. Each
    spec is still guarded by its lock, so a worker never trains what is being trained here.
    """
    config = session.config
    if hasattr(config, "workerinput") or not _runs_claims(config):
        return
    profile = selected_profile(config)
    if profile.checkpoints is not None:
        try:
            validate_checkpoints(profile.checkpoints)
        except CheckpointError as err:
            pytest.exit(f"cannot run the claims on {profile.checkpoints.path}: {err}",
                        returncode=pytest.ExitCode.USAGE_ERROR)
        return
    if config.getoption("--no-prebuild"):
        return
    device = resolve_device(config.getoption("--device"))
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        jobs = config.getoption("--jobs") or default_jobs(device)
        try:
            build_zoo(profile, config.getoption("--cache-dir") or default_cache_dir(),
                      config.getoption("--data-root"), device, jobs)
        except BUILD_ERRORS as err:
            pytest.exit(f"cannot build the {profile.name} zoo: {err}", returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that uses the zoo runs once per setting (dataset x architecture) of the profile, on
    every seed of that setting at once: the training run is the unit of replication."""
    if "runs" in metafunc.fixturenames:
        profile = selected_profile(metafunc.config)
        if len(profile.settings) > 1:
            metafunc.parametrize("runs", list(profile.settings), indirect=True, ids=list(profile.settings),
                                 scope="session")


@pytest.fixture(scope="session")
def profile(pytestconfig: pytest.Config) -> Profile:
    return selected_profile(pytestconfig)


@pytest.fixture(scope="session")
def device(pytestconfig: pytest.Config) -> torch.device:
    return resolve_device(pytestconfig.getoption("--device"), os.environ.get("PYTEST_XDIST_WORKER"))


@pytest.fixture(scope="session")
def runs(request: pytest.FixtureRequest, pytestconfig: pytest.Config, profile: Profile,
         device: torch.device) -> SettingRuns:
    """One setting's trained models, one replicate per seed, loaded on first use: the profile's only
    setting, or this test's parameter. Session-scoped and parametrized, so pytest runs a setting's
    tests together and holds one setting's models at a time. Margins are the profile's, or for
    external checkpoints measured on the hard-label models under test."""
    setting = getattr(request, "param", next(iter(profile.settings)))
    cache_dir = pytestconfig.getoption("--cache-dir") or default_cache_dir()
    zoos = [Zoo(profile, replicate, cache_dir, pytestconfig.getoption("--data-root"), device)
            for replicate in profile.setting_replicates(setting)]
    return SettingRuns(profile, setting, zoos, MeasuredMargins(zoos) if profile.checkpoints else None)
