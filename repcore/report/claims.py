"""The claims in CLAIMS.md order: id and one-sentence statement (the report's section headings)."""

CLAIMS: dict[str, str] = {
    "T1": "Theorem 1: with b = 0 and equal class-weight norms, the CE-optimal feature under hard labels "
          "is larger than under soft labels (finite, shrinking with eps, vs no finite optimum).",
    "T1a": "The theorem's assumptions hold approximately on trained heads (equal ||w_c||, small bias).",
    "C1": "Decision regions are cones around the origin, with or without regularization.",
    "C2": "Confidence grows along rays from the origin and with alignment to the minimal-loss points.",
    "C3": "The minimal-loss point is the best class center: alignment with it tracks confidence best.",
    "C4": "Soft labels (LS, Mixup, CutMix) shrink features: lower RMS, decreasing in the LS eps.",
    "C5": "Soft labels raise the alignment cos(v, v_opt) of features with the minimal-loss points.",
    "C6": "Feature scaling behaves like temperature scaling.",
    "C7": "Soft labels lower confidence and improve the calibration of an over-confident baseline.",
    "C8": "Aligned features send gradient attacks toward the origin.",
    "C9": "Higher alignment bins have lower attack success (FGSM, PGD^w, AutoAttack^w).",
    "C10": "Soft-label models are more robust to weak gradient attacks.",
    "C11": "Limitation: strong attacks (PGD^s, AutoAttack^s) defeat all models alike.",
    "C12": "Magnitude mainly explains calibration, alignment mainly robustness.",
    "A1": "Soft labels do not cost accuracy (sanity check).",
}


def claim_of(nodeid: str) -> str | None:
    """The claim id of a test in ``claims/test_<id>_*.py`` (e.g. test_c4_... -> C4, test_t1a_... -> T1a)."""
    module = nodeid.split("::")[0].rsplit("/", 1)[-1]
    if not module.startswith("test_"):
        return None
    token = module[len("test_"):].split("_")[0]
    matches = [cid for cid in CLAIMS if cid.lower() == token]
    return matches[0] if matches else None
