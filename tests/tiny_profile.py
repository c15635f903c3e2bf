"""A profile ``tiny`` of tiny models (one seed, every role), for tests that run the CLIs end to
end in processes of their own: ``REPCORE_PLUGINS=tests.tiny_profile python -m fixtures build
--profile tiny``. ``REPCORE_TINY_EPOCHS`` lengthens training, so a test can stop a build midway."""

import os
from dataclasses import replace

from fixtures.profiles import PROFILES, Profile
from tests.conftest import TINY

SPEC = replace(TINY, epochs=int(os.environ.get("REPCORE_TINY_EPOCHS", TINY.epochs)))


def tiny() -> Profile:
    return Profile("tiny", "tiny models on the embedded data (tests only)", {"small_cnn-embedded": SPEC},
                   seeds=(0,), attack_images=64)


PROFILES["tiny"] = tiny
