"""Your own models, first class: each fault measured on the checkpoint path has a test here.

The end-to-end tests train tiny hard and LS models for two seeds, save their state dicts as a user
would, and run every claim on a manifest of hard + LS only.
"""

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from repcore.fixtures.checkpoints import CheckpointError, read_manifest
from repcore.fixtures.data import load_dataset
from repcore.fixtures.profiles import get_profile
from repcore.fixtures.roles import NEXT_SEED
from repcore.fixtures.spec import DataSpec, ModelSpec
from repcore.fixtures.artifacts import ZooModel, load_or_train
from repcore.fixtures.zoo import Zoo, held_out_warnings
from repcore import regime
from repcore.features import Representations
from repcore.report.document import build_document, forest_panels
from repcore.report.render import render_html
from tests.conftest import TINY
from tests.test_report import HEADER, _test, _verdict

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2)  # three seeds per compared role: two pairs of hard seeds for the next-seed controls
MANIFEST = f"""dataset = "embedded"
n_train = {TINY.data.n_train}
n_val = {TINY.data.n_val}
n_test = {TINY.data.n_test}
arch = "small_cnn"
num_classes = 10

[recipe]
epochs = {TINY.epochs}

[[models.hard]]
file = "hard_s{{seed}}.pt"
seeds = [0, 1, 2]

[[models.ls]]
file = "ls_s{{seed}}.pt"
seeds = [0, 1, 2]
"""


@pytest.fixture(scope="module")
def own_models(tmp_path_factory) -> Path:
    """Tiny hard and LS models of three seeds, saved as plain state dicts beside a manifest of the
    shared-fields-and-seed-pattern form."""
    folder = tmp_path_factory.mktemp("own")
    ls = replace(TINY, regularizer="label_smoothing", smoothing=0.1)
    for seed in SEEDS:
        for role, spec in (("hard", TINY), ("ls", ls)):
            model = load_or_train(role, replace(spec, seed=seed), folder / "zoo", None, torch.device("cpu"),
                                  log=lambda line: None)
            torch.save(model.model.state_dict(), folder / f"{role}_s{seed}.pt")
    (folder / "models.toml").write_text(MANIFEST)
    return folder


@pytest.fixture(scope="module")
def hard_and_ls_report(own_models, tmp_path_factory) -> dict:
    """Every claim run on the hard + LS manifest (the smoke profile's attacks, AutoAttack included)."""
    report = tmp_path_factory.mktemp("report")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "claims", "-q", "-p", "no:cacheprovider", "--device", "cpu",
         "--checkpoints", str(own_models / "models.toml"), "--cache-dir", str(own_models / "cache"),
         "--report-dir", str(report)], cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    check = subprocess.run([sys.executable, "-m", "repcore.report", "check", str(report / "claims.json")],
                           cwd=ROOT, capture_output=True, text=True)
    return {"document": json.loads((report / "claims.json").read_text()), "stdout": run.stdout,
            "check": check.returncode, "dir": report}


# 1. Every criterion runs on exactly the roles it compares -------------------------------------

def test_no_claim_errors_on_a_manifest_of_hard_and_ls_and_the_report_passes_check(hard_and_ls_report):
    claims = {c["id"]: c for c in hard_and_ls_report["document"]["claims"]}
    assert len(claims) == 15
    assert not [c["id"] for c in claims.values() if c["verdict"] == "errored"]
    assert hard_and_ls_report["check"] == 0
    for claim in ("C1", "A1"):  # their controls need the 2-D models: skipped, naming them
        assert "bottleneck_bias" in claims[claim]["not_run"]["needs"]


def test_c7s_ls_criteria_run_without_a_mixup_model(hard_and_ls_report):
    (c7,) = [c for c in hard_and_ls_report["document"]["claims"] if c["id"] == "C7"]
    outcomes = {t["nodeid"].split("::")[1]: t["outcome"] for t in c7["tests"]}
    assert outcomes["test_soft_labels_improve_calibration[LS]"] != "skipped"
    assert outcomes["test_soft_labels_improve_calibration[Mixup]"] == "skipped"


