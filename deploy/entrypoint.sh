#!/bin/sh
# Start one instance: refuse an unsafe configuration, migrate, then serve with gunicorn.
#
#   entrypoint.sh                 check --deploy, db upgrade, gunicorn (the default)
#   entrypoint.sh COMMAND ...     run COMMAND instead (e.g. consent-service audit verify)
#
# Several instances may start at once: `db upgrade` takes a PostgreSQL advisory lock, so one
# migrates and the others wait and find nothing left to do. Environment: deploy/env.example.
set -eu

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

here=$(dirname "$(readlink -f "$0")")

# Errors stop the start (exit 1); warnings are printed and the start goes on.
consent-service check --deploy
consent-service db upgrade
exec gunicorn --config "$here/gunicorn.conf.py" 'consent_service:create_app()'
