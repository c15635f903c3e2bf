"""Render the claims document to a self-contained HTML page (Jinja2; figures inlined as PNG data)."""

import base64
from pathlib import Path

import jinja2

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("repcore.report", "templates"),
                          autoescape=jinja2.select_autoescape(["html", "j2"]))
_ENV.filters["num"] = lambda x: "" if x is None else (f"{x:.4g}" if isinstance(x, float) else str(x))
_ENV.filters["short"] = lambda x: "" if x is None else (f"{x:.3g}" if isinstance(x, float) else str(x))


def _inline(path: Path) -> str | None:
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def render_html(document: dict, report_dir: Path) -> str:
    images = {f["path"]: _inline(report_dir / f["path"])
              for claim in document["claims"] for f in claim["figures"]}
    return _ENV.get_template("report.html.j2").render(doc=document, images=images)