def test_a_verdict_says_how_many_criteria_did_not_run_and_which_roles_they_need(hard_and_ls_report):
    for claim in hard_and_ls_report["document"]["claims"]:
        if claim["not_run"]:
            assert "not run (need" in claim["reason"], claim["reason"]
    c4 = next(c for c in hard_and_ls_report["document"]["claims"] if c["id"] == "C4")
    assert c4["not_run"]["needs"] == ["cutmix", "ls_0.05", "mixup"]
    assert "not run (need cutmix, ls_0.05, mixup)" in hard_and_ls_report["stdout"]


def test_a_skipped_test_records_the_roles_it_needed_in_the_document():
    tests = [_test("C4", verdicts=[_verdict("C4", "supported")], name="a"),
             {**_test("C4", outcome="skipped", name="b"), "needs": ["mixup"]},
             {**_test("C4", outcome="skipped", name="test_control_x"), "needs": ["hard_seed1"]}]
    (claim,) = build_document(tests, HEADER)["claims"]
    assert claim["reason"] == ("supported on 1 of 2 criteria; 1 criteria and 1 control(s) not run "
                               "(need hard_seed1, mixup)")
    assert claim["not_run"]["criteria"] == 1 and claim["not_run"]["controls"] == 1


# 2. Decided on the models under test ---------------------------------------------------------

def test_two_hard_seeds_give_the_next_seed_control_its_model(own_models):
    manifest = read_manifest(own_models / "models.toml")
    assert manifest.roles(0)[NEXT_SEED].file == manifest.roles(1)["hard"].file
    assert NEXT_SEED not in manifest.roles(2)  # the last seed has no next one


def test_the_next_seed_controls_run_and_spreads_come_from_the_models_under_test(hard_and_ls_report):
    """C4's and C5's next-seed controls are real controls (bound 0, as the claims); the seed spread
    beside each comparison is measured on the hard-label models under test, not borrowed."""
    claims = {c["id"]: c for c in hard_and_ls_report["document"]["claims"]}
    for claim in ("C4", "C5"):
        (control,) = [t for t in claims[claim]["tests"] if "another_hard_seed" in t["nodeid"]]
        assert control["outcome"] != "skipped" and [p["seed"] for p in control["controls"][0]["per_seed"]] == [0, 1]
        assert control["controls"][0]["bound"] == 0.0 and not control["controls"][0]["bound_evidence"]
        (verdict,) = [v for t in claims[claim]["tests"] if "[LS]" in t["nodeid"] for v in t["verdicts"]]
        assert verdict["bound"] == 0.0 and verdict["spread"]["pairs"] == 2
        assert "the hard-label models under test (each seed of 0, 1 against the next)" in verdict["spread"]["evidence"]
    assert hard_and_ls_report["document"]["seed_spread"] == {}


# 3. The held-out split -----------------------------------------------------------------------

def test_the_held_out_images_are_the_manifests_to_set(tmp_path):
    spec = DataSpec("embedded", n_train=96, n_val=32, n_test=64)
    half = load_dataset(replace(spec, held_out="test_half"), None)
    whole = load_dataset(spec, None)
    assert torch.equal(half.val.x, whole.test.x[:32]) and torch.equal(half.test.x, whole.test.x[32:])
    listed = load_dataset(replace(spec, held_out=(0, 5, 7)), None)
    assert len(listed.val) == 3 and len(listed.train) == 96
    with pytest.raises(ValueError, match="held_out: the indices must be distinct"):
        load_dataset(replace(spec, held_out=(0, 0, 500)), None)
    (tmp_path / "m.toml").write_text('dataset = "embedded"\nheld_out = "first"\n[[models.hard]]\nfile = "m.toml"\n'
                                     'num_classes = 10\narch = "small_cnn"\n')
    with pytest.raises(CheckpointError, match='held_out must be "train", "test_half", a list'):
        read_manifest(tmp_path / "m.toml")
    for value, words in (('"8000:9000"', None), ('"9000:8000"', "a range is"), ('"a:b"', "a range is")):
        (tmp_path / "m.toml").write_text(f'dataset = "embedded"\nheld_out = {value}\n[[models.hard]]\n'
                                         'file = "m.toml"\nnum_classes = 10\narch = "small_cnn"\n')
        if words is None:
            assert read_manifest(tmp_path / "m.toml").data.held_out == tuple(range(8000, 9000))
        else:
            with pytest.raises(CheckpointError, match=words):
                read_manifest(tmp_path / "m.toml")


