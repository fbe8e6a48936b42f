"""Shared fixtures: the app on a real database (SQLite file, and PostgreSQL for modules marked
`both_databases`), an HTTP client with CSRF-aware helpers, members, and a real headless Chromium.

Mark a module `pytestmark = pytest.mark.both_databases` (or one test) to run each of its tests on
both databases: where the dialect can change the outcome (constraints, locking, concurrency,
migrations, dates and case in SQL, what a query returns). Mark a test of such a module
`sqlite_only` when its outcome is decided before any SQL that could differ runs (input refused
by a form, access refused, a page's markup). PostgreSQL tests are skipped when it is
unreachable, except under CI, where they fail: CI must exercise both. `both_engines` runs
a search module on SQLite with Whoosh and on PostgreSQL with each search engine
(`postgresql-search` is the PostgreSQL engine); `whoosh_only` skips a test about Whoosh's
index files on the PostgreSQL engine.

Why the schema is built once per session (per xdist worker): `create_all` for every test was
a tenth of the run. Each test still gets its own database with real, committed data (its own
copy of a template SQLite file, or its own PostgreSQL schema built by one script), so tests
that commit, open several connections or start threads and processes see what production sees.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import shutil
import threading
import uuid
from pathlib import Path

import jinja2
import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text
from werkzeug.serving import make_server

from ldnsite import create_app, models_registry
from ldnsite.accounts.passwords import hash_password
from ldnsite.content.store import Page
from ldnsite.db import Base, get_session, make_engine
from ldnsite.search import pg_tables

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_JS = ROOT / "tests" / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Each capability keeps its shared fixtures in its own module.
pytest_plugins = [f"tests.fixtures_{name}" for name in ("accounts", "forum", "moderation", "mail", "search")]


def pytest_configure(config):
    config.addinivalue_line("markers", "both_databases: run on SQLite and on PostgreSQL")
    config.addinivalue_line("markers", "both_engines: run on SQLite, PostgreSQL, and PostgreSQL with SEARCH_BACKEND=postgres")
    config.addinivalue_line("markers", "whoosh_only(reason): about the Whoosh index itself; skipped on the postgres engine")
    config.addinivalue_line("markers", "sqlite_only: in a both_databases module, a test the dialect cannot change")
    config.addinivalue_line("markers", "browser: needs headless Chromium")
    config.addinivalue_line("markers", "read_only_index: the module's tests share one search index (they write none)")


def pytest_generate_tests(metafunc):
    if "db_backend" in metafunc.fixturenames:
        definition = metafunc.definition
        if definition.get_closest_marker("sqlite_only") is not None:
            backends = ["sqlite"]
        elif definition.get_closest_marker("both_engines") is not None:
            backends = ["sqlite", "postgresql", PG_SEARCH]
        elif definition.get_closest_marker("both_databases") is not None:
            backends = ["sqlite", "postgresql"]
        else:
            backends = ["sqlite"]
        metafunc.parametrize("db_backend", backends)


PG_SEARCH = "postgresql-search"  # PostgreSQL with SEARCH_BACKEND=postgres
_pg_ok: bool | None = None


def _postgres_reachable() -> bool:
    global _pg_ok
    if _pg_ok is None:
        try:
            with create_engine(PG_URL).connect() as conn:
                conn.execute(text("SELECT 1"))
            _pg_ok = True
        except Exception:  # noqa: BLE001
            _pg_ok = False
    return _pg_ok


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file with the full schema, built once; each test's database starts as a copy of it."""
    models_registry.import_all()
    path = tmp_path_factory.mktemp("schema") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()  # the last connection checkpoints the WAL: the main file is then complete
    assert not path.with_name(path.name + "-wal").exists(), "template still has a write-ahead log"
    return path


@pytest.fixture(scope="session")
def postgres_admin():
    """An autocommit engine for creating and dropping the tests' schemas."""
    if not _postgres_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}; CI must run the PostgreSQL tests")
        pytest.skip("PostgreSQL not reachable")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema_script(postgres_admin) -> str:
    """The DDL `create_all` runs on PostgreSQL (tables, indexes, constraints, triggers), recorded once.

    Why a recording: replayed as one script it builds a test's schema in one round trip,
    where `create_all` asks the catalogue about every table first.
    """
    models_registry.import_all()
    schema = _schema_name("tmpl")
    with postgres_admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    statements: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip().upper().startswith(("CREATE", "ALTER", "COMMENT", "DROP TRIGGER")):
            statements.append(statement.strip().rstrip(";"))

    event.listen(engine, "before_cursor_execute", record)
    try:
        create_schema(engine)
    finally:
        engine.dispose()
        with postgres_admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    assert statements, "create_all emitted no DDL"
    return ";\n".join(statements)


