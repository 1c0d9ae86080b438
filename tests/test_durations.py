import pytest

from attune.durations import format_duration, parse_duration
from attune.errors import LengthError


@pytest.mark.parametrize(
    "text, seconds",
    [("90s", 90), ("10m", 600), ("1m30s", 90), ("1h", 3600), ("500ms", 0.5), ("2m", 120), ("1.5s", 1.5), ("1h30m", 5400), (" 5 m ", 300), ("12h", 43200)],
)
def test_parse(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text, message",
    [
        ("10", "duration '10' has no unit — write 10s or 10m"),
        ("-3s", "duration '-3s' is negative — write a positive duration such as 30s or 2m"),
        ("ten minutes", "duration 'ten minutes' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h"),
        ("999h", "duration '999h' is longer than the 12h limit — use a duration of 12h or less"),
        ("1m1m", "duration '1m1m' repeats a unit — write it like 1m30s"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(LengthError) as info:
        parse_duration(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "seconds, text", [(45, "45s"), (252, "4m12s"), (690, "11m30s"), (3600, "1h"), (3720, "1h2m"), (0.5, "500ms"), (1.5, "1.5s"), (0, "0s")]
)
def test_format(seconds, text):
    assert format_duration(seconds) == text
