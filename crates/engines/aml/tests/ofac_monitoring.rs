//! Import-and-monitoring test on the two real OFAC SDN snapshots
//! (2024-04-26 and 2024-05-03). Skipped, saying so, when the data folder
//! is absent.

use std::fs::File;
use std::io::BufReader;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use verity_aml::eval::ofac_data_dir;
use verity_aml::{
    diff_datasets, import_ofac_sdn, screen_indexes, AmlStatus, Dataset, DatasetIndex, ImportReport,
    Schema, Screener, ScreeningConfig, ScreeningRequest,
};

fn load(dir: &std::path::Path, date: &str) -> (Dataset, ImportReport) {
    let f = File::open(dir.join(format!("sdn-{date}.csv"))).expect("open snapshot");
    import_ofac_sdn(BufReader::new(f), "ofac_sdn", date, Some(date))
}

#[test]
fn sdn_update_is_found_by_monitoring() {
    let Some(dir) = ofac_data_dir() else {
        println!("SKIPPED: OFAC SDN folder not found (set VERITY_OFAC_SDN_DIR or provide shared/data/ofac-sdn)");
        return;
    };
    let (old, old_rep) = load(&dir, "2024-04-26");
    let (new, new_rep) = load(&dir, "2024-05-03");
    // Every row is accounted for: imported or reported.
    assert_eq!(old_rep.rows_read, 14_668);
    assert_eq!(new_rep.rows_read, 14_965);
    assert_eq!(
        old_rep.entities_imported + old_rep.errors.len() as u64,
        old_rep.rows_read
    );
    assert_eq!(
        new_rep.entities_imported + new_rep.errors.len() as u64,
        new_rep.rows_read
    );
    assert!(
        new_rep.errors.is_empty(),
        "{:?}",
        &new_rep.errors[..new_rep.errors.len().min(5)]
    );

    let diff = diff_datasets(&old, &new);
    println!(
        "diff {} -> {}: {} added, {} changed, {} removed",
        diff.from_version,
        diff.to_version,
        diff.added.len(),
        diff.changed.len(),
        diff.removed.len()
    );
    assert!(
        diff.added.len() >= 297,
        "the new snapshot has 297 more rows"
    );

    let cfg = ScreeningConfig::default();
    let screener = Screener::new();
    screener.install(DatasetIndex::build(old.clone()));
    let delta = Arc::new(diff.delta_index(&new));
    let new_index = DatasetIndex::build(new.clone());

    // Added people, screened by name, date of birth and nationality as a
    // session would submit them.
    let added_people: Vec<_> = new
        .entities
        .iter()
        .filter(|e| e.schema == Schema::Person && diff.added.contains(&e.id))
        .collect();
    assert!(!added_people.is_empty());
    let request = |e: &verity_aml::Entity| {
        let (last, first) = e.caption.split_once(',').unwrap_or((&e.caption, ""));
        ScreeningRequest {
            full_name: format!("{} {}", first.trim(), last.trim()),
            date_of_birth: e.properties.get("birthDate").first().cloned(),
            nationality: e.properties.get("nationality").first().cloned(),
            ..Default::default()
        }
    };

    let new_arc = Arc::new(new_index);
    let mut clean_then_flagged = None;
    let mut flagged_after = 0;
    for e in &added_people {
        let req = request(e);
        let after = screen_indexes(std::slice::from_ref(&new_arc), &req, &cfg);
        if after.possible_matches().any(|h| h.id == e.id) {
            flagged_after += 1;
        }
        if clean_then_flagged.is_none() {
            let before = screener.screen(&req, &cfg);
            if before.possible_matches().next().is_none()
                && after.possible_matches().any(|h| h.id == e.id)
            {
                clean_then_flagged = Some((*e).clone());
            }
        }
    }
    println!(
        "{flagged_after} of {} added people flagged under 2024-05-03",
        added_people.len()
    );
    assert_eq!(
        flagged_after,
        added_people.len(),
        "every added person must be found by name, DOB and nationality"
    );
    let person = clean_then_flagged.expect("an added person that is clean under the old snapshot");
    let req = request(&person);
    println!("subject {:?} ({})", req.full_name, person.id);

    // Under the first version: clean, and the answer names that version.
    let before = screener.screen(&req, &cfg);
    assert_eq!(before.status, AmlStatus::Approved);
    assert!(before.warnings.is_empty());
    assert_eq!(before.dataset_versions[0].version, "2024-04-26");

    // Monitoring: re-screen against only what changed.
    let monitored = screen_indexes(std::slice::from_ref(&delta), &req, &cfg);
    assert!(monitored.possible_matches().any(|h| h.id == person.id));
    assert!(delta.dataset().entities.len() < 1000, "the delta is small");

    // Atomic swap while screening goes on in another thread: the worker
    // never sees an error or a mixed answer, and moves to the new version.
    let started = Arc::new(AtomicBool::new(false));
    let screener = Arc::new(screener);
    let worker = {
        let (screener, started, req, cfg) =
            (screener.clone(), started.clone(), req.clone(), cfg.clone());
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            let mut versions = Vec::new();
            while std::time::Instant::now() < deadline {
                let r = screener.screen(&req, &cfg);
                started.store(true, Ordering::Relaxed);
                assert_eq!(r.dataset_versions.len(), 1);
                let v = r.dataset_versions[0].version.clone();
                if versions.last() != Some(&v) {
                    versions.push(v.clone());
                }
                if v == "2024-05-03" {
                    break;
                }
            }
            versions
        })
    };
    while !started.load(Ordering::Relaxed) {
        std::thread::yield_now();
    }
    let replaced = screener.install(DatasetIndex::build(new));
    assert_eq!(replaced.expect("old version").meta().version, "2024-04-26");
    let seen = worker.join().expect("worker");
    assert_eq!(seen, ["2024-04-26", "2024-05-03"]);

    let after = screener.screen(&req, &cfg);
    assert_eq!(after.dataset_versions[0].version, "2024-05-03");
    assert_eq!(
        after.status,
        AmlStatus::Declined,
        "a sanctions hit declines by default"
    );
    assert_eq!(after.warnings[0].risk, "POSSIBLE_MATCH_FOUND");
    let new_hits = after.new_possible_matches(&before);
    assert!(new_hits.iter().any(|h| h.id == person.id));
    let hit = new_hits.iter().find(|h| h.id == person.id).expect("hit");
    assert!(hit.match_score >= 93.0);
    assert_eq!(hit.sanction_matches.len(), 1);
    assert_eq!(hit.dataset_version, "2024-05-03");
}

