//! OAuth2 client-credentials access tokens (seeds 000/001): ES256 JWTs signed with a key the
//! server generates once and keeps sealed in its database, published as a JWKS. ES256 rather than
//! RS256 because signing must not be the bottleneck (an RSA-2048 signature costs ~1 ms; P-256 with
//! ring costs tens of microseconds).

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use verity_domain::ids::{ApplicationId, OrganizationId};
use verity_domain::Timestamp;
use verity_store::Application;

/// Name of the sealed signing key in the server state table.
pub const SIGNING_KEY_NAME: &str = "oauth_es256_pkcs8";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub client_id: String,
    pub organization_id: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// Distinguishes client tokens from any other token the server may sign later.
    pub token_use: String,
}

impl Claims {
    pub fn application_id(&self) -> Option<ApplicationId> {
        ApplicationId::parse(&self.sub)
    }
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

    /// The token answer of seed 000: exactly these eight keys.
    pub fn issue(&self, app: &Application) -> anyhow::Result<Value> {
        let now = Timestamp::now().unix_seconds();
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: app.id.to_string(),
            client_id: app.client_id.clone(),
            organization_id: app.organization_id.to_string(),
            iat: now,
            exp: now + self.ttl_seconds,
            jti: uuid::Uuid::new_v4().to_string(),
            token_use: "client".into(),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)?;
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

    /// Claims of a token this server signed that has not expired; `None` otherwise.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&self.issuer]);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        (claims.token_use == "client"
            && claims.application_id().is_some()
            && OrganizationId::parse(&claims.organization_id).is_some())
        .then_some(claims)
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
        let claims = issuer.verify(token).unwrap();
        assert_eq!(claims.application_id(), Some(app.id));
        assert_eq!(
            answer["exp"].as_i64().unwrap() - answer["iat"].as_i64().unwrap(),
            60
        );

        let other =
            TokenIssuer::from_pkcs8(&TokenIssuer::generate_key(), "https://verity.test", 60)
                .unwrap();
        assert!(other.verify(token).is_none(), "signed by another key");
        let mut tampered = token.to_owned();
        tampered.insert(tampered.len() - 3, 'A');
        assert!(issuer.verify(&tampered).is_none());
        let expired =
            TokenIssuer::from_pkcs8(&TokenIssuer::generate_key(), "https://verity.test", -10)
                .unwrap();
        let old = expired.issue(&app).unwrap();
        assert!(expired
            .verify(old["access_token"].as_str().unwrap())
            .is_none());
        assert_eq!(issuer.jwks()["keys"][0]["kty"], "EC");
    }
}
