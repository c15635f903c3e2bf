"""``repcore.verify``: every claim on models held in memory, from Python (a notebook, a script).

    import repcore
    result = repcore.verify({"hard": [m0, m1, m2], "ls": [l0, l1, l2]}, data="cifar10_jpeg",
                            data_root="data", num_classes=10, held_out="test_half")
    result.verdicts["C5"], result.models, result.report

The modules are ``nn.Module``s whose logits come from a final ``nn.Linear`` (its input is the
representation v), taking images in [0, 1] (``mean``/``std`` normalize them first where the model
does not). A list gives seeds 0, 1, ...; a dict gives the seeds. Each module's state dict is saved
beside the report (its provenance and the cache's key: representations and attacks are reused on a
rerun of the same weights); the module itself is used as it is, so its class need not be
importable anywhere else. The claims then run as ``repcore verify`` runs them, in this process
(``-n 0``), with every option of the command line in ``options``; the result holds the verdicts,
the models table and the report's paths.
"""

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from repcore.invocation import claims_arguments


@dataclass(frozen=True)
class VerifyResult:
    """What a ``verify`` call decided: each claim's verdict and why, the models table, the
    report (``report``: claims.html, ``data``: claims.json) and the status ``repcore verify`` exits with."""

    status: int
    verdicts: dict[str, str]
    reasons: dict[str, str]
    models: dict
    report: Path
    data: Path


def _seeds(modules: Sequence[nn.Module] | Mapping[int, nn.Module], role: str) -> dict[int, nn.Module]:
    found = dict(modules) if isinstance(modules, Mapping) else dict(enumerate(modules))
    for seed, module in found.items():
        if not isinstance(module, nn.Module) or isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise TypeError(f"models[{role!r}]: seed {seed!r} -> {type(module).__name__}: give nn.Modules, as a list "
                            "(seeds 0, 1, ...) or a dict of whole-number seeds")
    return found


def _manifest(models: Mapping, folder: Path, fields: dict, recipe: Mapping | None) -> Path:
    """A manifest of ``format = "memory"`` entries (``repcore.fixtures.checkpoints.IN_MEMORY``), each
    module's state dict saved in ``folder``; TOML values written as JSON, which TOML reads alike
    (the top-level fields first, then the [recipe] table, then the models)."""
    import torch

    from repcore.fixtures.checkpoints import IN_MEMORY

    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{key} = {json.dumps(value)}" for key, value in fields.items() if value is not None]
    if recipe:
        lines += ["[recipe]", *(f"{key} = {json.dumps(value)}" for key, value in recipe.items())]
    for role, modules in models.items():
        for seed, module in _seeds(modules, role).items():
            file = (folder / f"{role}_s{seed}.pt").resolve()
            torch.save({k: v.detach().cpu() for k, v in module.state_dict().items()}, file)
            IN_MEMORY[file] = module
            lines += [f"[[models.{role}]]", f"file = {json.dumps(file.name)}", 'format = "memory"', f"seed = {seed}",
                      f"arch = {json.dumps(type(module).__name__)}"]
    path = folder / "models.toml"
    path.write_text("\n".join(lines) + "\n")
    tomllib.loads(path.read_text())
    return path


def verify(models: Mapping[str, Sequence[nn.Module] | Mapping[int, nn.Module]], data: str = "embedded", *,
           num_classes: int = 10, data_root: str | Path | None = None, n_test: int | None = None,
           held_out: str | Sequence[int] = "train", n_val: int | None = None, n_train: int | None = None,
           image_size: int | None = None, mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
           recipe: Mapping[str, str | int | float | bool] | None = None, report_dir: str | Path = "reports",
           cache_dir: str | Path | None = None, options: Sequence[str] = ()) -> VerifyResult:
    """Every claim on ``models`` (role -> modules per seed: ``hard`` and at least one regularizer's
    role such as ``ls``), evaluated on ``data`` (a dataset of ``repcore.fixtures.data``, read from
    ``data_root``) with the manifest's fields (``held_out``, ``n_test``, ...: the README's "Verify
    your own models"); ``options`` are ``repcore verify``'s (``--attack-images 500``, ``-k C4``)."""
    import pytest

    from repcore.cli import verdict_status
    from repcore.report.compare import read_report

    report_dir = Path(report_dir)
    fields = {"dataset": data, "num_classes": num_classes, "n_test": n_test, "n_val": n_val, "n_train": n_train,
              "image_size": image_size, "held_out": held_out if isinstance(held_out, str) else list(held_out),
              "mean": list(mean) if mean else None, "std": list(std) if std else None}
    manifest = _manifest(models, report_dir / "models", fields, recipe)
    extra = ["--data-root", str(data_root)] if data_root else []
    extra += ["--cache-dir", str(cache_dir)] if cache_dir else []
    arguments = claims_arguments([], ["-n", "0", "--checkpoints", str(manifest), "--report-dir", str(report_dir),
                                      *extra, *options])
    status = verdict_status(int(pytest.main(arguments)), report_dir, 0.0)
    data_path = next(p for p in (report_dir / "claims.json", report_dir / "claims.partial.json") if p.is_file())
    document = read_report(data_path)
    return VerifyResult(status, {c["id"]: c["verdict"] for c in document["claims"]},
                        {c["id"]: c["reason"] for c in document["claims"]}, document.get("overview", {}),
                        data_path.with_suffix(".html"), data_path)

