import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from repcore.fixtures import __main__ as cli
from repcore.fixtures.cache import artifact_paths
from repcore.fixtures.data import DataNotFoundError, load_dataset
from repcore.fixtures.profiles import get_profile, replicated_roles
from repcore.fixtures.recipe import RECIPE
from repcore.fixtures.spec import DataSpec, ModelSpec
from repcore.fixtures.artifacts import load_or_train, unique_models
from repcore.fixtures.devices import training_devices
from repcore.features import representations

CPU = torch.device("cpu")
ROOT = Path(__file__).resolve().parents[1]


def test_loaded_model_reproduces_its_cached_outputs(tiny_spec, cache_dir):
    trained = load_or_train("tiny", tiny_spec, cache_dir, None, CPU, log=lambda line: None)
    loaded = load_or_train("tiny", tiny_spec, cache_dir, None, CPU, log=lambda line: None)
    assert trained.trained_now and not loaded.trained_now
    data = load_dataset(tiny_spec.data, None)
    fresh = representations(loaded.model, data.test.x, data.test.y)
    assert torch.allclose(fresh.logits, loaded.test.logits, atol=1e-5)
    assert torch.allclose(fresh.features, loaded.test.features, atol=1e-5)
    assert loaded.test.features.shape == (64, 128) and loaded.val.logits.shape == (32, 10)


def test_corrupt_checkpoint_is_reported_and_retrained(tiny_spec, cache_dir):
    load_or_train("tiny", tiny_spec, cache_dir, None, CPU, log=lambda line: None)
    pt, _ = artifact_paths(cache_dir, tiny_spec.key())
    pt.write_bytes(b"not a checkpoint")
    lines = []
    again = load_or_train("tiny", tiny_spec, cache_dir, None, CPU, log=lines.append)
    assert again.trained_now
    assert any("unusable" in line and "checksum" in line for line in lines)


def _load_in_child(spec, cache_dir, barrier, results):
    barrier.wait()
    results.put(load_or_train("tiny", spec, cache_dir, None, CPU, log=lambda line: None).trained_now)


def test_two_processes_racing_for_one_spec_train_it_once(tiny_spec, cache_dir, race):
    assert race(_load_in_child, tiny_spec, cache_dir) == [False, True]


def test_spec_key_depends_on_every_field():
    base = ModelSpec()
    assert base.key() == ModelSpec().key()
    assert len({base.key(), ModelSpec(seed=1).key(), ModelSpec(epochs=31).key(),
                ModelSpec(data=DataSpec(n_train=100)).key()}) == 4
    assert ModelSpec.from_dict(base.to_dict()) == base


@pytest.mark.parametrize("field, value", [("momentum", 0.8), ("crop_padding", 2), ("warmup_fraction", 0.3),
                                          ("code_version", 0)])
def test_spec_key_covers_the_training_recipe_and_code_version(monkeypatch, field, value):
    """A stale model is never reused: changing any recipe constant changes every cache key."""
    before = ModelSpec().key()
    monkeypatch.setitem(RECIPE, field, value)
    assert ModelSpec().key() != before


def test_spec_rejects_inconsistent_regularizer():
    from repcore.fixtures.regularizers import check_spec
    with pytest.raises(ValueError, match="unknown regularizer"):
        check_spec(ModelSpec(regularizer="dropout"))
    with pytest.raises(ValueError, match="smoothing > 0 goes with"):
        check_spec(ModelSpec(regularizer="hard", smoothing=0.1))
    with pytest.raises(ValueError, match="smoothing > 0 goes with"):
        check_spec(ModelSpec(regularizer="label_smoothing"))


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown profile 'nope'; available profiles: smoke"):
        get_profile("nope")


def test_smoke_profile_has_every_role():
    profile = get_profile("smoke")
    assert set(profile.regularized) == {"LS", "Mixup", "CutMix"}
    assert sorted(profile.ls_sweep) == [0.0, 0.05, 0.1, 0.2, 0.3]
    assert profile.models["bottleneck_nobias@small_cnn-embedded-s0"].head_bias is False


def test_paper_profile_crosses_architectures_datasets_and_three_seeds():
    profile = get_profile("paper")
    assert profile.replicated and len(profile.replicates) == 18
    assert {(r.models["hard"].arch, r.models["hard"].data.name, r.seed) for r in profile.replicates} == {
        (a, d, s) for a in ("resnet18", "resnet50", "mobilenet_v2") for d in ("cifar10", "cifar100")
        for s in (0, 1, 2)}
    first = profile.replicates[0]
    assert first.label == "resnet18-cifar10-s0"
    assert all(spec.seed == 0 for role, spec in first.models.items() if role != "hard_seed1")
    assert profile.model_name(first, "ls") == "ls@resnet18-cifar10-s0"


