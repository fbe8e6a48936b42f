"""unique display name key

Two registrations racing for one display name could both pass the check in
the application; the unique index settles it. Deleted accounts share the name
"Deleted member", so their key becomes NULL first (NULLs never collide).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 04:30:00
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE users SET display_name_key = NULL WHERE deleted_at IS NOT NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_display_name_key'))
        batch_op.create_index(batch_op.f('ix_users_display_name_key'), ['display_name_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_display_name_key'))
        batch_op.create_index(batch_op.f('ix_users_display_name_key'), ['display_name_key'], unique=False)