def create_schema(engine) -> None:
    """The models' tables, and on PostgreSQL the search engine's tables (migration 0005 makes them only there)."""
    Base.metadata.create_all(engine)
    if engine.dialect.name == "postgresql":
        pg_tables.metadata.create_all(engine)


def _schema_name(kind: str = "t") -> str:
    """Unique, and naming the xdist worker, so parallel workers never share a schema."""
    return f"{kind}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def database_config(request, db_backend, tmp_path):
    """Yields config for a fresh, empty database; a private schema on PostgreSQL.

    The `app` fixture fills it with the schema; tests of the migrations use it empty.
    """
    models_registry.import_all()
    if db_backend == "sqlite":
        yield {"DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}"}
        return
    admin = request.getfixturevalue("postgres_admin")
    schema = _schema_name()
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield {
            "DATABASE_URL": PG_URL,
            # Why no synchronous commit: a test never survives a power cut, and waiting for the
            # disk on each of its commits was most of a PostgreSQL test's time.
            "DATABASE_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema} -csynchronous_commit=off"}},
        }
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


SEARCH_PATH = re.compile(r"-csearch_path=(\w+)")


def build_schema(request, config: dict) -> bool:
    """Give the empty database in `config` the full schema the cheap way; False if it must use create_all.

    SQLite: copy the session's template file to where the test's database will be.
    PostgreSQL: replay the recorded DDL in the test's own schema.
    """
    url = config["DATABASE_URL"]
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return True
    options = config.get("DATABASE_ENGINE_OPTIONS", {}).get("connect_args", {}).get("options", "")
    schema = SEARCH_PATH.search(options)
    if url == PG_URL and schema:
        script = request.getfixturevalue("postgres_schema_script")
        with request.getfixturevalue("postgres_admin").connect() as conn:
            conn.exec_driver_sql(f"SET search_path TO {schema.group(1)}; {script}; RESET search_path")
        return True
    return False


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory) -> Path:
    """Built by the first test of a `read_only_index` module and only read after that."""
    return tmp_path_factory.mktemp("index")


@pytest.fixture
def app_config(request, tmp_path, database_config):
    """Override or extend in a test module to change settings for its app.

    Why a marker for the shared index: building the index of site/ for every
    test of a module that only searches it would cost a second a test.
    """
    shared = request.node.get_closest_marker("read_only_index") is not None
    pg_search = request.getfixturevalue("db_backend") == PG_SEARCH
    whoosh_only = request.node.get_closest_marker("whoosh_only")
    if pg_search and whoosh_only is not None:
        pytest.skip(whoosh_only.kwargs.get("reason") or (whoosh_only.args[0] if whoosh_only.args else "Whoosh only"))
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "INDEX_DIR": str(request.getfixturevalue("shared_index") if shared else tmp_path / "index"),
        "MAIL_URL": f"file:{tmp_path / 'outbox'}",
        # Most tests read the outbox straight after a request; test_mail_worker covers the background worker.
        "MAIL_DELIVERY": "inline",
        # Most tests search a fresh app; test_search_faults covers the 503 a reader gets meanwhile.
        "SEARCH_REQUEST_WAITS_FOR_BUILD": True,
        "RATELIMIT_ENABLED": False,
        "CONTENT_RELOAD_INTERVAL": 0,
        "SITE_URL": "http://localhost",
        "SEARCH_BACKEND": "postgres" if pg_search else "whoosh",
        **database_config,
    }


@pytest.fixture
def app(request, app_config):
    built = build_schema(request, app_config)
    app = create_app(app_config)
    engine = app.extensions["db_engine"]
    if not built:
        create_schema(engine)
    yield app
    engine.dispose()


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the session; jinja checks each against its source's checksum."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


