//! hallpass-scrypt against RFC 7914's test vectors and the RustCrypto `scrypt` crate.

// Test code: failing loudly is the job (the helpers below are not #[test] functions).
#![allow(clippy::unwrap_used)]

use hallpass_scrypt::{scrypt, Error};
use rand::{Rng, RngCore, SeedableRng};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

fn ours(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    scrypt(password, salt, log_n, r, p, &mut out).unwrap();
    out
}

fn rustcrypto(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32, len: usize) -> Vec<u8> {
    // Params::new only uses its length for the PHC string API; 64 is always accepted.
    let params = scrypt::Params::new(log_n, r, p, 64).unwrap();
    let mut out = vec![0u8; len];
    scrypt::scrypt(password, salt, &params, &mut out).unwrap();
    out
}

// RFC 7914 section 12.
#[test]
fn rfc7914_vector_1_n16_r1_p1() {
    assert_eq!(
        ours(b"", b"", 4, 1, 1, 64),
        unhex(
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442
             fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
        )
    );
}

#[test]
fn rfc7914_vector_2_n1024_r8_p16() {
    assert_eq!(
        ours(b"password", b"NaCl", 10, 8, 16, 64),
        unhex(
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162
             2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        )
    );
}

#[test]
fn rfc7914_vector_3_n16384_r8_p1() {
    assert_eq!(
        ours(b"pleaseletmein", b"SodiumChloride", 14, 8, 1, 64),
        unhex(
            "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2
             d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"
        )
    );
}

/// N = 2^20 needs 1 GiB; run with `cargo test -p hallpass-scrypt --release -- --ignored`.
#[test]
#[ignore]
fn rfc7914_vector_4_n1048576_r8_p1() {
    assert_eq!(
        ours(b"pleaseletmein", b"SodiumChloride", 20, 8, 1, 64),
        unhex(
            "2101cb9b6a511aaeaddbbe09cf70f881ec568d574a2ffd4dabe5ee9820adaa47
             8e56fd8f4ba5d09ffa1c6d927c40f4c337304049e8a952fbcbf45c6fa77a41a4"
        )
    );
}

#[test]
fn same_as_rustcrypto_on_random_inputs_and_parameters() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5c_2b_7e);
    for case in 0..300 {
        let mut password = vec![0u8; rng.gen_range(0..=80)];
        rng.fill_bytes(&mut password);
        let mut salt = vec![0u8; rng.gen_range(0..=64)];
        rng.fill_bytes(&mut salt);
        let r = rng.gen_range(1..=16u32);
        let log_n = rng.gen_range(1..=10u8);
        let p = rng.gen_range(1..=3u32);
        let len = match case % 4 {
            0 => 64,
            1 => 32,
            2 => rng.gen_range(1..=16),
            _ => rng.gen_range(65..=200),
        };
        assert_eq!(
            ours(&password, &salt, log_n, r, p, len),
            rustcrypto(&password, &salt, log_n, r, p, len),
            "case {case}: log_n={log_n} r={r} p={p} len={len}"
        );
    }
}

#[test]
fn same_as_rustcrypto_with_better_auths_parameters() {
    // Better Auth: N = 16384, r = 16, p = 1, 64 bytes; the salt is a hex string's ASCII bytes.
    let inputs: [(&str, &str); 3] = [
        ("password123", "0123456789abcdef0123456789abcdef"),
        (
            "correct horse battery staple",
            "9f86d081884c7d659a2feaa0c55ad015",
        ),
        ("", "00000000000000000000000000000000"),
    ];
    for (password, salt) in inputs {
        let got = ours(password.as_bytes(), salt.as_bytes(), 14, 16, 1, 64);
        assert_eq!(
            got,
            rustcrypto(password.as_bytes(), salt.as_bytes(), 14, 16, 1, 64)
        );
    }
    // Better Auth's own test vector (also in hallpass-core).
    assert_eq!(
        hex::encode(ours(
            b"password123",
            b"0123456789abcdef0123456789abcdef",
            14,
            16,
            1,
            64
        )),
        "e8b256b6f9f4b1641136a66d4a26ba41a47b6c8c9bad6aa4145559ffda45ece1\
         f0f16dec8482a3e5545feada0ba62f2b05eeb943b750c9396874e1762c78d27d"
    );
}

#[test]
fn invalid_parameters_are_errors_not_panics() {
    let mut out = [0u8; 64];
    let bad: [(u8, u32, u32); 9] = [
        (0, 1, 1),             // N = 1
        (64, 8, 1),            // N = 2^64
        (255, 8, 1),           //
        (16, 1, 1),            // N must be < 2^(16 r)
        (4, 0, 1),             // r = 0
        (4, 1, 0),             // p = 0
        (4, 1 << 15, 1 << 15), // r * p = 2^30
        (4, 1, 1 << 30),       // r * p = 2^30
        (60, 1 << 20, 1),      // 128 * r * N overflows
    ];
    for (log_n, r, p) in bad {
        assert_eq!(
            scrypt(b"pw", b"salt", log_n, r, p, &mut out),
            Err(Error::InvalidParams),
            "log_n={log_n} r={r} p={p}"
        );
    }
    assert_eq!(
        scrypt(b"pw", b"salt", 4, 1, 1, &mut []),
        Err(Error::InvalidOutputLen)
    );
    // Largest N for r = 1 is 2^15; a 1-byte output is allowed.
    let mut one = [0u8; 1];
    assert_eq!(scrypt(b"pw", b"salt", 15, 1, 1, &mut one), Ok(()));
    assert_eq!(one.to_vec(), rustcrypto(b"pw", b"salt", 15, 1, 1, 1));
}

#[test]
fn errors_display() {
    assert_eq!(
        Error::InvalidParams.to_string(),
        "invalid scrypt parameters"
    );
    let e: Box<dyn std::error::Error> = Box::new(Error::OutOfMemory);
    assert!(!e.to_string().is_empty());
}
