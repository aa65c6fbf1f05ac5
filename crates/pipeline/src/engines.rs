//! The verification engines this process has loaded, shared by the pipeline's live node runners
//! and the API's standalone endpoints (`/v3/id-verification/`, `/v3/face-match/`, `/v3/aml/`, …).
//!
//! Engines load their models from files fetched by the README's setup (never at request time).
//! An engine whose files are missing is absent here: its live nodes park (`waiting_for_engine`)
//! and its standalone endpoint answers 503, so nothing is ever faked.

use crate::aml::{AmlEngine, AmlRunner};
use crate::document::{DocumentReader, DocumentRunner};
use crate::runner::Engines;
use std::path::PathBuf;
use std::sync::Arc;
use verity_domain::workflow::Feature;

/// Where engines find their files (`[engines]` in verity.toml).
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Root of the model folders (`document/`, `face/`); `models/` of the working directory by
    /// default, where `scripts/fetch-models` puts them.
    pub models_dir: PathBuf,
}

/// The engines loaded in this process. Cheap to clone: every engine sits behind an `Arc`.
#[derive(Clone, Default)]
pub struct LoadedEngines {
    /// AML screening. Its data are dataset versions imported into the database (`verity aml
    /// import`), not model files, so it always exists; `AmlSync` installs versions as they
    /// appear, and until the first one its nodes park and `POST /v3/aml/` answers 503.
    pub aml: Arc<AmlEngine>,
    /// PP-OCRv4 document reader (`{models_dir}/document`): the OCR node and
    /// `POST /v3/id-verification/`.
    pub document: Option<Arc<DocumentReader>>,
    /// YuNet + SFace + dlib age from `{models_dir}/face` (LIVENESS, FACE_MATCH, AGE_ESTIMATION
    /// and `/v3/passive-liveness/`, `/v3/face-match/`, `/v3/face-search/`, `/v3/age-estimation/`).
    pub face: Option<Arc<verity_face::FaceEngine>>,
    /// Where engines keep per-application state (face templates); set by [`Self::with_store`].
    pub store: Option<verity_store::Store>,
}

impl LoadedEngines {
    /// Loads every engine whose files are present, logging (without failing) those that are not.
    pub fn load(settings: &EngineSettings) -> Self {
        let document_dir = settings.models_dir.join("document");
        let document = match verity_document::DocumentEngine::load(&document_dir) {
            Ok(engine) => {
                tracing::info!(dir = %document_dir.display(), "document engine loaded");
                Some(Arc::new(DocumentReader::new(engine)))
            }
            Err(error) => {
                tracing::warn!(
                    dir = %document_dir.display(),
                    %error,
                    "document engine not loaded (run scripts/fetch-models): live OCR nodes wait \
                     for it and /v3/id-verification/ answers 503"
                );
                None
            }
        };
        Self {
            aml: Arc::new(AmlEngine::new()),
            document,
            face: crate::face::load_face_engine(&settings.models_dir.join("face")),
            store: None,
        }
    }

    /// Gives the engines the store they keep per-application state in (face templates).
    pub fn with_store(mut self, store: verity_store::Store) -> Self {
        self.store = Some(store);
        self
    }

    /// The live node runners backed by these engines.
    pub fn node_runners(&self) -> Engines {
        let mut engines = Engines::default();
        engines.register(
            Feature::Aml,
            Arc::new(AmlRunner {
                engine: self.aml.clone(),
            }),
        );
        if let Some(reader) = &self.document {
            engines.register(
                Feature::Ocr,
                Arc::new(DocumentRunner::new(Arc::clone(reader))),
            );
        }
        if let Some(face) = &self.face {
            let runner = Arc::new(crate::face::FaceRunner::new(
                face.clone(),
                self.store.clone(),
            ));
            for feature in [
                Feature::Liveness,
                Feature::FaceMatch,
                Feature::AgeEstimation,
            ] {
                engines.register(feature, runner.clone());
            }
        }
        engines
    }
}
