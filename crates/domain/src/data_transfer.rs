//! Data-transfer sessions (seed 004): a person who already holds an Approved verification shares
//! chosen parts of it with another business. This module holds the pure parts: the scope
//! vocabulary, the statuses, the create body, one-time codes, and the extraction of a verified
//! identity's values per scope from the stored session and its results.
//!
//! What leaves the server is decided here: [`IdentityValues::shared`] keeps only the consented
//! scopes, so nothing outside them can reach a decision payload. Which sessions may be shared at
//! all is decided here too: [`TrustedIssuers`] (whose sessions) and [`HAND_CHANGES`] (a session a
//! reviewer changed by hand never speaks for the engines); docs/data-transfer.md states the
//! rules.

use crate::decision::FeatureResult;
use crate::fields::{FieldErrors, ObjectReader};
use crate::ids::{ApplicationId, OrganizationId, SessionId, SessionToken, TransferId};
use crate::review::ActivityType;
use crate::session::Session;
use crate::status::FeatureStatus;
use crate::timestamp::Timestamp;
use crate::workflow::Feature;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::fmt;

/// The organizations whose verified identities a business may receive: always its own, plus the
/// ones the operator lists as trusted issuers (`data_transfer.trusted_issuers`). Another tenant's
/// verdict is not evidence by default: any tenant of a shared server (open registration makes
/// anyone one) controls its sessions' inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrustedIssuers(Vec<OrganizationId>);

impl TrustedIssuers {
    pub fn new(organizations: Vec<OrganizationId>) -> Self {
        Self(organizations)
    }

    /// The organizations whose sessions may be the source of a transfer asked for by a business
    /// of `requester`: its own first, without repeats.
    pub fn sources_for(&self, requester: OrganizationId) -> Vec<OrganizationId> {
        let mut sources = vec![requester];
        for organization in &self.0 {
            if !sources.contains(organization) {
                sources.push(*organization);
            }
        }
        sources
    }
}

/// Reviewer actions after which a session's verdict or data are no longer the engines' alone: a
/// manual status (update-status, an AML hit review that moved the status), a data correction
/// (update-data, update-poa-data) and a node status override. Such a session is never the source
/// of a transfer. A note changes nothing and does not count.
pub const HAND_CHANGES: [ActivityType; 3] = [
    ActivityType::StatusChange,
    ActivityType::DataUpdate,
    ActivityType::FeatureStatusChange,
];

