"""forum community: discussion slot, submission keys

- A held or removed "Discuss this article" topic no longer takes the page's
  discussion: the unique constraint on topics.page_slug becomes a unique
  index over published topics only.
- posts.submission_key (unique) names the form submission that made a post,
  so the same form sent twice at once makes one post.
- posts.urgent_at: the text suggests someone may be at risk; first in the
  moderation queue until a moderator has dealt with it.
- posts.flag_reason: why a moderator should look at a published post (a
  watched word it uses).
- watched_words: words and phrases moderators watch for, with an action.
- posts.withdrawn_at: when the author withdrew the post (status "withdrawn").
- topic_follows: who gets reply emails for a topic; each existing topic's
  author follows it, as new topics' authors do.
- reports.category and reports.details: the reason chosen from the list, and
  the reporter's optional details.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PUBLISHED_ONLY = sa.text("status = 'published'")


def upgrade() -> None:
    op.create_table(
        "topic_follows",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["topic_id"], ["topics.id"], name=op.f("fk_topic_follows_topic_id_topics")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_topic_follows_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "topic_id", name=op.f("pk_topic_follows")),
    )
    with op.batch_alter_table("topic_follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topic_follows_topic_id"), ["topic_id"], unique=False)
    op.execute("INSERT INTO topic_follows (user_id, topic_id, created_at) "
               "SELECT author_id, id, created_at FROM topics WHERE author_id IS NOT NULL")
    op.create_table(
        "watched_words",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phrase", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_watched_words_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watched_words")),
        sa.UniqueConstraint("key", name=op.f("uq_watched_words_key")),
    )
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_topics_page_slug"), type_="unique")
        batch_op.create_index(batch_op.f("ix_topics_page_slug"), ["page_slug"], unique=False)
        batch_op.create_index("uq_topics_page_slug_published", ["page_slug"], unique=True,
                              sqlite_where=PUBLISHED_ONLY, postgresql_where=PUBLISHED_ONLY)
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_posts_submission_key"), ["submission_key"])
        batch_op.add_column(sa.Column("urgent_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("flag_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
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
        batch_op.drop_column("flag_reason")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_constraint(batch_op.f("uq_posts_submission_key"), type_="unique")
        batch_op.drop_column("submission_key")
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index("uq_topics_page_slug_published")
        batch_op.drop_index(batch_op.f("ix_topics_page_slug"))
        batch_op.create_unique_constraint(batch_op.f("uq_topics_page_slug"), ["page_slug"])
    op.drop_table("watched_words")
    op.drop_table("topic_follows")
