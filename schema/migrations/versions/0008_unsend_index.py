"""An index of the unsends, so a batch finds the ones naming its messages without reading the table.

The timeline writer asks, for every batch of Instagram and Messenger messages, whether an unsend
written earlier names one of them. Through `ix_timeline_refers_to` (every status and unsend)
PostgreSQL judged a full read of a young table cheaper than a thousand index probes, and that read
grew with the table on every batch. The unsends alone are few, so probing their index is cheap at
any size and the planner sees it.

Revision ID: 0008_unsend_index
Revises: 0007_data
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_unsend_index"
down_revision = "0007_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Built concurrently, outside the migration's transaction: on a large timeline the build reads
    # every row once, and the writer keeps inserting meanwhile instead of waiting for it.
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_timeline_unsends",
            "timeline_events",
            ["refers_to"],
            postgresql_where=sa.text("kind = 'deleted'"),
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_timeline_unsends", table_name="timeline_events", postgresql_concurrently=True, if_exists=True
        )
