"""What claim tests record and the report reads, declared once.

A claim test records ``(kind, value)`` pairs through pytest's ``user_properties`` (they travel from
xdist workers to the controller); ``LISTS`` says under which key of the test's record in
``claims.json`` each kind of value is collected. ``SETTING``, ``EXCEPTION`` and ``NEEDS`` are single values.
"""

VERDICT = "verdict"  # Verdict.record() of a criterion
CONTROL = "control"  # Verdict.record() of a negative control
EVIDENCE = "evidence"  # {"model": name, "metrics": {name: float}}
FIGURE = "figure"  # {"path": file name, "caption": text, "png": bytes}; the report writes the PNG
# and replaces "path" by its place relative to the report folder
PRECONDITION = "precondition"  # a precondition's figures, for a test without a statistic
ATTACK_CHECK = "attack_check"  # {"model", "attack", "message"}: AutoAttack's own warnings
SETTING = "setting"  # the setting (dataset x architecture) the test ran on
EXCEPTION = "exception"  # the exception type of a failed call (tells errors from refutations)
NEEDS = "needs"  # the roles a skipped test needed and the models under test lack
ARTIFACTS = "artifacts"  # [[kind, name, computed in this run], ...]: what the test loaded, from the cache or not

LISTS = {VERDICT: "verdicts", CONTROL: "controls", EVIDENCE: "evidence", FIGURE: "figures",
         PRECONDITION: "preconditions", ATTACK_CHECK: "attack_checks"}
