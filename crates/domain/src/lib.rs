//! Verity's pure domain: identifiers, the session lifecycle, workflows, input parsing with
//! Django-REST-Framework-shaped errors, and the decision payloads. Nothing here does I/O, so every
//! rule is unit-testable and shared by the HTTP layer, storage and the engines' wiring.

pub mod account;
pub mod aml;
pub mod branding;
pub mod capture;
pub mod checks;
pub mod corrections;
pub mod data_transfer;
pub mod decision;
pub mod error;
pub mod fields;
pub mod ids;
pub mod legacy;
pub mod rerun;
pub mod review;
pub mod rules;
pub mod sandbox;
pub mod session;
pub mod status;
pub mod timestamp;
pub mod webhook;
pub mod workflow;

pub use error::Error;
pub use fields::FieldErrors;
pub use timestamp::Timestamp;
