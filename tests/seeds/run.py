"""Runs the seed documents' code (see README.md) against a freshly started Verity."""

import json
import os
import pathlib
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = os.environ.get("VERITY_BIN", str(ROOT / "target" / "debug" / "verity"))
SEEDS = pathlib.Path(os.environ.get("VERITY_SEEDS_DIR", ROOT.parent / "shared" / "seeds"))
TOKEN_FIELDS = {"iss", "iat", "sub", "client_id", "organization_id", "expires_in", "exp", "access_token"}

results = []


def check(name, fn):
    try:
        fn()
        results.append((name, None))
        print(f"PASS {name}")
    except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the run
        results.append((name, error))
        print(f"FAIL {name}: {error!r}")


def start_server(data_dir):
    proc = subprocess.Popen(
        [BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "VERITY_DATABASE_URL": f"sqlite://{data_dir}/verity.db"},
    )
    creds, block, base = {}, None, None
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("server exited before listening")
        if "[live]" in line:
            block = "live"
        elif "[sandbox]" in line:
            block = "sandbox"
        for label, key in [("API key", "api_key"), ("OAuth client id", "client_id"), ("OAuth client secret", "client_secret")]:
            if block == "live" and line.strip().startswith(label):
                creds[key] = line.split()[-1]
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            base = match.group(1)
            break
    urllib.request.urlopen(base + "/system/healthcheck", timeout=5).read()
    return proc, base, creds


def snippet(name):
    return (HERE / "snippets" / name).read_text()


def squash(text):
    return re.sub(r"\s+", "", text)


