"""The one audio format inside Attune: every clip, bed, bell and block is at this rate and layout.

Speech is converted to it once, when a clip enters the cache; every silence is made at it; the
planner counts in its frames, so a track is exactly the length asked for, to the sample.
"""

from __future__ import annotations

SAMPLE_RATE = 44100
CHANNELS = 2


def frames(seconds: float, sample_rate: int = SAMPLE_RATE) -> int:
    """Seconds → whole frames, rounded to the nearest."""
    return round(seconds * sample_rate)
