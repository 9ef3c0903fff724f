"""argparse types for numbers in a range: a bad value is a usage error (exit 2) that says what was expected."""

import argparse
import math


def number_in_range(convert, what, low=None, high=None, low_open=False):
    """An argparse ``type`` that parses with ``convert`` (int or float) and accepts finite values in range.

    ``what`` completes "expected ..."; ``low_open`` excludes ``low`` itself (x > low instead of x >= low).
    """
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        too_low = low is not None and (value <= low if low_open else value < low)
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    return parse


positive_int = number_in_range(int, "an integer >= 1", low=1)
nonnegative_float = number_in_range(float, "a finite number >= 0", low=0)
positive_float = number_in_range(float, "a finite number > 0", low=0, low_open=True)
fraction = number_in_range(float, "a number in [0, 1]", low=0, high=1)
