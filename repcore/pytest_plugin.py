"""repcore's claims plugin: the suite's options, the prebuild of the models, the ``profile`` /
``device`` / ``runs`` / ``check`` / ``figure`` fixtures, and both ends of the xdist wire. A worker's
fixtures and hooks write a test's verdicts, evidence, figures (PNG bytes), setting and missing
roles into its report's ``user_properties`` (names in ``repcore.report.protocol``);
``ClaimsReport``, on the controller, reads them back and writes the report.

The claims folder's ``conftest.py`` registers it, so it exists only in sessions that collect the
claims (the installed ``repcore.claims``, or ``claims/`` of a checkout), which it marks as claims
folders (``repcore.report.session.mark_claims_folder``); no entry point loads it anywhere else.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

from repcore.fixtures import options
from repcore.fixtures.cache import default_cache_dir
from repcore.fixtures.checkpoints import CheckpointError
from repcore.fixtures.data import DISPLAY_NAMES
from repcore.fixtures.profiles import Profile
from repcore.fixtures.build_pool import BUILD_ERRORS, exit_with_parent
from repcore.fixtures.devices import default_jobs, resolve_device
from repcore.fixtures.evaluations import attacked_images
from repcore.fixtures.sources import MissingRole, model_source
from repcore.fixtures.zoo import SettingRuns, Zoo, drain_ledger
from repcore.claims.zoo_views import MeasuredSpread
from repcore.alignment_bins import FEWEST_CLEAN_CORRECT, MIN_PER_BIN
from repcore.criteria import Verdict, holds_for_all
from repcore.files import atomic_write, replace_folder
from repcore.report import protocol
from repcore.report.claims import claim_of
from repcore.report.document import build_document, not_run_note, write_document
from repcore.report.render import render_html
from repcore.report.session import (ReportDirError, add_forest_plots, check_report_dir, claims_folders,
                                    deciding_line, figures_folder, previous_report, regime_line, report_paths,
                                    selection, session_header, short_message)

REPORT_OPTIONS: dict[str, dict] = {
    "--report-dir": dict(type=Path, default=Path("reports"),
                         help="where the claims report is written (default reports/)"),
    "--previous-report": dict(type=Path, default=None,
                              help="an earlier claims.json: the report shows each claim's previous verdict and "
                                   "marks changes"),
    "--no-prebuild": dict(action="store_true",
                          help="do not train the profile's missing models at session start; tests then train "
                               "(once, under locks) only the models they use"),
}
# Property tests are derandomized (same examples every run) and have no deadline (torch, L-BFGS).
PROPERTY_SETTINGS = dict(max_examples=60, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow])


def load_property_settings() -> None:
    """hypothesis' settings for repcore's property tests; under CI, its own "ci" profile extended."""
    if os.environ.get("CI"):
        settings.register_profile("ci", parent=settings.get_profile("ci"), **PROPERTY_SETTINGS)
        settings.load_profile("ci")
    else:
        settings.register_profile("repcore", **PROPERTY_SETTINGS)
        settings.load_profile("repcore")


def one_thread_per_worker() -> None:
    """On an xdist worker: one intra-op thread, here and in the processes it starts."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
        torch.set_num_threads(1)


def _interrupt(signum: int, frame) -> None:
    """SIGTERM (a CI cancel, ``timeout``) stops a claims run as Ctrl-C does: the tests that finished
    are reported, in the partial report beside the complete one."""
    raise KeyboardInterrupt(f"signal {signum}")


def selected_profile(config: pytest.Config) -> Profile:
    """The --profile, with --seeds, --settings and --regularizer applied."""
    return options.selected_profile(config.getoption)


