"""gunicorn settings for the HTTP functions on one server (`gunicorn -c infra/gunicorn.conf.py`).

The same choices `minqing serve` makes, for running gunicorn under systemd behind nginx.
"""

import multiprocessing
import os

wsgi_app = "functions.wsgi:app"
bind = os.environ.get("MINQING_BIND", "127.0.0.1:8000")
# Intake is CPU-bound (validation, JSON): a process per core; threads keep slow phones on weak networks
# from holding every process.
workers = int(os.environ.get("MINQING_WEB_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("MINQING_WEB_THREADS", 4))
# nginx buffers request bodies, so a request reaches gunicorn whole: a short timeout is enough.
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 10_000
max_requests_jitter = 1_000
accesslog = "-"
errorlog = "-"
# Trust X-Forwarded-* only from nginx on this machine.
forwarded_allow_ips = "127.0.0.1"
