"""What a verdict is about: the population of models it was decided on, and which of the paper's
conditions that population meets.

The paper's claims are about deep networks trained to fit real images: ResNet-18/50 and MobileNetV2
on CIFAR-10/100 at 32 x 32 px, reaching about 95% test and 100% training accuracy on CIFAR-10. A
verdict on a 60%-accurate small CNN on 16 px shapes is a statement about that model, so every
claim carries its population (architecture, data and image size, training images and epochs,
seeds, the hard model's test and training accuracy) and the report's first screen says which of the
paper's conditions the models meet.
"""

import math

TRAINED_TO_FIT = 0.99  # training accuracy of a network trained to fit its training images
ACCURATE = 0.90  # test accuracy the paper's CIFAR-10 networks exceed (about 95%)


def seed_ranges(seeds: list[int]) -> str:
    """Seeds in ranges.

    >>> seed_ranges([0, 1, 2, 3, 4, 7, 9, 10])
    '0-4, 7, 9-10'
    """
    parts, run = [], []
    for seed in sorted(seeds):
        if run and seed != run[-1] + 1:
            parts.append(run)
            run = []
        run.append(seed)
    parts += [run] if run else []
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in parts)


def _hard_row(overview: dict, setting: str, single: bool) -> dict:
    for row in overview["rows"]:
        if row["role"] == "hard" and (row["setting"] == setting or single and not row["setting"]):
            return row["cells"]
    return {}


def _share(cell: dict | None) -> str:
    if not cell:
        return "not measured"
    spread = f" ({cell['low']:.0%}-{cell['high']:.0%})" if cell["seeds"] > 1 and cell["high"] > cell["low"] else ""
    return f"{cell['mean']:.0%}{spread}"


def populations(header: dict, overview: dict) -> list[dict]:
    """Per setting: what its models are (the header's ``setting_specs``) and the hard model's test
    and training accuracy over its seeds (the overview table), with a one-line ``text``."""
    specs = header.get("setting_specs") or {}
    seeds = header.get("seeds", {}).get("replicates", [])
    found = []
    for setting, spec in specs.items():
        hard = _hard_row(overview, setting, len(specs) == 1)
        test, train = hard.get("accuracy"), hard.get("train_accuracy")
        count = spec.get("train_images")
        images = (f"{count:,} training images" if isinstance(count, int) else
                  "all its training images" if count is None and not header.get("checkpoints") else
                  "training images not stated")
        epochs = f", {spec['epochs']} epochs" if spec.get("epochs") else ""
        text = (f"{spec['architecture']} on {spec['data']} at {spec['image_size']} px, {images}{epochs}, seeds "
                f"{seed_ranges(seeds)}; hard model {_share(test)} test / {_share(train)} training accuracy")
        found.append({"setting": setting, **spec, "seeds": seeds, "hard_test_accuracy": test,
                      "hard_train_accuracy": train, "text": text})
    return found


REGIME_CONDITIONS = {  # the regime checks' statistics (repcore.regime), by the paper's condition they test
    "signed gap": "over-confident: the hard model's signed gap mean(conf) - accuracy",
    "T* of the hard model": "cooled by temperature scaling: the hard model's T*",
    "distance of the hard model's ASR": "weak attacks break some predictions: the hard model's ASR inside (5%, 95%)",
    "mean|b| / mean|W v|": "a small bias: mean|b| / mean|W v|",
}


def _condition(name: str, needs: str, value: str, met: bool | None) -> dict:
    return {"condition": name, "needs": needs, "value": value, "met": met}


def _regime_condition(name: str, checks: list[dict]) -> dict:
    """One row for the regime checks of one condition (several attacks or roles): met when all are."""
    met = [c["outcome"] == "supported" for c in checks]
    if len(checks) == 1:
        (c,) = checks
        return _condition(name, f"{c['direction']} {c['bound']:.3g}",
                          f"{c['value']:.3g} [{c['ci_low']:.3g}, {c['ci_high']:.3g}]", all(met))
    missed = [c["statistic"].rpartition("(")[2].rstrip(")") for c, ok in zip(checks, met, strict=True) if not ok]
    value = f"all {len(checks)} hold" if not missed else f"{len(missed)} of {len(checks)} miss: {', '.join(missed)}"
    first = checks[0]
    return _condition(name, f"{first['direction']} {first['bound']:.3g}, each of {len(checks)}", value, all(met))


def paper_conditions(about: list[dict], regime: list[dict]) -> list[dict]:
    """The paper's conditions and whether the models under test meet them: over-confident and
    cooled by temperature scaling, weak attacks that break some predictions, a small bias (the
    regime checks the claims decided, one row per condition), trained to fit, accurate (the hard
    model's accuracies)."""
    found = []
    for prefix, name in REGIME_CONDITIONS.items():
        for setting in dict.fromkeys(c["setting"] for c in regime):
            checks = [c for c in regime if c["statistic"].startswith(prefix) and c["setting"] == setting]
            if checks:
                found.append(_regime_condition(name + (f" [{setting}]" if setting else ""), checks))
    for p in about:
        where = f" [{p['setting']}]" if len(about) > 1 else ""
        for name, cell, bound in (("trained to fit: the hard model's training accuracy", p["hard_train_accuracy"],
                                   TRAINED_TO_FIT),
                                  ("accurate: the hard model's test accuracy", p["hard_test_accuracy"], ACCURATE)):
            mean = cell["mean"] if cell else math.nan
            found.append(_condition(name + where, f"at least {bound:.0%}", _share(cell),
                                    None if math.isnan(mean) else mean >= bound))
    return found
