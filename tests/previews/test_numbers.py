"""Option numbers, booleans and colours read with Go's grammar and bounded (proxy.previews.numbers)."""

import math

import pytest

from proxy.previews.numbers import (
    FLOAT_MAX,
    INT_MAX,
    MAX_NUMBER_TEXT,
    OptionError,
    boolean,
    hex_color,
    integer,
    number,
)


def refused(call, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(OptionError) as caught:
        call(*args, **kwargs)
    assert caught.value.status == 400
    return caught.value.reason


@pytest.mark.parametrize(
    "text, value", [("0", 0), ("+7", 7), ("-0", 0), ("007", 7), (str(INT_MAX), INT_MAX)]
)
def test_integer_reads_gos_atoi_grammar(text: str, value: int) -> None:
    assert integer("w", text) == value


@pytest.mark.parametrize("text", [" 1", "1 ", "1_0", "1.0", "0x10", "", "+", "1e3", "٣"])
def test_integer_refuses_what_python_would_read_but_go_would_not(text: str) -> None:
    assert refused(integer, "w", text) == f"invalid option w: {text!r} is not an integer"


def test_integer_bounds_are_inclusive_and_named() -> None:
    assert integer("q", "1", 1, 100) == 1 and integer("q", "100", 1, 100) == 100
    assert (
        refused(integer, "q", "101", 1, 100) == "invalid option q: 101 is out of range (1 to 100)"
    )
    assert "out of range" in refused(integer, "q", "0", 1, 100)
    assert "out of range" in refused(integer, "w", str(INT_MAX + 1))


def test_integers_too_long_to_convert_are_out_of_range_not_an_overflow() -> None:
    # Past 19 digits the text is never converted (no int of 10**5000 digits), yet the
    # message says what is wrong with it: a number, too large.
    huge = "9" * 5000
    assert "out of range" in refused(integer, "rot", huge, -360, 360)
    assert "out of range" in refused(integer, "w", "-" + "1" * 25)


@pytest.mark.parametrize(
    "text, value",
    [("1", 1.0), ("1.", 1.0), (".5", 0.5), ("+2.5", 2.5), ("1e3", 1000.0), ("2E-1", 0.2)],
)
def test_number_reads_decimal_forms(text: str, value: float) -> None:
    assert number("z", text) == value


def test_number_reads_gos_hex_floats() -> None:
    assert number("z", "0x1p4") == 16.0
    assert number("z", "0X.8P1") == 1.0
    # A hex float that overflows Python's float is out of range, not an OverflowError.
    assert "out of range" in refused(number, "z", "0x1p99999")


@pytest.mark.parametrize("text", ["inf", "-Infinity", "NaN", "+nan"])
def test_number_refuses_what_is_not_finite(text: str) -> None:
    assert refused(number, "bl", text) == f"invalid option bl: {text!r} is not a finite number"


@pytest.mark.parametrize("text", ["1_0", " 1", "0x10", "1e", "e5", "", "--1", "1,5"])
def test_number_refuses_other_spellings(text: str) -> None:
    assert refused(number, "bl", text) == f"invalid option bl: {text!r} is not a number"


def test_number_bounds() -> None:
    assert number("z", str(FLOAT_MAX)) == FLOAT_MAX
    assert "out of range" in refused(number, "z", "1e10")
    assert "out of range" in refused(number, "z", "1e400")  # float() gives inf: still a 400
    assert number("bl", "0") == 0.0
    assert "at least 0" in refused(number, "bl", "-0.1")
    assert number("o", "1", 0, 1) == 1.0
    assert "at most 1" in refused(number, "o", "1.01", 0, 1)


def test_number_above_excludes_the_low_bound_only() -> None:
    assert "more than 0" in refused(number, "dpr", "0", above=True)
    assert "more than 0" in refused(number, "dpr", "-0.0", above=True)
    assert number("dpr", "1e-9", above=True) == 1e-9
    assert number("dpr", "0", above=False) == 0.0


def test_long_number_texts_are_refused_before_parsing() -> None:
    zeros = "0." + "0" * (MAX_NUMBER_TEXT - 3) + "1"
    assert len(zeros) == MAX_NUMBER_TEXT
    assert math.isclose(number("z", zeros), float(zeros))
    assert refused(number, "z", zeros + "1") == "invalid option z: number too long"


@pytest.mark.parametrize("text", ["1", "t", "T", "true", "TRUE", "True"])
def test_boolean_true_spellings(text: str) -> None:
    assert boolean(text) is True


@pytest.mark.parametrize("text", ["0", "f", "false", "", "yes", "on", "tRUE", "2", " 1"])
def test_boolean_anything_else_is_false(text: str) -> None:
    assert boolean(text) is False


def test_hex_colours() -> None:
    assert hex_color("bg", "ff0080") == (255, 0, 128)
    assert hex_color("bg", "F08") == (255, 0, 136)
    for text in ("#fff", "ffff", "fffffff", "ggg", "", "red", "ff008080"):
        assert "is not a hex colour" in refused(hex_color, "bg", text)
