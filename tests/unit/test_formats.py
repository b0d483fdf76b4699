"""Numbers, sizes, durations and days per locale (core/i18n/formats.py, Babel's CLDR data)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.app.service import error_message
from core.errors import InvalidCommand, NotFound
from core.i18n import Translator, formats

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("value", "english", "french"),
    [
        (0, "0", "0"),
        (999, "999", "999"),
        (40_000, "40,000", f"40{NNBSP}000"),
        (1_234_567, "1,234,567", f"1{NNBSP}234{NNBSP}567"),
        (-5_000, "-5,000", f"-5{NNBSP}000"),
    ],
)
def test_whole_numbers_are_grouped_as_each_language_groups_them(
    value: int, english: str, french: str
) -> None:
    assert formats.number(value, "en") == english
    assert formats.number(value, "fr") == french


@pytest.mark.parametrize(
    ("size", "english", "french"),
    [
        (None, "—", "—"),
        (0, "0 B", "0 o"),
        (999, "999 B", "999 o"),
        (1_534_000, "1.5 MB", "1,5 Mo"),
        (1_200_000_000, "1.2 GB", "1,2 Go"),
        (999_960, "1.0 MB", "1,0 Mo"),
        (999_949, "999.9 kB", "999,9 ko"),
        (40_000 * 10**12, "40,000.0 TB", f"40{NNBSP}000,0 To"),
    ],
)
def test_sizes_use_the_locale_units_and_decimal_mark(
    size: int | None, english: str, french: str
) -> None:
    assert formats.size(size, "en") == english
    assert formats.size(size, "fr") == french


def test_durations_days_and_moments() -> None:
    assert formats.duration(timedelta(seconds=2.34), "fr") == "2,3 s"
    assert formats.duration(timedelta(seconds=125), "fr") == "2 min 5 s"
    assert formats.duration(timedelta(hours=1500), "fr") == f"1{NNBSP}500 h 0 min"
    assert formats.duration(None, "fr") == "—"
    assert formats.day(date(2026, 12, 4), "fr") == "4 déc. 2026"
    assert formats.day(date(2026, 12, 4), "en") == "Dec 4, 2026"
    moment = datetime(2026, 1, 5, 9, 0, 3, tzinfo=UTC)
    # the field's style stays the sortable one, in every language
    assert formats.timestamp(moment, "fr") == "2026-01-05 09:00:03 UTC"
    assert formats.timestamp(moment, "en") == "2026-01-05 09:00:03 UTC"


def test_an_unknown_locale_writes_as_english() -> None:
    assert formats.number(40_000, "de") == "40,000"
    assert formats.size(1_534_000, "xx") == "1.5 MB"


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**15), 10**15))
def test_a_grouped_number_reads_back_as_the_same_number(value: int) -> None:
    assert int(formats.number(value, "en").replace(",", "")) == value
    assert int(formats.number(value, "fr").replace(NNBSP, "")) == value
    # a count given to the catalog is written the same way
    assert Translator("fr").t("line.files", count=value).startswith(formats.number(value, "fr"))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**16))
def test_a_size_is_its_bytes_to_one_decimal(size: int) -> None:
    text = formats.size(size, "fr")
    number, unit = text.rsplit(" ", 1)
    scale = 1000 ** ["o", "ko", "Mo", "Go", "To"].index(unit)
    shown = float(number.replace(NNBSP, "").replace(",", "."))
    assert abs(shown - size / scale) <= 0.05 + 1e-9 * shown
    assert unit == "To" or shown < 1000  # never "1 000,0 ko": the next unit up instead


@pytest.mark.parametrize(
    ("count", "english", "french"),
    [(0, "other", "one"), (1, "one", "one"), (2, "other", "other"), (1_000_000, "other", "many")],
)
def test_plural_categories_follow_cldr(count: int, english: str, french: str) -> None:
    assert formats.plural_category(count, "en") == english
    assert formats.plural_category(count, "fr") == french
    # French has no `many` form in the catalog: it falls back to `other`
    assert (
        Translator("fr")
        .t("line.files", count=count)
        .endswith("fichier" if french == "one" else "fichiers")
    )


def test_amounts_in_error_replies_are_grouped_and_ids_are_not() -> None:
    too_long = InvalidCommand("error.text_too_long", limit=2000)
    assert "at most 2,000 characters" in error_message(Translator("en"), too_long, "/").text
    assert f"2{NNBSP}000 caractères" in error_message(Translator("fr"), too_long, "/").text
    bounds = InvalidCommand("error.out_of_range", option="--keep", low=1, high=10_000, value="0")
    assert f"entre 1 et 10{NNBSP}000, pas 0" in error_message(Translator("fr"), bounds, "/").text
    missing = NotFound("error.job_not_found", job=12345)
    assert "#12345" in error_message(Translator("fr"), missing, "/").text