def run_node(source, env, suffix=".mjs", cwd=None):
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False) as handle:
        handle.write(source)
        path = handle.name
    try:
        out = subprocess.run(["node", path], capture_output=True, text=True, timeout=60,
                             env={**os.environ, **env}, cwd=cwd)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise AssertionError(f"node failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if SEEDS.is_dir():
        seed_text = {p.name[:3]: squash(p.read_text()) for p in SEEDS.glob("*.txt")}
        for name, seed in [("seed000_get_client_token.py", "000"), ("seed000_fetchClientToken.js", "000"),
                           ("seed001_session_api.ts", "001"), ("seed001_generateSessionPDF_node.js", "001"),
                           ("seed004_createSession.ts", "004")]:
            # A file may hold several snippets of one seed, separated by blank lines.
            parts = snippet(name).split("\n\n")
            check(f"{name} is verbatim from seed {seed}",
                  lambda p=parts, s=seed: _assert(all(squash(part) in seed_text[s] for part in p)))
    else:
        print(f"SKIPPED: verbatim check, {SEEDS} not present")

    data_dir = tempfile.mkdtemp(prefix="verity-seeds-")
    proc, base, creds = start_server(data_dir)
    try:
        def python_token():
            code = snippet("seed000_get_client_token.py")
            code = code.replace("https://apx.didit.me", base)
            code = code.replace("YOUR_CLIENT_ID", creds["client_id"]).replace("YOUR_CLIENT_SECRET", creds["client_secret"])
            namespace = {}
            exec(compile(code, "seed000_get_client_token.py", "exec"), namespace)
            token = namespace["get_client_token"]()
            _assert(token is not None and set(token) == TOKEN_FIELDS, token)
            _assert(token["expires_in"] == 86400)

        def js_token():
            source = snippet("seed000_fetchClientToken.js").replace("https://apx.didit.me", base)
            source += "\nfetchClientToken().then((d) => console.log(JSON.stringify(d)));\n"
            token = run_node(source, {"DIDIT_CLIENT_ID": creds["client_id"], "DIDIT_CLIENT_SECRET": creds["client_secret"]})
            _assert(set(token) == TOKEN_FIELDS, token)

        seed001_env = {"NEXT_PUBLIC_API_URL": base, "NEXT_PUBLIC_DIDIT_CLIENT_ID": creds["client_id"],
                       "CLIENT_SECRET": creds["client_secret"], "BASE_URL": base}

        def seed001(call, extra="", suffix=".mjs", cwd=None):
            code = re.sub(r"(\w+): string,", r"\1,", snippet("seed001_session_api.ts"))
            source = ("const BASE_URL = process.env.BASE_URL;\n" + code +
                      "\nconst getClientToken = fetchClientToken;\n" + extra +
                      f"\n({call}).then((d) => console.log(JSON.stringify(d)));\n")
            return run_node(source, seed001_env, suffix, cwd)

        state = {}

        def js_create():
            created = seed001("createSession('OCR + NFC + FACE', 'https://example.com/verification/callback', 'your-vendor-data')")
            for key in ["session_id", "session_number", "session_token", "vendor_data", "status", "callback", "url", "features"]:
                _assert(key in created, f"{key} missing in {created}")
            _assert(created["status"] == "Not Started" and created["features"] == "OCR + NFC + FACE", created)
            state["id"] = created["session_id"]

        def js_decision():
            decision = seed001(f"getSessionDecision('{state['id']}')")
            for key in ["session_id", "session_number", "session_url", "status", "vendor_data", "callback", "features",
                        "kyc", "aml", "face", "location", "warnings", "reviews", "extra_images", "created_at"]:
                _assert(key in decision, f"{key} missing")

        def js_update():
            # Reviewers decide sessions that reached review; put this one there first.
            with sqlite3.connect(f"{data_dir}/verity.db") as db:
                db.execute("UPDATE sessions SET status = 'In Review' WHERE id = ?", (state["id"],))
            answer = seed001(f"updateSessionStatus('{state['id']}', 'Declined', 'Duplicated user')")
            _assert(answer == {"session_id": state["id"]}, answer)
            decision = seed001(f"getSessionDecision('{state['id']}')")
            _assert(decision["status"] == "Declined" and decision["reviews"][0]["comment"] == "Duplicated user", decision)

        def js_pdf():
            # The server-side (Node.js) example writes session_{id}.pdf into the working directory;
            # it uses require, so it runs as CommonJS.
            out_dir = tempfile.mkdtemp(prefix="verity-seed-pdf-")
            name = seed001(f"generateSessionPDF('{state['id']}')", snippet("seed001_generateSessionPDF_node.js"),
                           suffix=".cjs", cwd=out_dir)
            _assert(name == f"session_{state['id']}.pdf", name)
            pdf = pathlib.Path(out_dir, name).read_bytes()
            _assert(pdf.startswith(b"%PDF-") and len(pdf) > 1000, pdf[:20])

        def seed004():
            # Seed 004's snippet as written (TypeScript parameter annotations stripped); its
            # getClientToken is seed 000's fetchClientToken, with the base URL changed.
            code = snippet("seed004_createSession.ts")
            code = code.replace("scope: string,", "scope,").replace("vendorData?: string", "vendorData")
            token = snippet("seed000_fetchClientToken.js").replace("https://apx.didit.me", base)
            source = (f"const BASE_URL = {json.dumps(base)};\n" + token + "\nconst getClientToken = fetchClientToken;\n" +
                      code + "\ncreateSession('pictures names email', 'optional-vendor-data')" +
                      ".then((d) => console.log(JSON.stringify(d)));\n")
            created = run_node(source, {"DIDIT_CLIENT_ID": creds["client_id"], "DIDIT_CLIENT_SECRET": creds["client_secret"]})
            _assert(set(created) == {"session_id", "session_token", "url"}, created)
            _assert(created["url"] == f"{base}/authorize/{created['session_token']}", created)
            request = urllib.request.Request(f"{base}/auth/v2/session/{created['session_id']}/status/",
                                             headers={"x-api-key": creds["api_key"],
                                                      "Data-Session-Token": created["session_token"]})
            status = json.loads(urllib.request.urlopen(request, timeout=10).read())
            _assert(status["status"] == "pending" and status["scope"] == "names email pictures"
                    and status["vendor_data"] == "optional-vendor-data", status)

        check("seed 000 Python get_client_token", python_token)
        check("seed 000 JavaScript fetchClientToken", js_token)
        check("seed 001 JavaScript createSession", js_create)
        check("seed 001 JavaScript getSessionDecision", js_decision)
        check("seed 001 JavaScript updateSessionStatus", js_update)
        check("seed 001 JavaScript generateSessionPDF (server-side Node.js example)", js_pdf)
        check("seed 004 JavaScript createSession", seed004)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    failed = sum(1 for _, error in results if error)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _assert(condition, detail=""):
    if not condition:
        raise AssertionError(detail)


if __name__ == "__main__":
    sys.exit(main())
