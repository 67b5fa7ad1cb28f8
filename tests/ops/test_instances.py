"""Several gunicorn instances sharing one PostgreSQL, as behind uppsala.se's load balancer.

Real processes on loopback ports, a real PostgreSQL (tests/postgres.py), nothing mocked:
- concurrent consent writes through both instances keep one linear chain that verifies;
- a retry sent to the other instance is answered from the log, not written twice;
- a rate limit, and the sign-in limit, count across instances;
- a session and a CSRF token from one instance work on the other;
- after a key rotation (new key, old key as fallback) every earlier cookie, session and
  CSRF token stays valid.

The instances run in production mode. This module runs in the SQLite pass of `make test`
only (it brings its own PostgreSQL; the PostgreSQL pass would repeat it unchanged).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consent_service.admin.auth import create_user
from consent_service.admin.models import AccessLogEntry, Role
from consent_service.audit.chain import verify_chain
from consent_service.audit.models import ConsentEntry, PolicyText
from consent_service.consent.cookie import COOKIE_NAME
from consent_service.db import db
from tests.conftest import (
    choice_body,
    make_app,
    postgres_database_url,
    postgres_empty_database_url,
)
from tests.helpers.forms import csrf_token_in as csrf_token
from tests.ops.limited_app import LIMIT
from tests.ops.servers import Instance, instances, wait_until_integrated

OLD_KEY = "old-key-" + "k3Jx9Qm2Lw8Rv5Tn1Yp7Hs4Dc6Fb0Gz"
NEW_KEY = "new-key-" + "Zq8Wm3Xk5Pn1Rt7Lv2Hj9Bc4Gd6Fs0Ya"
SESSION = "__Host-consent_session"  # production mode: Secure, Path=/, no Domain
PASSWORD = "a long staff password 42"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    tmp = tmp_path_factory.mktemp("instances")
    url = postgres_database_url(tmp)
    base = {
        "CONSENT_ENV": "production",
        "CONSENT_DATABASE_URL": url,
        "CONSENT_PUBLIC_URL": "https://samtycke.uppsala.test",
        # Every client here is 127.0.0.1, and these tests retry on purpose.
        "CONSENT_REPLAY_RATE_LIMIT": "100000",
    }
    environments = {
        "a": {**base, "CONSENT_SECRET_KEY": OLD_KEY},
        "b": {**base, "CONSENT_SECRET_KEY": OLD_KEY},
        # The same deployment after a key rotation: new key, the old one still accepted.
        "rotated": {
            **base,
            "CONSENT_SECRET_KEY": NEW_KEY,
            "CONSENT_SECRET_KEY_FALLBACKS": OLD_KEY,
        },
    }
    with instances("tests.ops.limited_app:create_app()", environments, tmp) as started:
        yield {"url": url, "tmp": tmp, **started}


def _pair(shared: dict[str, object]) -> tuple[Instance, Instance]:
    a, b = shared["a"], shared["b"]
    assert isinstance(a, Instance) and isinstance(b, Instance)
    return a, b


def _inspect(shared: dict[str, object], tmp_path: Path):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, migrate=False, DATABASE_URL=shared["url"])
    # Decisions are acknowledged at once and integrated by the sequencer, a thread in
    # whichever worker of either instance holds the lock: wait until it has done so.
    wait_until_integrated(app, 10)
    return app


def test_concurrent_writes_through_two_instances_keep_one_chain(
    shared: dict[str, object], tmp_path: Path
) -> None:
    a, b = _pair(shared)
    request_ids = [f"multi-{uuid.uuid4().hex}" for _ in range(200)]
    targets = itertools.cycle([a, b])
    jobs = [(next(targets), rid) for rid in request_ids]
    # Every 5th request retried at the *other* instance, as a client whose first
    # attempt timed out would through the load balancer.
    jobs += [(b if i % 2 == 0 else a, rid) for i, rid in enumerate(request_ids[::5])]

    def send(job: tuple[Instance, str]) -> tuple[int, str]:
        instance, rid = job
        reply = instance.post_json("/api/v1/consent", choice_body(request_id=rid))
        return reply.status, reply.json().get("consent_id", "")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(send, jobs))

    assert Counter(status for status, _ in results) == {201: len(jobs)}
    answered = dict(zip([rid for _, rid in jobs], [cid for _, cid in results], strict=True))
    app = _inspect(shared, tmp_path)
    with app.app_context():
        stored = dict(
            db.session.execute(
                select(ConsentEntry.request_id, ConsentEntry.consent_id).where(
                    ConsentEntry.request_id.like("multi-%")
                )
            ).all()
        )
        result = verify_chain(db.session)
        seqs = list(db.session.scalars(select(ConsentEntry.seq).order_by(ConsentEntry.seq)))
    # Each request stored once, and a retry got the consent ID of the first attempt.
    assert stored == answered
    assert result.ok, result.describe()
    assert seqs == list(range(1, len(seqs) + 1))

    # The access logs: one JSON line per request with its ID, and no client address.
    logged = [line for instance in (a, b) for line in instance.access_log()]
    assert sum(line["path"] == "/api/v1/consent" for line in logged) >= len(jobs)
    assert all(len(line["request_id"]) == 32 for line in logged)
    assert not any("127.0.0.1" in str(line) for line in logged)


def test_the_same_retry_sent_to_both_instances_at_once_is_stored_once(
    shared: dict[str, object], tmp_path: Path
) -> None:
    a, b = _pair(shared)
    request_ids = [f"race-{uuid.uuid4().hex}" for _ in range(40)]
    # Both copies in flight together: both find no earlier entry, one commits, the other
    # hits the unique (site, request_id) and must answer what the first stored.
    jobs = [(instance, rid) for rid in request_ids for instance in (a, b)]

    def send(job: tuple[Instance, str]) -> tuple[str, int, str]:
        instance, rid = job
        reply = instance.post_json("/api/v1/consent", choice_body(request_id=rid))
        return rid, reply.status, reply.json().get("consent_id", "")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, jobs))
    assert Counter(status for _, status, _ in results) == {201: len(jobs)}
    answered: dict[str, set[str]] = {}
    for rid, _, consent_id in results:
        answered.setdefault(rid, set()).add(consent_id)
    assert all(len(ids) == 1 for ids in answered.values())
    with _inspect(shared, tmp_path).app_context():
        stored = db.session.scalar(
            select(func.count())
            .select_from(ConsentEntry)
            .where(ConsentEntry.request_id.like("race-%"))
        )
    assert stored == len(request_ids)


def test_a_rate_limit_counts_across_instances(shared: dict[str, object]) -> None:
    a, b = _pair(shared)
    attempts = 4 * LIMIT
    targets = [a if i % 2 else b for i in range(attempts)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda i: i.request("POST", "/_test/limited").status, targets))
    # With per-process counters 2 instances of 2 workers would let 4 times LIMIT through.
    assert Counter(statuses) == {200: LIMIT, 429: attempts - LIMIT}


def _sign_in(instance_for_form: Instance, instance_for_post: Instance, name: str) -> str:
    page = instance_for_form.request("GET", "/admin/sign-in")
    session = page.cookie(SESSION)
    assert page.status == 200 and session
    signed_in = instance_for_post.post_form(
        "/admin/sign-in",
        {"csrf_token": csrf_token(page.body), "name": name, "password": PASSWORD},
        cookies={SESSION: session},
    )
    assert signed_in.status == 303, signed_in.body[:500]
    new_session = signed_in.cookie(SESSION)
    assert new_session
    return new_session


def _create_staff(shared: dict[str, object], tmp_path: Path) -> str:
    name = f"staff-{uuid.uuid4().hex[:8]}"
    with _inspect(shared, tmp_path).app_context():
        create_user(name, Role("privacy_officer"), PASSWORD)
    return name


def test_sign_in_limits_count_failures_on_every_instance(
    shared: dict[str, object], tmp_path: Path
) -> None:
    a, b = _pair(shared)
    name = _create_staff(shared, tmp_path)
    page = a.request("GET", "/admin/sign-in")
    session, token = page.cookie(SESSION), csrf_token(page.body)
    assert session
    form = {"csrf_token": token, "name": name, "password": "not the password 1"}
    # Failures alternate between the instances; the account's limit (5, the default) is
    # one count for both.
    statuses = [
        (a if i % 2 else b).post_form("/admin/sign-in", form, cookies={SESSION: session}).status
        for i in range(7)
    ]
    assert statuses == [401] * 5 + [429] * 2
    # Now even the right password waits, on either instance.
    right = {**form, "password": PASSWORD}
    assert a.post_form("/admin/sign-in", right, cookies={SESSION: session}).status == 429


def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(
    shared: dict[str, object], tmp_path: Path
) -> None:
    a, b = _pair(shared)
    name = _create_staff(shared, tmp_path)
    page = a.request("GET", "/admin/sign-in")
    session, token = page.cookie(SESSION), csrf_token(page.body)
    assert session
    form = {"csrf_token": token, "name": name, "password": "not the password 1"}
    targets = [a if i % 2 else b for i in range(30)]
    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(
            pool.map(
                lambda i: i.post_form("/admin/sign-in", form, cookies={SESSION: session}).status,
                targets,
            )
        )
    # Counted before the password is checked: no more than the limit (5) is checked, however
    # many workers on however many instances take tries at the same moment. (Fewer is
    # possible: a try within the account's limit is also refused while the client's counter
    # briefly holds the other tries in flight.)
    with _inspect(shared, tmp_path).app_context():
        checked = db.session.scalar(
            select(func.count())
            .select_from(AccessLogEntry)
            .where(AccessLogEntry.actor == name, AccessLogEntry.outcome == "failed")
        )
    assert checked is not None and 1 <= checked <= 5
    assert Counter(statuses) == {401: checked, 429: 30 - checked}


def test_a_session_started_on_one_instance_works_on_the_other(
    shared: dict[str, object], tmp_path: Path
) -> None:
    a, b = _pair(shared)
    # The form (and its CSRF token) from one instance, the sign-in on the other.
    session = _sign_in(a, b, _create_staff(shared, tmp_path))
    assert a.request("GET", "/admin/", cookies={SESSION: session}).status == 200
    assert b.request("GET", "/admin/", cookies={SESSION: session}).status == 200
    # Without the session: sent to sign in.
    assert a.request("GET", "/admin/").status in (302, 303)


def test_key_rotation_keeps_cookies_sessions_and_csrf_tokens_valid(
    shared: dict[str, object], tmp_path: Path
) -> None:
    old, _ = _pair(shared)
    rotated = shared["rotated"]
    assert isinstance(rotated, Instance)

    # Issued before the rotation, with the old key only.
    recorded = old.post_json("/api/v1/consent", choice_body())
    choice_cookie = recorded.cookie(COOKIE_NAME)
    session = _sign_in(old, old, _create_staff(shared, tmp_path))
    form = old.request("GET", "/consent", cookies={SESSION: session})
    token = csrf_token(form.body)
    session = form.cookie(SESSION) or session  # the form's token is kept in the session
    assert choice_cookie and form.status == 200

    # After the rotation all of them are still accepted.
    shown = rotated.request("GET", "/api/v1/consent", cookies={COOKIE_NAME: choice_cookie})
    assert shown.status == 200 and shown.json()["consent_id"] == recorded.json()["consent_id"]
    assert rotated.request("GET", "/admin/", cookies={SESSION: session}).status == 200
    saved = rotated.post_form(
        "/consent",
        {"csrf_token": token, "action": "save", "functional": "y"},
        cookies={SESSION: session, COOKIE_NAME: choice_cookie},
    )
    assert saved.status == 303, saved.body[:500]
    # The change kept the citizen's consent ID; the new cookie is signed with the new key.
    new_cookie = saved.cookie(COOKIE_NAME)
    assert new_cookie and new_cookie != choice_cookie
    again = rotated.request("GET", "/api/v1/consent", cookies={COOKIE_NAME: new_cookie})
    assert again.json()["consent_id"] == recorded.json()["consent_id"]
    # An instance still on the old key alone cannot read it: roll the new key out as a
    # fallback everywhere first (docs/operations.md, key rotation).
    assert old.request("GET", "/api/v1/consent", cookies={COOKIE_NAME: new_cookie}).status == 404


def test_the_database_agrees_with_what_the_instances_answered(
    shared: dict[str, object], tmp_path: Path
) -> None:
    with _inspect(shared, tmp_path).app_context():
        entries = db.session.scalar(select(func.count()).select_from(ConsentEntry))
        result = verify_chain(db.session)
    assert result.ok and result.checked == entries


def test_instances_started_together_migrate_one_after_the_other(tmp_path: Path) -> None:
    url = postgres_empty_database_url(f"m_{uuid.uuid4().hex[:12]}")
    env = {**os.environ, "CONSENT_ENV": "production", "CONSENT_SECRET_KEY": OLD_KEY,
           "CONSENT_DATABASE_URL": url,
           "CONSENT_PUBLIC_URL": "https://samtycke.uppsala.test"}  # fmt: skip
    command = [str(Path(sys.executable).parent / "consent-service"), "db", "upgrade"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(3)]  # fmt: skip
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    # The first archived the policy texts; the others found them there.
    archived = [part for o in outputs for part in o.strip().split(";") if "policy text" in part]
    assert sorted(archived) == [
        " 0 policy text(s) archived",
        " 0 policy text(s) archived",
        " 2 policy text(s) archived",
    ]
    with make_app(tmp_path, migrate=False, DATABASE_URL=url).app_context():
        assert db.session.scalar(select(func.count()).select_from(PolicyText)) == 2