@pytest.fixture(scope="session", autouse=True)
def parse_once():
    """Each app in the session parses a page file and compiles a template once, not once per test.

    Why: every test builds a new app, and reading site/ (YAML and Markdown) and compiling the
    templates again was a third of a test's time. A page is reused only while its file's
    path, time, size and text are unchanged, so tests that edit content still see their edits.
    """
    content_store = importlib.import_module("ldnsite.content.store")  # `ldnsite.content.store` the attribute is a function
    original = content_store.parse_file

    @functools.cache
    def parse(path: Path, _signature: tuple) -> Page:
        return original(path)

    def parse_file(path: Path) -> Page:
        stat = path.stat()
        return parse(path, (stat.st_mtime_ns, stat.st_size, stat.st_ino, path.read_bytes()))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(content_store, "parse_file", parse_file)
        mp.setattr(Flask, "jinja_options", {**Flask.jinja_options, "bytecode_cache": _MemoryBytecodeCache()})
        yield


@functools.cache
def password_hash(password: str) -> str:
    """The site's own kind of hash (scrypt), computed once per password: scrypt is slow on purpose."""
    return hash_password(password)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    """A session for arranging and inspecting state directly."""
    with app.app_context():
        yield get_session()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no csrf_token field"
    return match.group(1)


def post_form(client, url: str, data: dict, form_page: str | None = None, **kwargs):
    """POST like a browser: first load the page with the form to get its CSRF token."""
    page = client.get(form_page or url)
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data}, **kwargs)


@pytest.fixture
def make_user(app):
    """Create an active, verified member directly in the database."""
    from ldnsite.accounts.models import User
    from ldnsite.db import utcnow

    def make(
        email: str = "member@example.com",
        name: str = "Member",
        password: str = "correct horse battery",
        role: str = "member",
        verified: bool = True,
    ) -> User:
        with app.app_context():
            session = get_session()
            user = User(
                email=email, display_name=name, password_hash=password_hash(password), role=role, verified_at=utcnow() if verified else None
            )
            session.add(user)
            session.commit()
            session.refresh(user)
            session.expunge(user)
            return user

    return make


def sign_in(client, user) -> None:
    """Sign `user` in on this client without the sign-in form (None: sign out).

    For tests about other things than signing in; the accounts tests cover the form.
    """
    from flask import g, has_app_context

    with client.session_transaction() as sess:
        sess.pop("_user_id", None)
        if user is not None:
            sess["_user_id"] = f"{user.id}:{user.session_version}"
            sess["_fresh"] = True
    # While the `db` fixture holds an app context open, requests share its `g`,
    # where Flask-Login caches the user it loaded: forget it, or the previous
    # member would stay signed in.
    if has_app_context():
        g.pop("_login_user", None)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email: str = "member@example.com", password: str = "correct horse battery"):
        return post_form(self.client, "/account/login", {"email": email, "password": password})

    def logout(self):
        return post_form(self.client, "/account/logout", {}, form_page="/")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture(scope="session")
def nu_checker(tmp_path_factory):
    """The Nu HTML Checker, started once for the session (see tests/html_checker.py)."""
    from tests.html_checker import NuChecker

    try:
        checker = NuChecker(tmp_path_factory.mktemp("vnu"))
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    yield checker
    checker.stop()


# ---- real browser -------------------------------------------------------------------------


@pytest.fixture
def live_server(app):
    """Serve the test app on a free loopback port in a thread, for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def axe_violations(pg) -> list[dict]:
    """Run axe-core in the page and return violations of WCAG 2.2 A/AA rules."""
    assert AXE_JS.exists(), f"{AXE_JS} missing: run `make test`, which installs axe-core"
    pg.evaluate(AXE_JS.read_text())
    result = pg.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return result["violations"]


def assert_axe_clean(pg) -> None:
    violations = axe_violations(pg)
    lines = [f"{v['id']}: {v['help']} -> " + "; ".join(n["target"][0] for n in v["nodes"][:3]) for v in violations]
    assert not violations, f"axe violations on {pg.url}:\n" + "\n".join(lines)


def tab_to(page, selector: str, limit: int = 120, back: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the element matching `selector` has focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate("s => document.activeElement !== null && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"could not reach {selector} with the keyboard")


def press_enter_and_wait(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")
