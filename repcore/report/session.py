"""What the claims report's writer (``repcore.pytest_plugin.ClaimsReport``) needs besides the
test reports: the session header (provenance), whether the run is partial, where the files go and
the terminal lines.

A finished report is never lost: files are written atomically; a run that is not complete
(interrupted, stopped early, any selection: ``-k``, ``-m``, ``--deselect``, a path inside
``claims/``) writes ``claims.partial.json``/``.html`` and its figures
(``figures.partial/``) beside the last complete report instead of over it; the figures folder is
replaced whole, so it holds one run's figures and nothing older; a report folder that cannot be
written is refused before any test runs, and if writing still fails at the end the report goes to
a temporary folder, named.
"""

import datetime
import importlib.metadata
import math
import platform
import subprocess
import tempfile
from pathlib import Path

import pytest
import torch

from repcore.fixtures.sources import model_source
from repcore.report.claims import CLAIMS
from repcore.report.compare import read_report
from repcore.report.document import forest_panels


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_revision(root: Path) -> str:
    """The git revision of the checkout whose top folder is ``root`` (+dirty with uncommitted
    changes), or, where repcore does not run from its checkout (a wheel installed into a venv that
    may sit inside some other repository), the installed version."""
    installed = f"none: repcore {_version('repcore')} installed, not a checkout"
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        if Path(top).resolve() != root.resolve():
            return installed
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return installed


class ReportDirError(OSError):
    """The report folder cannot be written."""


def check_report_dir(report_dir: Path, option: str = "--report-dir") -> None:
    """Create ``report_dir`` and write a probe file there, or raise ``ReportDirError`` saying why
    (``option`` names the option that chose the folder)."""
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=report_dir, prefix=".write-probe-"):
            pass
    except OSError as err:
        raise ReportDirError(f"{option} {report_dir} is not a folder this run can write "
                             f"({err.strerror or err}); pass {option} with a writable folder") from err


def previous_report(path: Path | None) -> dict | None:
    """The claims report at ``path`` (``--previous-report``) with its path, or ``UsageError``."""
    if path is None:
        return None
    try:
        return {**read_report(Path(path)), "path": str(path)}
    except (OSError, ValueError) as err:
        raise pytest.UsageError(f"--previous-report {path} is not a readable claims report ({err})") from err


def selection(config: pytest.Config, collected_claims: set[str]) -> str | None:
    """Why this run selected only some claim tests (so its report is partial), or None: a ``-k``,
    ``-m`` or ``--deselect``, a path inside ``claims/`` (a module or a test), or a registered claim
    of which no test was collected."""
    for flag, option in (("-k", "keyword"), ("-m", "markexpr"), ("--deselect", "deselect")):
        if config.getoption(option):
            return f"{flag} {config.getoption(option)}"
    folders = claims_folders(config)
    for arg, path in zip(config.args, argument_paths(config), strict=True):
        if "::" in arg or any(path != folder and folder in path.parents for folder in folders):
            return f"the path {arg}"
    missing = [claim for claim in CLAIMS if claim not in collected_claims]
    return f"no test of {', '.join(missing)} collected" if missing else None


CLAIMS_FOLDERS = pytest.StashKey[set]()


def mark_claims_folder(config: pytest.Config, folder: Path) -> None:
    """Record ``folder`` as a folder of claim modules (its conftest registered the claims plugin)."""
    config.stash.setdefault(CLAIMS_FOLDERS, set()).add(Path(folder).resolve())


def claims_folders(config: pytest.Config) -> frozenset[Path]:
    """The folders of claim modules in this session: those whose conftest registered the plugin."""
    return frozenset(config.stash.get(CLAIMS_FOLDERS, set()))


def argument_paths(config: pytest.Config) -> list[Path]:
    """The paths the run's arguments name."""
    return [Path(arg.split("::")[0]).resolve() for arg in config.args]


def figures_folder(complete: bool) -> str:
    """The figures' folder inside the report folder: ``figures`` for a complete run, else
    ``figures.partial``."""
    return "figures" if complete else "figures.partial"


def report_paths(report_dir: Path, complete: bool) -> tuple[Path, Path]:
    """(json, html): ``claims.*`` for a complete run, ``claims.partial.*`` beside them otherwise."""
    stem = "claims" if complete else "claims.partial"
    return report_dir / f"{stem}.json", report_dir / f"{stem}.html"


def add_forest_plots(document: dict) -> dict[str, bytes]:
    """A forest plot for each claim with criteria decided over seeds, first among its figures:
    {file name: PNG}."""
    import io

    import matplotlib.pyplot as plt

    from repcore.report.figures import forest

    pngs = {}
    for claim in document["claims"]:
        panels = forest_panels(claim)
        if not panels:
            continue
        fig = forest(panels, f"{claim['id']}: each criterion's seed-level interval against its bound")
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=90)
        plt.close(fig)
        name = f"{claim['id']}-forest.png"
        pngs[name] = png.getvalue()
        claim["figures"].insert(0, {"path": name, "caption": (
            "Each criterion: its seed-level 95% interval (green supported, red refuted, orange inconclusive), "
            "the mean (circle), each seed's value (dots) and the bound (red bar; two for an equivalence).")})
    return pngs


