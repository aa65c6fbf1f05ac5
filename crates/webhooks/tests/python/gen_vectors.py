#!/usr/bin/env python3
"""Generate the golden signature vectors in ../vectors.json.

Standard library only (json, hmac, hashlib, base64). This is the reference: Didit's server
algorithm as the spec (§6.2) and seed 003 describe it, written in Python so that Python's own
`json.dumps` decides the bytes. The Rust tests (tests/vectors.rs) must reproduce every field.

    python3 crates/webhooks/tests/python/gen_vectors.py
"""

import base64
import hashlib
import hmac
import json
import os

SECRET = "test_secret_6aR2pQx9Lw0ZkYb3VnC8HsT1mJ5eUo7GdF4iRq_K-Xs"  # 43 chars after the prefix, like Didit's
WHSEC = "whsec_" + base64.b64encode(b"standard-webhooks key bytes \x00\xff").decode()


def shorten_floats(data):
    """Seed 003's FastAPI helper (bool-safe like didit-sdk's)."""
    if isinstance(data, bool):
        return data
    if isinstance(data, dict):
        return {k: shorten_floats(v) for k, v in data.items()}
    if isinstance(data, list):
        return [shorten_floats(x) for x in data]
    if isinstance(data, float) and data.is_integer():
        return int(data)
    return data


def raw_body(payload):
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_v2(payload):
    return json.dumps(shorten_floats(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def hmac_hex(secret, message):
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def standard_key(secret):
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):])
    return secret.encode("utf-8")


def standard_signature(secret, msg_id, ts, body):
    mac = hmac.new(standard_key(secret), f"{msg_id}.{ts}.{body}".encode("utf-8"), hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def envelope(event_id, status, decision=None, **extra):
    p = {
        "event_id": event_id,
        "webhook_type": "status.updated",
        "timestamp": 1774970000,
        "created_at": 1774969994,
        "application_id": "11111111-2222-3333-4444-555555555555",
        "environment": "live",
        "session_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "status": status,
        "workflow_id": "22222222-3333-4444-5555-666666666666",
        "workflow_version": 4,
        "vendor_data": "user-123",
        "metadata": {"plan": "premium"},
    }
    if decision is not None:
        # Real decisions (GET /v3/session/{id}/decision/) always carry session_id and status;
        # didit-sdk's pydantic model requires session_id.
        p["decision"] = {"session_id": p["session_id"], "status": status, **decision}
    p.update(extra)
    return p


def id_verification(first, last, **extra):
    d = {
        "node_id": "id_verification_1",
        "status": "Approved",
        "document_type": "Passport",
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}",
        "warnings": [],
    }
    d.update(extra)
    return d


CASES = [
    ("ascii_approved_seed003_example", envelope(
        "9c0c8b8a-1111-4222-9333-444444444444", "Approved", {
            "session_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            "status": "Approved",
            "id_verifications": [{"node_id": "id_verification_1", "status": "Approved", "document_type": "Passport", "warnings": []}],
            "liveness_checks": [{"node_id": "liveness_1", "status": "Approved", "method": "PASSIVE", "score": 95.4, "warnings": []}],
            "face_matches": [{"node_id": "face_match_1", "status": "Approved", "score": 96.1, "warnings": []}],
            "reviews": [],
        })),
    ("whole_floats_92_0", envelope(
        "e1", "Declined", {
            "status": "Declined",
            "face_matches": [{"score": 92.0, "threshold": 80.0}],
            "liveness_checks": [{"score": 0.1, "age_estimation": 31.0}],
            "aml_screenings": [{"score": 100.0, "total_hits": 0}],
        })),
    ("unicode_names_accents_cjk_emoji", envelope(
        "e2", "In Review", {
            "status": "In Review",
            "id_verifications": [
                id_verification("José", "Müller-Ñúñez", place_of_birth="Zürich"),
                id_verification("王", "小明", address="北京市朝阳区"),
                id_verification("Zoë 😀", "O'Brien \"the\" \\ Ω", nickname="🇪🇸🏳️‍🌈"),
            ],
        }, vendor_data="用户-42", metadata={"note": "naïve café", "ключ": "значение", "emoji": "🚀"})),
    ("floats_small_large_negative", envelope(
        "e3", "Approved", {
            "values": [0.1, 1e-07, 1e-05, 0.0001, 0.00012345, 1e16, 1e15, 1.5e300, 5e-324, -2.5, -0.0,
                       123456789.125, 1234567890123456.7, 1e22, 2.0 ** 60, -1e-7, 0.5, 3.0, -4.0, 1e300],
            "ints": [0, -1, 9007199254740993, 12345678901234567890, -9223372036854775808],
            "bools": [True, False, None],
        })),
    ("nested_arrays_objects", envelope(
        "e4", "Approved", {
            "matrix": [[1, [2.0, [3.5, {"deep": [{"z": 1, "a": [[], {}]}]}]]], []],
            "objects": {"z": {"y": {"x": {"w": 1.0}}}, "a": [{"b": 2, "a": 1}], "": "empty key"},
        })),
    ("resubmitted_with_resubmit_info", {
        "event_id": "e5", "webhook_type": "status.updated", "timestamp": 1774970001, "created_at": 1774969994,
        "application_id": "app", "environment": "sandbox", "session_id": "s5", "status": "Resubmitted",
        "workflow_id": None, "workflow_version": None, "vendor_data": None, "metadata": None,
        "resubmit_info": {"nodes_to_resubmit": ["id_verification_1"], "reasons": {"id_verification_1": "Foto borrosa — repítela"}},
    }),
    ("control_chars_and_escapes", envelope(
        "e6", "Approved", {"text": "line1\nline2\r\ttab\b\f\u0001\u001f\u007f / \u2028 \u00a0 end", "quote": "\"'\\"})),
    ("entity_event_without_session", {
        "webhook_type": "user.status.updated", "timestamp": 1774970002, "vendor_data": "user-7",
        "uuid": "u-7", "status": "FLAGGED", "previous_status": "ACTIVE",
    }),
    ("non_ascii_keys_sorting", envelope(
        "e8", "Approved", {"é": 1, "z": 2, "Z": 3, "a": 4, "😀": 5, "中": 6, "ä": 7, "Å": 8, "aa": 9, "a_": 10})),
]


def vector(name, payload, secret, sw_id):
    body = raw_body(payload)
    canonical = canonical_v2(payload)
    ts = str(payload["timestamp"])
    simple = f"{ts}:{payload.get('session_id') or ''}:{payload.get('status') or ''}:{payload.get('webhook_type') or ''}"
    return {
        "name": name,
        "secret": secret,
        # Unsorted, pretty, Unicode-unescaped input: Rust must not depend on the input's formatting.
        "input": json.dumps(payload, indent=2, ensure_ascii=False),
        "timestamp": payload["timestamp"],
        "body": body,
        "canonical_v2": canonical,
        "simple_message": simple,
        "x_signature": hmac_hex(secret, body),
        "x_signature_v2": hmac_hex(secret, canonical),
        "x_signature_simple": hmac_hex(secret, simple),
        "webhook_id": sw_id,
        "webhook_signature": standard_signature(secret, sw_id, ts, body),
    }


def main():
    vectors = [vector(name, payload, SECRET, payload.get("event_id") or "msg_entity") for name, payload in CASES]
    # One case with a whsec_ (base64) secret: Didit signatures use its UTF-8 bytes, Standard Webhooks the decoded key.
    vectors.append(vector("whsec_secret", CASES[2][1], WHSEC, "e2"))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"generator": "tests/python/gen_vectors.py", "vectors": vectors}, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(vectors)} vectors to {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