def test_the_default_held_out_split_keys_zoo_models_as_before():
    assert "held_out" not in ModelSpec().to_dict()["data"]
    listed = ModelSpec(data=DataSpec(held_out=(1, 2)))
    assert ModelSpec.from_dict(json.loads(json.dumps(listed.to_dict()))) == listed


def _zoo_with(val_correct: float, test_correct: float, n: int = 1000) -> Zoo:
    """A zoo of one model whose calibration and test predictions are right on the given shares."""
    def reps(share: float) -> Representations:
        labels = torch.zeros(n, dtype=torch.long)
        logits = torch.zeros(n, 10)
        logits[: int(share * n), 0] = 5.0
        logits[int(share * n):, 1] = 5.0
        return Representations(torch.ones(n, 4), logits, labels)

    profile = get_profile("smoke")
    zoo = Zoo(profile, profile.replicates[0], Path("."), None, torch.device("cpu"))
    zoo._loaded["hard"] = ZooModel("hard@s0", ModelSpec(), None, reps(val_correct), reps(test_correct), {})
    return zoo


def test_calibration_images_trained_on_are_flagged_beside_the_criteria_that_use_them():
    (warning,) = held_out_warnings([_zoo_with(0.95, 0.70)])
    assert warning.startswith("hard@s0: the calibration images look trained on: accuracy 95.0%")
    assert held_out_warnings([_zoo_with(0.72, 0.70)]) == ()
    assert regime.held_out_excess(np.ones(100), np.r_[np.ones(97), np.zeros(3)]) == ""


# 4. One screen -----------------------------------------------------------------------------

def test_the_report_opens_with_your_models_in_readable_names(hard_and_ls_report):
    overview = hard_and_ls_report["document"]["overview"]
    assert [r["role"] for r in overview["rows"]] == ["hard", "ls"]
    assert list(overview["columns"])[0] == "accuracy" and overview["columns"]["ece_pct"] == "ECE %"
    accuracy = overview["rows"][0]["cells"]["accuracy"]
    assert accuracy["seeds"] == 3 and accuracy["low"] <= accuracy["mean"] <= accuracy["high"]
    html = (hard_and_ls_report["dir"] / "claims.html").read_text()
    assert (html.index("About:") < html.index("the paper's condition") < html.index("<h2>Verdicts</h2>")
            < html.index("Your models") < html.index("<h2>Provenance</h2>"))


def test_the_verdict_table_gives_the_deciding_statistic_and_its_bounds_origin():
    tests = [_test("C4", verdicts=[_verdict("C4", "supported", "far", 0.5),
                                   {**_verdict("C4", "supported", "near", 0.45), "ci_low": 0.41, "ci_high": 0.49,
                                    "bound": 0.4, "bound_evidence": "2x the largest change"}], name="a")]
    (claim,) = build_document(tests, HEADER)["claims"]
    assert claim["deciding"]["statistic"] == "near" and claim["deciding"]["bound_origin"] == "2x the largest change"
    tests = [_test("C4", outcome="failed", verdicts=[_verdict("C4", "supported", "a"), _verdict("C4", "refuted", "b")])]
    assert build_document(tests, HEADER)["claims"][0]["deciding"]["statistic"] == "b"


def test_a_control_as_required_shows_passed_and_skipped_tests_collapse(tmp_path):
    tests = [_test("C4", verdicts=[_verdict("C4", "supported")], name="a"),
             _test("C4", controls=[{**_verdict("C4", "refuted"), "statistic": "next seed"}], name="test_control_y"),
             {**_test("C4", outcome="skipped", name="b"), "needs": ["mixup"]}]
    html = render_html(build_document(tests, HEADER), tmp_path)
    assert '<span class="badge passed">passed</span> the test discriminates' in html
    assert '<span class="badge skipped">not run</span>' in html and "they need mixup" in html
    assert 'badge refuted">refuted' not in html.split("Negative control")[1]


