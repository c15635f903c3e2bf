"""Launched by ``test_distributed.py`` under torchrun: ``python -m fixtures build`` on a profile of
one tiny model, so the data-parallel path runs end to end in seconds."""

import sys

from fixtures import __main__ as cli
from fixtures.profiles import PROFILES, Profile
from tests.conftest import TINY

PROFILES["tiny"] = lambda: Profile("tiny", "one tiny model", {"small_cnn-embedded": TINY}, seeds=(0,))

if __name__ == "__main__":
    sys.exit(cli.main(["build", "--profile", "tiny", "--model", "hard", "--device", "cpu", *sys.argv[1:]]))
