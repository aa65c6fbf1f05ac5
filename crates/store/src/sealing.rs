//! Sealing of secrets the server itself must use again (webhook signing keys): AES-256-GCM under
//! the master key, a fresh random nonce per value, stored as base64(nonce ‖ ciphertext). Also
//! keyed digests of short secrets, under a key derived from the master key.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use rand::RngCore;
use ring::hmac;

#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
    digest_key: hmac::Key,
}

/// Label of the keyed-digest key: HMAC-SHA256(master key, label). A separate key per purpose
/// keeps the AES key out of any other use.
const DIGEST_KEY_LABEL: &[u8] = b"verity keyed digest v1";

impl Sealer {
    pub fn new(master_key: &[u8; 32]) -> Self {
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, master_key),
            DIGEST_KEY_LABEL,
        );
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(master_key)),
            digest_key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// Lower-case hex HMAC-SHA256 of `parts` joined by `:`. For secrets too short for a plain
    /// digest (e-mail codes): without the master key, a copy of the database does not let
    /// anyone try all codes offline.
    pub fn keyed_digest(&self, parts: &[&str]) -> String {
        hex::encode(hmac::sign(&self.digest_key, parts.join(":").as_bytes()).as_ref())
    }

    pub fn seal(&self, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    /// Fails when the value was sealed under another master key or was tampered with.
    pub fn open(&self, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(sealed)?;
        anyhow::ensure!(bytes.len() > 12, "sealed value too short");
        let (nonce, ciphertext) = bytes.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| anyhow::anyhow!("sealed value does not open under this master key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper_detection() {
        let sealer = Sealer::new(&[7u8; 32]);
        let sealed = sealer.seal(b"whsec");
        assert_ne!(sealer.seal(b"whsec"), sealed, "nonces must differ");
        assert_eq!(sealer.open(&sealed).unwrap(), b"whsec");
        assert!(Sealer::new(&[8u8; 32]).open(&sealed).is_err());
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&sealed)
            .unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert!(sealer.open(&tampered).is_err());
    }

    #[test]
    fn keyed_digests_depend_on_the_master_key_and_every_part() {
        let sealer = Sealer::new(&[7u8; 32]);
        let digest = sealer.keyed_digest(&["user", "A3K9F2"]);
        assert_eq!(digest.len(), 64);
        assert_eq!(sealer.keyed_digest(&["user", "A3K9F2"]), digest);
        assert_ne!(sealer.keyed_digest(&["user", "A3K9F3"]), digest);
        assert_ne!(sealer.keyed_digest(&["other", "A3K9F2"]), digest);
        assert_ne!(
            Sealer::new(&[8u8; 32]).keyed_digest(&["user", "A3K9F2"]),
            digest
        );
    }
}