def test_paper_jpeg_profile_is_the_cifar10_part_of_paper_on_the_jpeg_copy():
    paper, jpeg = get_profile("paper"), get_profile("paper-jpeg")
    assert len(jpeg.replicates) == 9 and jpeg.attacks == paper.attacks
    for setting, base in jpeg.settings.items():
        original = paper.settings[setting.replace("cifar10_jpeg", "cifar10")]
        assert base.data.name == "cifar10_jpeg" and replace(base, data=original.data) == original


def test_a_single_replicate_keeps_plain_role_names():
    profile = get_profile("smoke", seeds="0")
    assert not profile.replicated and profile.model_name(profile.replicates[0], "ls") == "ls"
    assert get_profile("smoke").replicated


def test_the_default_run_replicates_every_compared_role_over_five_seeds():
    """The training run is the unit of replication: compared roles and T1a's trained controls in
    every seed, the sweep and the 2-D figure models in the first seed only."""
    profile = get_profile("smoke")
    assert profile.seeds == (0, 1, 2, 3, 4)
    first, *others = profile.setting_replicates("small_cnn-embedded")
    assert "ls_0.3" in first.models and "bottleneck_bias" in first.models
    for replicate in others:
        assert set(replicate.models) == set(replicated_roles())
        assert replicate.models["ls"].smoothing == 0.1 and replicate.models["mixup"].seed == replicate.seed
        assert replicate.models["imbalanced"].data.class_imbalance > 1
        assert replicate.models["bottleneck_imbalanced"].bottleneck


def test_the_planted_falsehood_plays_every_regularizer_with_a_hard_model_of_another_seed():
    planted = get_profile("smoke-planted")
    specs = [r.models[role] for r in planted.replicates for role in planted.regularized.values()]
    hard = {r.models[role].key() for r in planted.replicates for role in ("hard", "hard_seed1")}
    assert all(spec.regularizer == "hard" for spec in specs)
    assert len({spec.key() for spec in specs}) == len(specs) and not hard & {spec.key() for spec in specs}


def test_profile_selection_names_bad_input():
    assert [r.label for r in get_profile("paper", "4", "resnet50-cifar100").replicates] == ["resnet50-cifar100-s4"]
    with pytest.raises(ValueError, match="no setting 'vgg-cifar10'; it has resnet18-cifar10"):
        get_profile("paper", settings="vgg-cifar10")
    with pytest.raises(ValueError, match="comma-separated integers"):
        get_profile("smoke", seeds="zero")
    with pytest.raises(ValueError, match="repeat"):
        get_profile("smoke", seeds="1,1")


def test_replicates_share_the_specs_they_have_in_common():
    """hard_seed1 of seed s is hard of seed s + 1: built once."""
    profile = get_profile("smoke", seeds="0,1")
    assert profile.models["hard_seed1@small_cnn-embedded-s0"] == profile.models["hard@small_cnn-embedded-s1"]
    unique = unique_models(profile)
    assert len(unique) == len(profile.models) - 1 and "hard@small_cnn-embedded-s1" not in unique
    with pytest.raises(KeyError, match="no model 'hard'"):
        unique_models(profile, ["hard"])


def test_training_processes_get_one_device_each(monkeypatch):
    assert training_devices(CPU, 3) == ["cpu"] * 3
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    assert training_devices(torch.device("cuda"), 4) == ["cuda:0", "cuda:1", "cuda:2", "cuda:3"]
    assert training_devices(torch.device("cuda"), 6) == ["cuda:0", "cuda:1", "cuda:2", "cuda:3", "cuda:0", "cuda:1"]
    assert training_devices(torch.device("cuda"), 2) == ["cuda:0", "cuda:1"]
    assert training_devices(torch.device("cuda", 1), 2) == ["cuda:1", "cuda:1"]


