"""Extensions, created once here and bound to the app in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
# No default limits: only the endpoints that invite abuse (sign-in, posting,
# reporting, opt-out) carry a limit, so reading is never throttled.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
