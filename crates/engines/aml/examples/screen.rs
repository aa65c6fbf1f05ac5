//! Screens names against an OFAC SDN CSV or an FtM JSON-lines file.
//!
//! cargo run --release --example screen -- FILE "Full Name" [YYYY-MM-DD] [COUNTRY]
use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

use verity_aml::{
    import_ftm, import_ofac_sdn, DatasetIndex, Screener, ScreeningConfig, ScreeningRequest,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: screen FILE NAME [DOB] [NATIONALITY]");
        std::process::exit(2);
    }
    let t = Instant::now();
    let f = BufReader::new(File::open(&args[0]).expect("open"));
    let (ds, rep) = if args[0].ends_with(".csv") {
        import_ofac_sdn(f, "ofac_sdn", "local", None)
    } else {
        import_ftm(f, "ftm", "local", None)
    };
    eprintln!(
        "imported {} entities from {} rows, {} errors, skipped {:?} in {:?}",
        rep.entities_imported,
        rep.rows_read,
        rep.errors.len(),
        rep.skipped,
        t.elapsed()
    );
    for e in rep.errors.iter().take(5) {
        eprintln!("  line {}: {}", e.line, e.message);
    }
    let t = Instant::now();
    let screener = Screener::new();
    screener.install(DatasetIndex::build(ds));
    eprintln!("indexed in {:?}", t.elapsed());
    let req = ScreeningRequest {
        full_name: args[1].clone(),
        date_of_birth: args.get(2).cloned(),
        nationality: args.get(3).cloned(),
        ..Default::default()
    };
    let t = Instant::now();
    let res = screener.screen(&req, &ScreeningConfig::default());
    eprintln!("screened in {:?}", t.elapsed());
    println!("{}", serde_json::to_string_pretty(&res).expect("json"));
}
