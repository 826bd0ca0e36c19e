"""What a re-normalized number inherits from the old one: a table of every case (pure)."""

from __future__ import annotations

import uuid

import pytest

from workers.domain.renormalize import Claim, Keep, Move, Number, Review, Share, decide_move

ANA, BO, ANA_ROW = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)
OWNED = Number(owner=ANA, holder=ANA_ROW)
SHARED = Number(shared=True)
NOBODY = Number()


@pytest.mark.parametrize(
    ("old", "new", "move"),
    [
        # the new number takes over the old one's owner (the row holding it, for a later split)
        (OWNED, NOBODY, Move(Claim(ANA_ROW))),
        (OWNED, Number(owner=ANA, holder=ANA), Move(Keep("same_customer"))),
        # joining two customers is a person's call
        (OWNED, Number(owner=BO, holder=BO), Move(Review("renormalized_phone_owner", ANA, BO))),
        (OWNED, SHARED, Move(Review("renormalized_phone_shared", ANA, None))),
        # a shared line stays shared; an owner of the new spelling is not overruled
        (SHARED, NOBODY, Move(Share())),
        (SHARED, SHARED, Move(Keep("already_shared"))),
        (SHARED, Number(owner=BO, holder=BO), Move(Review("renormalized_phone_shared", None, BO))),
        (NOBODY, NOBODY, Move(Keep("no_owner"))),
        # a person took a number from a customer: neither spelling goes back to them by itself
        (OWNED, Number(released_from=ANA), Move(Review("renormalized_phone_released", ANA, None))),
        (Number(released_from=ANA), NOBODY, Move(Review("renormalized_phone_released", ANA, None))),
        (Number(released_from=ANA), Number(released_from=ANA), Move(Keep("no_owner"))),
        (OWNED, Number(released_from=BO), Move(Claim(ANA_ROW))),
        (NOBODY, Number(owner=BO, holder=BO), Move(Keep("no_owner"))),
        # a person's mark goes with the line, unless the new number has one of its own
        (Number(shared=True, mark="shared"), NOBODY, Move(Share(), carry_mark="shared")),
        (Number(owner=ANA, holder=ANA_ROW, mark="not_shared"), NOBODY, Move(Claim(ANA_ROW), "not_shared")),
        (
            Number(owner=ANA, holder=ANA_ROW, mark="not_shared"),
            Number(mark="not_shared"),
            Move(Claim(ANA_ROW)),
        ),
        (
            Number(shared=True, mark="shared"),
            Number(owner=BO, holder=BO, mark="not_shared"),
            Move(Review("renormalized_phone_marks", None, BO)),
        ),
    ],
)
def test_decide_move(old: Number, new: Number, move: Move) -> None:
    assert decide_move(old, new) == move