def deciding_line(verdict: dict) -> str:
    """A criterion in one line: statistic, value, interval, its effect in seed spreads (a
    comparison), the level a refutation holds at, and if undecided, why (its reason alone where it
    has no value: an undefined tolerance, too few samples)."""
    if not all(map(math.isfinite, (verdict["value"], verdict["ci_low"], verdict["ci_high"], verdict["bound"]))):
        return f"{verdict['statistic']}: {verdict['reason']}"
    claim = f"inside ±{verdict['bound']:.3g}" if verdict["direction"] == "inside" else \
        f"{verdict['direction']} {verdict['bound']:.3g}"
    line = (f"{verdict['statistic']} = {verdict['value']:.4g} [{verdict['ci_low']:.4g}, {verdict['ci_high']:.4g}]"
            f" ({claim})")
    spread = verdict.get("spread")
    if spread and spread.get("effect_over_spread") is not None:
        line += f" = {spread['effect_over_spread']:+.1f} seed spreads ({spread['spread']:.3g})"
    if verdict["outcome"] == "refuted" and verdict.get("decided_at"):
        line += f", refuted at {verdict['decided_at']['level']:.2%} (Holm, {verdict['decided_at']['criteria']})"
    undecided = verdict.get("undecided")
    if undecided:
        needed = undecided.get("seeds_needed")
        line += f": {undecided['kind']}" + (f" (about {needed} seeds)" if needed else "")
    elif verdict["outcome"] == "inconclusive":
        line += f": {verdict['reason'].split(': ')[0]}"
    return line


def regime_line(checks: list[dict]) -> str:
    """The regime checks in one line: all met on every seed, or which seeds miss which."""
    if not checks:
        return "regime: no precondition ran"
    missed = [f"{c['statistic']} (seeds {', '.join(map(str, c['missed_by']))})" for c in checks if c["missed_by"]]
    if not missed:
        return f"regime: all {len(checks)} checks hold on every seed"
    return f"regime: {len(missed)} of {len(checks)} checks missed by some seed: " + "; ".join(missed)


def short_message(report: pytest.TestReport) -> str:
    text = report.longreprtext or ""
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (" ".join(errors) if errors else (lines[-1] if lines else ""))[:2000]


def unit_of_replication(profile) -> str:
    """How this run's intervals are built, for the report header."""
    if len(profile.seeds) == 1:
        return ("single seed: sample variance only. Every interval is a bootstrap over test samples of one "
                "training run; it does not cover seed-to-seed variation (use 3 or more seeds to compare models).")
    return (f"the training run: {len(profile.seeds)} seeds ({', '.join(map(str, profile.seeds))}) per role. "
            "Each criterion takes one estimate per seed and is decided on "
            "mean +- sqrt((t(S-1) s_b/sqrt(S))^2 + (z se)^2): "
            "s_b the spread between seeds; se the test-sample standard error of the mean, from one joint "
            "bootstrap of the test images that every seed's models share (the same resample applied to all "
            "runs at once), or the mean of the runs' errors where their resamples are not shared. Intervals "
            "stay inside each statistic's range." + model_source(profile).replication_note)


def session_header(config: pytest.Config, profile, device: torch.device, datasets: list[str]) -> dict:
    """Provenance: profile, data (display names), device, seeds, versions, git revision, date."""
    from repcore.fixtures.data import held_out_description
    from repcore.stats import SEED
    source = model_source(profile)
    return {
        "profile": profile.name, "profile_description": profile.description,
        "attack_note": profile.attack_note,
        "attacks": {name: cfg.describe() for name, cfg in profile.attacks.items()},
        "datasets": datasets,
        "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else
                                 f" ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"),
        "seeds": {"training": source.training_seeds(), "replicates": list(profile.seeds), "bootstrap": SEED,
                  "hypothesis": "derandomized"},
        "settings": list(profile.settings),
        "setting_specs": source.setting_specs(),
        "roles": list(profile.regularized.values()),
        "test_images": profile.test_images,
        "seed_spread": {name: {"spread": c.spread, "largest": c.largest, "evidence": c.describe()}
                        for name, c in profile.seed_spread.items()},
        "sequential": profile.sequential and {**profile.sequential.describe(),
                                              "later_seeds": list(profile.later_seeds)},
        "unit_of_replication": unit_of_replication(profile),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "torchvision": _version("torchvision"), "repcore": _version("repcore"),
                     "pyautoattack": _version("pyautoattack"), "scipy": _version("scipy")},
        **source.provenance(),
        "held_out": held_out_description(next(iter(profile.settings.values())).data),
        "git_revision": git_revision(Path(__file__).resolve().parents[2]),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "pytest " + " ".join(config.invocation_params.args),
    }
