import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from repcore.report import __main__ as report_cli
from repcore.report.claims import CLAIMS, claim_of
from repcore.report.document import SCHEMA_PATH, build_document, claim_verdict, over_settings
from repcore.report.render import render_html

ROOT = Path(__file__).resolve().parents[1]
HEADER = {"profile": "smoke", "profile_description": "test", "attack_note": "", "attacks": {},
          "datasets": ["embedded"], "device": "cpu", "seeds": {"training": [0], "bootstrap": 1},
          "versions": {"torch": "x", "torchvision": "x", "repcore": "x", "pyautoattack": "x"},
          "git_revision": "abc", "started": "t0", "finished": "t1", "duration_s": 1.0,
          "exit_status": 1, "interrupted": False, "partial": False, "command": "pytest claims",
          "settings": ["a"], "unit_of_replication": "the training run"}


def _verdict(claim, outcome, statistic="s", value=0.5):
    return {"claim": claim, "statistic": statistic, "value": value, "ci_low": 0.4, "ci_high": 0.6,
            "bound": 0.0, "direction": "above", "n": 100, "outcome": outcome, "reason": "r",
            "unit": "3 training seeds and test samples", "level": 0.95,
            "per_seed": [{"seed": s, "value": value, "ci_low": 0.4, "ci_high": 0.6} for s in range(3)],
            "between_seed_sd": 0.01, "sample_se": 0.02, "bound_evidence": "", "preconditions": [],
            "value_range": [None, None], "seed_half": 0.01, "sample_half": 0.02, "sample_term": "", "runs_se": 0.02,
            "pairing": None, "undecided": None, "spread": None, "looks": [],
            "wrong_side_level": 0.999 if outcome == "refuted" else 0.0}


def _test(claim, outcome="passed", verdicts=(), controls=(), figures=(), setting=None, name=None):
    name = name or f"t{len(verdicts)}{outcome}"
    return {"nodeid": f"claims/test_{claim.lower()}_x.py::{name}[{setting}]",
            "claim": claim, "outcome": outcome, "message": "", "duration": 0.1, "verdicts": list(verdicts),
            "controls": list(controls), "evidence": [{"model": "hard", "metrics": {"rms": 0.7}}],
            "figures": list(figures), "preconditions": [], "attack_checks": [], "setting": setting}


def _document():
    tests = [_test(cid, verdicts=[_verdict(cid, "supported")]) for cid in CLAIMS]
    tests.append(_test("C4", controls=[_verdict("C4", "refuted")]))
    return build_document(tests, HEADER)


def test_the_regime_table_shows_every_precondition_on_every_seed():
    """A seed that misses a regime check on its own is reported, never dropped: the check lists it."""
    gap = {**_verdict("precondition", "supported", "signed gap of the hard model", 0.08), "bound": 0.05}
    gap["per_seed"] = [{"seed": 0, "value": 0.1, "ci_low": 0.09, "ci_high": 0.11},
                       {"seed": 1, "value": 0.04, "ci_low": 0.03, "ci_high": 0.05}]
    tests = [_test("C7", verdicts=[{**_verdict("C7", "supported"), "preconditions": [gap]}]),
             _test("C12", verdicts=[{**_verdict("C12", "supported"), "preconditions": [gap]}], name="other")]
    document = build_document(tests, HEADER)
    (check,) = document["regime"]
    assert check["missed_by"] == [1] and [p["holds"] for p in check["per_seed"]] == [True, False]
    html = render_html(document, ROOT)
    assert "The paper's regime" in html and "✗" in html


def test_claim_ids_come_from_module_names():
    assert claim_of("claims/test_c4_feature_shrinkage.py::test_x[LS]") == "C4"
    assert claim_of("claims/test_t1a_assumptions.py::test_y") == "T1a"
    assert claim_of("claims/test_c10_weak.py::t") == "C10" and claim_of("tests/test_zoo.py::t") is None


@pytest.mark.parametrize("outcomes, control, expected", [
    (["supported", "supported"], "refuted", "supported"),
    (["supported", "refuted"], "refuted", "refuted"),
    (["supported", "inconclusive"], "refuted", "inconclusive"),
    (["supported"], "supported", "inconclusive"),
])
def test_claim_verdict_aggregates_criteria_and_controls(outcomes, control, expected):
    tests = [_test("C4", "passed" if o == "supported" else "failed", [_verdict("C4", o)]) for o in outcomes]
    tests.append(_test("C4", "passed" if control != "supported" else "failed", controls=[_verdict("C4", control)]))
    assert claim_verdict(tests)[0] == expected


def test_an_erroring_test_makes_the_claim_errored():
    assert claim_verdict([_test("C4", "error")])[0] == "errored"


