//! Verity's persistence. One schema and one set of queries serve SQLite (the zero-config default,
//! in WAL mode) and PostgreSQL (scale-out), through sqlx's `Any` driver; media go through
//! `object_store` (local files by default, S3-compatible storage for scale-out).
//!
//! Invariants every function here keeps:
//! - every lookup of tenant data is scoped by an [`ApplicationId`]; another application's ids are
//!   indistinguishable from ids that do not exist;
//! - secrets are stored as SHA-256 digests ([`credentials`]) or, when they must be usable (webhook
//!   signing keys), sealed under the master key ([`sealing`]); passwords as argon2id hashes and
//!   e-mail codes as keyed digests;
//! - a status change and its timeline event are written in the same transaction; the timeline
//!   is also the webhook outbox ([`webhooks`]), so no committed change can miss its webhook.

mod accounts;
mod activity;
mod aml;
mod apps;
mod budgets;
mod codes;
mod corrections;
pub mod credentials;
mod data_transfer;
mod db;
mod error;
mod face_templates;
mod liveness;
pub mod media;
mod processing;
pub mod sealing;
mod sessions;
mod webhooks;
mod workflows;

pub use accounts::{
    CodeIssue, EmailVerification, LoginAccount, LoginAdmission, Registration, User, VerifiedAccount,
};
pub use aml::{
    dataset_file_key, AmlChange, AmlCheck, AmlDataset, AmlResultChange, MonitoredNode,
    NewAmlDataset,
};
pub use apps::{
    Application, ApplicationProfile, ApplicationSummary, AuthenticatedKey, IssuedCredentials,
    Organization,
};
pub use budgets::{Budget, Exhausted};
pub use corrections::FeatureStatusChange;
pub use data_transfer::{
    CodeCheck, SharedPicture, TransferAnswer, TransferCodeIssue, VerifiedIdentity,
};
pub use db::{Db, Dialect};
pub use error::{Error, Result};
pub use face_templates::{BlocklistedFace, StoredFaceTemplate};
pub use liveness::{ChallengeIssue, LivenessChallenge, LivenessFrame, LIVENESS_FRAME_KIND};
pub use media::MediaStore;
pub use processing::{
    sha256_hex, BoundInputs, ClaimedJob, JobInfo, NodeWrite, StoredCapture, Submitted,
};
pub use sealing::Sealer;
pub use sessions::{DeletedSession, SessionFilters, SessionOrdering};
pub use webhooks::{
    AttemptRecord, ClaimedDelivery, DeliveryLog, Destination, DestinationCapacity,
    DestinationSummary, FinishedAttempt, LegacyWebhook, NextStep, OutboxEvent, PayloadSources,
    SigningKeys, StoredAttempt,
};
pub use workflows::StoredWorkflow;

/// `$first, $first+1, …` for `count` bound parameters.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Row counts of multi-row `INSERT`s: the bulk goes in large statements, the rest in smaller
/// ones (powers of two: any batch takes at most one of each below 32), so a few statement shapes
/// (and cached prepared statements) cover every batch size.
const INSERT_ROWS: [usize; 6] = [32, 16, 8, 4, 2, 1];

/// Splits `rows` into consecutive chunks of the sizes in `INSERT_ROWS`, largest first.
pub(crate) fn insert_chunks<T>(mut rows: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        let size = INSERT_ROWS.into_iter().find(|&n| n <= rows.len())?;
        let (chunk, rest) = rows.split_at(size);
        rows = rest;
        Some(chunk)
    })
}

/// `($1, …, $columns), (…)` for a multi-row `INSERT … VALUES` of `rows` rows.
pub(crate) fn values_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(row * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `items` padded to the next power of two by repeating the last one, for `IN (…)` lists: a few
/// statement shapes then cover every batch size, so batches of varying size reuse cached prepared
/// statements instead of evicting them (repeats do not change an `IN` list's meaning).
pub(crate) fn padded_in_list<T: Clone>(items: &[T]) -> Vec<T> {
    let mut padded = items.to_vec();
    if let Some(last) = items.last() {
        padded.resize(items.len().next_power_of_two(), last.clone());
    }
    padded
}

/// Storage handle shared by the HTTP layer and background tasks.
#[derive(Clone)]
pub struct Store {
    pub db: Db,
    pub media: MediaStore,
    pub sealer: Sealer,
    /// Poked after every commit that writes a session event, so this process's webhook
    /// dispatcher starts at once instead of at its next poll.
    pub outbox: std::sync::Arc<tokio::sync::Notify>,
    /// Poked after every commit that enqueues or requeues a processing job, so this process's
    /// workers claim it at once.
    pub processing: std::sync::Arc<tokio::sync::Notify>,
}

impl Store {
    pub fn new(db: Db, media: MediaStore, sealer: Sealer) -> Self {
        Self {
            db,
            media,
            sealer,
            outbox: Default::default(),
            processing: Default::default(),
        }
    }
}
