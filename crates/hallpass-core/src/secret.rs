//! The server secret and everything derived from it: signed cookie values (HMAC-SHA256, as
//! Better Auth signs `session_token` and `dont_remember`) and the symmetric encryption Better Auth
//! uses for private keys at rest (XChaCha20-Poly1305 keyed by SHA-256 of the secret).
//! See the reference, sections 4.2 and 4.4.

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit},
    XChaCha20Poly1305, XNonce,
};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The server secret. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret {
    value: String,
    /// HMAC-SHA256 keyed with the value once (its inner and outer pads already hashed): each
    /// signature then costs two compressions fewer than keying it again.
    keyed: HmacSha256,
}

/// Better Auth's own development default; never acceptable in production.
pub const BETTER_AUTH_DEV_DEFAULT: &str = "better-auth-secret-12345678901234567890";

/// The shortest secret production mode accepts.
pub const MIN_PRODUCTION_LENGTH: usize = 32;

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        // HMAC accepts keys of any length, so this cannot fail.
        let keyed = match <HmacSha256 as Mac>::new_from_slice(value.as_bytes()) {
            Ok(m) => m,
            Err(_) => unreachable_hmac(),
        };
        Secret { value, keyed }
    }

    /// The value itself, for the one place that must hand it over (an SMTP URL with its
    /// password, to the mail transport). Never log it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Why the value is too weak for production, if it is.
    pub fn production_weakness(&self) -> Option<String> {
        let distinct = {
            let mut c: Vec<char> = self.value.chars().collect();
            c.sort_unstable();
            c.dedup();
            c.len()
        };
        if self.value.chars().count() < MIN_PRODUCTION_LENGTH {
            Some(format!(
                "it is shorter than {MIN_PRODUCTION_LENGTH} characters"
            ))
        } else if self.value == BETTER_AUTH_DEV_DEFAULT {
            Some("it is Better Auth's published development default".into())
        } else if distinct < 8 {
            Some("it has fewer than 8 distinct characters".into())
        } else {
            None
        }
    }

    /// The raw bytes, for key derivation.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.value.as_bytes()
    }

    /// `base64(HMAC-SHA256(secret, value))`, standard alphabet with padding (44 characters).
    pub fn sign(&self, value: &str) -> String {
        STANDARD.encode(self.mac(value).finalize().into_bytes())
    }

    fn mac(&self, value: &str) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(value.as_bytes());
        mac
    }

    /// `value.signature`, the signed form a cookie carries before URL encoding.
    pub fn signed_value(&self, value: &str) -> String {
        format!("{value}.{}", self.sign(value))
    }

    /// Checks a signed value (`value.signature`, already URL-decoded) and returns the value when
    /// the signature is Better Auth's and matches. The comparison is constant-time.
    pub fn verify_signed<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let (value, sig) = signed.rsplit_once('.')?;
        if sig.len() != 44 || !sig.ends_with('=') {
            return None;
        }
        let sig = STANDARD.decode(sig).ok()?;
        self.mac(value).verify_slice(&sig).ok()?;
        Some(value)
    }

    /// Encrypts as Better Auth's `symmetricEncrypt`: hex(24-byte nonce ‖ ciphertext ‖ tag).
    pub fn encrypt(&self, plaintext: &str) -> String {
        let cipher = self.cipher();
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        // Encryption with a fresh nonce and an in-memory buffer does not fail.
        if let Ok(ct) = cipher.encrypt(&nonce, plaintext.as_bytes()) {
            out.extend_from_slice(&ct);
        }
        hex::encode(out)
    }

    /// Decrypts what [`Secret::encrypt`] or Better Auth's `symmetricEncrypt` wrote, including the
    /// `$ba$<version>$<hex>` envelope used with versioned secrets.
    pub fn decrypt(&self, encoded: &str) -> Option<String> {
        let hex_part = match encoded.strip_prefix("$ba$") {
            Some(rest) => rest.split_once('$')?.1,
            None => encoded,
        };
        let bytes = hex::decode(hex_part).ok()?;
        if bytes.len() < 24 + 16 {
            return None;
        }
        let (nonce, ct) = bytes.split_at(24);
        let plain = self.cipher().decrypt(XNonce::from_slice(nonce), ct).ok()?;
        String::from_utf8(plain).ok()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        let key = Sha256::digest(self.bytes());
        XChaCha20Poly1305::new(&key)
    }

    /// Constant-time comparison with a presented secret (for the internal shared secret).
    pub fn matches(&self, presented: &str) -> bool {
        let a = Sha256::digest(self.bytes());
        let b = Sha256::digest(presented.as_bytes());
        a.ct_eq(&b).into()
    }
}

#[cold]
fn unreachable_hmac() -> ! {
    // `Hmac::new_from_slice` only fails for fixed-size-key MACs; HMAC-SHA256 takes any length.
    std::process::abort()
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn signature_matches_better_auth_vector() {
        let s = Secret::new(SECRET);
        assert_eq!(
            s.sign("PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ"),
            "fJm9S3ZnWRpqoAxC9afcOIaoAvsgDvq42gsOL8w65fU="
        );
        assert_eq!(
            s.sign("true"),
            "1Ue91JS+cwPpyhFiSTriJ9vlBOt6RG78rdQqJ+TjbEk="
        );
    }

    #[test]
    fn signed_values_verify_and_tampered_ones_do_not() {
        let s = Secret::new(SECRET);
        let signed = s.signed_value("PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ");
        assert_eq!(
            s.verify_signed(&signed),
            Some("PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ")
        );
        let tampered = signed.replacen("PgVU", "PgVV", 1);
        assert_eq!(s.verify_signed(&tampered), None);
        assert_eq!(Secret::new("another secret").verify_signed(&signed), None);
        assert_eq!(s.verify_signed("no-signature"), None);
        assert_eq!(s.verify_signed("x.short="), None);
    }

    #[test]
    fn encryption_round_trips_and_needs_the_same_secret() {
        let s = Secret::new(SECRET);
        let enc = s.encrypt("{\"d\":\"private\"}");
        assert_eq!(s.decrypt(&enc).as_deref(), Some("{\"d\":\"private\"}"));
        assert_eq!(Secret::new("other").decrypt(&enc), None);
        assert_eq!(
            s.decrypt(&format!("$ba$1${enc}")).as_deref(),
            Some("{\"d\":\"private\"}")
        );
        assert_eq!(s.decrypt("zz"), None);
    }

    #[test]
    fn debug_output_hides_the_value() {
        assert!(!format!("{:?}", Secret::new(SECRET)).contains("test-secret"));
    }

    #[test]
    fn weak_secrets_are_named_for_production() {
        assert!(Secret::new("short").production_weakness().is_some());
        assert!(Secret::new("a".repeat(40)).production_weakness().is_some());
        assert!(Secret::new(BETTER_AUTH_DEV_DEFAULT)
            .production_weakness()
            .is_some());
        assert!(Secret::new(SECRET).production_weakness().is_none());
    }

    #[test]
    fn internal_secret_comparison_is_exact() {
        let s = Secret::new("shared-internal");
        assert!(s.matches("shared-internal"));
        assert!(!s.matches("shared-internaL"));
        assert!(!s.matches(""));
    }
}
