"""Mail: the one mailer, its queue, the suppression list, opt-out and one-click unsubscribe."""

from flask import Blueprint, Flask

bp = Blueprint("mail", __name__)


def init_app(app: Flask) -> None:
    from ldnsite.mail import mailer, models, routes  # noqa: F401  (routes register on bp)
    from ldnsite.mail.cli import mail_cli

    mailer.init_app(app)
    app.cli.add_command(mail_cli)
    app.register_blueprint(bp)
