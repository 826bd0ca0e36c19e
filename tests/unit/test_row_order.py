"""The row cache reads, locks and writes keys in their text's order, however it sorts them."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from workers.adapters.row_cache import in_text_order

keys = st.lists(st.uuids(), max_size=30) | st.lists(st.text(max_size=6), max_size=30)
mixed = st.lists(st.uuids() | st.text(max_size=6), max_size=30)


@given(values=keys | mixed)
def test_keys_come_in_the_order_of_their_text(values: list[Any]) -> None:
    assert [str(k) for k in in_text_order(set(values))] == sorted(str(k) for k in set(values))


def test_uuids_that_differ_in_any_digit_sort_as_their_text() -> None:
    ids = {uuid.UUID(int=1 << shift) for shift in range(128)} | {
        uuid.UUID(int=0),
        uuid.UUID(int=(1 << 128) - 1),
    }
    assert in_text_order(ids) == sorted(ids, key=str)