@pytest.mark.parametrize("outcomes, expected", [
    (["supported"] * 3, "supported"),
    (["supported", "supported", "inconclusive"], "inconclusive"),
    (["supported", "supported", "refuted"], "inconclusive"),
    (["supported", "refuted", "refuted"], "refuted"),
    (["refuted", "inconclusive"], "inconclusive"),
    (["supported", "errored", "supported"], "errored"),
])
def test_a_claim_over_settings_needs_every_setting_to_be_supported(outcomes, expected):
    verdict, reason = over_settings({f"s{i}": (o, "") for i, o in enumerate(outcomes)}, [])
    assert verdict == expected and str(len(outcomes)) in reason


def test_a_control_supported_in_any_setting_makes_the_claim_inconclusive():
    verdict, reason = over_settings({"a": ("supported", ""), "b": ("supported", "")}, ["b"])
    assert verdict == "inconclusive" and "negative control came out supported (in b)" in reason


def _setting_tests(outcomes_by_setting, control="refuted"):
    tests = [_test("T1", verdicts=[_verdict("T1", "supported")])]  # uses no zoo: counts in every setting
    for i, (label, outcome) in enumerate(outcomes_by_setting.items()):
        tests.append(_test("C4", "passed" if outcome == "supported" else "failed",
                           [_verdict("C4", outcome, value=0.4 + 0.1 * i)], setting=label, name="shrink"))
        tests.append(_test("C4", controls=[_verdict("C4", control, "c")], setting=label, name="control"))
    return tests


def test_a_document_with_settings_decides_per_setting_then_over_settings():
    document = build_document(_setting_tests({"a": "supported", "b": "refuted", "c": "refuted"}),
                              {**HEADER, "settings": ["a", "b", "c"]})
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    c4 = next(c for c in document["claims"] if c["id"] == "C4")
    assert c4["verdict"] == "refuted" and "2 of 3 settings" in c4["reason"]
    assert [(r["label"], r["verdict"]) for r in c4["settings"]] == [("a", "supported"), ("b", "refuted"), ("c",
                                                                                                           "refuted")]
    assert set(c4["evidence"]) == {"hard@a", "hard@b", "hard@c"}
    html = render_html(document, Path("."))
    assert "supported only if supported in every setting" in html and "s2: 0.5" in html
    assert "3 training seeds and test samples" in html and "the training run" in html


def test_diff_tells_settings_apart(tmp_path, capsys):
    a = build_document(_setting_tests({"s0": "supported", "s1": "supported"}), HEADER)
    b = build_document(_setting_tests({"s0": "supported", "s1": "refuted"}), HEADER)
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    report_cli.main(["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    out = capsys.readouterr().out
    assert "C4: supported -> inconclusive" in out and "C4 s [s1]: supported -> refuted" in out
    assert "[s0]" not in out


@pytest.mark.parametrize("control, outcome, status", [
    ("refuted", "supported", 0), ("inconclusive", "refuted", 0), ("supported", "supported", 1)])
def test_check_fails_a_run_whose_control_came_out_supported(tmp_path, capsys, control, outcome, status):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(build_document(_setting_tests({"a": outcome}, control), HEADER)))
    assert report_cli.main(["check", str(path)]) == status
    assert ("does not discriminate" in capsys.readouterr().err) == bool(status)


def test_check_fails_a_run_with_an_errored_claim_or_no_report(tmp_path):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(build_document([_test("C4", "error")], HEADER)))
    assert report_cli.main(["check", str(path)]) == 1
    assert report_cli.main(["check", str(tmp_path / "missing.json")]) == 2
    (tmp_path / "list.json").write_text("[1, 2]")
    assert report_cli.main(["check", str(tmp_path / "list.json")]) == 2


