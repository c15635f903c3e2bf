"""``python tests/tiny_build.py <python -m fixtures arguments>`` with a profile ``tiny`` of tiny
models (one seed) registered first: the build CLI end to end in seconds, in a process of its own
(``test_distributed.py`` runs it under torchrun, ``test_faults.py`` interrupts and kills it).
``REPCORE_TINY_EPOCHS`` lengthens training, so a test can stop a build midway."""

import os
import sys
from dataclasses import replace

from fixtures import __main__ as cli
from fixtures.profiles import PROFILES, Profile
from tests.conftest import TINY

SPEC = replace(TINY, epochs=int(os.environ.get("REPCORE_TINY_EPOCHS", TINY.epochs)))
PROFILES["tiny"] = lambda: Profile("tiny", "tiny models", {"small_cnn-embedded": SPEC}, seeds=(0,))

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
