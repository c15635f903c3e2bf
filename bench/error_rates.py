"""The verdict engine's error rates, simulated through its own decision code (``repcore.simulation``).

1. Claim level: claims of 1, 3, 9 and 16 criteria, every criterion exactly at its bound, the
   criteria correlated at 0 and 0.5: the share falsely refuted when any criterion refuted at 95%
   refutes the claim (the earlier rule) and under Holm's correction (``repcore.multiplicity``).
2. Sequential: one criterion decided at looks of 5, 10, 15 and 20 seeds under each spending
   function of ``repcore.sequential.SPENDING``: the false-decision rate with the truth at the
   bound, and at the effect sizes of C10's LS criterion (FGSM, smoke: -0.025 on seeds 0-4, -0.011
   with 20 seeds pooled) the power and the mean seeds used, beside 5 fixed seeds.

Two designs: the spreads of C10's LS criterion (its runs' own sample error dominant; the interval
is conservative there) and a seed-spread-dominant one (the interval close to exact).

    python bench/error_rates.py [--replications 2000]
"""

import argparse
import sys
import time

from repcore.sequential import SPENDING, Looks
from repcore.simulation import Design, claim_false_refutations, sequential_decisions

DESIGNS = {"C10 LS spreads": Design(seeds=5, seed_sd=0.0073, own_se=0.0159, shared_se=0.0),
           "seed spread dominant": Design(seeds=5, seed_sd=1.0, own_se=0.1, shared_se=0.05)}
C10_LS_EFFECTS = (0.025, 0.011)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, default=2000)
    args = parser.parse_args()
    start = time.perf_counter()
    for name, design in DESIGNS.items():
        print(f"\nclaim-level false refutations, {name} ({args.replications} claims each)")
        print(f"{'criteria':>8} {'correlation':>11} {'any at 95%':>11} {'Holm':>7}")
        for criteria in (1, 3, 9, 16):
            for correlation in (0.0, 0.5):
                rates = claim_false_refutations(criteria, correlation, args.replications, criteria, design)
                print(f"{criteria:>8} {correlation:>11} {rates['alone']:>11.2%} {rates['holm']:>7.2%}")
    looks = (5, 10, 15, 20)
    for spending in SPENDING:
        design = Looks(looks, spending)
        print(f"\nsequential, {spending}: nominal levels " + ", ".join(f"{level:.4%}" for level in design.levels))
        for name, spreads in DESIGNS.items():
            null = sequential_decisions(0.0, design, args.replications, 3, spreads)
            print(f"  {name}: at the bound decided {null['decided']:.2%} (fixed 5 seeds {null['fixed_decided']:.2%}),"
                  f" mean seeds {null['mean_seeds']:.1f}")
        for effect in C10_LS_EFFECTS:
            power = sequential_decisions(effect, design, args.replications // 2, 4, DESIGNS["C10 LS spreads"])
            print(f"  C10 LS effect {effect}: power {power['supported']:.1%} at {power['mean_seeds']:.1f} seeds on "
                  f"average (fixed 5 seeds {power['fixed_decided']:.1%}), wrong side {power['refuted']:.1%}")
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
