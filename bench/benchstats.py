"""Figures the benches print (no Django, no third-party imports: the locust process uses it too)."""

import math


def percentile(values, fraction):
    """The value at `fraction` (0.5 for the median) of `values`, interpolated between neighbours."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
