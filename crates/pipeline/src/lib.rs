//! Verity's processing pipeline (issue 8): the worker that drains the durable job queue.
//!
//! ```text
//! flow submit ──tx──▶ processing_jobs (queued)  +  session In Progress
//!                         │ claim: lease (FOR UPDATE SKIP LOCKED on PostgreSQL)
//!                         ▼
//!   for each remaining node, in workflow order:
//!     runner (engine, or the sandbox runner) → observed payload + risks
//!     cross-checks + decision rules           → warnings, feature status
//!     ──tx──▶ feature_results row + job progress (conditional on the lease)
//!   roll-up ──tx──▶ session status + status.updated event (webhook outbox) + job done
//! ```
//!
//! A live node without an engine parks the job (`waiting_for_engine`): the session stays
//! `In Progress` and nothing is fabricated; [`Worker::run`] resumes such jobs at start for
//! every engine registered in [`Engines`].

pub mod aml;
pub mod document;
pub mod engines;
pub mod evaluate;
pub mod face;
pub mod runner;
pub mod sandbox;
pub mod worker;

pub use engines::{EngineSettings, LoadedEngines};
pub use runner::{
    document_portrait_key, Engines, NodeInput, NodeOutput, NodeRunner, DOCUMENT_PORTRAIT,
};
pub use sandbox::SandboxRunner;
pub use worker::{JobEnd, Worker, WorkerConfig};
