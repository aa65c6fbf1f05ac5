"""didit-sdk's own webhook verification accepts what a running Verity delivers.

A loopback receiver (the standard library's http.server) hands each request's raw body and
headers to ``Didit.parse_webhook`` / ``verify_webhook`` (X-Signature-V2 first, X-Signature as
its fallback) and answers 200 only if the SDK accepts them, 401 otherwise; the server's delivery
log must then show every delivery answered 200. A wrong secret must be refused by the same code.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from didit import Didit


@pytest.fixture(scope="module")
def client(verity) -> Didit:
    c = Didit(api_key=verity.live.api_key, base_url=verity.api_base, timeout=15)
    yield c
    c.close()


class _Receiver:
    def __init__(self, client: Didit, secret: str) -> None:
        self.accepted: list[dict] = []
        self.rejected = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k: v for k, v in self.headers.items()}
                ok = client.verify_webhook(raw, headers, secret=secret)
                if ok:
                    payload = client.parse_webhook(raw, headers, secret=secret)
                    receiver.accepted.append({"payload": payload, "raw": json.loads(raw)})
                    # The same bytes under another secret must not verify.
                    assert not client.verify_webhook(raw, headers, secret="not-the-secret")
                else:
                    receiver.rejected += 1
                self.send_response(200 if ok else 401)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _wait(predicate, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_sdk_verifies_server_deliveries(verity, client) -> None:
    headers = {"x-api-key": verity.live.api_key}
    created = requests.post(
        f"{verity.origin}/v3/webhook/destinations/",
        headers=headers,
        json={"url": "http://127.0.0.1:9/placeholder", "label": "sdk"},
        timeout=15,
    )
    assert created.status_code == 201, created.text
    destination = created.json()
    receiver = _Receiver(client, destination["secret_shared_key"])
    moved = requests.patch(
        f"{verity.origin}/v3/webhook/destinations/{destination['uuid']}/",
        headers=headers,
        json={"url": receiver.url},
        timeout=15,
    )
    assert moved.status_code == 200, moved.text

    session = client.sessions.create(
        workflow_id=verity.live.workflow_id,
        vendor_data="Zoë Ñúñez-山田",
        metadata={"score": 92.0, "nested": [[1.5, 2.0]]},
    )
    verity.set_session_status(str(session.session_id), "In Review")
    client.sessions.update_status(str(session.session_id), new_status="Approved", comment="ok")

    _wait(lambda: len(receiver.accepted) >= 2, "two verified deliveries")
    assert receiver.rejected == 0
    statuses = [a["raw"]["status"] for a in receiver.accepted]
    assert sorted(statuses) == ["Approved", "Not Started"]
    approved = next(a for a in receiver.accepted if a["raw"]["status"] == "Approved")
    assert str(approved["payload"].session_id) == str(session.session_id)
    assert approved["raw"]["decision"]["status"] == "Approved"
    assert approved["raw"]["vendor_data"] == "Zoë Ñúñez-山田"

    log = requests.get(
        f"{verity.origin}/v3/session/{session.session_id}/webhooks/", headers=headers, timeout=15
    ).json()
    _wait(
        lambda: all(
            r["status"] == "delivered" and r["http_status"] == 200
            for r in requests.get(
                f"{verity.origin}/v3/session/{session.session_id}/webhooks/",
                headers=headers,
                timeout=15,
            ).json()["results"]
        ),
        "the log to show both deliveries answered 200",
    )
    assert log["count"] == 2
    requests.delete(
        f"{verity.origin}/v3/webhook/destinations/{destination['uuid']}/", headers=headers, timeout=15
    )
    receiver.server.shutdown()