# 5. Pictures ---------------------------------------------------------------------------------

def test_a_forest_plot_per_comparison_claim(hard_and_ls_report):
    claims = {c["id"]: c for c in hard_and_ls_report["document"]["claims"]}
    assert claims["C4"]["figures"][0]["path"] == "figures/C4-forest.png"
    assert (hard_and_ls_report["dir"] / "figures" / "C4-forest.png").stat().st_size > 1000
    panels = forest_panels(claims["C7"])
    assert {"ECE(reg) - ECE(hard)", "mean conf(reg) - mean conf(hard)"} <= set(panels)
    assert [row["label"] for row in panels["ECE(reg) - ECE(hard)"]] == ["ls vs hard"]
    captions = " ".join(f["caption"] for c in claims.values() for f in c["figures"])
    assert "Reliability diagrams" in captions and "hard against each regularizer" in captions


# 6. Text true to the source -----------------------------------------------------------------

def test_a_checkpoint_report_carries_no_zoo_text(hard_and_ls_report):
    document = hard_and_ls_report["document"]
    assert document["seeds"]["training"] == [0, 1, 2]
    assert "first seed only" not in document["unit_of_replication"]
    assert "embedded data" not in document["attack_note"]
    assert document["recipe"] == {"epochs": TINY.epochs}
    assert document["held_out"].startswith(f"{TINY.data.n_val} images held out of the training split")


# 7. A shorter manifest -------------------------------------------------------------------------

def test_shared_fields_and_a_seed_pattern_give_one_entry_per_seed(own_models):
    manifest = read_manifest(own_models / "models.toml")
    assert [(c.role, c.seed, c.file.name, c.arch) for c in manifest.checkpoints] == [
        ("hard", 0, "hard_s0.pt", "small_cnn"), ("hard", 1, "hard_s1.pt", "small_cnn"),
        ("hard", 2, "hard_s2.pt", "small_cnn"), ("ls", 0, "ls_s0.pt", "small_cnn"),
        ("ls", 1, "ls_s1.pt", "small_cnn"), ("ls", 2, "ls_s2.pt", "small_cnn")]


@pytest.mark.parametrize("entry, words", [
    ('file = "hard.pt"\nseeds = [0, 1]', "with seeds, file must name each seed's file with {seed}"),
    ('file = "hard_s{seed}.pt"\nseeds = [0]\nseed = 0', "seeds must be a list of whole numbers, without seed"),
    ('file = "hard_s0.pt"\nepochs = 3', "unknown field(s) epochs"),
])
def test_a_bad_seed_pattern_or_field_is_one_line(own_models, tmp_path, entry, words):
    (tmp_path / "m.toml").write_text(f'dataset = "embedded"\narch = "small_cnn"\nnum_classes = 10\n'
                                     f'[[models.hard]]\n{entry}\n')
    for name in ("hard_s0.pt", "hard.pt"):
        (tmp_path / name).write_bytes((own_models / "hard_s0.pt").read_bytes())
    with pytest.raises(CheckpointError, match=re.escape(words)):
        read_manifest(tmp_path / "m.toml")


# 8. Reports for the group; --co writes none ----------------------------------------------------

