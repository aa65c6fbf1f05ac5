//! Verity AML screening engine.
//!
//! Import sanctions / PEP data ([`import_ftm`], [`import_ofac_sdn`]), build a
//! [`DatasetIndex`] per dataset version, and screen subjects with a
//! [`Screener`] (atomic version swaps) or [`screen_indexes`]. Results come in
//! Didit's current hit shape ([`AmlScreening`], [`AmlHit`]) and convert to the
//! v1 shape ([`AmlScreening::to_v1`]). [`diff_datasets`] finds what changed
//! between two versions for ongoing monitoring. No I/O beyond the readers
//! handed in, no async, no HTTP.

pub mod country;
pub mod date;
pub mod diff;
pub mod eval;
pub mod ftm;
pub mod index;
pub mod matcher;
pub mod model;
pub mod normalize;
pub mod ofac;
pub mod screen;
pub mod synth;

pub use diff::{diff_datasets, DatasetDiff};
pub use ftm::{import_ftm, import_ftm_with_progress};
pub use index::DatasetIndex;
pub use model::{
    Dataset, DatasetMeta, Entity, EntityType, ImportError, ImportProgress, ImportReport,
    Properties, Schema,
};
pub use ofac::{import_ofac_sdn, import_ofac_sdn_with_progress};
pub use screen::{
    name_similarity, screen_indexes, AmlHit, AmlScreening, AmlStatus, AmlWarning, ReviewStatus,
    ScoreBreakdown, Screener, ScreeningConfig, ScreeningRequest, V1Aml, V1Hit,
};
