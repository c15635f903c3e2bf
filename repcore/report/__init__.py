"""The claims report: the document (claims.json), its HTML rendering, figures, and the diff CLI."""
