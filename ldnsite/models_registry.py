"""Imports every capability's models so Base.metadata is complete (Alembic, tests)."""


def import_all() -> None:
    from ldnsite.accounts import models as _accounts  # noqa: F401
    from ldnsite.forum import models as _forum  # noqa: F401
    from ldnsite.mail import models as _mail  # noqa: F401
    from ldnsite.moderation import models as _moderation  # noqa: F401
    from ldnsite.search import models as _search  # noqa: F401
