"""The WSGI entry point for gunicorn: ``gunicorn dashboard.wsgi:server``."""

from dashboard.app import create_app
from dashboard.warmup import warm

app = create_app()
warm(app)  # in each worker (the app is imported after the fork), before it accepts a request
server = app.server
