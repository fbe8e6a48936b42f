"""forum community: discussion slot, submission keys

- A held or removed "Discuss this article" topic no longer takes the page's
  discussion: the unique constraint on topics.page_slug becomes a unique
  index over published topics only.
- posts.submission_key (unique) names the form submission that made a post,
  so the same form sent twice at once makes one post.
- posts.urgent_at: the text suggests someone may be at risk; first in the
  moderation queue until a moderator has dealt with it.
- reports.category and reports.details: the reason chosen from the list, and
  the reporter's optional details.

Revision ID: forum_0003
Revises: 0002
Create Date: 2026-12-01 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "forum_0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PUBLISHED_ONLY = sa.text("status = 'published'")


def upgrade() -> None:
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_topics_page_slug"), type_="unique")
        batch_op.create_index(batch_op.f("ix_topics_page_slug"), ["page_slug"], unique=False)
        batch_op.create_index("uq_topics_page_slug_published", ["page_slug"], unique=True,
                              sqlite_where=PUBLISHED_ONLY, postgresql_where=PUBLISHED_ONLY)
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_posts_submission_key"), ["submission_key"])
        batch_op.add_column(sa.Column("urgent_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_posts_urgent_at"), ["urgent_at"], unique=False)
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("details", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("details")
        batch_op.drop_column("category")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_urgent_at"))
        batch_op.drop_column("urgent_at")
        batch_op.drop_constraint(batch_op.f("uq_posts_submission_key"), type_="unique")
        batch_op.drop_column("submission_key")
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index("uq_topics_page_slug_published")
        batch_op.drop_index(batch_op.f("ix_topics_page_slug"))
        batch_op.create_unique_constraint(batch_op.f("uq_topics_page_slug"), ["page_slug"])
