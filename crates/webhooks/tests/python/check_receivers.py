#!/usr/bin/env python3
"""Run third-party webhook receivers against requests that the Rust signer produced.

Usage: check_receivers.py CASES.json   (written by tests/python_receivers.rs)

Each case is {"name", "secret", "body" (the exact body string), "headers" {name: value}}.
Prints one JSON object: {"results": [{"name", "check", "ok", "detail"}], "skipped": [reason, ...]}.
A receiver whose package is not installed is reported in "skipped", never silently passed.

Receivers:
* didit-sdk (PyPI, module didit.webhooks): verify_webhook_signature with only X-Signature-V2,
  with only X-Signature, and parse_webhook_payload (pydantic model) on session events; a tampered
  body must be rejected.
* seed 003's FastAPI receiver (seed003_fastapi_app.py, as written), called through Starlette's
  TestClient with the secret in DIDIT_WEBHOOK_SECRET; expects 200 {"received": true}.
* standardwebhooks (PyPI) when the case carries webhook-* headers, with the whsec_ secret.
"""

import importlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
results = []
skipped = []


def check(name, what, ok, detail=""):
    results.append({"name": name, "check": what, "ok": bool(ok), "detail": str(detail)})


def only(headers, *keep):
    keep = {k.lower() for k in keep}
    return {k: v for k, v in headers.items() if k.lower() in keep}


def run_didit_sdk(cases):
    try:
        webhooks = importlib.import_module("didit.webhooks")
    except Exception as err:  # noqa: BLE001 - any import failure means "not available"
        skipped.append(f"didit-sdk not importable: {err!r}")
        return
    for c in cases:
        body = c["body"].encode("utf-8")
        h = c["headers"]
        v2 = webhooks.verify_webhook_signature(body, only(h, "X-Signature-V2", "X-Timestamp"), c["secret"])
        check(c["name"], "didit-sdk X-Signature-V2", v2)
        v1 = webhooks.verify_webhook_signature(body, only(h, "X-Signature", "X-Timestamp"), c["secret"])
        check(c["name"], "didit-sdk X-Signature", v1)
        tampered = body.replace(b'"status":"', b'"status":"X', 1)
        bad = webhooks.verify_webhook_signature(tampered, h, c["secret"])
        check(c["name"], "didit-sdk rejects tampered body", not bad)
        wrong = webhooks.verify_webhook_signature(body, h, c["secret"] + "x")
        check(c["name"], "didit-sdk rejects wrong secret", not wrong)
        if c.get("session", False):
            try:
                parsed = webhooks.parse_webhook_payload(body, h, c["secret"])
                check(c["name"], "didit-sdk parse_webhook_payload", parsed.session_id == json.loads(body)["session_id"])
            except Exception as err:  # noqa: BLE001
                check(c["name"], "didit-sdk parse_webhook_payload", False, repr(err))


def run_seed003_fastapi(cases):
    try:
        from fastapi.testclient import TestClient
        sys.path.insert(0, HERE)
        seed = importlib.import_module("seed003_fastapi_app")
    except Exception as err:  # noqa: BLE001
        skipped.append(f"seed 003 FastAPI receiver not runnable (fastapi/httpx missing?): {err!r}")
        return
    client = TestClient(seed.app)
    for c in cases:
        if not c.get("session", False):
            continue  # the seed handler reads payload["status"]; it is written for session events
        os.environ["DIDIT_WEBHOOK_SECRET"] = c["secret"]
        resp = client.post("/api/webhook", content=c["body"].encode("utf-8"), headers=c["headers"])
        check(c["name"], "seed003 FastAPI receiver", resp.status_code == 200 and resp.json() == {"received": True},
              f"{resp.status_code} {resp.text}")
        os.environ["DIDIT_WEBHOOK_SECRET"] = c["secret"] + "x"
        resp = client.post("/api/webhook", content=c["body"].encode("utf-8"), headers=c["headers"])
        check(c["name"], "seed003 FastAPI rejects wrong secret", resp.status_code == 401, resp.status_code)


def run_standardwebhooks(cases):
    try:
        from standardwebhooks.webhooks import Webhook
    except Exception as err:  # noqa: BLE001
        skipped.append(f"standardwebhooks not importable: {err!r}")
        return
    for c in cases:
        if "webhook-signature" not in c["headers"]:
            continue
        try:
            Webhook(c["whsec"]).verify(c["body"], c["headers"])
            check(c["name"], "standardwebhooks verify", True)
        except Exception as err:  # noqa: BLE001
            check(c["name"], "standardwebhooks verify", False, repr(err))


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    run_didit_sdk(cases)
    run_seed003_fastapi(cases)
    run_standardwebhooks(cases)
    print(json.dumps({"results": results, "skipped": skipped}, ensure_ascii=False))


if __name__ == "__main__":
    main()
