//! Didit-compatible webhook signing and delivery for Verity.
//!
//! Pure building blocks — payloads ([`payload`]), per-attempt signing ([`sign::sign_attempt`]),
//! SSRF-guarded delivery ([`DeliveryClient::deliver`]), retry schedules ([`RetrySchedule`]) — and
//! the durable [`dispatcher`] that drives them from the store's outbox. See README.md for the exact
//! algorithms.

pub mod delivery;
pub mod dispatcher;
mod held;
pub mod payload;
pub mod pyjson;
pub mod retry;
pub mod sign;
pub mod ssrf;

pub use delivery::{
    classify_status, parse_retry_after, BuildError, DeliveryAttempt, DeliveryClient,
    DeliveryConfig, DeliveryOutcome, FailureKind, Verdict, DEFAULT_USER_AGENT,
};
pub use dispatcher::{Dispatcher, DispatcherConfig};
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
