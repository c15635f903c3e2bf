"""A claims run from any folder: pytest's arguments for the installed claim modules
(``repcore.claims``), used by ``repcore verify|claims`` and by the nightly."""

from pathlib import Path

import repcore
import repcore.claims

CLAIMS_FOLDER = Path(repcore.claims.__file__).parent
CLAIMS_INI = Path(repcore.__file__).with_name("claims.ini")


def claim_paths(paths: list[str]) -> list[str]:
    """``paths`` as pytest arguments from any folder: one that exists here is kept, else it is read
    beside the installed claims (``claims/test_c4_feature_shrinkage.py``); none: every claim."""
    if not paths:
        return [str(CLAIMS_FOLDER)]
    return [p if Path(p.split("::")[0]).exists() else str(CLAIMS_FOLDER.parent / p) for p in paths]


def claims_arguments(paths: list[str], options: list[str]) -> list[str]:
    """pytest's arguments for the claim modules ``paths`` with ``options``: the claims' own
    configuration, rootdir above ``claims/`` (test ids read ``claims/test_...``), ``-n auto``."""
    parallel = [] if any(o == "-n" or o.startswith(("-n", "--numprocesses")) for o in options) else ["-n", "auto"]
    return [*claim_paths(paths), "-c", str(CLAIMS_INI), "--rootdir", str(CLAIMS_FOLDER.parent),
            "-p", "no:cacheprovider", *parallel, *options]
