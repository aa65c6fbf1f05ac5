//! Didit's three webhook signatures plus the optional Standard Webhooks signature, and their
//! constant-time verifiers (used by our own tests and by anyone receiving Verity webhooks in Rust).

use crate::pyjson::{to_canonical_v2, to_python_json, to_python_json_stamped, JsonStyle};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

pub const HEADER_TIMESTAMP: &str = "X-Timestamp";
pub const HEADER_SIGNATURE: &str = "X-Signature";
pub const HEADER_SIGNATURE_V2: &str = "X-Signature-V2";
pub const HEADER_SIGNATURE_SIMPLE: &str = "X-Signature-Simple";
pub const HEADER_TEST_WEBHOOK: &str = "X-Didit-Test-Webhook";
pub const HEADER_SW_ID: &str = "webhook-id";
pub const HEADER_SW_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SW_SIGNATURE: &str = "webhook-signature";
/// Receivers are told to reject `|now − X-Timestamp| > 300 s` (spec §6.2).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// A destination's `secret_shared_key`. HMAC keys are derived once (the keyed HMAC state is cloned
/// per signature, which skips re-hashing the key pads). `Debug` never prints the secret.
#[derive(Clone)]
pub struct WebhookSecret {
    secret: String,
    didit_mac: HmacSha256,
    standard_mac: HmacSha256,
}

impl WebhookSecret {
    /// Didit uses the UTF-8 bytes of the secret as the HMAC key, never base64-decoded.
    pub fn new(secret_shared_key: impl Into<String>) -> Self {
        let secret = secret_shared_key.into();
        let didit_mac =
            HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        let standard_mac = HmacSha256::new_from_slice(&standard_webhooks_key(&secret))
            .expect("HMAC takes any key length");
        Self {
            secret,
            didit_mac,
            standard_mac,
        }
    }

    /// The secret as configured (to show once on creation; never put it in a request or a log).
    pub fn expose(&self) -> &str {
        &self.secret
    }

    /// The same key in the Standard Webhooks serialisation (`whsec_` + base64 of the key bytes),
    /// which is what Standard Webhooks receiver libraries expect to be configured with.
    pub fn standard_webhooks_secret(&self) -> String {
        if self.secret.starts_with("whsec_") {
            self.secret.clone()
        } else {
            format!("whsec_{}", B64.encode(self.secret.as_bytes()))
        }
    }

    fn hex_mac(&self, data: &[&[u8]]) -> String {
        let mut mac = self.didit_mac.clone();
        for part in data {
            mac.update(part);
        }
        lower_hex(&mac.finalize().into_bytes())
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Standard Webhooks key convention: a `whsec_`-prefixed secret is base64 of the key bytes;
/// any other secret (Didit's 43-char URL-safe string) is used as its own UTF-8 bytes, so the
/// receiver can be configured with [`WebhookSecret::standard_webhooks_secret`].
fn standard_webhooks_key(secret: &str) -> Vec<u8> {
    if let Some(b64) = secret.strip_prefix("whsec_") {
        if let Ok(key) = B64.decode(b64) {
            return key;
        }
    }
    secret.as_bytes().to_vec()
}

/// Per-destination signing choices.
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// `Some(id)` adds `webhook-id`/`webhook-timestamp`/`webhook-signature`. Pass the event's
    /// `event_id`: Standard Webhooks wants an id that stays the same across retries.
    pub standard_webhooks_id: Option<String>,
}

/// The Standard Webhooks header values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandardWebhooksHeaders {
    pub id: String,
    pub timestamp: i64,
    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub signature: String,
}

/// Every signature header of one delivery attempt (none of them reveals the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedHeaders {
    /// `X-Timestamp`, unix seconds.
    pub timestamp: i64,
    /// `X-Signature`: hex HMAC-SHA256 of the raw body bytes.
    pub signature: String,
    /// `X-Signature-V2`: hex HMAC-SHA256 of the canonical JSON.
    pub signature_v2: String,
    /// `X-Signature-Simple`: hex HMAC-SHA256 of `"{ts}:{session_id}:{status}:{webhook_type}"`.
    pub signature_simple: String,
    pub standard: Option<StandardWebhooksHeaders>,
}

