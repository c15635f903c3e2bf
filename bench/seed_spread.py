"""The seed-to-seed spread of the hard-label recipe: the measurement behind every practical margin.

For each seed s of the profile, the hard model of seed s + 1 (role ``hard_seed1``) against the hard
model of seed s: the statistics that C4, C5 and C6 bound with a margin. Prints one row per pair and
the largest absolute value; a margin must sit above it.

    python bench/seed_spread.py --profile smoke --seeds 0,1,2,3,4,5
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from claims.test_c4_feature_shrinkage import shrinkage  # noqa: E402
from claims.test_c5_alignment import alignment_gain  # noqa: E402
from claims.test_c6_feature_vs_temperature_scaling import ece_gap  # noqa: E402
from fixtures.cache import default_cache_dir  # noqa: E402
from fixtures.options import add_options, selected_profile  # noqa: E402
from fixtures.zoo import Zoo, resolve_device  # noqa: E402
from repcore.calibration import fit_feature_scale, fit_temperature  # noqa: E402
from repcore.features import head_parameters  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser.add_argument, overrides={"--seeds": {"default": "0,1,2,3,4,5"}}, skip=("--jobs",))
    args = parser.parse_args()
    profile = selected_profile(vars(args).get)
    cache_dir = args.cache_dir or default_cache_dir()
    rows = []
    print(f"{'pair':<32} {'RMS change':>11} {'cos diff':>9} {'|s*T*-1|':>9} {'|dECE| pts':>10}")
    for replicate in profile.replicates:
        zoo = Zoo(profile, replicate, cache_dir, args.data_root, resolve_device(args.device), log=lambda line: None)
        hard = zoo["hard"]
        W, b = head_parameters(hard.model)
        product = abs(fit_feature_scale(W, b, hard.val.features, hard.val.labels)
                      * fit_temperature(hard.val.logits, hard.val.labels) - 1)
        row = (shrinkage(zoo["hard_seed1"], hard).value, alignment_gain(zoo["hard_seed1"], hard).value,
               product, 100 * ece_gap(hard, W, b).value)
        rows.append(row)
        print(f"{replicate.label + ' (s+1 vs s)':<32} {row[0]:>+11.2%} {row[1]:>+9.4f} {row[2]:>9.4f} {row[3]:>10.2f}")
    largest = np.abs(np.array(rows)).max(0)
    print(f"{'largest |value|':<32} {largest[0]:>11.2%} {largest[1]:>9.4f} {largest[2]:>9.4f} {largest[3]:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
