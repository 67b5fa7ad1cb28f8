"""gunicorn settings for the consent service (`gunicorn -c deploy/gunicorn.conf.py`)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Two workers per core is plenty for a service that mostly waits on its database.
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count(), 8)))
worker_class = "sync"
# create_app() touches no database, so the app can be loaded once before forking.
preload_app = True
# Recycle workers now and then so slow leaks never build up; jitter avoids all at once.
max_requests = 5000
max_requests_jitter = 500
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"
# No client address in the access log: the service stores no IP addresses anywhere.
access_log_format = (
    '{"time":"%(t)s","method":"%(m)s","path":"%(U)s","status":%(s)s,"bytes":%(B)s,'
    '"duration_us":%(D)s,"request_id":"%({x-request-id}i)s"}'
)
