//! Console accounts (spec §3.1): e-mail addresses, the password rules, e-mail verification codes,
//! the login lockout policy and the editable metadata of an application.

use crate::fields::{FieldErrors, ObjectReader, NOT_A_STRING};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

pub const INVALID_EMAIL: &str = "Enter a valid email address.";
pub const INVALID_URL: &str = "Enter a valid URL.";

/// Tunables of programmatic registration. Defaults are Didit's (spec §3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountPolicy {
    /// How long an e-mailed verification code is valid (10 minutes; one copy of the docs says
    /// 15, spec §10).
    pub code_ttl_seconds: i64,
    /// Minimum time between two codes sent to one address.
    pub resend_cooldown_seconds: i64,
    /// `register` and `resend-otp` calls per client IP per hour, counted together.
    pub requests_per_ip_per_hour: u32,
    /// Login attempts per client IP per hour, whichever accounts they name (password spraying
    /// across accounts; each account also locks on its own).
    pub login_attempts_per_ip_per_hour: u32,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            code_ttl_seconds: 600,
            resend_cooldown_seconds: 60,
            requests_per_ip_per_hour: 5,
            login_attempts_per_ip_per_hour: 60,
        }
    }
}

/// Wrong guesses a code survives; the next one invalidates it and a new code must be requested
/// (with its cooldown), so guessing a 36⁶ code is hopeless. Not in the spec: Verity's addition.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// A syntactically valid e-mail address, lower-cased so that one mailbox is one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain` with a dot-atom local part (the characters RFC 5322 allows
    /// unquoted) and a domain of at least two DNS labels. Stricter than the RFCs on purpose:
    /// quoted local parts and address literals are refused rather than risked at the SMTP relay.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim().to_lowercase();
        let (local, domain) = text.split_once('@').ok_or(INVALID_EMAIL)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && domain.len() <= 253
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok && text.len() <= 254 {
            Ok(Self(text))
        } else {
            Err(INVALID_EMAIL)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as given by the caller. `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MAX_LEN: usize = 128;
    pub const SPECIALS: &'static str = "!@#$%^&*()_+-=[]{}|;:,.<>?";

    pub fn new(text: String) -> Self {
        Self(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Checks Didit's rules in their order and reports the first one broken (spec §3.1).
    /// Only new passwords are checked: a login never re-applies rules that may have changed.
    pub fn check_rules(&self) -> Result<(), &'static str> {
        let text = self.0.as_str();
        let rules = [
            (
                text.chars().count() >= 8,
                "Password must be at least 8 characters long.",
            ),
            (
                text.chars().any(char::is_uppercase),
                "Password must contain at least one uppercase letter.",
            ),
            (
                text.chars().any(char::is_lowercase),
                "Password must contain at least one lowercase letter.",
            ),
            (
                text.chars().any(|c| c.is_ascii_digit()),
                "Password must contain at least one digit.",
            ),
            (
                text.chars().any(|c| Self::SPECIALS.contains(c)),
                "Password must contain at least one special character (!@#$%^&*()_+-=[]{}|;:,.<>?).",
            ),
        ];
        match rules.into_iter().find(|(holds, _)| !holds) {
            Some((_, message)) => Err(message),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// `{email, password}` of register and login.
#[derive(Debug)]
pub struct Credentials {
    pub email: Email,
    pub password: Password,
}

impl Credentials {
    /// A registration: the password must satisfy the rules.
    pub fn for_registration(body: &Map<String, Value>) -> Result<Self, FieldErrors> {
        Self::read(body, true)
    }

    /// A login: the password is taken as given.
    pub fn for_login(body: &Map<String, Value>) -> Result<Self, FieldErrors> {
        Self::read(body, false)
    }

    fn read(body: &Map<String, Value>, check_rules: bool) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let email = read_email(&mut reader);
        let password = reader
            .required_string("password", Password::MAX_LEN)
            .map(Password::new);
        let mut errors = reader.finish();
        if let (true, Some(password)) = (check_rules, &password) {
            if let Err(message) = password.check_rules() {
                errors.add("password", message);
            }
        }
        match (email, password) {
            (Some(email), Some(password)) if errors.is_empty() => Ok(Self { email, password }),
            _ => Err(errors),
        }
    }
}

/// Reads a required e-mail address (resend-otp, verify-email).
pub fn read_email(reader: &mut ObjectReader<'_>) -> Option<Email> {
    let text = reader.required_string("email", 254)?;
    match Email::parse(&text) {
        Ok(email) => Some(email),
        Err(message) => {
            reader.errors.add("email", message);
            None
        }
    }
}

/// The e-mailed verification code: six characters from A–Z and 0–9 (`A3K9F2`).
pub struct VerificationCode;

impl VerificationCode {
    pub const LEN: usize = 6;
    const ALPHABET: &'static [u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    pub fn generate() -> String {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        (0..Self::LEN)
            .map(|_| Self::ALPHABET[rng.gen_range(0..Self::ALPHABET.len())] as char)
            .collect()
    }

    /// The code as typed, trimmed and upper-cased; `None` when it cannot be a code at all.
    pub fn normalize(text: &str) -> Option<String> {
        let code = text.trim().to_ascii_uppercase();
        (code.len() == Self::LEN && code.bytes().all(|b| Self::ALPHABET.contains(&b)))
            .then_some(code)
    }
}

/// Progressive lockout after consecutive failed logins (spec §3.1, repo:skills: 5 → 15 min,
/// 10 → 1 h, 20 → 24 h). UNCERTAIN how Didit counts between the thresholds; Verity locks again
/// after every further failure at the tier reached, so a locked-out guesser gets one try per
/// lock period instead of a fresh batch of five.
pub fn lockout_seconds(consecutive_failures: i64) -> Option<i64> {
    match consecutive_failures {
        n if n >= 20 => Some(24 * 3600),
        n if n >= 10 => Some(3600),
        n if n >= 5 => Some(15 * 60),
        _ => None,
    }
}

/// Name of the organization provisioned for a newly verified account. UNCERTAIN: Didit's
/// naming is not documented; the address is unique and recognisable to its owner.
pub fn organization_name(email: &Email) -> String {
    email.as_str().to_owned()
}

/// Name of an application created without one (spec §3.1).
pub fn default_application_name(organization_name: &str) -> String {
    format!("{organization_name} App")
}

/// What an organization member may edit on an application (spec §3.1); keys and ids are not
/// part of it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ApplicationMetadata {
    pub name: String,
    pub website_url: Option<String>,
    pub redirect_uris: Vec<String>,
    pub terms_url: Option<String>,
    pub privacy_url: Option<String>,
    pub description: Option<String>,
}

impl ApplicationMetadata {
    /// Just a name (applications created by the first start and the CLI).
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// Applies a create (`current` = defaults) or PATCH body; absent keys keep their value,
    /// `null` clears an optional one. Every bad field is reported.
    pub fn apply(current: &Self, body: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let mut next = current.clone();
        if let Some(name) = reader.string("name", 255) {
            if name.trim().is_empty() {
                reader.errors.add("name", "This field may not be blank.");
            } else {
                next.name = name.trim().to_owned();
            }
        }
        for (field, slot) in [
            ("website_url", &mut next.website_url),
            ("terms_url", &mut next.terms_url),
            ("privacy_url", &mut next.privacy_url),
        ] {
            if body.contains_key(field) {
                *slot = read_web_url(&mut reader, field);
            }
        }
        if body.contains_key("description") {
            next.description = reader.string("description", 2000);
        }
        if body.contains_key("redirect_uris") {
            next.redirect_uris = read_redirect_uris(&mut reader);
        }
        reader.finish().into_result(next)
    }
}

fn read_web_url(reader: &mut ObjectReader<'_>, field: &'static str) -> Option<String> {
    let text = reader.string(field, 2000)?;
    let valid = url::Url::parse(&text).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty())
    });
    if !valid {
        reader.errors.add(field, INVALID_URL);
    }
    valid.then_some(text)
}

/// A list of absolute URIs; custom app schemes are allowed, as for session callbacks.
fn read_redirect_uris(reader: &mut ObjectReader<'_>) -> Vec<String> {
    const FIELD: &str = "redirect_uris";
    let Some(value) = reader.value(FIELD) else {
        return Vec::new();
    };
    let Value::Array(items) = value else {
        reader
            .errors
            .add(FIELD, "Expected a list of items but got type \"str\".");
        return Vec::new();
    };
    let mut uris = Vec::new();
    for item in items {
        match item.as_str() {
            Some(text) if crate::session::is_valid_callback(text) => uris.push(text.to_owned()),
            Some(_) => reader.errors.add(FIELD, INVALID_URL),
            None => reader.errors.add(FIELD, NOT_A_STRING),
        }
    }
    uris
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::REQUIRED;
    use serde_json::json;

    #[test]
    fn emails_are_normalised_and_strictly_checked() {
        assert_eq!(
            Email::parse("  Alice.Smith+kyc@Example.COM ")
                .unwrap()
                .as_str(),
            "alice.smith+kyc@example.com"
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "al ice@example.com",
            "alice@exa_mple.com",
            "alice..smith@example.com",
            ".alice@example.com",
            "alice@-example.com",
            "\"quoted\"@example.com",
            "a@b@example.com",
        ] {
            assert_eq!(Email::parse(bad), Err(INVALID_EMAIL), "{bad:?}");
        }
    }

    #[test]
    fn password_rules_apply_in_order_and_report_the_first_failure() {
        let first = |text: &str| Password::new(text.into()).check_rules().err();
        assert!(first("Short1!").unwrap().contains("at least 8 characters"));
        assert!(first("lowercase1!").unwrap().contains("uppercase"));
        assert!(first("UPPERCASE1!").unwrap().contains("lowercase"));
        assert!(first("NoDigits!!").unwrap().contains("digit"));
        assert!(first("NoSpecial12").unwrap().contains(Password::SPECIALS));
        // Too short and everything else missing: the length rule comes first.
        assert!(first("abc").unwrap().contains("at least 8 characters"));
        assert_eq!(first("Str0ng!pass"), None);
        assert_eq!(first("Ünïcödé1;"), None, "Unicode letters count");
        assert_eq!(
            format!("{:?}", Password::new("Str0ng!pass".into())),
            "Password(<redacted>)"
        );
    }

    #[test]
    fn codes_are_six_alphanumerics_and_typed_codes_normalise() {
        let code = VerificationCode::generate();
        assert_eq!(code.len(), 6);
        assert_eq!(VerificationCode::normalize(&code), Some(code.clone()));
        assert_eq!(
            VerificationCode::normalize(" a3k9f2 "),
            Some("A3K9F2".into())
        );
        assert_eq!(VerificationCode::normalize("A3K9F"), None);
        assert_eq!(VerificationCode::normalize("A3K9F2X"), None);
        assert_eq!(VerificationCode::normalize("A3K-F2"), None);
    }

    #[test]
    fn lockout_grows_with_consecutive_failures() {
        assert_eq!(lockout_seconds(4), None);
        assert_eq!(lockout_seconds(5), Some(900));
        assert_eq!(lockout_seconds(9), Some(900));
        assert_eq!(lockout_seconds(10), Some(3600));
        assert_eq!(lockout_seconds(19), Some(3600));
        assert_eq!(lockout_seconds(20), Some(86_400));
    }

    #[test]
    fn credentials_report_every_field_error() {
        let errors = |body: Value| {
            Credentials::for_registration(body.as_object().unwrap())
                .unwrap_err()
                .to_json()
        };
        assert_eq!(
            errors(json!({"email": "nope", "extra": 1})),
            json!({"email": [INVALID_EMAIL], "password": [REQUIRED], "extra": ["Unknown field."]})
        );
        assert_eq!(
            errors(json!({"email": "nope", "password": "weak"})),
            json!({"email": [INVALID_EMAIL], "password": ["Password must be at least 8 characters long."]})
        );
        let body = json!({"email": "A@b.co", "password": "weak"});
        let login = Credentials::for_login(body.as_object().unwrap()).unwrap();
        assert_eq!(login.email.as_str(), "a@b.co");
        assert_eq!(login.password.expose(), "weak");
        assert!(format!("{login:?}").contains("<redacted>"));
    }

    #[test]
    fn application_metadata_merges_patches_and_validates_urls() {
        let current = ApplicationMetadata {
            name: "Acme App".into(),
            website_url: Some("https://acme.example".into()),
            ..ApplicationMetadata::default()
        };
        let body = json!({"description": "KYC for checkout", "redirect_uris": ["myapp://done", "https://acme.example/cb"]});
        let next = ApplicationMetadata::apply(&current, body.as_object().unwrap()).unwrap();
        assert_eq!(next.name, "Acme App");
        assert_eq!(next.website_url.as_deref(), Some("https://acme.example"));
        assert_eq!(next.description.as_deref(), Some("KYC for checkout"));
        assert_eq!(next.redirect_uris.len(), 2);

        let body = json!({"website_url": null});
        let cleared = ApplicationMetadata::apply(&current, body.as_object().unwrap()).unwrap();
        assert_eq!(cleared.website_url, None);

        let body = json!({"name": " ", "terms_url": "ftp://x.example/t", "redirect_uris": ["javascript:alert(1)", 5], "client_id": "x"});
        let errors = ApplicationMetadata::apply(&current, body.as_object().unwrap())
            .unwrap_err()
            .to_json();
        assert_eq!(
            errors,
            json!({
                "name": ["This field may not be blank."],
                "terms_url": [INVALID_URL],
                "redirect_uris": [INVALID_URL, NOT_A_STRING],
                "client_id": ["Unknown field."],
            })
        );
    }
}
