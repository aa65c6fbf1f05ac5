// Shared by the examples: where the models live.
use std::path::PathBuf;

pub fn models_dir() -> PathBuf {
    std::env::var_os("VERITY_DOCUMENT_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../models/document")
        })
}

/// Resident set size of this process in KiB (Linux).
#[allow(dead_code)]
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
