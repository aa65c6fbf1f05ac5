//! The server's JWTs: OAuth2 client-credentials access tokens (seeds 000/001) and console user
//! tokens (spec §3.1). ES256, signed with a key the server generates once and keeps sealed in its
//! database, published as a JWKS. ES256 rather than RS256 because signing must not be the
//! bottleneck (an RSA-2048 signature costs ~1 ms; P-256 with ring costs tens of microseconds).
//!
//! Every token carries `token_use`, and verification demands one kind: a client token never
//! passes where a console user is expected, nor a user or refresh token where an application is.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use verity_domain::ids::{ApplicationId, OrganizationId, UserId};
use verity_domain::Timestamp;
use verity_store::Application;

/// Name of the sealed signing key in the server state table.
pub const SIGNING_KEY_NAME: &str = "oauth_es256_pkcs8";

/// What a token is for; verification names the one kind it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenUse {
    /// OAuth client-credentials token: acts as one application (v1 API). `sub` is the
    /// application id.
    Client,
    /// Console user access token: manages the user's organization (`/auth/v2/organizations/…`).
    /// `sub` is the user id.
    User,
    /// Console user refresh token: never accepted as an access token.
    Refresh,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    /// Client tokens only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub organization_id: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub token_use: TokenUse,
}

impl Claims {
    pub fn application_id(&self) -> Option<ApplicationId> {
        ApplicationId::parse(&self.sub)
    }

    pub fn user_id(&self) -> Option<UserId> {
        UserId::parse(&self.sub)
    }

    fn subject_parses(&self) -> bool {
        let subject = match self.token_use {
            TokenUse::Client => self.application_id().is_some() && self.client_id.is_some(),
            TokenUse::User | TokenUse::Refresh => self.user_id().is_some(),
        };
        subject && OrganizationId::parse(&self.organization_id).is_some()
    }
}

/// Lifetime of console refresh tokens. UNCERTAIN: Didit's is not documented.
pub const REFRESH_TTL_SECONDS: i64 = 30 * 86_400;

/// The console tokens of a login or verification (spec §3.1).
#[derive(Debug, Clone)]
pub struct UserTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    jwk: Value,
    issuer: String,
    ttl_seconds: i64,
}

impl TokenIssuer {
    /// A fresh P-256 key in PKCS#8 DER.
    pub fn generate_key() -> Vec<u8> {
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("P-256 key generation")
            .as_ref()
            .to_vec()
    }

