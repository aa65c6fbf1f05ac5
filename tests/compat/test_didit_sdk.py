"""Compatibility: the community Python SDK ``didit-sdk==0.4.0`` against Verity.

Everything under "SDK flow" goes through the SDK's public API only
(``didit.Didit`` / ``didit.AsyncDidit`` and their ``.sessions`` resource),
exactly as an application written for Didit would, with only ``base_url``
pointed at Verity. The one exception is forcing a session's status in the
database (``verity.set_session_status``), because no public call can move a
fresh "Not Started" session into a reviewable state.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import didit
import pytest
import requests
from didit import (
    AsyncDidit,
    DecisionResponse,
    Didit,
    DiditAPIError,
    DiditAuthenticationError,
    DiditNotFoundError,
    SessionListPage,
    SessionResponse,
    SessionStatus,
    UpdateSessionStatusResponse,
)

# Every decision feature array the SDK's DecisionResponse types as list[...].
SDK_LIST_FIELDS = (
    "id_verifications",
    "liveness_checks",
    "face_matches",
    "aml_screenings",
    "nfc_verifications",
    "phone_verifications",
    "email_verifications",
    "poa_verifications",
    "database_validations",
    "ip_analyses",
)
# Feature display names (spec §5.1).
KNOWN_FEATURES = {
    "ID_VERIFICATION",
    "NFC",
    "LIVENESS",
    "FACE_MATCH",
    "POA",
    "PHONE",
    "EMAIL",
    "DATABASE_VALIDATION",
    "AML",
    "IP_ANALYSIS",
    "QUESTIONNAIRE",
    "DOCUMENT_AI",
    "AGE_ESTIMATION",
}

# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def client(verity) -> Didit:
    c = Didit(api_key=verity.live.api_key, base_url=verity.api_base, timeout=15)
    yield c
    c.close()


@pytest.fixture(scope="module")
def sandbox_client(verity) -> Didit:
    c = Didit(api_key=verity.sandbox.api_key, base_url=verity.api_base, timeout=15)
    yield c
    c.close()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError):
        return False
    return True


def _create(client: Didit, verity, vendor: str, **kw) -> SessionResponse:
    return client.sessions.create(
        vendor,
        workflow_id=verity.live.workflow_id,
        callback=kw.pop("callback", "https://app.example.com/kyc/done"),
        metadata=kw.pop("metadata", {"plan": "gold", "tags": ["a", "b"], "n": 7}),
        **kw,
    )


# --------------------------------------------------------------------------- SDK flow


def test_healthcheck_via_sdk(client):
    # The SDK maps /system/... onto the origin of base_url (transport.py:135).
    health = client.healthcheck()
    assert health.status == "ok"
    assert health.is_healthy


def test_create_session(client, verity, unique_vendor):
    s = _create(client, verity, unique_vendor)
    assert isinstance(s, SessionResponse)
    assert _is_uuid(s.session_id)
    assert s.status is SessionStatus.NOT_STARTED
    assert s.status.value == "Not Started"
    assert s.workflow_id == verity.live.workflow_id
    assert s.vendor_data == unique_vendor
    assert s.callback == "https://app.example.com/kyc/done"
    assert s.metadata == {"plan": "gold", "tags": ["a", "b"], "n": 7}
    assert s.session_token and len(s.session_token) >= 8
    assert s.url and s.url.startswith(verity.origin) and s.session_token in s.url
    # Extra Didit fields survive through the SDK's extra="allow" models.
    extra = s.model_extra or {}
    assert isinstance(extra.get("session_number"), int) and extra["session_number"] >= 1
    assert extra.get("environment") == "live"


def test_get_session_round_trip(client, verity, unique_vendor):
    created = _create(client, verity, unique_vendor, metadata={"order": 42})
    got = client.sessions.get(created.session_id)
    assert isinstance(got, SessionResponse)
    assert got.session_id == created.session_id
    assert got.status is SessionStatus.NOT_STARTED
    assert got.workflow_id == created.workflow_id == verity.live.workflow_id
    assert got.vendor_data == unique_vendor
    assert got.metadata == {"order": 42}
    assert got.callback == created.callback
    assert got.session_token == created.session_token
    assert got.url == created.url
    assert got.callback_method is didit.CallbackMethod.INITIATOR  # documented default
    assert (got.model_extra or {}).get("session_kind") == "user"


def test_list_sessions_contains_session(client, verity, unique_vendor):
    s = _create(client, verity, unique_vendor)

    page = client.sessions.list(vendor_data=unique_vendor)
    assert isinstance(page, SessionListPage)
    assert page.count == 1
    assert page.next is None and page.previous is None
    (row,) = page.results
    assert row.session_id == s.session_id
    assert row.status is SessionStatus.NOT_STARTED
    assert row.workflow_id == verity.live.workflow_id
    assert row.vendor_data == unique_vendor
    assert row.session_kind == "user"
    assert row.created_at  # ISO-8601 string

    everything = client.sessions.list(limit=100)
    assert s.session_id in {r.session_id for r in everything.results}
    assert everything.count >= 1

    by_status = client.sessions.list(
        status=SessionStatus.NOT_STARTED, workflow_id=verity.live.workflow_id, limit=100
    )
    assert s.session_id in {r.session_id for r in by_status.results}
    assert all(r.status is SessionStatus.NOT_STARTED for r in by_status.results)

    approved = client.sessions.list(status="Approved", vendor_data=unique_vendor)
    assert approved.count == 0 and approved.results == []

    now = datetime.now(timezone.utc)
    window = client.sessions.list(
        vendor_data=unique_vendor,
        date_from=now - timedelta(hours=1),
        date_to=now + timedelta(hours=1),
    )
    assert [r.session_id for r in window.results] == [s.session_id]
    future = client.sessions.list(
        vendor_data=unique_vendor, date_from=now + timedelta(hours=1)
    )
    assert future.count == 0


def test_list_pagination(client, verity):
    vendor_prefix = f"compat-page-{uuid.uuid4().hex}"
    ids = [_create(client, verity, f"{vendor_prefix}-{i}").session_id for i in range(3)]
    first = client.sessions.list(workflow_id=verity.live.workflow_id, limit=1)
    assert len(first.results) == 1
    assert first.count >= 3
    assert first.next is not None and first.previous is None
    # Newest first (Didit default ordering -created_at).
    assert first.results[0].session_id == ids[-1]
    second = client.sessions.list(workflow_id=verity.live.workflow_id, limit=1, offset=1)
    assert second.results[0].session_id == ids[-2]
    assert second.previous is not None


def test_create_is_idempotent_per_vendor_data(client, verity, unique_vendor):
    a = _create(client, verity, unique_vendor, callback="https://a.example/1", metadata={"v": 1})
    b = _create(client, verity, unique_vendor, callback="https://a.example/2", metadata={"v": 2})
    assert b.session_id == a.session_id
    assert b.callback == "https://a.example/2"
    assert b.metadata == {"v": 2}
    assert client.sessions.get(a.session_id).metadata == {"v": 2}


def test_update_status_approve_then_decline(client, verity, unique_vendor):
    s = _create(client, verity, unique_vendor)
    verity.set_session_status(s.session_id, "In Review")
    assert client.sessions.get(s.session_id).status is SessionStatus.IN_REVIEW

    res = client.sessions.update_status(s.session_id, "Approved", comment="docs verified")
    assert isinstance(res, UpdateSessionStatusResponse)
    assert res.session_id == s.session_id
    assert res.requested_status == "Approved"
    assert client.sessions.get(s.session_id).status is SessionStatus.APPROVED
    listed = client.sessions.list(status=SessionStatus.APPROVED, vendor_data=unique_vendor)
    assert [r.session_id for r in listed.results] == [s.session_id]

    # Approved -> Declined is an allowed manual transition (spec §4.2).
    res = client.sessions.update_status(s.session_id, SessionStatus.DECLINED, comment="fraud")
    assert res.session_id == s.session_id
    assert client.sessions.get(s.session_id).status is SessionStatus.DECLINED


def test_decision_before_any_check(client, verity, unique_vendor):
    s = _create(client, verity, unique_vendor, metadata={"k": "v"})
    d = client.sessions.get_decision(s.session_id)
    assert isinstance(d, DecisionResponse)
    assert d.session_id == s.session_id
    assert d.status is SessionStatus.NOT_STARTED
    assert d.workflow_id == verity.live.workflow_id
    assert d.vendor_data == unique_vendor
    raw = d.raw_data
    assert raw["metadata"] == {"k": "v"}
    assert raw["features"] and set(raw["features"]) <= KNOWN_FEATURES
    # No check has run yet: Verity leaves every feature array out (Didit's own
    # payload example does too), which the SDK surfaces as an empty list.
    for name in SDK_LIST_FIELDS:
        assert name not in raw, name
        assert getattr(d, name) == [], name
    assert d.reviews == []
    assert d.document is None and d.biometrics is None and d.aml is None


def test_review_in_decision_after_update_status(client, verity, unique_vendor):
    s = _create(client, verity, unique_vendor)
    verity.set_session_status(s.session_id, "In Review")
    client.sessions.update_status(s.session_id, "Approved", comment="manual ok")
    d = client.sessions.get_decision(s.session_id)
    assert d.status is SessionStatus.APPROVED
    assert d.status.is_decided
    assert len(d.reviews) == 1
    review = d.reviews[0]
    # Didit's review objects are {user, new_status, comment, created_at}; the SDK's
    # ReviewData keeps them as extra attributes.
    assert review.user == "API Client"
    assert review.new_status == "Approved"
    assert review.comment == "manual ok"
    assert review.created_at


def test_async_client_flow(verity, unique_vendor):
    async def flow():
        async with AsyncDidit(api_key=verity.live.api_key, base_url=verity.api_base) as c:
            s = await c.sessions.create(unique_vendor, workflow_id=verity.live.workflow_id)
            got = await c.sessions.get(s.session_id)
            page = await c.sessions.list(vendor_data=unique_vendor)
            return s, got, page

    s, got, page = asyncio.run(flow())
    assert got.session_id == s.session_id
    assert got.status is SessionStatus.NOT_STARTED
    assert [r.session_id for r in page.results] == [s.session_id]


# --------------------------------------------------------------------------- errors


def test_wrong_api_key_raises_authentication_error(verity, client, unique_vendor):
    s = _create(client, verity, unique_vendor)
    bad = Didit(api_key="definitely-not-a-key", base_url=verity.api_base, max_retries=0)
    try:
        calls = {
            "create": lambda: bad.sessions.create(workflow_id=verity.live.workflow_id),
            "get": lambda: bad.sessions.get(s.session_id),
            "list": lambda: bad.sessions.list(),
            "get_decision": lambda: bad.sessions.get_decision(s.session_id),
            "update_status": lambda: bad.sessions.update_status(s.session_id, "Approved"),
        }
        for name, call in calls.items():
            with pytest.raises(DiditAuthenticationError) as exc_info:
                call()
            assert exc_info.value.status_code == 401, name
    finally:
        bad.close()


def test_unknown_session_raises_not_found(client):
    missing = str(uuid.uuid4())
    with pytest.raises(DiditNotFoundError) as exc_info:
        client.sessions.get(missing)
    assert exc_info.value.status_code == 404
    with pytest.raises(DiditNotFoundError):
        client.sessions.get_decision(missing)
    with pytest.raises(DiditNotFoundError):
        client.sessions.update_status(missing, "Approved")
    with pytest.raises(DiditNotFoundError):
        client.sessions.get("not-a-uuid")


def test_other_applications_session_is_not_found(client, sandbox_client, verity, unique_vendor):
    s = _create(client, verity, unique_vendor)
    with pytest.raises(DiditNotFoundError):
        sandbox_client.sessions.get(s.session_id)
    page = sandbox_client.sessions.list(vendor_data=unique_vendor)
    assert page.count == 0


def test_update_status_from_not_started_is_rejected(client, verity, unique_vendor):
    s = _create(client, verity, unique_vendor)
    with pytest.raises(DiditAPIError) as exc_info:
        client.sessions.update_status(s.session_id, "Approved")
    err = exc_info.value
    assert type(err) is DiditAPIError  # not auth / not-found / server error
    assert err.status_code == 400
    assert client.sessions.get(s.session_id).status is SessionStatus.NOT_STARTED


def test_create_with_unknown_workflow_is_rejected(client):
    with pytest.raises(DiditAPIError) as exc_info:
        client.sessions.create(workflow_id=str(uuid.uuid4()))
    assert exc_info.value.status_code in (400, 404)


def test_list_country_and_search_filters(client, verity, unique_vendor):
    s = _create(client, verity, unique_vendor)
    found = client.sessions.list(search=unique_vendor)
    assert s.session_id in {r.session_id for r in found.results}
    # No document has been read, so the session has no country yet.
    assert client.sessions.list(country="ESP", vendor_data=unique_vendor).count == 0


# --------------------------------------------------------------------------- wire contract
# Not an SDK test: pins down, with plain HTTP, the decision shape the SDK tests
# above rely on.


def test_decision_wire_shape(client, verity, unique_vendor):
    s = _create(client, verity, unique_vendor)
    verity.set_session_status(s.session_id, "In Review")
    client.sessions.update_status(s.session_id, "Declined", comment="blurry")
    r = requests.get(
        f"{verity.api_base}/session/{s.session_id}/decision/",
        headers={"x-api-key": verity.live.api_key},
        timeout=10,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["session_id"] == s.session_id
    assert body["status"] == "Declined"
    assert body["session_kind"] == "user"
    assert body["workflow_id"] == verity.live.workflow_id
    assert body["features"] and set(body["features"]) <= KNOWN_FEATURES
    for name in SDK_LIST_FIELDS:
        assert name not in body, name  # absent until the feature has run
    (review,) = body["reviews"]
    assert review["user"] == "API Client"
    assert review["new_status"] == "Declined"
    assert review["comment"] == "blurry"