def test_claims_run_once_per_setting_on_every_seed_at_once():
    """Collected (not run) on the paper profile: each zoo test once per setting, T1 once."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "claims", "--collect-only", "-q", "--no-prebuild",
         "--profile", "paper", "--settings", "resnet18-cifar10,mobilenet_v2-cifar100", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    ids = [line for line in run.stdout.splitlines() if line.startswith("claims/")]
    per_setting = {label: [i for i in ids if f"[{label}]" in i or f"[{label}-" in i]
                   for label in ("resnet18-cifar10", "mobilenet_v2-cifar100")}
    counts = {len(v) for v in per_setting.values()}
    assert len(counts) == 1 and counts.pop() > 50
    assert not [i for i in ids if "test_t1_" in i and "cifar10" in i] and [i for i in ids if "test_t1_" in i]
    bad = subprocess.run([sys.executable, "-m", "pytest", "claims", "--collect-only", "-q", "--seeds", "x"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 4 and "seeds must be comma-separated integers" in bad.stderr


@pytest.mark.parametrize("name, folder", [("cifar10", "cifar-10-batches-py"),
                                          ("cifar100", "cifar-100-python"), ("imagenet", "train")])
def test_missing_real_data_names_the_folder_and_layout(tmp_path, name, folder):
    with pytest.raises(DataNotFoundError, match=folder) as err:
        load_dataset(DataSpec(name), tmp_path)
    assert str(tmp_path) in str(err.value)


def test_real_data_without_data_root_asks_for_it():
    with pytest.raises(DataNotFoundError, match="--data-root"):
        load_dataset(DataSpec("cifar10"), None)


def test_cli_lists_and_cleans_a_profile(tmp_path, capsys):
    assert cli.main(["list", "--profile", "smoke", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "hard" in out and "missing" in out
    assert cli.main(["clean", "--profile", "smoke", "--cache-dir", str(tmp_path)]) == 0
    assert cli.main(["build", "--profile", "nope", "--cache-dir", str(tmp_path)]) == 2
    assert "unknown profile" in capsys.readouterr().err


def test_cli_reports_a_damaged_artifact_as_invalid(tmp_path, capsys):
    spec = get_profile("smoke", seeds="0").models["hard"]
    Path(tmp_path, f"{spec.key()}.json").write_text("{")
    cli.main(["list", "--profile", "smoke", "--seeds", "0", "--cache-dir", str(tmp_path)])
    assert "invalid (" in capsys.readouterr().out


def test_cli_build_with_missing_real_data_fails_with_one_clear_line(tmp_path, capsys):
    assert cli.main(["build", "--profile", "cifar10-cpu", "--data-root", str(tmp_path),
                     "--cache-dir", str(tmp_path / "cache"), "--device", "cpu", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "cannot build the cifar10-cpu zoo" in err and "jpeg_q75_all.npz" in err


def test_device_resolution_on_a_cpu_machine(monkeypatch):
    from repcore.fixtures.devices import resolve_device
    assert resolve_device("cpu", "gw3").type == "cpu"
    if not torch.cuda.is_available():
        assert resolve_device("auto", "gw1").type == "cpu"
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda", "gw3") == torch.device("cuda", 1)
    assert resolve_device("cuda", None) == torch.device("cuda")


def test_a_build_runs_the_planned_attacks_once_and_the_claims_then_read_them(cache_dir, monkeypatch):
    from repcore.fixtures.zoo import attack_outcome
    from repcore.fixtures.build_pool import build_zoo
    from repcore.fixtures.zoo import Zoo
    from tests.tiny_profile import tiny

    profile = tiny()
    lines = []
    monkeypatch.setenv("REPCORE_VERBOSE", "1")  # a line per finished job
    build_zoo(profile, cache_dir, None, CPU, jobs=2, log=lines.append)
    attacked = sorted(line.split("last: ")[1].split(":")[0] for line in lines if ": attacked" in line)
    assert attacked == sorted(f"{name} {attack}" for name, attack in profile.attack_plan())
    assert ("hard", "FGSM") in profile.attack_plan() and ("bottleneck_nobias", "FGSM") in profile.attack_plan()
    again = []
    build_zoo(profile, cache_dir, None, CPU, jobs=2, log=again.append)
    assert again == []
    read = []
    zoo = Zoo(profile, profile.replicates[0], cache_dir, None, CPU, log=read.append)
    assert 0 <= attack_outcome(zoo, "mixup", profile.attacks["PGD^s"]).success_rate <= 1
    assert read == []


def test_a_role_the_claim_forgot_to_declare_is_an_error_naming_the_claim_and_the_role():
    """A first-seed-only role read without ``roles=``: an error (the claim's wiring), never the
    skip that a role no run holds is (the source lacks it)."""
    from types import SimpleNamespace

    from repcore.criteria import Criterion
    from repcore.fixtures.sources import MissingRole
    from repcore.fixtures.zoo import SettingRuns, UndeclaredRole

    class Replicate:
        def __init__(self, seed: int, roles: set[str]):
            self.replicate, self.roles, self.read, self.source = SimpleNamespace(seed=seed), roles, set(), None

        def __contains__(self, role: str) -> bool:
            return role in self.roles

        def __getitem__(self, role: str):
            if role not in self.roles:
                raise MissingRole(f"no {role} for seed {self.replicate.seed}", (role,))
            return role

    profile = SimpleNamespace(name="p", settings={"s": None}, seed_spread={}, sequential=None)
    runs = SettingRuns(profile, "s", [Replicate(0, {"hard", "ls_0.3"}), Replicate(1, {"hard"})])
    criterion = Criterion("C7", "ECE, LS eps 0.3", 0.0, "above")
    with pytest.raises(UndeclaredRole, match=r"C7 'ECE, LS eps 0.3' reads ls_0.3.*roles=\('ls_0.3',\)"):
        runs.decide(criterion, lambda zoo: zoo["ls_0.3"])
    with pytest.raises(MissingRole, match="no mixup"):
        runs.decide(criterion, lambda zoo: zoo["mixup"])
    assert not issubclass(UndeclaredRole, KeyError)
