"""gunicorn settings for the screens in production: `gunicorn -c data/deploy/gunicorn.conf.py dashboard.wsgi:server`."""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
# Screen callbacks are short and mostly wait on the database: two workers per core, at least two.
workers = int(os.environ.get("WEB_WORKERS", max(2, multiprocessing.cpu_count() * 2)))
threads = 2
timeout = 30  # a callback slower than this is a bug, not a reason to keep the worker
graceful_timeout = 30
keepalive = 75  # longer than nginx's upstream keepalive, so nginx closes first
# Recycle workers now and then (with jitter, so they never restart together) to bound memory over weeks. Every
# cache a worker keeps is bounded; at 10,000 boards a worker answers about 125 requests a second, and recycling
# every 20,000 (each ~3 min) cost a new worker's start each time: bench/load's p95 at 10,000 boards 15–42 ms, p99
# 70–144 ms, against 8 ms and 14 ms at 200,000.
max_requests = 200000
max_requests_jitter = 20000
control_socket = os.path.join(os.environ.get("VAR_DIR", "var"), "gunicorn.ctl")
accesslog = "-"
errorlog = "-"
logger_class = "dashboard.serve_log.LocalTimeLogger"  # local time (UTC+8) in these lines, as on the screens
