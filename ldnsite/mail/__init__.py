"""Mail: the one mailer, its queue, the suppression list, opt-out and one-click unsubscribe."""

from flask import Blueprint, Flask

bp = Blueprint("mail", __name__)


def init_app(app: Flask) -> None:
    from ldnsite.mail import mailer, models  # noqa: F401
    from ldnsite.mail.cli import mail_cli

    try:
        from ldnsite.mail import routes  # noqa: F401
    except ImportError:  # pragma: no cover - routes arrive after the mailer
        pass
    mailer.init_app(app)
    app.cli.add_command(mail_cli)
    app.register_blueprint(bp)
