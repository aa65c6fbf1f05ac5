//! Scale measurement: index ≥ 1,000,000 entities (the SDN plus a generated
//! population), then time single-threaded screenings.
//!
//! cargo run --release --example scale [-- ENTITIES [QUERIES]]
use std::sync::Arc;
use std::time::Instant;

use verity_aml::eval::{generate_cases, ofac_data_dir};
use verity_aml::synth::{scale_population, Rng};
use verity_aml::{
    import_ofac_sdn, screen_indexes, DatasetIndex, ScreeningConfig, ScreeningRequest,
};

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// CPU time this thread has run, in ns: latency without the time spent
/// waiting for a core on a shared machine.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let nq: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5_000);
    let sdn = ofac_data_dir().map(|dir| {
        let f = std::fs::File::open(dir.join("sdn-2024-05-03.csv")).expect("open SDN");
        import_ofac_sdn(std::io::BufReader::new(f), "ofac_sdn", "2024-05-03", None).0
    });
    if sdn.is_none() {
        println!("OFAC SDN folder absent: population is generated names only");
    }
    let sdn_list = sdn.clone().map(DatasetIndex::build);
    let t = Instant::now();
    let (ds, st) = scale_population(n, 99, sdn.as_ref());
    println!(
        "population: {} given names, {} surnames; top given name {:.2} %, top surname {:.2} % of names",
        st.given_names,
        st.surnames,
        st.top_given_share * 100.0,
        st.top_surname_share * 100.0
    );
    let entities = ds.entities.len();
    println!("generated {entities} entities in {:.2?}", t.elapsed());
    let rss_data = rss_kib("VmRSS:");

    let t = Instant::now();
    let c0 = thread_cpu_ns();
    let idx = Arc::new(DatasetIndex::build(ds));
    let build = t.elapsed();
    let build_cpu = (thread_cpu_ns() - c0) as f64 / 1e9;
    println!(
        "index build: {:.2?} wall = {:.0} entities/s; {:.2} s thread CPU = {:.0} entities/s ({} names, {} distinct tokens)",
        build,
        entities as f64 / build.as_secs_f64(),
        build_cpu,
        entities as f64 / build_cpu,
        idx.name_count(),
        idx.vocabulary_size()
    );
    println!(
        "RSS after build: {:.0} MiB (data alone {:.0} MiB), peak {:.0} MiB",
        rss_kib("VmRSS:") as f64 / 1024.0,
        rss_data as f64 / 1024.0,
        rss_kib("VmHWM:") as f64 / 1024.0
    );

    // Query mix: half SDN-derived eval cases (variants and negatives), half
    // generated population names with a typo in a third of them.
    let mut queries: Vec<String> = Vec::new();
    if let Some(sdn) = sdn_list {
        // Cases are generated against the SDN alone (their labels do not
        // matter here, only realistic query names).
        let cases = generate_cases(&sdn, nq / 16 + 1, nq / 8 + 1, 5);
        queries.extend(cases.into_iter().map(|c| c.query));
    }
    let mut rng = Rng::new(17);
    while queries.len() < nq {
        let e = &idx.dataset().entities[rng.below(entities)];
        let mut q = e.caption.clone();
        if rng.chance(0.33) && q.len() > 6 {
            let p = 1 + rng.below(q.len() - 2);
            if q.is_char_boundary(p) && q.is_char_boundary(p + 1) {
                q.replace_range(p..p + 1, "x");
            }
        }
        queries.push(q);
    }
    queries.truncate(nq);
    let cfg = ScreeningConfig::default();
    // Warm-up (page in the index, size the per-thread scratch).
    for q in queries.iter().take(200) {
        screen_indexes(
            std::slice::from_ref(&idx),
            &ScreeningRequest::person(q),
            &cfg,
        );
    }
    let mut lat = Vec::with_capacity(queries.len());
    let mut cpu = Vec::with_capacity(queries.len());
    let mut slow: Vec<(f64, String, usize)> = Vec::new();
    let mut hits = 0usize;
    let t = Instant::now();
    for q in &queries {
        let c0 = thread_cpu_ns();
        let s = Instant::now();
        let r = screen_indexes(
            std::slice::from_ref(&idx),
            &ScreeningRequest::person(q),
            &cfg,
        );
        let ms = s.elapsed().as_secs_f64() * 1e3;
        cpu.push((thread_cpu_ns() - c0) as f64 / 1e6);
        lat.push(ms);
        slow.push((ms, q.clone(), r.total_hits));
        hits += r.total_hits;
    }
    let total = t.elapsed();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "screening {} queries single-threaded: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms, mean {:.3} ms ({:.0}/s), {} hits",
        lat.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        lat[lat.len() - 1],
        total.as_secs_f64() * 1e3 / lat.len() as f64,
        lat.len() as f64 / total.as_secs_f64(),
        hits
    );
    cpu.sort_by(f64::total_cmp);
    let cp = |p: f64| cpu[((cpu.len() as f64 * p) as usize).min(cpu.len() - 1)];
    println!(
        "  same, thread CPU time: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        cp(0.5),
        cp(0.9),
        cp(0.99),
        cpu[cpu.len() - 1]
    );
    if let Ok(l) = std::fs::read_to_string("/proc/loadavg") {
        println!("  load average during the run: {}", l.trim());
    }
    slow.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, q, h) in slow.iter().take(8) {
        println!("  slowest: {ms:.2} ms {q:?} ({h} hits)");
    }
    println!(
        "RSS at end: {:.0} MiB, peak {:.0} MiB",
        rss_kib("VmRSS:") as f64 / 1024.0,
        rss_kib("VmHWM:") as f64 / 1024.0
    );
}
