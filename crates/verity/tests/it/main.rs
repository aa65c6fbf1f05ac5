//! One integration-test binary: every test starts the real server on 127.0.0.1:0 with a fresh
//! database — SQLite by default, PostgreSQL when `VERITY_TEST_DATABASE=postgres` — and talks to
//! it over HTTP.

mod accounts;
mod active_liveness;
mod aml;
mod auth;
mod branding;
mod browser;
mod cli;
mod corrections;
mod data_transfer;
mod documents;
mod errors;
mod face;
mod flow;
mod flow_pages;
mod hardening;
mod helpers;
mod integrity;
mod legacy;
mod lifecycle;
mod oauth;
mod processing;
mod reports;
mod sandbox;
mod sessions;
mod smtp;
mod tenancy;
mod transfer_codes;
mod webhooks;
mod workflows;
