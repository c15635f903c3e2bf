"""repcore: the representation-space claims of Park, Kim, Lee (arXiv 2410.03999) as tests.

``repcore.verify(models, data, ...)`` runs every claim on models held in memory (``repcore.api``);
imported when first used, so ``import repcore`` stays light."""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name in ("verify", "VerifyResult"):
        from repcore import api
        return getattr(api, name)
    raise AttributeError(f"module 'repcore' has no attribute {name!r}")
