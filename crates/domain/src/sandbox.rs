//! Sandbox scenarios (spec §9.4): the catalog `GET /v1/sandbox/scenarios/` serves, how a
//! session's scenario is chosen, and which workflow steps a scenario needs.
//!
//! A sandbox session's outcome comes, in this order, from:
//! 1. the scenario armed on it (`sandbox_scenario` on create, or `POST …/sandbox/arm/`);
//! 2. a magic value: `contact_details.email` tagged `+<slug>@` (`ana+decline_aml_hit@example.org`),
//!    or `contact_details.phone` equal to the scenario's magic number (`+1555000` followed by
//!    the scenario's four-digit index: `+15550000000` is `approve`);
//! 3. otherwise `approve`.
//!
//! A scenario only describes what the mocked engines *observe* (an expired document, a low
//! face-match score, an AML hit…). The outcome then comes from the same rules and cross-checks
//! as a live session, so the statuses listed here hold under the default workflow config; a
//! workflow that configures an action differently changes them as it would in live.
//!
//! A scenario needs its step in the workflow (`decline_aml_hit` needs an AML step); creating or
//! arming it on a workflow without one is refused with 400. `decline_kyb_registry_mismatch`
//! needs a KYB registry step, and business (KYB) workflows are not supported by this server, so
//! it is listed but always refused (UNCERTAIN: Didit runs it on KYB sessions).

use crate::status::SessionStatus;
use crate::workflow::Feature;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    pub slug: &'static str,
    pub description: &'static str,
    /// The session status under the default workflow configuration.
    pub outcome: SessionStatus,
    /// The workflow must have at least one of these steps.
    pub needs: &'static [Feature],
    /// The risk codes the scenario raises (under the default config).
    pub risks: &'static [&'static str],
}

use Feature::*;
use SessionStatus::{Approved, Declined, InReview};

pub const SCENARIOS: [Scenario; 16] = [
    Scenario { slug: "approve", description: "Every step passes with a consistent identity.", outcome: Approved, needs: &[], risks: &[] },
    Scenario { slug: "decline_document_expired", description: "The identity document expired last year.", outcome: Declined, needs: &[Ocr], risks: &["DOCUMENT_EXPIRED"] },
    Scenario { slug: "decline_could_not_recognize_document", description: "The document type cannot be recognised.", outcome: Declined, needs: &[Ocr], risks: &["COULD_NOT_DETECT_DOCUMENT_TYPE"] },
    Scenario { slug: "decline_mrz_validation", description: "The MRZ's check digits do not validate.", outcome: Declined, needs: &[Ocr], risks: &["MRZ_VALIDATION_FAILED"] },
    Scenario { slug: "decline_minimum_age", description: "The person is 16: below the minimum age.", outcome: Declined, needs: &[Ocr, AgeEstimation], risks: &["MINIMUM_AGE_NOT_MET", "AGE_BELOW_MINIMUM"] },
    Scenario { slug: "decline_face_match_low_similarity", description: "The selfie does not match the document portrait (score 18).", outcome: Declined, needs: &[FaceMatch], risks: &["LOW_FACE_MATCH_SIMILARITY"] },
    Scenario { slug: "decline_liveness_attack", description: "The selfie is a presentation attack (screen replay).", outcome: Declined, needs: &[Liveness], risks: &["LIVENESS_FACE_ATTACK"] },
    Scenario { slug: "decline_aml_hit", description: "The person is on a sanctions list (risk score 100).", outcome: Declined, needs: &[Aml], risks: &["POSSIBLE_MATCH_FOUND"] },
    Scenario { slug: "decline_ip_blocklist", description: "The connection's IP address is blocklisted.", outcome: Declined, needs: &[IpAnalysis], risks: &["IP_ADDRESS_IN_BLOCKLIST"] },
    Scenario { slug: "decline_poa_address_mismatch", description: "The proof of address shows another address.", outcome: Declined, needs: &[ProofOfAddress], risks: &["ADDRESS_MISMATCH_WITH_PROVIDED"] },
    Scenario { slug: "decline_nfc_chip_not_verified", description: "The document chip's signatures do not verify.", outcome: Declined, needs: &[Nfc], risks: &["NFC_CHIP_NOT_VERIFIED"] },
    Scenario { slug: "decline_database_no_match", description: "The government registry does not know the person.", outcome: Declined, needs: &[DatabaseValidation], risks: &["DATABASE_VALIDATION_NO_MATCH"] },
    Scenario { slug: "review_aml_possible_match", description: "A possible PEP match (risk score 88) needs a reviewer.", outcome: InReview, needs: &[Aml], risks: &["POSSIBLE_MATCH_FOUND"] },
    Scenario { slug: "review_face_match_borderline", description: "Face-match similarity of 52: between the thresholds.", outcome: InReview, needs: &[FaceMatch], risks: &["LOW_FACE_MATCH_SIMILARITY"] },
    Scenario { slug: "review_poa_partial_match", description: "The name on the proof of address only partly matches.", outcome: InReview, needs: &[ProofOfAddress], risks: &["NAME_MISMATCH_WITH_PROVIDED", "NAME_MISMATCH_ID_VERIFICATION"] },
    Scenario { slug: "decline_kyb_registry_mismatch", description: "The company registry disagrees with the submitted company data (KYB sessions only; not supported by this server).", outcome: Declined, needs: &[KybRegistry], risks: &["KYB_REGISTRY_MISMATCH"] },
];

