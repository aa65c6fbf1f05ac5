//! Golden vectors produced by Python's own `json`/`hmac` (tests/python/gen_vectors.py): the Rust
//! serialiser and signer must reproduce every byte and every signature.

use serde_json::Value;
use verity_webhooks::{
    sign, to_canonical_v2, to_raw_body, verify_signature, verify_signature_simple,
    verify_signature_v2, verify_standard_webhooks, SignOptions, WebhookSecret,
};

fn vectors() -> Vec<Value> {
    let text = include_str!("vectors.json");
    let file: Value = serde_json::from_str(text).expect("vectors.json is JSON");
    file["vectors"].as_array().expect("vectors array").clone()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {}", v["name"]))
}

#[test]
fn there_are_vectors_for_every_required_topic() {
    let names: Vec<String> = vectors().iter().map(|v| s(v, "name").to_owned()).collect();
    for topic in [
        "unicode_names",
        "whole_floats_92_0",
        "floats_small_large",
        "nested_arrays",
        "whsec",
    ] {
        assert!(
            names.iter().any(|n| n.contains(topic)),
            "no vector for {topic}: {names:?}"
        );
    }
}

#[test]
fn serialisation_matches_python_byte_for_byte() {
    for v in vectors() {
        let name = s(&v, "name");
        // Parse the pretty, unsorted, unescaped input: output must not depend on input formatting.
        let payload: Value = serde_json::from_str(s(&v, "input")).unwrap();
        assert_eq!(to_raw_body(&payload), s(&v, "body"), "raw body of {name}");
        assert_eq!(
            to_canonical_v2(&payload),
            s(&v, "canonical_v2"),
            "canonical V2 of {name}"
        );
        // Parsing our own body back must be a fixed point (what a receiver does).
        let reparsed: Value = serde_json::from_str(s(&v, "body")).unwrap();
        assert_eq!(to_raw_body(&reparsed), s(&v, "body"), "reparse of {name}");
    }
}

#[test]
fn signatures_match_python() {
    for v in vectors() {
        let name = s(&v, "name");
        let secret = WebhookSecret::new(s(&v, "secret"));
        let payload: Value = serde_json::from_str(s(&v, "input")).unwrap();
        let ts = v["timestamp"].as_i64().unwrap();
        let opts = SignOptions {
            standard_webhooks_id: Some(s(&v, "webhook_id").to_owned()),
        };
        let signed = sign(&secret, &payload, ts, &opts);
        assert_eq!(signed.body.as_ref(), s(&v, "body").as_bytes(), "{name}");
        assert_eq!(signed.headers.timestamp, ts);
        assert_eq!(
            signed.headers.signature,
            s(&v, "x_signature"),
            "X-Signature of {name}"
        );
        assert_eq!(
            signed.headers.signature_v2,
            s(&v, "x_signature_v2"),
            "X-Signature-V2 of {name}"
        );
        assert_eq!(
            signed.headers.signature_simple,
            s(&v, "x_signature_simple"),
            "X-Signature-Simple of {name}"
        );
        let sw = signed.headers.standard.as_ref().unwrap();
        assert_eq!(
            sw.signature,
            s(&v, "webhook_signature"),
            "webhook-signature of {name}"
        );

        // And the verifiers accept the Python-made signatures.
        let body = s(&v, "body").as_bytes();
        assert!(
            verify_signature(&secret, body, s(&v, "x_signature")),
            "{name}"
        );
        assert!(
            verify_signature_v2(&secret, body, s(&v, "x_signature_v2")),
            "{name}"
        );
        let parts: Vec<&str> = s(&v, "simple_message").splitn(4, ':').collect();
        assert!(
            verify_signature_simple(
                &secret,
                parts[0],
                parts[1],
                parts[2],
                parts[3],
                s(&v, "x_signature_simple")
            ),
            "{name}"
        );
        assert!(
            verify_standard_webhooks(
                &secret,
                s(&v, "webhook_id"),
                &ts.to_string(),
                body,
                s(&v, "webhook_signature")
            ),
            "{name}"
        );
        // ...and refuse them under another secret.
        let wrong = WebhookSecret::new("not-the-secret");
        assert!(
            !verify_signature_v2(&wrong, body, s(&v, "x_signature_v2")),
            "{name}"
        );
    }
}
