//! Identifier newtypes. Each kind of id is its own type so that a workflow id can never be passed
//! where a session id is expected; all of them parse from and print as hyphenated UUIDs.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Parses a hyphenated or simple UUID; anything else is `None`.
            pub fn parse(text: &str) -> Option<Self> {
                Uuid::parse_str(text.trim()).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A verification session.
    SessionId
);
uuid_id!(
    /// An application: the tenant boundary. Every lookup is scoped by one.
    ApplicationId
);
uuid_id!(
    /// An organization owning applications.
    OrganizationId
);
uuid_id!(
    /// The stable id of a workflow across its versions (`workflow_id`).
    WorkflowId
);
uuid_id!(
    /// One version of a workflow (`uuid` / `settings_uuid`).
    WorkflowVersionId
);
uuid_id!(
    /// An API key record (never the key itself).
    ApiKeyId
);
uuid_id!(
    /// A webhook destination (`uuid` of `/v3/webhook/destinations/`).
    DestinationId
);
uuid_id!(
    /// One event's delivery to one destination, with all its attempts (`webhook_uuid`).
    DeliveryId
);

impl DeliveryId {
    /// A UUIDv7: deliveries are written thousands a second, and keys that grow with time add to
    /// the end of the primary-key index instead of dirtying a random page of it per row.
    pub fn time_ordered() -> Self {
        Self(Uuid::now_v7())
    }
}
uuid_id!(
    /// A console user: a person who signs in with e-mail and password and manages an
    /// organization's applications.
    UserId
);
uuid_id!(
    /// A data-transfer session (`/auth/v2/session/`, seed 004).
    TransferId
);

/// The hosted-flow secret of a session: 12 URL-safe characters (≈71 bits), as Didit issues.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionToken(String);

impl SessionToken {
    pub const LEN: usize = 12;
    const ALPHABET: &'static [u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    pub fn random() -> Self {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        let token = (0..Self::LEN)
            .map(|_| Self::ALPHABET[rng.gen_range(0..Self::ALPHABET.len())] as char)
            .collect();
        Self(token)
    }

    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == Self::LEN && text.bytes().all(|b| Self::ALPHABET.contains(&b)))
            .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = SessionId::random();
        assert_eq!(SessionId::parse(&id.to_string()), Some(id));
        assert_eq!(SessionId::parse("not-a-uuid"), None);
    }

    #[test]
    fn session_tokens_are_url_safe_and_parse_back() {
        let token = SessionToken::random();
        assert_eq!(token.as_str().len(), SessionToken::LEN);
        assert_eq!(SessionToken::parse(token.as_str()), Some(token));
        assert_eq!(SessionToken::parse("short"), None);
        assert_eq!(SessionToken::parse("abc/def+ghi="), None);
    }
}
