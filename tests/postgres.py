"""A throwaway PostgreSQL server for the test suite: Debian's binaries, a temp dir, a free port.

`make test` installs the `postgresql` package when it is missing. The server runs as the
`postgres` system user when the suite runs as root (initdb refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from glob import glob
from pathlib import Path

from tests.helpers.servers import free_port


class PostgresUnavailable(RuntimeError):
    pass


def _binaries() -> Path:
    candidates = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise PostgresUnavailable("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(candidates[0]).parent


class PostgresServer:
    def __init__(self, durable: bool = False) -> None:
        # Tests trade durability for speed; the reliability benchmark keeps PostgreSQL's
        # defaults (fsync, synchronous commit), as production would.
        self.durable = durable
        self.bin = _binaries()
        self.root = Path(tempfile.mkdtemp(prefix="consent-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = "consent"
        self._as_postgres = os.geteuid() == 0

    def _run(self, args: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresServer:
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user,
                   "--auth=trust", "--encoding=UTF8", "--no-sync", "-E", "UTF8"])  # fmt: skip
        return self.resume()

    def pause(self) -> None:
        """Stop the server but keep its data (a database outage); `resume` starts it again."""
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"])

    def resume(self) -> PostgresServer:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root} -c max_connections=200"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w",
                   "-l", str(self.root / "server.log"), "start"])  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = self._run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p",
                               str(self.port)], check=False)  # fmt: skip
            if ready.returncode == 0:
                return self
            time.sleep(0.1)
        raise PostgresUnavailable("PostgreSQL did not become ready:\n" + self.log())

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text() if path.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        self._run([str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                   "-U", self.user, "-d", database, "-v", "ON_ERROR_STOP=1", "-q",
                   "-c", statement])  # fmt: skip

    def stop(self) -> None:
        """Stop the server and remove its directory, all of it.

        After an immediate stop the server's last processes may still write under `base/`
        for a moment, so one pass of rmtree could leave a data directory of hundreds of
        megabytes behind on every run: remove until nothing is left.
        """
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                  check=False)  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            shutil.rmtree(self.root, ignore_errors=True)
            if not self.root.exists() or time.monotonic() > deadline:
                break
            time.sleep(0.1)