#[test]
fn sdn_remarks_are_parsed() {
    let Some(dir) = ofac_data_dir() else {
        println!("SKIPPED: OFAC SDN folder not found (set VERITY_OFAC_SDN_DIR or provide shared/data/ofac-sdn)");
        return;
    };
    let (ds, _) = load(&dir, "2024-05-03");
    let count = |p: &str| {
        ds.entities
            .iter()
            .filter(|e| !e.properties.get(p).is_empty())
            .count()
    };
    let people = ds
        .entities
        .iter()
        .filter(|e| e.schema == Schema::Person)
        .count();
    println!(
        "people {people}, with birthDate {}, nationality {}, passport {}, alias {}",
        count("birthDate"),
        count("nationality"),
        count("passportNumber"),
        count("alias")
    );
    assert!(people > 6000);
    assert!(count("birthDate") > 5000);
    assert!(count("nationality") > 3000);
    assert!(count("passportNumber") > 1000);
    assert!(count("alias") > 2000);
    let zawahiri = ds
        .entities
        .iter()
        .find(|e| e.id == "ofac-sdn-2676")
        .expect("entity 2676");
    assert_eq!(zawahiri.properties.get("birthDate"), ["1951-06-19"]);
    assert_eq!(
        zawahiri.properties.get("passportNumber"),
        ["1084010", "19820215"]
    );
}
