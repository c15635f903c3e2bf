"""The seed-to-seed changes of the hard-label recipe: the measurement behind every seed spread and
equivalence tolerance (``repcore.spread``).

For each seed s of the profile, the hard model of seed s + 1 (role ``hard_seed1``) against the hard
model of seed s, every pair statistic of ``repcore.spread.PAIR_STATISTICS``: each comparison the
claims make with the hard baseline (RMS change, mean-cos gain, confidence, ECE and |gap| changes,
accuracy change, radial-index gain, FGSM and PGD^w success changes), and temperature scaling's own
changes (T*, ECE after T*) behind C6's tolerances. Prints one row per pair, then each statistic's
root mean square (the seed spread) and largest change, and the declaration a profile makes of them
(``fixtures/profiles.py``). Measure on seeds outside the profile's default set, before its
verdicts are looked at:

    python bench/seed_spread.py --profile smoke --seeds 100,101,102,103,104,105,106,107,108,109
"""

import argparse
import math
import sys
import textwrap
from dataclasses import replace

from repcore.claims.zoo_views import changes_of_pair
from repcore.fixtures.artifacts import unique_models
from repcore.fixtures.build_pool import build_zoo
from repcore.fixtures.cache import default_cache_dir
from repcore.fixtures.devices import default_jobs, resolve_device
from repcore.fixtures.options import add_options, selected_profile
from repcore.fixtures.zoo import Zoo
from repcore.spread import PAIR_STATISTICS

WEAK_ATTACKS = ("FGSM", "PGD^w")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser.add_argument, overrides={"--seeds": {"default": "100,101,102,103,104,105,106,107,108,109"}})
    args = parser.parse_args()
    profile = selected_profile(vars(args).get)
    profile = replace(profile, attacks={name: profile.attacks[name] for name in WEAK_ATTACKS})
    cache_dir = args.cache_dir or default_cache_dir()
    device = resolve_device(args.device)
    names = [profile.model_name(r, role) for r in profile.replicates for role in ("hard", "hard_seed1")]
    build_zoo(replace(profile, attacks={}), cache_dir, args.data_root, device, args.jobs or default_jobs(device),
              names=list(unique_models(profile, names)))
    rows = []
    for replicate in profile.replicates:
        zoo = Zoo(profile, replicate, cache_dir, args.data_root, device, log=lambda line: None)
        rows.append(changes_of_pair(zoo))
        print(f"{replicate.label} (s+1 vs s): " + ", ".join(f"{name} {value:+.4g}" for name, value in rows[-1].items()))
    print(f"\n{'statistic':<20}{'root mean square':>18}{'largest':>10}")
    for name in PAIR_STATISTICS:
        values = [r[name] for r in rows]
        print(f"{name:<20}{math.sqrt(sum(v * v for v in values) / len(values)):>18.4g}"
              f"{max(map(abs, values)):>10.4g}")
    source = f"{profile.name} seeds {profile.seeds[0]}-{profile.seeds[-1] + 1}"
    print(f"\nthe declaration (fixtures/profiles.py), measured on {source}:")
    for name in PAIR_STATISTICS:
        prefix = f'    "{name}": ('
        lines = textwrap.wrap(", ".join(f"{r[name]:.6g}" for r in rows), 118 - len(prefix))
        print(prefix + f"\n{' ' * len(prefix)}".join(lines) + "),")
    return 0


if __name__ == "__main__":
    sys.exit(main())
