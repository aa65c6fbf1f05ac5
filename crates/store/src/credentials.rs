//! Secrets handed to callers. They are random, shown once, and stored only as SHA-256 digests; a
//! presented secret is digested and compared in constant time. Passwords, which people choose,
//! are hashed with argon2id instead.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::num::NonZeroUsize;
use std::sync::OnceLock;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use verity_domain::account::Password;

/// 32 random bytes, URL-safe base64 without padding (43 characters, like Didit's secrets).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A public identifier (OAuth client id): 16 random bytes, 22 characters.
pub fn random_client_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Lower-case hex SHA-256 of a secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time equality of two digests (or any two strings of secret material).
pub fn digests_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// An argon2id PHC string (`$argon2id$v=19$…`) with a fresh random salt and the crate's default
/// (OWASP-recommended) cost.
pub async fn hash_password(password: &Password) -> anyhow::Result<String> {
    let password = password.clone();
    run_argon2(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow::anyhow!("argon2 hashing failed: {error}"))
    })
    .await?
}

/// Checks a password against a stored PHC string (the string's own parameters apply). `None` as
/// the hash still spends the same work on a fixed hash, so an unknown account answers no faster
/// than a wrong password.
pub async fn verify_password(password: &Password, hash: Option<String>) -> anyhow::Result<bool> {
    let password = password.clone();
    run_argon2(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| UNKNOWN_ACCOUNT_HASH.to_owned());
        let parsed = PasswordHash::new(&hash)
            .map_err(|error| anyhow::anyhow!("stored password hash does not parse: {error}"))?;
        let matches = Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await?
}

/// Runs argon2 work on the blocking pool, at most one job per CPU at a time. Each job takes tens
/// of milliseconds and 19 MiB by design; unbounded, a flood of logins would claim as many
/// blocking threads, and as much memory, as there are requests. Waiting callers queue here; the
/// API admits few enough (one per client IP, a few per CPU: `ratelimit::HashingQueue`) that the
/// queue stays short and no one client can fill it.
async fn run_argon2<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    let permits = PERMITS.get_or_init(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(2, NonZeroUsize::get))
    });
    let _permit = permits.acquire().await?;
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// A well-formed argon2id PHC string with the default cost whose salt and hash bytes are random:
/// verifying against it costs what a real check costs, and no known password matches it.
const UNKNOWN_ACCOUNT_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$3kSGDSOkl7DA8CI9AehvSQ$DCSCuVyp1d6EV5aVfeNfYg6M+d5ZLsBBjtxnkxIxYzs";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_digest_stably() {
        let a = random_secret();
        let b = random_secret();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(digests_match(&digest(&a), &digest(&a)));
        assert!(!digests_match(&digest(&a), &digest(&b)));
        assert!(!digests_match("ab", "abc"));
    }

    #[tokio::test]
    async fn passwords_hash_to_salted_argon2id_and_verify() {
        let password = Password::new("Str0ng!pass".into());
        let hash = hash_password(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(!hash.contains("Str0ng!pass"));
        assert_ne!(hash_password(&password).await.unwrap(), hash, "salted");
        assert!(verify_password(&password, Some(hash.clone()))
            .await
            .unwrap());
        let wrong = Password::new("Str0ng!pasS".into());
        assert!(!verify_password(&wrong, Some(hash)).await.unwrap());
        assert!(!verify_password(&password, None).await.unwrap());
        // The stand-in hash has the cost of a real one.
        let real = hash_password(&password).await.unwrap();
        let params = |h: &str| h.split('$').nth(3).unwrap().to_owned();
        assert_eq!(params(UNKNOWN_ACCOUNT_HASH), params(&real));
    }
}
