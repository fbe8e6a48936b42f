"""The rules behind the forms: safe redirect targets, email normalisation, the password list,
and the `users` command as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ldnsite.accounts import passwords
from ldnsite.accounts.models import User
from ldnsite.accounts.validation import InvalidEmail, normalise_email
from ldnsite.security.redirects import safe_next

ROOT = Path(__file__).resolve().parent.parent

# Characters that matter in URLs, so the search reaches the tricky cases quickly.
URLISH = st.text(alphabet=st.sampled_from([*"/\\:.@?#%&=abcxyz019 \t\n\r\x00", "\u3002", "\uff0f", "\u2215"]), max_size=24)


@settings(max_examples=100, deadline=None)
@given(st.one_of(URLISH, st.text(max_size=30)))
def test_any_accepted_next_stays_on_this_site(target):
    accepted = safe_next(target)
    if accepted is None:
        return
    assert accepted == target
    # Browsers drop tabs and newlines and read backslashes as slashes; none of that is accepted.
    browser_view = target.replace("\\", "/")
    for ch in "\t\n\r":
        browser_view = browser_view.replace(ch, "")
    resolved = urlsplit(urljoin("https://ldn.example/account/login", browser_view))
    assert (resolved.scheme, resolved.netloc) == ("https", "ldn.example")


@pytest.mark.parametrize("target", ["/", "/forum/", "/forum/t/3?page=2", "/treatments/low-dose-naltrexone#dose"])
def test_local_paths_are_accepted(target):
    assert safe_next(target) == target


@settings(max_examples=100, deadline=None)
@given(st.emails())
def test_email_normalisation_is_lower_case_and_stable(address):
    try:
        once = normalise_email(address)
    except InvalidEmail:
        return  # email-validator is stricter than the generator in places
    assert once == once.lower()
    assert normalise_email(once) == once
    assert normalise_email(address.upper()) == once


def test_email_normalisation_handles_case_spaces_and_unicode_domains():
    assert normalise_email("  Ann@Example.COM ") == "ann@example.com"
    assert normalise_email("ann@BÜCHER.example") == normalise_email("ann@bücher.example")
    for bad in ("", "ann", "ann@", "@example.com", "ann@@example.com", "ann@example.com\nBcc: x@y.z"):
        with pytest.raises(InvalidEmail):
            normalise_email(bad)


def test_common_password_list_is_large_documented_and_case_insensitive():
    text = passwords.COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    assert text.startswith("# Common passwords")
    assert "NIST SP 800-63B" in text.splitlines()[0]
    assert len(passwords.common_passwords()) >= 2000
    for word in ("password", "PASSWORD1", "Qwerty123", "iloveyou", "12345678", "Liverpool1"):
        assert passwords.is_common(word), word
    assert not passwords.is_common("plum orbit lantern 42")


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("mzqtvkwp", True),
        ("mzqtvkw", False),
        ("x" * 256, True),
        ("x" * 257, False),
        ("🙂🙃🙂🙃🙂🙃🙂🙃", True),
        ("Password", False),
        ("alllowercasewords", True),
        ("ALLUPPERCASEWORDS", True),
    ],
)
def test_password_rules_are_length_and_the_list_only(password, ok):
    """No composition rules: only length and the common-password list decide."""
    problem = passwords.password_problem(password)
    assert (problem is None) == ok, problem


def test_users_create_from_the_command_line(app, tmp_path):
    """The real `flask --app app users create ... --password-stdin`, as an operator types it."""
    env = {
        **os.environ,
        "FLASK_DATABASE_URL": app.config["DATABASE_URL"],
        "FLASK_SECRET_KEY": "cli-test",
        "FLASK_MAIL_URL": f"file:{tmp_path / 'outbox'}",
        "FLASK_INDEX_DIR": str(tmp_path / "index"),
    }
    env.pop("FLASK_APP", None)
    flask = [sys.executable, "-m", "flask", "--app", "app", "users"]
    created = subprocess.run(
        [*flask, "create", "admin@example.com", "--name", "Site Admin", "--role", "admin", "--password-stdin"],
        input="quartz falcon ember\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    duplicate = subprocess.run(
        [*flask, "create", "admin@example.com", "--name", "Second", "--password-stdin"],
        input="quartz falcon ember\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    demoted = subprocess.run(
        [*flask, "set-role", "admin@example.com", "moderator"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False
    )
    assert demoted.returncode == 0, demoted.stderr
    from ldnsite.db import get_session

    with app.app_context():
        user = get_session().scalar(select(User).where(User.email == "admin@example.com"))
        assert (user.role, user.display_name, user.verified_at is not None) == ("moderator", "Site Admin", True)