def test_collecting_only_writes_no_report(own_models, tmp_path):
    run = subprocess.run([sys.executable, "-m", "pytest", "claims", "--co", "-q", "-p", "no:cacheprovider",
                          "--checkpoints", str(own_models / "models.toml"), "--report-dir", str(tmp_path / "r")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ,
                                                                                     "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert not list((tmp_path / "r").glob("claims*"))


def test_reports_are_readable_by_the_group(hard_and_ls_report):
    umask = os.umask(0)
    os.umask(umask)
    for name in ("claims.json", "claims.html"):
        assert (hard_and_ls_report["dir"] / name).stat().st_mode & 0o777 == 0o666 & ~umask


# Faults found on undertrained models of one's own ----------------------------------------------

def test_alignment_bins_take_fewer_clean_correct_samples_than_bins():
    from repcore.alignment_bins import binned_success
    cos, fooled, kept = np.linspace(0, 1, 6), np.array([0, 1, 0, 1, 0, 1.0]), np.array([0, 0, 0, 0, 1, 1.0])
    rates, counts = binned_success(np.ones(6), cos, fooled, kept, bins=3)
    assert counts.sum() == 2 and np.nansum(rates * counts) == 1


def test_a_temperature_fit_without_optimum_leaves_only_the_t_spreads_unmeasured():
    from repcore.claims.zoo_views import MeasuredSpread
    from repcore.spread import tolerance
    zoos = [_zoo_with(1.0, 0.7), _zoo_with(1.0, 0.7)]  # all calibration images right: T* -> 0
    for zoo in zoos:
        zoo._loaded["hard_seed1"] = zoo._loaded["hard"]
    spreads = MeasuredSpread(zoos)
    assert spreads["temperature_change"].values == () and "temperature" in spreads["temperature_change"].source
    assert np.isnan(tolerance("temperature_tolerance", spreads["temperature_change"]).bound)
    assert spreads["rms_change"].values == (0.0, 0.0)


def test_a_state_dict_of_your_own_cifar_resnet18_class_loads_through_a_factory(tmp_path):
    import shutil

    from repcore.fixtures.checkpoints import load_checkpoint
    shutil.copy(ROOT / "examples" / "cifar_resnet.py", tmp_path / "my_resnet.py")
    shutil.copy(ROOT / "examples" / "cifar_resnet.py", tmp_path / "manifest_resnet.py")  # found beside the manifest
    sys.path.insert(0, str(tmp_path))
    try:
        import my_resnet
        net = my_resnet.resnet18(num_classes=10).eval()
    finally:
        sys.path.remove(str(tmp_path))
    assert {"conv1.weight", "layer2.0.shortcut.0.weight",
            "linear.weight"} <= set(net.state_dict())
    torch.save(net.state_dict(), tmp_path / "hard_s0.pt")
    (tmp_path / "m.toml").write_text('dataset = "cifar10_jpeg"\narch = "manifest_resnet:resnet18"\nnum_classes = 10\n'
                                     'trust_local_code = true\n'
                                     '[[models.hard]]\nfile = "hard_s{seed}.pt"\nseeds = [0]\n')
    (checkpoint,) = read_manifest(tmp_path / "m.toml").checkpoints
    model = load_checkpoint(checkpoint, trust_local_code=True)
    x = torch.rand(2, 3, 32, 32)
    assert model.head is model.net.linear and torch.allclose(model(x), net(x))
    assert "manifest_resnet" in sys.modules and str(tmp_path) not in sys.path
    (tmp_path / "m.toml").write_text('dataset = "cifar10_jpeg"\narch = "manifest_resnet:nope"\nnum_classes = 10\n'
                                     'trust_local_code = true\n[[models.hard]]\nfile = "hard_s0.pt"\n')
    with pytest.raises(CheckpointError, match="arch 'manifest_resnet:nope' cannot build a network"):
        load_checkpoint(read_manifest(tmp_path / "m.toml").checkpoints[0], trust_local_code=True)


def test_the_python_entry_point_verifies_modules_of_a_class_only_the_caller_has(tmp_path):
    """``examples/verify_in_python.py`` (short training): its models' class lives in that script
    alone; repcore.verify runs every claim on them and returns the verdicts and the report."""
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "verify_in_python.py"), "--epochs", "3",
                          "--report-dir", str(tmp_path / "r")], cwd=tmp_path, capture_output=True, text=True,
                         timeout=1200, env={**os.environ, "REPCORE_CACHE_DIR": str(tmp_path / "cache")})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "report: " in run.stdout and (tmp_path / "r" / "claims.json").is_file()
    document = json.loads((tmp_path / "r" / "claims.json").read_text())
    assert len(document["claims"]) == 15 and not [c for c in document["claims"] if c["verdict"] == "errored"]
    assert document["populations"][0]["architecture"] == "SmallCNN"
