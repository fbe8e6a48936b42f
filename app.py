"""Entry point: `flask --app app run` and `gunicorn app:app` both load this."""

from ldnsite import create_app

app = create_app()
