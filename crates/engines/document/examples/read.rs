//! Read one document and print the JSON reading: `cargo run --release --example read -- FRONT [BACK]`.

mod common;

use verity_document::{DocumentEngine, ReadOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let front = std::fs::read(args.get(1).ok_or("usage: read FRONT [BACK]")?)?;
    let back = args.get(2).map(std::fs::read).transpose()?;
    // Debug aid: a PNG copy of the input (image viewers here show PNG only).
    if let Some(p) = std::env::var_os("VERITY_DOC_PNG") {
        image::load_from_memory(&front)?.save(std::path::PathBuf::from(p))?;
    }
    let engine = DocumentEngine::load(&common::models_dir())?;
    let t = std::time::Instant::now();
    match engine.read(&front, back.as_deref(), &ReadOptions::default()) {
        Ok(r) => {
            println!("{}", serde_json::to_string_pretty(&r)?);
            if let Some(p) = &r.portrait_jpeg {
                std::fs::write("portrait.jpg", p)?;
                eprintln!("portrait written to portrait.jpg");
            }
        }
        Err(e) => println!("{{\"error\": \"{e}\"}}"),
    }
    eprintln!("{:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    Ok(())
}
