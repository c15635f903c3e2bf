"""repcore: the representation-space claims of Park, Kim, Lee (arXiv 2410.03999) as tests."""

__version__ = "0.1.0"