impl SignedHeaders {
    /// `(name, value)` pairs in the order they are sent.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_SIGNATURE, self.signature.clone()),
            (HEADER_SIGNATURE_V2, self.signature_v2.clone()),
            (HEADER_SIGNATURE_SIMPLE, self.signature_simple.clone()),
        ];
        if let Some(sw) = &self.standard {
            pairs.push((HEADER_SW_ID, sw.id.clone()));
            pairs.push((HEADER_SW_TIMESTAMP, sw.timestamp.to_string()));
            pairs.push((HEADER_SW_SIGNATURE, sw.signature.clone()));
        }
        pairs
    }
}

/// A payload ready to POST: the exact body bytes and the headers that sign them.
#[derive(Debug, Clone)]
pub struct SignedPayload {
    pub body: Bytes,
    pub headers: SignedHeaders,
}

/// Sets the top-level `timestamp` of an object payload to this attempt's time.
///
/// Why per attempt: receivers (didit-sdk, the seed-003 receivers) reject a body `timestamp` older
/// than 300 s and require `X-Timestamp` to equal it, so a retry hours later must carry a fresh
/// one. `event_id` and `created_at` stay fixed; that is what receivers deduplicate on.
pub fn restamp(payload: &mut Value, timestamp: i64) {
    if let Value::Object(map) = payload {
        map.insert("timestamp".to_owned(), Value::from(timestamp));
    }
}

/// Signs `payload` for one delivery attempt at `timestamp`: the body's top-level `timestamp` is
/// written as `timestamp` (see [`restamp`] for why) while serialising, so the stored payload is
/// neither cloned nor changed. What the dispatcher calls for every attempt.
pub fn sign_attempt(
    secret: &WebhookSecret,
    payload: &Value,
    timestamp: i64,
    options: &SignOptions,
) -> SignedPayload {
    sign_inner(secret, payload, timestamp, payload.is_object(), options)
}

/// Serialises `payload` exactly as Didit does and computes every signature over it as given
/// (`X-Timestamp` = `timestamp`, the body is not restamped; see [`sign_attempt`]).
pub fn sign(
    secret: &WebhookSecret,
    payload: &Value,
    timestamp: i64,
    options: &SignOptions,
) -> SignedPayload {
    sign_inner(secret, payload, timestamp, false, options)
}

fn sign_inner(
    secret: &WebhookSecret,
    payload: &Value,
    timestamp: i64,
    stamp: bool,
    options: &SignOptions,
) -> SignedPayload {
    let stamp = stamp.then_some(timestamp);
    let raw = to_python_json_stamped(payload, JsonStyle::RawBody, stamp, 1024);
    let canonical = to_python_json_stamped(payload, JsonStyle::CanonicalV2, stamp, raw.len());
    let ts = timestamp.to_string();
    let signature = secret.hex_mac(&[raw.as_bytes()]);
    let signature_v2 = secret.hex_mac(&[canonical.as_bytes()]);
    let simple = simple_message(
        &ts,
        &simple_part(payload, "session_id"),
        &simple_part(payload, "status"),
        &simple_part(payload, "webhook_type"),
    );
    let signature_simple = secret.hex_mac(&[simple.as_bytes()]);
    let standard = options.standard_webhooks_id.as_ref().map(|id| {
        let mut mac = secret.standard_mac.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(ts.as_bytes());
        mac.update(b".");
        mac.update(raw.as_bytes());
        StandardWebhooksHeaders {
            id: id.clone(),
            timestamp,
            signature: format!("v1,{}", B64.encode(mac.finalize().into_bytes())),
        }
    });
    SignedPayload {
        body: Bytes::from(raw.into_bytes()),
        headers: SignedHeaders {
            timestamp,
            signature,
            signature_v2,
            signature_simple,
            standard,
        },
    }
}

/// A top-level field for the Simple signature: strings as-is, missing/null as "" (non-session
/// events), anything else as its compact JSON.
fn simple_part(payload: &Value, key: &str) -> String {
    match payload.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => to_python_json(other, JsonStyle::CanonicalV2),
    }
}

