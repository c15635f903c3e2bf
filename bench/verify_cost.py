"""What ``repcore verify`` costs, by phase, on a manifest of six models: the smoke zoo's hard and LS
models of seeds 0-2, exported as state dicts (as CI verifies them).

Phases, each timed on its own in a fresh cache: reading the manifest and its data, loading and
running every checkpoint once (the start-up check), the representations of each checkpoint, each
planned attack on each model (one thread, as a pool worker runs them; mean and range per attack),
and then the claims themselves, warm (``repcore verify`` with everything cached, ``-n 2``). Then
the whole cold command once. ``--attack-images N`` runs every attack on at most N images.

    python bench/verify_cost.py [--attack-images 500] [--cache-dir DIR]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from repcore.fixtures.cache import default_cache_dir
from repcore.fixtures.checkpoints import read_manifest, validate
from repcore.fixtures.evaluations import attacked_images, outcome_of
from repcore.fixtures.export import export_manifest
from repcore.fixtures.external import load_external
from repcore.fixtures.profiles import from_checkpoints, get_profile
from repcore.fixtures.sources import manifest_data
from repcore.fixtures.training import single_thread_on_cpu


def timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attack-images", type=int, default=None)
    parser.add_argument("--cache-dir", type=Path, default=None, help="the zoo's cache to export from")
    args = parser.parse_args()
    device = torch.device("cpu")
    zoo = get_profile("smoke", "0,1,2")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = export_manifest(zoo, args.cache_dir or default_cache_dir(), folder / "models", ["hard", "ls"])
        cache = folder / "cache"
        manifest, seconds = timed(lambda: read_manifest(path))
        print(f"manifest read: {seconds:.2f}s ({len(manifest.checkpoints)} checkpoints)")
        data, seconds = timed(lambda: manifest_data(manifest, None, cache))
        print(f"data loaded: {seconds:.2f}s ({len(data.test)} test images)")
        _, seconds = timed(lambda: validate(manifest, data.test.x[:4]))
        print(f"start-up check (load and run every checkpoint): {seconds:.2f}s")
        profile = from_checkpoints(manifest, zoo).with_attack_images(args.attack_images)
        attacks: dict[str, list[float]] = {name: [] for name in profile.attacks}
        with single_thread_on_cpu(device):
            models = []
            for checkpoint in manifest.checkpoints:
                model, seconds = timed(lambda c=checkpoint: load_external(f"{c.role}-s{c.seed}", c, manifest, cache,
                                                                          None, device, lambda line: None))
                models.append(model)
                print(f"representations {model.name}: {seconds:.2f}s")
            for model in models:
                for name, config in profile.attacks.items():
                    images = attacked_images(profile, config)
                    _, seconds = timed(lambda m=model, c=config, n=images: outcome_of(m, c, n, cache, None, device,
                                                                                      lambda line: None))
                    attacks[name].append(seconds)
        for name, values in attacks.items():
            print(f"attack {name} on {attacked_images(profile, profile.attacks[name])} images: mean "
                  f"{statistics.mean(values):.2f}s a model (range {min(values):.2f}-{max(values):.2f}), "
                  f"{sum(values):.1f}s for {len(values)} models, one thread")
        extra = ["--attack-images", str(args.attack_images)] if args.attack_images else []
        verify = [sys.executable, "-m", "repcore.cli", "verify", str(path), "-n", "2", "-q", "--report-dir",
                  str(folder / "reports"), "--cache-dir"]
        _, seconds = timed(lambda: subprocess.run([*verify, str(cache), *extra], capture_output=True))
        print(f"claims, warm (every representation and attack cached), -n 2: {seconds:.1f}s")
        _, seconds = timed(lambda: subprocess.run([*verify, str(folder / "cold"), *extra], capture_output=True))
        print(f"the whole command, cold, -n 2: {seconds:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