def test_ci_fails_when_the_report_directory_is_unwritable(tmp_path):
    """The mechanism .ci/run calls: a claims run whose report could not be written fails the check."""
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the report folder should be")
    run = subprocess.run([sys.executable, "-m", "pytest", "claims/test_t1_theorem1.py", "-q", "-p", "no:cacheprovider",
                          "--report-dir", str(blocker / "sub")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    check = subprocess.run([sys.executable, "-m", "repcore.report", "check", str(blocker / "sub" / "claims.json")],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and check.returncode == 2 and "cannot read claims report" in check.stderr


def test_document_validates_against_its_schema_and_keeps_claims_order():
    document = _document()
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    assert [c["id"] for c in document["claims"]] == list(CLAIMS)
    assert document["counts"]["supported"] == len(CLAIMS) and document["models"]["hard"]["rms"] == 0.7


def test_the_document_does_not_depend_on_the_order_tests_finished_in():
    """xdist workers finish in any order; the report (and its deciding statistics) must not."""
    tests = _setting_tests({"a": "supported", "b": "refuted"})
    tests += [_test("C4", verdicts=[_verdict("C4", "supported", "other", 0.9)], name="t_other")]
    assert build_document(tests, HEADER) == build_document(tests[::-1], HEADER)


def test_diff_lists_verdict_changes(tmp_path, capsys):
    a, b = _document(), _document()
    b["claims"][0]["verdict"] = "refuted"
    b["claims"][0]["tests"][0]["verdicts"][0]["outcome"] = "refuted"
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    assert report_cli.main(["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert "T1: supported -> refuted" in out and "T1 s: supported -> refuted" in out
    assert report_cli.main(["diff", str(tmp_path / "a.json"), str(tmp_path / "missing.json")]) == 2


def test_html_is_self_contained_and_names_every_claim(tmp_path):
    html = render_html(_document(), tmp_path)
    for claim_id in CLAIMS:
        assert f'id="{claim_id}"' in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "<script" not in html


def test_a_partial_claims_run_writes_a_report_of_what_ran_beside_the_complete_one(tmp_path):
    """pytest claims -n 2 -k T1 --no-prebuild: T1 needs no zoo; only T1 is reported, in
    claims.partial.json, and the last complete report is left as it was."""
    (tmp_path / "claims.json").write_text("the last complete report")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "claims", "-n", "2", "-k", "t1 and not t1a", "--no-prebuild",
         "--report-dir", str(tmp_path), "--cache-dir", str(tmp_path / "cache"), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    document = json.loads((tmp_path / "claims.partial.json").read_text())
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    assert [c["id"] for c in document["claims"]] == ["T1"] and document["partial"] and not document["complete"]
    assert document["claims"][0]["verdict"] == "supported"
    assert document["claims"][0]["tests_ran"] == document["claims"][0]["tests_collected"] > 0
    assert (tmp_path / "claims.json").read_text() == "the last complete report"
    assert "repcore claims" in run.stdout and "claims.partial.html" in run.stdout
    assert not (tmp_path / "cache").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(tmp_path):
    from PIL import Image
    import numpy as np
    import matplotlib.pyplot as plt
    (tmp_path / "figures").mkdir()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig.savefig(tmp_path / "figures" / "f.png")
    document = _document()
    document["claims"][0]["figures"] = [{"path": "figures/f.png", "caption": "a line"}]
    page = tmp_path / "claims.html"
    page.write_text(render_html(document, tmp_path))
    profile = tmp_path / "chromium-profile"
    base = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    for claim_id in CLAIMS:
        assert f'id="{claim_id}"' in dom
    assert "data:image/png;base64," in dom
    shot = tmp_path / "shot.png"
    subprocess.run([*base, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 10, "the screenshot is blank"



def _write_run(report_dir: Path, name: str, png: bytes, partial: bool = False) -> None:
    """Write the report of a run whose one C4 figure is ``name`` holding ``png``."""
    from repcore.pytest_plugin import ClaimsReport

    document = build_document([_test("C4", verdicts=[_verdict("C4", "supported")],
                                     figures=[{"path": name, "caption": "c"}])], {**HEADER, "partial": partial})
    ClaimsReport._write(document, report_dir, {name: png})


def _figure_path(report: Path) -> str:
    return json.loads(report.read_text())["claims"][0]["figures"][0]["path"]


def test_a_partial_run_leaves_the_complete_reports_figures_as_they_were(tmp_path):
    """A -k run used to save its figures into figures/ over the complete report's, so claims.json
    named pictures of another run. Each run's figures now go to a folder of their own, replaced whole."""
    _write_run(tmp_path, "a.png", b"complete run")
    (tmp_path / "figures" / "stale.png").write_bytes(b"from an older run")
    _write_run(tmp_path, "a.png", b"complete run")
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["a.png"]

    _write_run(tmp_path, "a.png", b"partial run", partial=True)
    assert (tmp_path / "figures" / "a.png").read_bytes() == b"complete run"
    assert (tmp_path / "figures.partial" / "a.png").read_bytes() == b"partial run"
    assert _figure_path(tmp_path / "claims.json") == "figures/a.png"
    assert _figure_path(tmp_path / "claims.partial.json") == "figures.partial/a.png"

    _write_run(tmp_path, "b.png", b"next complete run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.html", "claims.json", "figures"]
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["b.png"]


def test_a_reliability_diagram_with_empty_bins_draws_without_a_numeric_warning():
    """Empty confidence bins have NaN accuracy; counting their successes cast NaN to int (a
    RuntimeWarning, and an undefined value) before it was read as zero."""
    import warnings

    import matplotlib.pyplot as plt
    import numpy as np
    from repcore.report.figures import reliability_diagrams
    confidence = np.r_[np.full(50, 0.95), np.full(50, 0.55)]  # 13 of the 15 bins stay empty
    correct = np.r_[np.ones(45), np.zeros(5), np.ones(25), np.zeros(25)].astype(bool)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fig = reliability_diagrams({"hard": (confidence, correct)})
    plt.close(fig)


def test_the_shipped_specification_is_the_steering_copy_and_explains_every_claim():
    from repcore.spec import claim_rows, explain
    steering = ROOT.parent / "shared" / "CLAIMS.md"
    if steering.is_file():
        assert (ROOT / "repcore" / "CLAIMS.md").read_text() == steering.read_text()
    assert set(claim_rows()) == set(CLAIMS)
    assert "supported when: seed-level interval of the difference above 0" in explain("c5")
    with pytest.raises(KeyError, match="no claim 'C99'"):
        explain("C99")
