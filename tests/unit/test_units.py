"""Durations and sizes are parsed in one place, with clear refusals."""

import pytest
from ds01common.units import format_duration, format_size, parse_duration, parse_size


@pytest.mark.parametrize("text, seconds", [
    ("45s", 45), ("30m", 1800), ("48h", 172800), ("7d", 604800), ("2w", 1209600),
    (2, 7200), (0.5, 1800), ("1.5h", 5400), (None, None), (0, 0),
])
def test_durations_parse_to_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "10y", "-5m", -1, True, [], "h"])
def test_bad_durations_are_refused_with_an_example(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


@pytest.mark.parametrize("text, size", [
    ("32g", 32 * 1024 ** 3), ("512m", 512 * 1024 ** 2), ("1t", 1024 ** 4), ("64k", 65536),
    ("2GB", 2 * 1024 ** 3), (1024, 1024), (None, None), ("100", 100),
])
def test_sizes_parse_to_bytes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["lots", "32x", "-1g", -5, True, 1.5j])
def test_bad_sizes_are_refused(bad):
    with pytest.raises(ValueError, match="size"):
        parse_size(bad)


def test_formatting_is_short_and_readable():
    assert format_duration(None) == "never"
    assert format_duration(9000) == "2h30m"
    assert format_duration(30) == "30s"
    assert format_size(None) == "unlimited"
    assert format_size(32 * 1024 ** 3) == "32g"
    assert format_size(1536 * 1024 ** 2) == "1.5g"


def test_moments_are_iso_utc_to_the_second_with_a_z():
    from ds01common.units import iso_utc

    assert iso_utc(0) == "1970-01-01T00:00:00Z"
    assert iso_utc(1795382825.9) == "2026-11-22T21:27:05Z"
    assert iso_utc().endswith("Z") and len(iso_utc()) == 20
