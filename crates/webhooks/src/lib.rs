//! Didit-compatible webhook signing and delivery for Verity.
//!
//! Pure building blocks, no database: the server's durable outbox/dispatcher (in the storage and
//! server crates) builds a payload ([`payload`]), signs it per attempt ([`sign::sign_attempt`]),
//! delivers it ([`DeliveryClient::deliver`]) and asks [`RetrySchedule::next_delay`] when to try
//! again. See README.md for the exact algorithms.

pub mod delivery;
pub mod payload;
pub mod pyjson;
pub mod retry;
pub mod sign;
pub mod ssrf;

pub use delivery::{
    classify_status, parse_retry_after, BuildError, DeliveryAttempt, DeliveryClient,
    DeliveryConfig, DeliveryOutcome, FailureKind, Verdict, DEFAULT_USER_AGENT,
};
pub use payload::{
    carries_decision, entity_data_payload, entity_status_payload, session_envelope_v1,
    session_envelope_v3, session_payload, EntityEventBase, EventType, KybFields, SessionEvent,
    WebhookVersion,
};
pub use pyjson::{to_canonical_v2, to_raw_body};
pub use retry::{Jitter, RetrySchedule};
pub use sign::{
    restamp, sign, sign_attempt, verify_request, verify_signature, verify_signature_simple,
    verify_signature_v2, verify_standard_webhooks, SignOptions, SignedHeaders, SignedPayload,
    StandardWebhooksHeaders, VerifiedWith, VerifyError, WebhookSecret,
};
pub use ssrf::{non_public_reason, GuardedResolver, Refusal, SsrfPolicy};
