//! Signing throughput for a ~4 KB decision payload: serialisation and every signature variant.
//!
//!     CARGO_TARGET_DIR=/root/.cache/verity-targets/light cargo bench --bench signing
//!
//! Times are this thread's **CPU time** (CLOCK_THREAD_CPUTIME_ID), not wall time: the 2-core
//! machine is shared with other builds, and CPU time does not count the time we are descheduled.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use reqwest::header::HeaderMap;
use std::hint::black_box;
use std::time::Duration;
use verity_webhooks::{
    sign, sign_attempt, to_canonical_v2, to_raw_body, verify_request, SignOptions, WebhookSecret,
};

#[path = "support/payload.rs"]
mod common;

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes into the timespec we pass.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID unavailable");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f` `iters` times and returns the CPU time the thread spent.
fn cpu_iter<O>(iters: u64, mut f: impl FnMut() -> O) -> Duration {
    let start = thread_cpu_time();
    for _ in 0..iters {
        black_box(f());
    }
    thread_cpu_time() - start
}

fn bench(c: &mut Criterion) {
    let payload = common::realistic_payload();
    let secret = WebhookSecret::new("kX3v_9QzL2mP8wR4tY6uI0oA1sD5fG7hJ-cVbNnMqEe");
    let body_len = to_raw_body(&payload).len() as u64;
    eprintln!(
        "payload: raw body {body_len} bytes, canonical {} bytes",
        to_canonical_v2(&payload).len()
    );
    let all = SignOptions {
        standard_webhooks_id: Some("9c0c8b8a-1111-4222-9333-444444444444".into()),
    };

    let mut g = c.benchmark_group("sign_4kb_decision");
    g.throughput(Throughput::Elements(1));
    // Reference point: serde_json's own (non-Python-compatible) compact serialiser.
    g.bench_function("serde_json_to_string_reference", |b| {
        b.iter_custom(|n| cpu_iter(n, || serde_json::to_string(black_box(&payload)).unwrap()))
    });
    g.bench_function("raw_body_only", |b| {
        b.iter_custom(|n| cpu_iter(n, || to_raw_body(black_box(&payload))))
    });
    g.bench_function("canonical_v2_only", |b| {
        b.iter_custom(|n| cpu_iter(n, || to_canonical_v2(black_box(&payload))))
    });
    let didit_only = SignOptions::default();
    g.bench_function("didit_three_signatures", |b| {
        b.iter_custom(|n| {
            cpu_iter(n, || {
                sign(&secret, black_box(&payload), 1774970000, &didit_only)
            })
        })
    });
    g.bench_function("all_signatures_incl_standard_webhooks", |b| {
        b.iter_custom(|n| cpu_iter(n, || sign(&secret, black_box(&payload), 1774970000, &all)))
    });
    // What the dispatcher does per attempt: stamp the attempt time while serialising + all signatures.
    g.bench_function("sign_attempt_all_signatures", |b| {
        b.iter_custom(|n| {
            cpu_iter(n, || {
                sign_attempt(&secret, black_box(&payload), 1774970000, &all)
            })
        })
    });
    let signed = sign(&secret, &payload, 1774970000, &all);
    let mut headers = HeaderMap::new();
    for (k, v) in signed.headers.to_pairs() {
        headers.insert(k, v.parse().unwrap());
    }
    g.bench_function("verify_request_v2", |b| {
        b.iter_custom(|n| {
            cpu_iter(n, || {
                verify_request(&secret, &headers, black_box(&signed.body), 1774970000, 300).unwrap()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