fn simple_message(ts: &str, session_id: &str, status: &str, webhook_type: &str) -> String {
    format!("{ts}:{session_id}:{status}:{webhook_type}")
}

fn lower_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

fn decode_hex_sha256(s: &str) -> Option<[u8; 32]> {
    let s = s.trim().as_bytes();
    if s.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// Constant-time check of a hex HMAC over `parts` (`Mac::verify_slice` compares with `subtle`).
fn verify_hex(secret: &WebhookSecret, parts: &[&[u8]], supplied_hex: &str) -> bool {
    let Some(supplied) = decode_hex_sha256(supplied_hex) else {
        return false;
    };
    let mut mac = secret.didit_mac.clone();
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(&supplied).is_ok()
}

/// `X-Signature`: HMAC of the raw body bytes exactly as received.
pub fn verify_signature(secret: &WebhookSecret, raw_body: &[u8], signature_hex: &str) -> bool {
    verify_hex(secret, &[raw_body], signature_hex)
}

/// `X-Signature-V2`: parse the body, re-encode canonically, HMAC that. Invalid JSON fails.
pub fn verify_signature_v2(secret: &WebhookSecret, raw_body: &[u8], signature_hex: &str) -> bool {
    match serde_json::from_slice::<Value>(raw_body) {
        Ok(v) => verify_hex(secret, &[to_canonical_v2(&v).as_bytes()], signature_hex),
        Err(_) => false,
    }
}

/// `X-Signature-Simple` over `"{timestamp}:{session_id}:{status}:{webhook_type}"`.
pub fn verify_signature_simple(
    secret: &WebhookSecret,
    timestamp: &str,
    session_id: &str,
    status: &str,
    webhook_type: &str,
    signature_hex: &str,
) -> bool {
    let msg = simple_message(timestamp, session_id, status, webhook_type);
    verify_hex(secret, &[msg.as_bytes()], signature_hex)
}

/// `webhook-signature`: true when any space-separated `v1,<base64>` entry matches.
pub fn verify_standard_webhooks(
    secret: &WebhookSecret,
    id: &str,
    timestamp: &str,
    body: &[u8],
    signature_header: &str,
) -> bool {
    let mut mac = secret.standard_mac.clone();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    signature_header
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| B64.decode(b64).ok())
        // Evaluate every entry (no short-circuit) so timing does not reveal which one matched.
        .fold(false, |ok, sig| mac.clone().verify_slice(&sig).is_ok() | ok)
}

/// Which signature a request was accepted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifiedWith {
    SignatureV2,
    Signature,
    StandardWebhooks,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing or malformed timestamp header")]
    BadTimestamp,
    #[error("timestamp outside the tolerance window")]
    Stale,
    #[error("no signature header matched")]
    NoMatch,
}

/// A receiver's check of a Didit-style request, as the seed-003 receivers and didit-sdk do it:
/// fresh `X-Timestamp`, then `X-Signature-V2` or `X-Signature`; falls back to the Standard
/// Webhooks headers when the Didit ones are absent.
pub fn verify_request(
    secret: &WebhookSecret,
    headers: &HeaderMap,
    raw_body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<VerifiedWith, VerifyError> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ts) = get(HEADER_TIMESTAMP) {
        check_fresh(ts, now, tolerance_secs)?;
        if let Some(sig) = get(HEADER_SIGNATURE_V2) {
            if verify_signature_v2(secret, raw_body, sig) {
                return Ok(VerifiedWith::SignatureV2);
            }
        }
        if let Some(sig) = get(HEADER_SIGNATURE) {
            if verify_signature(secret, raw_body, sig) {
                return Ok(VerifiedWith::Signature);
            }
        }
    }
    if let (Some(id), Some(ts), Some(sig)) = (
        get(HEADER_SW_ID),
        get(HEADER_SW_TIMESTAMP),
        get(HEADER_SW_SIGNATURE),
    ) {
        check_fresh(ts, now, tolerance_secs)?;
        if verify_standard_webhooks(secret, id, ts, raw_body, sig) {
            return Ok(VerifiedWith::StandardWebhooks);
        }
    }
    match get(HEADER_TIMESTAMP).or(get(HEADER_SW_TIMESTAMP)) {
        None => Err(VerifyError::BadTimestamp),
        Some(_) => Err(VerifyError::NoMatch),
    }
}

