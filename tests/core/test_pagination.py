import pytest

from keel.core.errors import InvalidInput
from keel.core.ids import has_prefix, new_id
from keel.core.pagination import decode_cursor, encode_cursor, page_of


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor("prj_01ABC")) == "prj_01ABC"
    assert decode_cursor(None) is None
    for garbage in ("%%%", "bm9wZQ"):
        with pytest.raises(InvalidInput):
            decode_cursor(garbage)


def test_page_of_signals_more_only_with_extra_row() -> None:
    rows = ["a_1", "a_2", "a_3"]
    assert page_of(rows, 3, str).next_cursor is None
    page = page_of(rows, 2, str)
    assert page.items == ["a_1", "a_2"]
    assert decode_cursor(page.next_cursor) == "a_2"


def test_ids_are_prefixed_and_sortable() -> None:
    first, second = new_id("trc"), new_id("trc")
    assert has_prefix(first, "trc")
    assert not has_prefix(first, "prm")
    assert first < second or first[:14] == second[:14]
