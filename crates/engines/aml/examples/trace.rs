//! Traces retrieval for a few names on a generated population (debug aid).
//! VERITY_AML_TRACE=1 cargo run --release --example trace -- N "name" ...
use std::time::Instant;
use verity_aml::synth::scale_population;
use verity_aml::{DatasetIndex, Screener, ScreeningConfig, ScreeningRequest};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(300_000);
    let sdn = verity_aml::eval::ofac_data_dir().map(|dir| {
        let f = std::fs::File::open(dir.join("sdn-2024-05-03.csv")).expect("open SDN");
        verity_aml::import_ofac_sdn(std::io::BufReader::new(f), "ofac_sdn", "2024-05-03", None).0
    });
    let s = Screener::new();
    s.install(DatasetIndex::build(scale_population(n, 99, sdn.as_ref()).0));
    for q in args {
        for _ in 0..2 {
            let t = Instant::now();
            let r = s.screen(&ScreeningRequest::person(&q), &ScreeningConfig::default());
            eprintln!("{q:?}: {:.2?}, {} hits", t.elapsed(), r.total_hits);
        }
    }
}