    pub fn from_pkcs8(der: &[u8], issuer: &str, ttl_seconds: i64) -> anyhow::Result<Self> {
        let pair = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            der,
            &SystemRandom::new(),
        )
        .map_err(|_| anyhow::anyhow!("stored token signing key is not a P-256 PKCS#8 key"))?;
        // Uncompressed point: 0x04 ‖ x ‖ y.
        let public = pair.public_key().as_ref();
        anyhow::ensure!(public.len() == 65, "unexpected public key length");
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let (x, y) = (b64(&public[1..33]), b64(&public[33..]));
        let kid = hex::encode(&Sha256::digest(public)[..8]);
        Ok(Self {
            encoding: EncodingKey::from_ec_der(der),
            decoding: DecodingKey::from_ec_components(&x, &y)?,
            jwk: json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig"}),
            kid,
            issuer: issuer.to_owned(),
            ttl_seconds,
        })
    }

    pub fn jwks(&self) -> Value {
        json!({"keys": [self.jwk]})
    }

    fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    fn claims(
        &self,
        kind: TokenUse,
        sub: String,
        organization_id: OrganizationId,
        ttl: i64,
    ) -> Claims {
        let now = Timestamp::now().unix_seconds();
        Claims {
            iss: self.issuer.clone(),
            sub,
            client_id: None,
            organization_id: organization_id.to_string(),
            iat: now,
            exp: now + ttl,
            jti: uuid::Uuid::new_v4().to_string(),
            token_use: kind,
        }
    }

    /// The token answer of seed 000: exactly these eight keys.
    pub fn issue(&self, app: &Application) -> anyhow::Result<Value> {
        let claims = Claims {
            client_id: Some(app.client_id.clone()),
            ..self.claims(
                TokenUse::Client,
                app.id.to_string(),
                app.organization_id,
                self.ttl_seconds,
            )
        };
        let token = self.sign(&claims)?;
        Ok(json!({
            "iss": claims.iss,
            "iat": claims.iat,
            "sub": claims.sub,
            "client_id": claims.client_id,
            "organization_id": claims.organization_id,
            "expires_in": self.ttl_seconds,
            "exp": claims.exp,
            "access_token": token,
        }))
    }

    /// An access and a refresh token for a console user of an organization.
    pub fn issue_user(
        &self,
        user_id: UserId,
        organization_id: OrganizationId,
    ) -> anyhow::Result<UserTokens> {
        let sub = user_id.to_string();
        let access = self.claims(
            TokenUse::User,
            sub.clone(),
            organization_id,
            self.ttl_seconds,
        );
        let refresh = self.claims(TokenUse::Refresh, sub, organization_id, REFRESH_TTL_SECONDS);
        Ok(UserTokens {
            access_token: self.sign(&access)?,
            refresh_token: self.sign(&refresh)?,
            expires_in: self.ttl_seconds,
        })
    }

    /// Claims of an unexpired token of the given kind that this server signed; `None` otherwise.
    pub fn verify(&self, token: &str, kind: TokenUse) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&self.issuer]);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        (claims.token_use == kind && claims.subject_parses()).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_domain::session::Environment;

    fn app() -> Application {
        Application {
            id: ApplicationId::random(),
            organization_id: OrganizationId::random(),
            name: "test".into(),
            environment: Environment::Live,
            client_id: "client".into(),
        }
    }

    #[test]
    fn issued_tokens_verify_and_forgeries_do_not() {
        let issuer =
            TokenIssuer::from_pkcs8(&TokenIssuer::generate_key(), "https://verity.test", 60)
                .unwrap();
        let app = app();
        let answer = issuer.issue(&app).unwrap();
        let keys: Vec<_> = answer.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 8);
        let token = answer["access_token"].as_str().unwrap();
        let claims = issuer.verify(token, TokenUse::Client).unwrap();
        assert_eq!(claims.application_id(), Some(app.id));
        assert_eq!(
            answer["exp"].as_i64().unwrap() - answer["iat"].as_i64().unwrap(),
            60
        );

        let other =
            TokenIssuer::from_pkcs8(&TokenIssuer::generate_key(), "https://verity.test", 60)
                .unwrap();
        assert!(
            other.verify(token, TokenUse::Client).is_none(),
            "signed by another key"
        );
        let mut tampered = token.to_owned();
        tampered.insert(tampered.len() - 3, 'A');
        assert!(issuer.verify(&tampered, TokenUse::Client).is_none());
        let expired =
            TokenIssuer::from_pkcs8(&TokenIssuer::generate_key(), "https://verity.test", -10)
                .unwrap();
        let old = expired.issue(&app).unwrap();
        assert!(expired
            .verify(old["access_token"].as_str().unwrap(), TokenUse::Client)
            .is_none());
        assert_eq!(issuer.jwks()["keys"][0]["kty"], "EC");
    }

    #[test]
    fn each_kind_of_token_verifies_only_as_itself() {
        let issuer =
            TokenIssuer::from_pkcs8(&TokenIssuer::generate_key(), "https://verity.test", 60)
                .unwrap();
        let client = issuer.issue(&app()).unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let user_id = UserId::random();
        let organization_id = OrganizationId::random();
        let user = issuer.issue_user(user_id, organization_id).unwrap();
        assert_eq!(user.expires_in, 60);
        let claims = issuer.verify(&user.access_token, TokenUse::User).unwrap();
        assert_eq!(claims.user_id(), Some(user_id));
        assert_eq!(claims.organization_id, organization_id.to_string());
        assert!(claims.client_id.is_none());
        assert!(issuer
            .verify(&user.refresh_token, TokenUse::Refresh)
            .is_some());
        for (token, wrong) in [
            (&client, TokenUse::User),
            (&client, TokenUse::Refresh),
            (&user.access_token, TokenUse::Client),
            (&user.access_token, TokenUse::Refresh),
            (&user.refresh_token, TokenUse::User),
            (&user.refresh_token, TokenUse::Client),
        ] {
            assert!(issuer.verify(token, wrong).is_none(), "{wrong:?}");
        }
    }
}
