//! Identifiers and session tokens as Better Auth generates them: 32 characters of `[a-zA-Z0-9]`
//! drawn uniformly from the operating system's random source.

use rand::{rngs::OsRng, Rng};

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A random string of `len` characters from `[a-zA-Z0-9]`.
pub fn generate_id(len: usize) -> String {
    let mut rng = OsRng;
    (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// A new 32-character row id.
pub fn new_id() -> String {
    generate_id(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_alphanumeric_characters() {
        let id = new_id();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn ids_do_not_repeat() {
        assert_ne!(new_id(), new_id());
    }
}
