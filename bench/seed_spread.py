"""The seed-to-seed spread of the hard-label recipe: the measurement behind every margin and
tolerance (``repcore.spread``).

For each seed s of the profile, the hard model of seed s + 1 (role ``hard_seed1``) against the hard
model of seed s: the statistics of ``repcore.spread.RULES`` (RMS change, mean-cos difference, T*
relative change, difference of ECE after T*). Prints one row per pair, the largest absolute value,
and the margin each rule gives, in the form a profile declares it (``fixtures/profiles.py``).
Measure on seeds outside the profile's default set, before its verdicts are looked at:

    python bench/seed_spread.py --profile smoke --seeds 100,101,102,103,104,105,106,107,108,109
"""

import argparse
import sys
from dataclasses import replace


from repcore.claims.zoo_views import spread_of_pair
from repcore.fixtures.cache import default_cache_dir
from repcore.fixtures.options import add_options, selected_profile
from repcore.fixtures.artifacts import unique_models
from repcore.fixtures.build_pool import build_zoo
from repcore.fixtures.devices import default_jobs, resolve_device
from repcore.fixtures.zoo import Zoo
from repcore.spread import RULES, margin_from_pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser.add_argument, overrides={"--seeds": {"default": "100,101,102,103,104,105,106,107,108,109"}})
    args = parser.parse_args()
    profile = selected_profile(vars(args).get)
    cache_dir = args.cache_dir or default_cache_dir()
    device = resolve_device(args.device)
    names = [profile.model_name(r, role) for r in profile.replicates for role in ("hard", "hard_seed1")]
    build_zoo(replace(profile, attacks={}), cache_dir, args.data_root, device, args.jobs or default_jobs(device),
              names=list(unique_models(profile, names)))
    rows = []
    print(f"{'pair':<36}" + "".join(f"{name:>22}" for name in RULES))
    for replicate in profile.replicates:
        zoo = Zoo(profile, replicate, cache_dir, args.data_root, device, log=lambda line: None)
        row = spread_of_pair(zoo["hard_seed1"], zoo["hard"])
        rows.append(row)
        print(f"{replicate.label + ' (s+1 vs s)':<36}" + "".join(f"{row[name]:>+22.4f}" for name in RULES))
    print(f"{'largest |value|':<36}" + "".join(f"{max(abs(r[name]) for r in rows):>22.4f}" for name in RULES))
    source = f"{profile.name} seeds {profile.seeds[0]}-{profile.seeds[-1] + 1}"
    print("\ndeclared margins (fixtures/profiles.py):")
    for name in RULES:
        margin = margin_from_pairs(name, [r[name] for r in rows], source)
        print(f'    "{name}": Margin({margin.bound!r}, "{margin.evidence}"),')
    return 0


if __name__ == "__main__":
    sys.exit(main())