fn check_fresh(ts: &str, now: i64, tolerance_secs: i64) -> Result<(), VerifyError> {
    let ts: i64 = ts.trim().parse().map_err(|_| VerifyError::BadTimestamp)?;
    if (now - ts).abs() > tolerance_secs {
        return Err(VerifyError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers_of(signed: &SignedPayload) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in signed.headers.to_pairs() {
            map.insert(k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn ascii_sorted_payload_has_equal_v1_and_v2() {
        // The spec's consistency check from a real capture: ASCII, no whole floats ⇒ X-Signature == V2.
        let secret = WebhookSecret::new("s3cret");
        let signed = sign(
            &secret,
            &json!({"b": 1, "a": "x", "f": 0.5}),
            1,
            &SignOptions::default(),
        );
        assert_eq!(signed.headers.signature, signed.headers.signature_v2);
        let signed = sign(&secret, &json!({"score": 92.0}), 1, &SignOptions::default());
        assert_ne!(signed.headers.signature, signed.headers.signature_v2);
    }

    #[test]
    fn verify_request_accepts_own_signatures_and_rejects_tampering() {
        let secret = WebhookSecret::new("s3cret");
        let payload = json!({"session_id": "s", "status": "Approved", "webhook_type": "status.updated", "name": "Zoë", "timestamp": 1});
        let signed = sign_attempt(
            &secret,
            &payload,
            1000,
            &SignOptions {
                standard_webhooks_id: Some("evt_1".into()),
            },
        );
        // The body carries the attempt's timestamp; the stored payload is untouched.
        assert_eq!(payload["timestamp"], 1);
        let body: Value = serde_json::from_slice(&signed.body).unwrap();
        assert_eq!(body["timestamp"], 1000);
        let headers = headers_of(&signed);
        assert_eq!(
            verify_request(&secret, &headers, &signed.body, 1000, 300),
            Ok(VerifiedWith::SignatureV2)
        );
        assert_eq!(
            verify_request(&secret, &headers, &signed.body, 1400, 300),
            Err(VerifyError::Stale)
        );
        let other = WebhookSecret::new("other");
        assert_eq!(
            verify_request(&other, &headers, &signed.body, 1000, 300),
            Err(VerifyError::NoMatch)
        );
        let mut tampered = signed.body.to_vec();
        tampered[2] ^= 1;
        assert_eq!(
            verify_request(&secret, &headers, &tampered, 1000, 300),
            Err(VerifyError::NoMatch)
        );

        let sw = signed.headers.standard.as_ref().unwrap();
        assert!(verify_standard_webhooks(
            &secret,
            "evt_1",
            "1000",
            &signed.body,
            &format!("v1,AAAA {}", sw.signature)
        ));
        assert!(!verify_standard_webhooks(
            &secret,
            "evt_2",
            "1000",
            &signed.body,
            &sw.signature
        ));
        assert!(verify_signature_simple(
            &secret,
            "1000",
            "s",
            "Approved",
            "status.updated",
            &signed.headers.signature_simple
        ));
        assert!(!verify_signature_simple(
            &secret,
            "1001",
            "s",
            "Approved",
            "status.updated",
            &signed.headers.signature_simple
        ));
        assert!(!verify_signature(&secret, &signed.body, "zz"));
    }

    #[test]
    fn standard_webhooks_secret_round_trips() {
        let plain = WebhookSecret::new("abc");
        let whsec = WebhookSecret::new(plain.standard_webhooks_secret());
        let a = sign(
            &plain,
            &json!({}),
            5,
            &SignOptions {
                standard_webhooks_id: Some("i".into()),
            },
        );
        let b = sign(
            &whsec,
            &json!({}),
            5,
            &SignOptions {
                standard_webhooks_id: Some("i".into()),
            },
        );
        assert_eq!(a.headers.standard, b.headers.standard);
        assert_eq!(format!("{plain:?}"), "WebhookSecret(<redacted>)");
    }
}
