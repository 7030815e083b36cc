"""Tokens, the role matrix and the failure limiter, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shipyard.errors import InvalidInput, PermissionDenied, Unauthenticated
from shipyard.project import Project
from shipyard.security import MATRIX, ROLES, allowed, authorize, create_token
from shipyard.security._ratelimit import FailureLimiter
from shipyard.security.tokens import parse_expiry


def test_the_matrix_names_only_known_roles_and_admin_may_do_everything() -> None:
    assert all(roles <= set(ROLES) for roles in MATRIX.values())
    assert all(allowed("admin", action) for action in MATRIX)
    assert [a for a in MATRIX if allowed("predict-only", a)] == ["predict"]
    assert not allowed("viewer", "promote") and not allowed("admin", "no-such-action")


def test_a_deployer_in_staging_is_nobody_in_prod(project: Project) -> None:
    token = create_token(project, "d", role="deployer", env="staging").token
    assert authorize(project.catalog, token, "promote", "staging").name == "d"
    with pytest.raises(PermissionDenied, match="scoped to staging"):
        authorize(project.catalog, token, "promote", "prod")
    with pytest.raises(PermissionDenied, match="may not train"):
        authorize(project.catalog, token, "train", "staging")


def test_an_expired_token_is_refused(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    token = create_token(project, "e", role="admin", env="all", expires="1m").token
    assert authorize(project.catalog, token, "admin", "prod").role == "admin"
    later = datetime.now(UTC) + timedelta(minutes=2)

    class Clock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return later

    monkeypatch.setattr("shipyard.security.tokens.datetime", Clock)
    with pytest.raises(Unauthenticated, match="expired"):
        authorize(project.catalog, token, "admin", "prod")


@pytest.mark.parametrize(
    ("text", "delta"), [("90m", 90 * 60), ("12h", 12 * 3600), ("2w", 14 * 86400)]
)
def test_expiry_text(text: str, delta: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_expiry(text, now=now) == now + timedelta(seconds=delta)
    assert parse_expiry("never") is None


@pytest.mark.parametrize("text", ["0d", "30", "d", "-1d", "1y"])
def test_bad_expiry_text(text: str) -> None:
    with pytest.raises(InvalidInput, match="'expires'"):
        parse_expiry(text)


def test_the_limiter_blocks_after_max_failures_and_forgets_after_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("shipyard.security._ratelimit.time.monotonic", lambda: clock[0])
    limiter = FailureLimiter(3, window=60)
    assert [limiter.fail("a") for _ in range(3)] == [False, False, True]
    assert limiter.retry_after("a") == 60 and limiter.retry_after("b") == 0
    clock[0] += 61
    assert limiter.retry_after("a") == 0