/// What a business may ask for. The wire names are the words of `scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Names,
    Email,
    Phone,
    Birthdate,
    Nationality,
    Address,
    Document,
    Pictures,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::Names,
        Scope::Email,
        Scope::Phone,
        Scope::Birthdate,
        Scope::Nationality,
        Scope::Address,
        Scope::Document,
        Scope::Pictures,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Names => "names",
            Scope::Email => "email",
            Scope::Phone => "phone",
            Scope::Birthdate => "birthdate",
            Scope::Nationality => "nationality",
            Scope::Address => "address",
            Scope::Document => "document",
            Scope::Pictures => "pictures",
        }
    }

    /// The fields a scope shares, in display order (pictures are named by what the identity
    /// holds).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Scope::Names => &NAME_FIELDS,
            Scope::Email => &["email"],
            Scope::Phone => &["phone_number"],
            Scope::Birthdate => &["date_of_birth"],
            Scope::Nationality => &["nationality"],
            Scope::Address => &ADDRESS_FIELDS,
            Scope::Document => &DOCUMENT_FIELDS,
            Scope::Pictures => &[],
        }
    }

    /// The canonical names, plus `picture` and `document_detail`, the spellings Didit's own
    /// demo application sends.
    pub fn parse(word: &str) -> Option<Scope> {
        match word {
            "picture" => Some(Scope::Pictures),
            "document_detail" => Some(Scope::Document),
            _ => Scope::ALL.into_iter().find(|s| s.as_str() == word),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty set of scopes in canonical order, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Space-separated words (any whitespace). Every unknown word is reported.
    pub fn parse(text: &str) -> Result<Scopes, String> {
        let mut scopes = Vec::new();
        let mut unknown = Vec::new();
        for word in text.split_whitespace() {
            match Scope::parse(word) {
                Some(scope) => scopes.push(scope),
                None => unknown.push(format!("\"{word}\"")),
            }
        }
        if !unknown.is_empty() {
            return Err(format!(
                "Unknown scope {}. Valid scopes: {}.",
                unknown.join(", "),
                Scope::ALL.map(Scope::as_str).join(", ")
            ));
        }
        if scopes.is_empty() {
            return Err("This field may not be blank.".into());
        }
        scopes.sort();
        scopes.dedup();
        Ok(Scopes(scopes))
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// `"names email pictures"`: the canonical `scope` string.
    pub fn to_scope_string(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The body of `POST /auth/v2/session/`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTransfer {
    pub scopes: Scopes,
    pub vendor_data: Option<String>,
}

impl NewTransfer {
    pub fn parse(body: &Map<String, Value>) -> Result<NewTransfer, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let scope = reader.required_string("scope", 512);
        let vendor_data = reader.string("vendor_data", 1024);
        let mut errors = reader.finish();
        let scopes = scope.and_then(|text| match Scopes::parse(&text) {
            Ok(scopes) => Some(scopes),
            Err(message) => {
                errors.add("scope", message);
                None
            }
        });
        match scopes {
            Some(scopes) if errors.is_empty() => Ok(NewTransfer {
                scopes,
                vendor_data,
            }),
            _ => Err(errors),
        }
    }
}

/// Where a data-transfer session stands. The wire literals are the ones Didit's demo
/// application polls for (`confirmed`, `declined`, `expired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStatus {
    /// Created; the person has not asked for a code yet.
    Pending,
    /// A code was requested or ownership was proven; no answer yet.
    InProgress,
    /// The person consented: the requested scopes are shared.
    Confirmed,
    /// The person refused: nothing is shared.
    Declined,
    /// No answer before the session's expiry: nothing is shared.
    Expired,
}

impl TransferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Pending => "pending",
            TransferStatus::InProgress => "in_progress",
            TransferStatus::Confirmed => "confirmed",
            TransferStatus::Declined => "declined",
            TransferStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<TransferStatus> {
        [
            TransferStatus::Pending,
            TransferStatus::InProgress,
            TransferStatus::Confirmed,
            TransferStatus::Declined,
            TransferStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Still waiting on the person.
    pub fn is_open(self) -> bool {
        matches!(self, TransferStatus::Pending | TransferStatus::InProgress)
    }
}

/// A stored data-transfer session.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub id: TransferId,
    pub application_id: ApplicationId,
    pub token: SessionToken,
    pub scopes: Scopes,
    pub vendor_data: Option<String>,
    /// As stored; [`Transfer::status_at`] also accounts for expiry.
    pub status: TransferStatus,
    /// Set once the person proved they own this Approved verification (of the requester's
    /// organization or a trusted issuer).
    pub source_session_id: Option<SessionId>,
    pub proven_at: Option<Timestamp>,
    pub decided_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Transfer {
    /// The status as of `now`: an open session past its expiry is `expired`.
    pub fn status_at(&self, now: Timestamp) -> TransferStatus {
        if self.status.is_open() && now >= self.expires_at {
            TransferStatus::Expired
        } else {
            self.status
        }
    }

    /// The link the person opens: `{base}/authorize/{token}`.
    pub fn url(&self, public_base: &str) -> String {
        format!(
            "{}/authorize/{}",
            public_base.trim_end_matches('/'),
            self.token.as_str()
        )
    }
}

/// Six decimal digits, the one-time code of the ownership proof.
pub struct OneTimeCode;

impl OneTimeCode {
    pub const LEN: usize = 6;

    pub fn generate() -> String {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        (0..Self::LEN)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect()
    }

    /// Digits typed with spaces or dashes between groups are accepted; anything else is not a
    /// code.
    pub fn normalize(text: &str) -> Option<String> {
        let digits: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        (digits.len() == Self::LEN && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
    }
}

/// A picture of the verified identity, as stored with its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPicture {
    /// `portrait_image`, `front_image`, …: the media kind, also the name the business fetches it by.
    pub name: String,
    pub object_key: String,
    pub content_type: String,
}

/// The stored media kinds the `pictures` scope shares: the portrait given at creation and the
/// hosted flow's captures of the person and their ID document (not proof-of-address files).
pub const PICTURE_KINDS: [&str; 4] = [
    "portrait_image",
    "selfie",
    "document_front",
    "document_back",
];

/// Whether a stored media kind is a picture of the person or their document.
pub fn is_picture_kind(kind: &str) -> bool {
    PICTURE_KINDS.contains(&kind)
}

/// The values a verified identity holds for each scope, read from an Approved session: its ID
/// document result (`id_verifications`), its e-mail and phone results, then the `contact_details`
/// the business supplied. Only what the engines Approved is taken: the fields of an Approved ID
/// document node, a verified e-mail or phone, and the pictures an Approved node judged. A value
/// the session does not hold is `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityValues {
    values: Vec<(Scope, Map<String, Value>)>,
    pub pictures: Vec<StoredPicture>,
}

const NAME_FIELDS: [&str; 3] = ["first_name", "last_name", "full_name"];
const ADDRESS_FIELDS: [&str; 3] = ["address", "formatted_address", "parsed_address"];
const DOCUMENT_FIELDS: [&str; 7] = [
    "document_type",
    "document_number",
    "personal_number",
    "issuing_state",
    "issuing_state_name",
    "date_of_issue",
    "expiration_date",
];

/// The nodes that judge a picture: it is shared only when one of them was Approved (a portrait
/// the business supplied means nothing until a face match compared it with the person).
fn judged_by(picture: &str) -> &'static [Feature] {
    match picture {
        "document_front" | "document_back" => &[Feature::Ocr],
        "selfie" => &[Feature::Liveness, Feature::FaceMatch],
        "portrait_image" => &[Feature::FaceMatch],
        _ => &[],
    }
}

/// The first Approved result of `feature`.
fn approved(results: &[FeatureResult], feature: Feature) -> Option<&FeatureResult> {
    results
        .iter()
        .find(|r| r.feature == feature && r.status == FeatureStatus::Approved)
}

/// A non-empty string `field` of the first Approved result of `feature`.
fn approved_value(results: &[FeatureResult], feature: Feature, field: &str) -> Option<Value> {
    approved(results, feature)
        .and_then(|r| r.payload.get(field))
        .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        .cloned()
}

impl IdentityValues {
    pub fn from_session(
        session: &Session,
        results: &[FeatureResult],
        pictures: Vec<StoredPicture>,
    ) -> IdentityValues {
        let empty = Map::new();
        let id = approved(results, Feature::Ocr).map_or(&empty, |r| &r.payload);
        let pick = |payload: &Map<String, Value>, fields: &[&str]| -> Map<String, Value> {
            fields
                .iter()
                .map(|f| {
                    let value = payload.get(*f).cloned().unwrap_or(Value::Null);
                    ((*f).to_owned(), value)
                })
                .collect()
        };
        let contact = |field: &str| -> Value {
            session
                .contact_details
                .as_ref()
                .and_then(|c| c.get(field))
                .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let email = match approved_value(results, Feature::EmailVerification, "email") {
            Some(email) => json!({"email": email, "is_verified": true}),
            None => json!({"email": contact("email"), "is_verified": false}),
        };
        let phone = match approved_value(results, Feature::PhoneVerification, "full_number") {
            Some(number) => json!({"phone_number": number, "is_verified": true}),
            None => json!({"phone_number": contact("phone"), "is_verified": false}),
        };
        let object = |value: Value| match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let pictures: Vec<StoredPicture> = pictures
            .into_iter()
            .filter(|p| {
                judged_by(&p.name)
                    .iter()
                    .any(|&feature| approved(results, feature).is_some())
            })
            .collect();
        let pictures_json = pictures
            .iter()
            .map(|p| (p.name.clone(), Value::Bool(true)))
            .collect();
        IdentityValues {
            values: vec![
                (Scope::Names, pick(id, Scope::Names.fields())),
                (Scope::Email, object(email)),
                (Scope::Phone, object(phone)),
                (Scope::Birthdate, pick(id, Scope::Birthdate.fields())),
                (Scope::Nationality, pick(id, Scope::Nationality.fields())),
                (Scope::Address, pick(id, Scope::Address.fields())),
                (Scope::Document, pick(id, Scope::Document.fields())),
                (Scope::Pictures, pictures_json),
            ],
            pictures,
        }
    }

    /// The values of one scope (for pictures: each picture's name mapped to `true`).
    pub fn scope(&self, scope: Scope) -> &Map<String, Value> {
        &self
            .values
            .iter()
            .find(|(s, _)| *s == scope)
            .expect("every scope has an entry")
            .1
    }

    /// The address whose mailbox proves ownership of this identity (lower-cased): the one an
    /// Approved e-mail verification proved, else the `contact_details` address the business
    /// gave. A session with a verified address is never reached through another one.
    pub fn ownership_email(session: &Session, results: &[FeatureResult]) -> Option<String> {
        approved_value(results, Feature::EmailVerification, "email")
            .or_else(|| session.contact_details.as_ref()?.get("email").cloned())
            .and_then(|email| email.as_str().map(str::to_lowercase))
    }

    /// The shared data: one object per consented scope and nothing else. Pictures become
    /// `{name: url}` through `picture_url`, which must point at the requesting business's own
    /// copy.
    pub fn shared(&self, scopes: &Scopes, picture_url: impl Fn(&str) -> String) -> Value {
        let mut data = Map::new();
        for scope in scopes.iter() {
            let value = if scope == Scope::Pictures {
                self.pictures
                    .iter()
                    .map(|p| (p.name.clone(), Value::String(picture_url(&p.name))))
                    .collect()
            } else {
                self.scope(scope).clone()
            };
            data.insert(scope.as_str().to_owned(), Value::Object(value));
        }
        Value::Object(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::SessionStatus;

    #[test]
    fn scopes_parse_in_canonical_order_without_repeats() {
        let scopes = Scopes::parse("pictures names  email names").unwrap();
        assert_eq!(scopes.to_scope_string(), "names email pictures");
        assert_eq!(
            Scopes::parse("picture document_detail")
                .unwrap()
                .to_scope_string(),
            "document pictures"
        );
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
    }

    #[test]
    fn unknown_and_empty_scopes_are_refused() {
        let error = Scopes::parse("names salary Email").unwrap_err();
        assert!(
            error.starts_with("Unknown scope \"salary\", \"Email\"."),
            "{error}"
        );
        assert_eq!(
            Scopes::parse("   ").unwrap_err(),
            "This field may not be blank."
        );
    }

    #[test]
    fn the_create_body_is_checked_field_by_field() {
        let body = |v: Value| v.as_object().unwrap().clone();
        let parsed = NewTransfer::parse(&body(
            json!({"scope": "pictures names email", "vendor_data": "u-1"}),
        ))
        .unwrap();
        assert_eq!(parsed.vendor_data.as_deref(), Some("u-1"));
        let errors = NewTransfer::parse(&body(json!({"vendor_data": 3, "extra": 1}))).unwrap_err();
        let errors = errors.to_json();
        assert_eq!(errors["scope"], json!(["This field is required."]));
        assert!(errors["vendor_data"].is_array() && errors["extra"].is_array());
        let errors = NewTransfer::parse(&body(json!({"scope": "names bogus"}))).unwrap_err();
        assert!(errors.to_json()["scope"][0]
            .as_str()
            .unwrap()
            .contains("\"bogus\""));
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..50 {
            let code = OneTimeCode::generate();
            assert_eq!(OneTimeCode::normalize(&code), Some(code.clone()));
        }
        assert_eq!(OneTimeCode::normalize(" 123 456 "), Some("123456".into()));
        assert_eq!(OneTimeCode::normalize("123-456"), Some("123456".into()));
        assert_eq!(OneTimeCode::normalize("12345"), None);
        assert_eq!(OneTimeCode::normalize("12345a"), None);
        assert_eq!(OneTimeCode::normalize("1234567"), None);
    }

    #[test]
    fn statuses_round_trip() {
        for text in ["pending", "in_progress", "confirmed", "declined", "expired"] {
            assert_eq!(TransferStatus::parse(text).unwrap().as_str(), text);
        }
        assert!(TransferStatus::Pending.is_open() && !TransferStatus::Confirmed.is_open());
    }

    fn session(contact: Option<Value>) -> Session {
        Session {
            status: SessionStatus::Approved,
            contact_details: contact,
            ..crate::decision::tests::session()
        }
    }

    fn result(feature: Feature, status: FeatureStatus, payload: Value) -> FeatureResult {
        FeatureResult {
            node_id: format!("feature_{}", feature.decision_key()),
            feature,
            status,
            payload: payload.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn only_consented_scopes_are_shared() {
        let s = session(Some(
            json!({"email": "Ana@Example.org", "phone": "+34600000000"}),
        ));
        let results = [
            result(
                Feature::Ocr,
                FeatureStatus::Approved,
                json!({"first_name": "Ana", "last_name": "García", "full_name": "Ana García",
                       "date_of_birth": "1990-05-01", "nationality": "ESP", "document_number": "X1",
                       "document_type": "Passport"}),
            ),
            result(Feature::FaceMatch, FeatureStatus::Approved, json!({})),
        ];
        let pictures = vec![StoredPicture {
            name: "portrait_image".into(),
            object_key: "k".into(),
            content_type: "image/jpeg".into(),
        }];
        let identity = IdentityValues::from_session(&s, &results, pictures);
        let scopes = Scopes::parse("names email pictures").unwrap();
        let shared = identity.shared(&scopes, |name| format!("https://x/{name}"));
        assert_eq!(
            shared,
            json!({
                "names": {"first_name": "Ana", "last_name": "García", "full_name": "Ana García"},
                "email": {"email": "Ana@Example.org", "is_verified": false},
                "pictures": {"portrait_image": "https://x/portrait_image"},
            })
        );
        let document = identity.shared(
            &Scopes::parse("document birthdate").unwrap(),
            |_| unreachable!(),
        );
        assert_eq!(
            document["birthdate"],
            json!({"date_of_birth": "1990-05-01"})
        );
        assert_eq!(document["document"]["document_number"], "X1");
        assert_eq!(document["document"]["date_of_issue"], Value::Null);
        assert_eq!(document.as_object().unwrap().len(), 2);
        assert_eq!(
            IdentityValues::ownership_email(&s, &results).as_deref(),
            Some("ana@example.org")
        );
    }

    #[test]
    fn only_what_the_engines_approved_is_taken() {
        let s = session(Some(json!({"email": "ana@example.org"})));
        let picture = |name: &str| StoredPicture {
            name: name.into(),
            object_key: name.into(),
            content_type: "image/jpeg".into(),
        };
        let pictures = ["portrait_image", "selfie", "document_front"].map(picture);
        let results = [
            result(
                Feature::Ocr,
                FeatureStatus::InReview,
                json!({"first_name": "Eve", "document_number": "Z9"}),
            ),
            result(Feature::Liveness, FeatureStatus::Approved, json!({})),
            result(Feature::FaceMatch, FeatureStatus::Declined, json!({})),
            result(
                Feature::EmailVerification,
                FeatureStatus::Declined,
                json!({"email": "eve@example.org"}),
            ),
        ];
        let identity = IdentityValues::from_session(&s, &results, pictures.to_vec());
        let shared = identity.shared(
            &Scopes::parse("names document").unwrap(),
            |_| unreachable!(),
        );
        assert_eq!(shared["names"]["first_name"], Value::Null);
        assert_eq!(shared["document"]["document_number"], Value::Null);
        let names: Vec<&str> = identity.pictures.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["selfie"], "judged by an Approved liveness node");
        assert_eq!(
            IdentityValues::ownership_email(&s, &results).as_deref(),
            Some("ana@example.org"),
            "an unproven address does not replace the contact one"
        );
    }

    #[test]
    fn own_organization_first_then_trusted_issuers() {
        let own = OrganizationId::random();
        let other = OrganizationId::random();
        assert_eq!(TrustedIssuers::default().sources_for(own), [own]);
        let trusted = TrustedIssuers::new(vec![other, own, other]);
        assert_eq!(trusted.sources_for(own), [own, other]);
        let parsed: TrustedIssuers = serde_json::from_value(json!([other.to_string()])).unwrap();
        assert_eq!(parsed.sources_for(own), [own, other]);
    }

    #[test]
    fn verified_email_and_phone_results_win_over_contact_details() {
        let s = session(Some(json!({"email": "old@example.org"})));
        let results = [
            result(
                Feature::EmailVerification,
                FeatureStatus::Approved,
                json!({"email": "new@example.org"}),
            ),
            result(
                Feature::PhoneVerification,
                FeatureStatus::Approved,
                json!({"full_number": "+34611111111"}),
            ),
        ];
        let identity = IdentityValues::from_session(&s, &results, vec![]);
        let shared = identity.shared(&Scopes::parse("email phone").unwrap(), |_| String::new());
        assert_eq!(
            shared,
            json!({"email": {"email": "new@example.org", "is_verified": true},
                   "phone": {"phone_number": "+34611111111", "is_verified": true}})
        );
        assert_eq!(
            IdentityValues::ownership_email(&s, &results).as_deref(),
            Some("new@example.org"),
            "the verified address, not the contact one"
        );
    }
}
