//! The Verity server: configuration and wiring of the storage, HTTP and background crates. The
//! `verity` binary (`main.rs`) is a thin CLI over this library; the integration tests start the
//! same [`server::Server`] on port 0.

pub mod aml;
pub mod config;
pub mod server;
