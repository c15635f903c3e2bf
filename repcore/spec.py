"""The claims' specification, shipped with the package (``CLAIMS.md`` beside this module): each
claim's statement, what is measured, when it is supported, its negative control, and the
definitions and verdict rules they use. ``repcore explain [ID]`` prints it; the report shows each
claim's row beside its verdict.
"""

import functools
from importlib import resources

SPEC_FILE = "CLAIMS.md"
COLUMNS = ("claim", "measured as", "supported when", "negative control")


@functools.cache
def spec_text() -> str:
    return resources.files("repcore").joinpath(SPEC_FILE).read_text()


def sections() -> dict[str, str]:
    """The spec's ``## `` sections by title, their text as written."""
    found: dict[str, str] = {}
    title = "preamble"
    for line in spec_text().splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            found[title] = ""
        else:
            found[title] = found.get(title, "") + line + "\n"
    return {name: text.strip() for name, text in found.items()}


@functools.cache
def claim_rows() -> dict[str, dict[str, str]]:
    """Each claim's row of the spec's table: id -> {claim, measured as, supported when, negative control}.

    >>> claim_rows()["C5"]["claim"]
    'Soft labels raise alignment: higher cos(v, v_opt) than hard labels'
    """
    rows = {}
    for line in sections()["The claims"].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) == len(COLUMNS) + 1 and cells[0] not in ("id", "---") and not cells[0].startswith("---"):
            rows[cells[0]] = dict(zip(COLUMNS, cells[1:], strict=True))
    return rows


def explain(claim: str | None = None) -> str:
    """The spec of ``claim`` (its row, then the definitions and verdict rules), or of every claim."""
    rows = claim_rows()
    if claim is None:
        return "\n".join(f"{cid:<4} {row['claim']}" for cid, row in rows.items()) + (
            "\n\nrepcore explain ID: one claim's measurement, bound and control, with the definitions")
    match = next((cid for cid in rows if cid.lower() == claim.lower()), None)
    if match is None:
        raise KeyError(f"no claim {claim!r}; the claims are {', '.join(rows)}")
    row = rows[match]
    body = "\n".join(f"{column}: {row[column]}" for column in COLUMNS)
    parts = sections()
    return (f"{match}\n{body}\n\n## Definitions (choices marked)\n{parts['Definitions (choices marked)']}\n\n"
            f"## Verdicts\n{parts['Verdicts']}")