/// The OTP codes sandbox phone and e-mail steps accept and refuse.
pub const SAMPLE_OTP_VALID: &str = "123456";
pub const SAMPLE_OTP_INVALID: &str = "000000";

pub fn scenario(slug: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.slug == slug)
}

impl Scenario {
    fn index(&self) -> usize {
        SCENARIOS
            .iter()
            .position(|s| s.slug == self.slug)
            .unwrap_or(0)
    }

    pub fn magic_phone(&self) -> String {
        format!("+1555000{:04}", self.index())
    }

    pub fn magic_email(&self) -> String {
        format!("user+{}@sandbox.example", self.slug)
    }

    /// Whether a workflow with these steps can play the scenario; the refusal says why.
    pub fn check_workflow(&self, features: &[Feature]) -> Result<(), String> {
        if self.needs.is_empty() || self.needs.iter().any(|f| features.contains(f)) {
            return Ok(());
        }
        if self.needs.contains(&KybRegistry) {
            return Err(format!(
                "Scenario \"{}\" needs a KYB registry step; business (KYB) sessions are not supported by this server.",
                self.slug
            ));
        }
        let names: Vec<&str> = self.needs.iter().map(|f| f.as_str()).collect();
        Err(format!(
            "Scenario \"{}\" needs a workflow with a {} step.",
            self.slug,
            names.join(" or ")
        ))
    }

    pub fn to_json(&self) -> Value {
        json!({
            "slug": self.slug,
            "description": self.description,
            "expected_status": self.outcome,
            "required_features": self.needs.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            "warnings": self.risks,
            "magic_values": {
                "contact_details.email": self.magic_email(),
                "contact_details.phone": self.magic_phone(),
            },
        })
    }
}

/// The scenario a sandbox session plays (see the module docs for the order).
pub fn choose(armed: Option<&str>, contact_details: Option<&Value>) -> &'static Scenario {
    if let Some(found) = armed.and_then(scenario) {
        return found;
    }
    let contact = |key: &str| {
        contact_details
            .and_then(|c| c.get(key))
            .and_then(Value::as_str)
    };
    if let Some(tag) = contact("email")
        .and_then(|email| email.split_once('@'))
        .and_then(|(local, _)| local.split_once('+'))
        .map(|(_, tag)| tag)
    {
        if let Some(found) = scenario(tag) {
            return found;
        }
    }
    if let Some(phone) = contact("phone") {
        if let Some(found) = SCENARIOS.iter().find(|s| s.magic_phone() == phone) {
            return found;
        }
    }
    &SCENARIOS[0]
}

/// `GET /v1/sandbox/scenarios/`.
pub fn catalog_json() -> Value {
    json!({
        "scenarios": SCENARIOS.iter().map(Scenario::to_json).collect::<Vec<_>>(),
        "default_scenario": "approve",
        "selection": [
            "sandbox_scenario on POST /v3/session/, or POST /v3/session/{session_id}/sandbox/arm/ {\"scenario\": slug} while the session is Not Started",
            "contact_details.email tagged +<slug>@ (e.g. user+decline_aml_hit@sandbox.example)",
            "contact_details.phone equal to the scenario's magic number",
            "otherwise: approve"
        ],
        "sample_otp_codes": {
            "valid": SAMPLE_OTP_VALID,
            "invalid": SAMPLE_OTP_INVALID,
        },
        "sample_documents": {
            "note": "Outcomes never come from pixels: any small JPEG or PNG is accepted as a capture and stored; the scenario decides what the mocked engines observe."
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_distinct_slugs_matching_the_session_parser() {
        let slugs: std::collections::HashSet<_> = SCENARIOS.iter().map(|s| s.slug).collect();
        assert_eq!(slugs.len(), 16);
        for slug in crate::session::SANDBOX_SCENARIOS {
            assert!(slugs.contains(slug), "{slug}");
        }
    }

    #[test]
    fn choice_order_armed_then_email_then_phone_then_approve() {
        let contact = json!({"email": "a+decline_aml_hit@x.org", "phone": "+15550000005"});
        assert_eq!(
            choose(Some("decline_mrz_validation"), Some(&contact)).slug,
            "decline_mrz_validation"
        );
        assert_eq!(choose(None, Some(&contact)).slug, "decline_aml_hit");
        let phone_only = json!({"phone": "+15550000005"});
        assert_eq!(choose(None, Some(&phone_only)).slug, SCENARIOS[5].slug);
        assert_eq!(
            choose(None, Some(&json!({"email": "a+nothing@x.org"}))).slug,
            "approve"
        );
        assert_eq!(choose(None, None).slug, "approve");
    }

    #[test]
    fn scenarios_need_their_step() {
        let aml = scenario("decline_aml_hit").unwrap();
        assert!(aml.check_workflow(&[Ocr, Aml]).is_ok());
        assert!(aml.check_workflow(&[Ocr]).unwrap_err().contains("AML"));
        assert!(scenario("approve").unwrap().check_workflow(&[]).is_ok());
        assert!(scenario("decline_kyb_registry_mismatch")
            .unwrap()
            .check_workflow(&Feature::ALL[..13])
            .is_err());
    }
}