def in_claims(config: pytest.Config, path: Path) -> bool:
    """Whether ``path`` is a claim module (in a claims folder)."""
    return Path(path).resolve().parent in claims_folders(config)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("repcore")
    options.add_options(group.addoption)
    for flag, kwargs in REPORT_OPTIONS.items():
        group.addoption(flag, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    """Validate the suite's options. On a claims run: on an xdist worker, one intra-op thread and a
    watch on the controller; on the controller, SIGTERM taken as Ctrl-C and the report writer."""
    try:
        profile = selected_profile(config)
        device = resolve_device(config.getoption("--device"))
    except ValueError as err:
        raise pytest.UsageError(str(err)) from err
    load_property_settings()
    if config.option.verbose > 0:
        os.environ["REPCORE_VERBOSE"] = "1"  # training's details, in every process of the run
    if hasattr(config, "workerinput"):
        one_thread_per_worker()
        threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
        return
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        check_report_dir(Path(config.getoption("--report-dir")))
    except ReportDirError as err:
        raise pytest.UsageError(str(err)) from err
    datasets = sorted({DISPLAY_NAMES[spec.data.name] for spec in profile.models.values()})
    config.pluginmanager.register(
        ClaimsReport(config, session_header(config, profile, device, datasets)), "repcore-claims-report")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Before xdist workers start, prepare the models (``ModelSource.prepare``): train the
    profile's missing models with visible progress, or load every checkpoint of a manifest once (a
    bad one stops the run, one line, exit 4). ``--no-prebuild`` skips it.

    Runs on the controller (or a run without xdist) only; workers then load from the cache. Each
    spec is still guarded by its lock, so a worker never trains what is being trained here.
    """
    config = session.config
    if hasattr(config, "workerinput"):
        return
    if config.getoption("--no-prebuild"):
        return
    profile = selected_profile(config)
    device = resolve_device(config.getoption("--device"))
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        try:
            cache_dir = config.getoption("--cache-dir") or default_cache_dir()
            source = model_source(profile)
            trained = source.prepare(cache_dir, config.getoption("--data-root"), device,
                                     config.getoption("--jobs") or default_jobs(device),
                                     cluster=options.cluster_options(config.getoption, cache_dir, device))
            report = config.pluginmanager.get_plugin("repcore-claims-report")
            if trained:
                report.header["prebuild"] = (f"{sum(trained.values())} models trained, "
                                             f"{len(trained) - sum(trained.values())} read from the cache")
            report.header.update(attacked(profile, source.test_images(cache_dir, config.getoption("--data-root"))))
            for warning in too_little_data(report.header):
                print(f"warning: {warning}", file=sys.stderr)
                report.errors.append(warning)
        except CheckpointError as err:
            pytest.exit(f"cannot run the claims on {profile.checkpoints.path}: {err}",
                        returncode=pytest.ExitCode.USAGE_ERROR)
        except BUILD_ERRORS as err:
            pytest.exit(f"cannot build the {profile.name} zoo: {err}", returncode=pytest.ExitCode.USAGE_ERROR)


def attacked(profile: Profile, test_images: int) -> dict:
    """What the header says of the images: the claims' test images and how many each attack ran on."""
    return {"claims_test_images": test_images,
            "attacked_images": {name: min(attacked_images(profile, config), test_images)
                                for name, config in profile.attacks.items()}}


