//! `verity aml import FILE --dataset NAME` and `verity aml datasets`: sanctions / PEP data for
//! the AML engine. The importer validates every row (errors printed with their line numbers,
//! never dropped silently), stores the raw file in the media store and records the version in
//! the database; every server process then installs it within `aml.poll_seconds` and runs
//! ongoing monitoring against what changed (see `verity_pipeline::aml`).

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::time::Instant;
use verity_aml::{ImportProgress, ImportReport};
use verity_pipeline::aml::{parse_dataset, DatasetFormat};
use verity_store::{AmlDataset, NewAmlDataset, Store};

pub struct ImportOptions<'a> {
    pub file: &'a Path,
    pub dataset: &'a str,
    pub format: Option<&'a str>,
    pub version: Option<&'a str>,
    /// Publication date of the data (YYYY-MM-DD).
    pub date: Option<&'a str>,
    /// Refuse the file when any row is invalid.
    pub strict: bool,
    /// Draw the progress bar on stderr.
    pub progress: bool,
}

/// What an import recorded.
pub struct Imported {
    pub row: AmlDataset,
    pub report: ImportReport,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A progress bar on stderr, redrawn in place: bytes read of the file and rows so far.
struct ProgressBar {
    total: u64,
    started: Instant,
    enabled: bool,
}

impl ProgressBar {
    fn draw(&self, p: ImportProgress) {
        if !self.enabled {
            return;
        }
        let done = if self.total == 0 {
            1.0
        } else {
            (p.bytes as f64 / self.total as f64).min(1.0)
        };
        let width = 30;
        let filled = (done * width as f64).round() as usize;
        let mut stderr = std::io::stderr().lock();
        let _ = write!(
            stderr,
            "\r  [{}{}] {:>3.0}%  {} rows  {:.1}s",
            "#".repeat(filled),
            " ".repeat(width - filled),
            done * 100.0,
            p.rows,
            self.started.elapsed().as_secs_f64()
        );
        let _ = stderr.flush();
    }

    fn finish(&self) {
        if self.enabled {
            eprintln!();
        }
    }
}

/// Imports one file as a new version of a dataset.
pub async fn import(store: &Store, options: &ImportOptions<'_>) -> anyhow::Result<Imported> {
    if !valid_name(options.dataset) {
        bail!("--dataset must be 1–64 characters of letters, digits, '_', '-' or '.'");
    }
    if let Some(date) = options.date {
        if verity_domain::timestamp::parse_date(date).is_none() {
            bail!("--date must be a YYYY-MM-DD date");
        }
    }
    if let Some(version) = options.version {
        if !valid_name(version) {
            bail!("--version must be 1–64 characters of letters, digits, '_', '-' or '.'");
        }
    }
    let bytes = std::fs::read(options.file)
        .with_context(|| format!("reading {}", options.file.display()))?;
    let format = match options.format {
        Some(text) => DatasetFormat::parse(text)
            .with_context(|| format!("unknown --format {text:?} (ftm or ofac-sdn)"))?,
        None => DatasetFormat::detect(&bytes).context(
            "cannot tell the file's format (FtM JSON lines or OFAC SDN CSV); give --format",
        )?,
    };
    let version = match (options.version, options.date) {
        (Some(version), _) => version.to_owned(),
        (None, Some(date)) => date.to_owned(),
        (None, None) => {
            let now = time::OffsetDateTime::now_utc();
            format!(
                "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute(),
                now.second()
            )
        }
    };
    let digest = hex::encode(Sha256::digest(&bytes));
    if let Some(latest) = store.latest_aml_dataset(options.dataset).await? {
        if latest.source_digest == digest {
            bail!(
                "{} is already the newest version of dataset {:?} (version {:?}); nothing to import",
                options.file.display(),
                options.dataset,
                latest.version
            );
        }
    }
    if options.progress {
        eprintln!(
            "importing {} as {} version {} ({})",
            options.file.display(),
            options.dataset,
            version,
            format.as_str()
        );
    }
    let bar = ProgressBar {
        total: bytes.len() as u64,
        started: Instant::now(),
        enabled: options.progress && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let (bytes, report) = {
        let name = options.dataset.to_owned();
        let version = version.clone();
        let date = options.date.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let (dataset, report) =
                parse_dataset(&bytes, format, &name, &version, date.as_deref(), &mut |p| {
                    bar.draw(p)
                });
            bar.draw(ImportProgress {
                rows: report.rows_read,
                bytes: bytes.len() as u64,
            });
            bar.finish();
            drop(dataset);
            (bytes, report)
        })
        .await
        .context("parsing panicked")?
    };
    for error in &report.errors {
        eprintln!("line {}: {}", error.line, error.message);
    }
    if report.entities_imported == 0 {
        bail!(
            "no entity could be imported from {} ({} rows read, {} errors)",
            options.file.display(),
            report.rows_read,
            report.errors.len()
        );
    }
    if options.strict && !report.errors.is_empty() {
        bail!(
            "{} rows are invalid (listed above); nothing was imported (--strict)",
            report.errors.len()
        );
    }
    let new = NewAmlDataset {
        name: options.dataset.to_owned(),
        version,
        format: format.as_str().to_owned(),
        published_on: options.date.map(str::to_owned),
        entity_count: report.entities_imported as i64,
        error_count: report.errors.len() as i64,
        source_digest: digest,
        size_bytes: bytes.len() as i64,
    };
    let row = store.import_aml_dataset(&new, bytes).await?;
    Ok(Imported { row, report })
}

/// The import's summary for stdout.
pub fn describe(imported: &Imported) -> String {
    let Imported { row, report } = imported;
    let mut out = format!(
        "dataset {} version {} imported ({}): {} rows read, {} entities, {} invalid rows\n",
        row.name,
        row.version,
        row.format,
        report.rows_read,
        report.entities_imported,
        report.errors.len()
    );
    for (what, count) in &report.skipped {
        out.push_str(&format!("  skipped {count} × {what}\n"));
    }
    out.push_str(&format!(
        "  sha256 {}\n  stored as {}\n",
        row.source_digest, row.file_key
    ));
    match &row.previous_version {
        Some(previous) => out.push_str(&format!(
            "  replaces version {previous}: running servers install it within aml.poll_seconds and re-screen monitored sessions against the changes\n"
        )),
        None => out.push_str(
            "  first version of this dataset: running servers install it within aml.poll_seconds\n",
        ),
    }
    out
}

/// `verity aml datasets`.
pub fn describe_datasets(rows: &[AmlDataset]) -> String {
    let mut out = format!(
        "{:<20} {:<22} {:<9} {:>9} {:>6}  {:<10} {:<27} monitoring\n",
        "dataset", "version", "format", "entities", "errors", "published", "imported at"
    );
    for row in rows {
        out.push_str(&format!(
            "{:<20} {:<22} {:<9} {:>9} {:>6}  {:<10} {:<27} {}\n",
            row.name,
            row.version,
            row.format,
            row.entity_count,
            row.error_count,
            row.published_on.as_deref().unwrap_or("-"),
            row.imported_at.to_iso(),
            row.monitoring_state
        ));
    }
    out
}
