//! Sealing of secrets the server itself must use again (webhook signing keys): AES-256-GCM under
//! the master key, a fresh random nonce per value, stored as base64(nonce ‖ ciphertext).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use rand::RngCore;

#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl Sealer {
    pub fn new(master_key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(master_key)),
        }
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
}
