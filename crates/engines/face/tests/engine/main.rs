//! The face engine's integration tests, one binary: the engine crate is optimised even in test
//! builds, so every extra test binary would cost about a minute of compilation.

mod active;
mod common;
mod face_match;
mod liveness;
mod reference_opencv;
