"""A profile ``tiny`` of tiny models (one seed, every role), for tests that run the CLIs end to
end in processes of their own: ``REPCORE_PLUGINS=tests.tiny_profile python -m repcore.fixtures build
--profile tiny``. ``REPCORE_TINY_EPOCHS`` lengthens training, so a test can stop a build midway.
Its attacks are FGSM and PGD only: the tests that build it read no AutoAttack outcome, and its
build runs every planned attack."""

import os
from dataclasses import replace

from repcore.fixtures.profiles import PROFILES, Profile
from repcore.attacks import paper_attacks
from tests.conftest import TINY

SPEC = replace(TINY, epochs=int(os.environ.get("REPCORE_TINY_EPOCHS", TINY.epochs)))


def tiny() -> Profile:
    attacks = {name: config for name, config in paper_attacks().items() if config.kind != "autoattack"}
    return Profile("tiny", "tiny models on the embedded data (tests only)", {"small_cnn-embedded": SPEC},
                   seeds=(0,), attacks=attacks, attack_images=64)


PROFILES["tiny"] = tiny
