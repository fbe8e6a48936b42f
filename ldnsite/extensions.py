"""Extensions, created once here and bound to the app in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
# No default limits: only the endpoints that invite abuse (sign-in, posting,
# reporting, opt-out) carry a limit, so reading is never throttled.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def member_or_address_key() -> str:
    """The rate-limit key for what members do: per member where signed in (a household sharing one
    address must not lock each other out), per address otherwise."""
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return get_remote_address()