def too_little_data(header: dict) -> list[str]:
    """What the run will lack data for, said before it starts: C9's alignment bins need
    ``FEWEST_CLEAN_CORRECT`` clean-correct images of each weak attack (about twice that at 50% accuracy)."""
    short = {name: n for name, n in header["attacked_images"].items()
             if name in ("FGSM", "PGD^w", "AA^w") and n < 2 * FEWEST_CLEAN_CORRECT}
    if not short:
        return []
    return [f"C9 needs at least {FEWEST_CLEAN_CORRECT} clean-correct images of each weak attack ({MIN_PER_BIN} in each "
            f"of its fewest bins); {', '.join(f'{name} attacks {n}' for name, n in short.items())} test images, "
            "so expect 'too little data' there: more test images (n_test) would decide it"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A claim test that uses the models runs once per setting (dataset x architecture) of the
    profile, on every seed of that setting at once: the training run is the unit of replication."""
    if "runs" in metafunc.fixturenames and in_claims(metafunc.config, metafunc.definition.path):
        profile = selected_profile(metafunc.config)
        if len(profile.settings) > 1:
            metafunc.parametrize("runs", list(profile.settings), indirect=True, ids=list(profile.settings),
                                 scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A claim test whose module names no claim of ``repcore.report.claims.CLAIMS`` is an error
    here, at collection: the report would leave its verdicts out."""
    unregistered = sorted({item.nodeid.split("::")[0] for item in items
                           if in_claims(config, item.path) and claim_of(item.nodeid) is None})
    if unregistered:
        raise pytest.UsageError(
            f"{', '.join(unregistered)}: no claim registered for this module; name it claims/test_<id>_*.py "
            "with <id> a claim of repcore/report/claims.py (CLAIMS), or add the claim there")


@pytest.fixture(scope="session")
def profile(pytestconfig: pytest.Config) -> Profile:
    return selected_profile(pytestconfig)


@pytest.fixture(scope="session")
def device(pytestconfig: pytest.Config) -> torch.device:
    return resolve_device(pytestconfig.getoption("--device"), os.environ.get("PYTEST_XDIST_WORKER"))


@pytest.fixture(scope="session")
def runs(request: pytest.FixtureRequest, pytestconfig: pytest.Config, profile: Profile,
         device: torch.device) -> SettingRuns:
    """One setting's models, one replicate per seed, loaded on first use: the profile's only
    setting, or this test's parameter. Session-scoped and parametrized, so pytest runs a setting's
    tests together and holds one setting's models at a time. Seed spreads are the profile's, or for
    external checkpoints measured on the hard-label models under test. In the sequential mode the
    later seeds' replicates wait beside them, trained when a criterion first reads them."""
    setting = getattr(request, "param", next(iter(profile.settings)))
    cache_dir = pytestconfig.getoption("--cache-dir") or default_cache_dir()
    source = model_source(profile, MeasuredSpread)
    log = visible_log(pytestconfig)

    def zoos(replicates) -> list[Zoo]:
        return [Zoo(profile, replicate, cache_dir, pytestconfig.getoption("--data-root"), device, log, source)
                for replicate in replicates]

    first = zoos(profile.setting_replicates(setting))
    return SettingRuns(profile, setting, first, source.spreads(first), zoos(profile.later_replicates(setting)))


def visible_log(config: pytest.Config):
    """The zoo's log during the tests: each line (what a test computes because the cache lacks it,
    a model trained for a later look, representations, an attack) printed past pytest's capture,
    from a worker too, so long work is seen as it happens."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")

    def log(line: str) -> None:
        with capture.global_and_fixture_disabled():
            print(f"[zoo{' ' + worker if worker else ''}] {line}", file=sys.stderr, flush=True)

    return log


class ClaimCheck:
    """How a claim test ends: it records its verdict for the report, then passes only if supported.
    A negative control records its verdict too and fails if it comes out supported: the claim's
    test could then not tell the claimed effect from its absence."""

    def __init__(self, record_property):
        self._record = record_property

    def supported(self, verdict: Verdict) -> None:
        """Record ``verdict``; fail (refuted or inconclusive, with the reason) unless supported."""
        self._record(protocol.VERDICT, verdict.record())
        if not verdict.supported:
            pytest.fail(verdict.summary(), pytrace=False)

    def holds_for_all(self, claim: str, statistic: str, cases: int) -> None:
        """Record a property that held for every generated case (a failing case fails the test)."""
        self.supported(holds_for_all(claim, statistic, cases))

    def not_supported(self, verdict: Verdict) -> None:
        """Record a negative control's ``verdict``; fail if the control came out supported."""
        self._record(protocol.CONTROL, verdict.record())
        if verdict.supported:
            pytest.fail("negative control came out SUPPORTED, so the test does not discriminate: "
                        + verdict.summary(), pytrace=False)

    def evidence(self, model: str, **metrics: float) -> None:
        """Per-model figures for the report's evidence tables (plain floats)."""
        self._record(protocol.EVIDENCE, {"model": model, "metrics": {k: float(v) for k, v in metrics.items()}})

    def attack_checks(self, model: str, outcome) -> None:
        """AutoAttack's own warnings (randomized model, gradient masking, too few classes) on the
        attack outcome of ``model``, shown beside the robustness verdict."""
        for message in outcome.checks:
            self._record(protocol.ATTACK_CHECK, {"model": model, "attack": outcome.config.name, "message": message})


@pytest.fixture
def check(record_property) -> ClaimCheck:
    return ClaimCheck(record_property)


def setting_of(node: pytest.Item) -> str | None:
    """The setting a test runs on in a profile with several settings (its ``runs`` parameter)."""
    callspec = getattr(node, "callspec", None)
    return callspec.params.get("runs") if callspec else None


@pytest.fixture
def figure(request, record_property, profile):
    """``figure(fig, caption)``: a matplotlib figure for the report, sent as PNG bytes with the
    test's verdicts; ``ClaimsReport`` writes it. Figures show the first seed of the first setting
    (one set, not one per run)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("claims/")[-1])
    shown = setting_of(request.node) in (None, next(iter(profile.settings)))
    count = 0

    def save(fig, caption: str) -> None:
        import matplotlib.pyplot as plt
        nonlocal count
        if shown:
            count += 1
            png = io.BytesIO()
            fig.savefig(png, format="png", dpi=90)
            record_property(protocol.FIGURE, {"path": f"{stem}-{count}.png", "caption": caption, "png": png.getvalue()})
        plt.close(fig)

    return save


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tell the report which setting this test's verdicts belong to."""
    setting = setting_of(item)
    if setting and in_claims(item.config, item.path):
        item.user_properties.append((protocol.SETTING, setting))


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """A test that asks for a role the models do not hold (a checkpoint manifest with some roles
    only) is skipped, saying which; the report collects the roles the skipped tests need."""
    try:
        return (yield)
    except MissingRole as err:
        pyfuncitem.user_properties.append((protocol.NEEDS, list(err.roles)))
        pytest.skip(f"not in this run: {err}")


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    """A claim test that came out refuted or inconclusive is a verdict, not a failure: counted and
    shown as such ("R" / "I"), with its verdict line, never as a FAILED block (pytest's exit
    status stays 1 for it)."""
    if report.when != "call" or not report.failed:
        return None
    outcomes = [value["outcome"] for name, value in report.user_properties if name == protocol.VERDICT]
    if dict(report.user_properties).get(protocol.EXCEPTION) not in ("Failed", None) or not outcomes:
        return None
    outcome = "refuted" if "refuted" in outcomes else "inconclusive"
    return outcome, outcome[0].upper(), outcome.upper()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Record the exception type of a failure, so the report tells errors from refutations."""
    report = yield
    if call.excinfo is not None and report.when == "call":
        report.user_properties.append((protocol.EXCEPTION, call.excinfo.typename))
    if report.when == "call":
        report.user_properties.append((protocol.ARTIFACTS, [list(entry) for entry in drain_ledger()]))
    return report


class ClaimsReport:
    """The controller's end of the xdist wire (the only process without xdist): it reads the
    ``user_properties`` the workers' fixtures wrote (``check``, ``figure``, the hooks above) from
    each test report and writes ``claims.json``, ``claims.html`` and the figures at session end."""

    def __init__(self, config: pytest.Config, header: dict):
        self.config, self.header = config, header
        self.tests: dict[str, dict] = {}
        self.pngs: dict[str, bytes] = {}  # figure file name -> PNG, written with the report
        self.collected: dict[str, set[str]] = {}
        self.start = time.time()
        self.paths: tuple[Path, Path] | None = None
        self.document: dict | None = None
        self.errors: list[str] = []  # shown at the end of the terminal summary
        self.artifacts: dict[tuple[str, str], bool] = {}  # (kind, name) -> computed in this run
        self.previous = previous_report(config.getoption("--previous-report"))

    def _collect(self, nodeids) -> None:
        for nodeid in nodeids:
            claim = claim_of(nodeid)
            if claim is not None:
                self.collected.setdefault(claim, set()).add(nodeid)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._collect(item.nodeid for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self._collect(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        claim = claim_of(report.nodeid)
        if claim is None:
            return
        test = self.tests.setdefault(report.nodeid, {
            "nodeid": report.nodeid, "claim": claim, "outcome": "passed", "message": "", "duration": 0.0,
            **{key: [] for key in protocol.LISTS.values()}, "setting": None, "needs": [], "finished": False})
        test["duration"] = round(test["duration"] + report.duration, 3)
        if report.when == "teardown":
            test["finished"] = True
        if report.when == "call" or report.outcome != "passed":
            for name, value in report.user_properties:
                if name == protocol.ARTIFACTS:
                    for kind, artifact, computed in value:
                        self.artifacts[kind, artifact] = self.artifacts.get((kind, artifact), False) or computed
                if name == protocol.SETTING:
                    test["setting"] = value
                if name == protocol.NEEDS:
                    test["needs"] = value
                if name == protocol.FIGURE:
                    value = self._keep_png(value)
                key = protocol.LISTS.get(name)
                if key and value not in test[key]:
                    test[key].append(value)
        if report.skipped:
            test["outcome"] = "skipped"
            test["message"] = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        elif report.failed:
            exception = dict(report.user_properties).get(protocol.EXCEPTION, "")
            is_error = report.when != "call" or exception not in ("", "AssertionError", "Failed")
            test["outcome"] = "error" if is_error else "failed"
            test["message"] = short_message(report)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.tests and not self.collected or self.config.getoption("collectonly"):
            return
        stopped = bool(session.shouldstop or session.shouldfail)
        selected = selection(self.config, set(self.collected))
        header = {**self.header,
                  "duration_s": round(time.time() - self.start, 1), "artifacts": self._artifact_counts(),
                  "exit_status": int(exitstatus),
                  "interrupted": int(exitstatus) == int(pytest.ExitCode.INTERRUPTED) or stopped,
                  "partial": selected is not None, "selection": selected,
                  "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        document = self.document = build_document(list(self.tests.values()), header,
                                                  {claim: len(ids) for claim, ids in self.collected.items()},
                                                  self.previous)
        if not any(t["verdicts"] or t["controls"] for t in self.tests.values()) and exitstatus == 0:
            self.errors.append("no criterion ran (every test was skipped): a run without verdicts is not a success")
            session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
        self.pngs.update(add_forest_plots(document))
        report_dir = Path(self.config.getoption("--report-dir"))
        try:
            self.paths = self._write(document, report_dir, self.pngs)
        except OSError as err:
            fallback = Path(tempfile.mkdtemp(prefix="repcore-report-"))
            self.paths = self._write(document, fallback, self.pngs)
            self.errors.append(f"could not write the report to {report_dir} ({err}); it is in {fallback}")
            print(f"error: {self.errors[-1]}", file=sys.stderr)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def _artifact_counts(self) -> dict[str, dict[str, int]]:
        """Per kind (models, attack outcomes), how many the tests read from the cache and how many
        this run computed (trained, attacked): what a duration is made of."""
        counts: dict[str, dict[str, int]] = {}
        for (kind, _), computed in self.artifacts.items():
            tally = counts.setdefault(kind, {"from the cache": 0, "computed in this run": 0})
            tally["computed in this run" if computed else "from the cache"] += 1
        return counts

    def _keep_png(self, figure: dict) -> dict:
        """The figure's record without its PNG, which is kept for the report's figures folder."""
        self.pngs[figure["path"]] = figure["png"]
        return {"path": figure["path"], "caption": figure["caption"]}

    @staticmethod
    def _write(document: dict, report_dir: Path, pngs: dict[str, bytes]) -> tuple[Path, Path]:
        json_path, html_path = report_paths(report_dir, document["complete"])
        folder = figures_folder(document["complete"])
        figures = [f for claim in document["claims"] for f in claim["figures"]]
        names = [Path(f["path"]).name for f in figures]
        for f, name in zip(figures, names, strict=True):
            f["path"] = f"{folder}/{name}"
        replace_folder(report_dir / folder, {name: pngs[name] for name in names})
        write_document(document, json_path)
        atomic_write(html_path, render_html(document, report_dir).encode())
        if document["complete"]:
            for stale in report_paths(report_dir, complete=False):
                stale.unlink(missing_ok=True)
            shutil.rmtree(report_dir / figures_folder(complete=False), ignore_errors=True)
        return json_path, html_path

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.paths is None:
            return
        document = self.document
        tr = terminalreporter
        tr.section("repcore claims")
        for population in document["populations"]:
            tr.write_line(f"about: {population['text']}")
        seeds = len(document["seeds"]["replicates"])
        for claim in document["claims"]:
            if claim["settings"] or not claim["deciding"]:
                statistic = claim["reason"]  # it counts the tests that did not run
            else:
                statistic = deciding_line(claim["deciding"]) + not_run_note(claim["not_run"])
            more = f" [{claim['seeds_used']} seeds]" if claim["seeds_used"] > seeds else ""
            tr.write_line(f"{claim['id']:<4} {claim['verdict'].upper():<13}{more} {statistic[:170]}")
        counts = ", ".join(f"{n} {o}" for o, n in document["counts"].items() if n)
        tr.write_line(f"claims: {counts}")
        tr.write_line(regime_line(document["regime"]))
        if not document["complete"]:
            why = document.get("selection") or "interrupted or stopped early"
            tr.write_line(f"partial report ({why}): written beside the last complete report, not over it")
        for error in self.errors:
            tr.write_line(f"error: {error}", red=True)
        tr.write_line(f"report: {self.paths[1].resolve()}  (data: {self.paths[0]})")
