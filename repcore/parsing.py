"""The command line's parser and the option types the commands share: a usage error is one line,
exit 2, naming the option (argparse's own usage block is one ``--help`` away)."""

import argparse


class Parser(argparse.ArgumentParser):
    """argparse's parser with a usage error in one line, exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")


def positive_int(text: str) -> int:
    """A whole number of at least 1 (argparse, and so pytest, name the option when it is not).

    >>> positive_int("3")
    3
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number of at least 1")
    return value
