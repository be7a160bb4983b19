"""The WSGI entry point for gunicorn and other servers: `functions.wsgi:app`."""

import gc

from functions.app import create_app

app = create_app()
# What start-up made lives as long as the process: frozen, the collector's full passes skip it, so a read
# that makes many objects (a year's tallies: a full pass took it from 80 to 120 ms) waits for no pass over
# all of them.
gc.freeze()
