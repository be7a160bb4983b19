"""The WSGI entry point for gunicorn and other servers: `functions.wsgi:app`."""

from functions.app import create_app

app = create_app()
