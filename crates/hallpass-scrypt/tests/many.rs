//! `scrypt_many` (several hashes interleaved on one thread) against `scrypt` and the RustCrypto
//! `scrypt` crate. `cargo test -p hallpass-scrypt --features force-portable` runs the same tests on
//! the portable (non-SSE2) batch code.

// Test code: failing loudly is the job (the helpers below are not #[test] functions).
#![allow(clippy::unwrap_used)]

use hallpass_scrypt::{scrypt, scrypt_many, Error, Job, Scratch, MAX_INTERLEAVED};
use rand::{Rng, RngCore, SeedableRng};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

fn rustcrypto(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32, len: usize) -> Vec<u8> {
    let params = scrypt::Params::new(log_n, r, p, 64).unwrap();
    let mut out = vec![0u8; len];
    scrypt::scrypt(password, salt, &params, &mut out).unwrap();
    out
}

fn ours(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    scrypt(password, salt, log_n, r, p, &mut out).unwrap();
    out
}

/// One input of a batch: password, salt, output length.
type Input = (Vec<u8>, Vec<u8>, usize);

/// The keys `scrypt_many` derives for `inputs`, through `scratch`.
fn many(scratch: &mut Scratch, inputs: &[Input], log_n: u8, r: u32, p: u32) -> Vec<Vec<u8>> {
    let mut outs: Vec<Vec<u8>> = inputs.iter().map(|(_, _, len)| vec![0u8; *len]).collect();
    let mut jobs: Vec<Job<'_>> = inputs
        .iter()
        .zip(outs.iter_mut())
        .map(|((pw, salt, _), out)| Job::new(pw, salt, out))
        .collect();
    scrypt_many(scratch, &mut jobs, log_n, r, p).unwrap();
    outs
}

const V1: &str = "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442
                  fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906";
const V2: &str = "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162
                  2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640";
const V3: &str = "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2
                  d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887";

#[test]
fn rfc7914_vectors_in_batches() {
    let mut s = Scratch::new();
    // Vector 1 (N = 16, r = 1, p = 1) three times with a different neighbour in between.
    let inputs: Vec<Input> = vec![
        (b"".to_vec(), b"".to_vec(), 64),
        (b"other".to_vec(), b"salt".to_vec(), 64),
        (b"".to_vec(), b"".to_vec(), 64),
    ];
    let got = many(&mut s, &inputs, 4, 1, 1);
    assert_eq!(got[0], unhex(V1));
    assert_eq!(got[2], unhex(V1));
    assert_eq!(got[1], ours(b"other", b"salt", 4, 1, 1, 64));
    // Vector 2 (N = 1024, r = 8, p = 16) beside another p = 16 input.
    let inputs: Vec<Input> = vec![
        (b"password".to_vec(), b"NaCl".to_vec(), 64),
        (b"drowssap".to_vec(), b"lCaN".to_vec(), 40),
    ];
    let got = many(&mut s, &inputs, 10, 8, 16);
    assert_eq!(got[0], unhex(V2));
    assert_eq!(got[1], rustcrypto(b"drowssap", b"lCaN", 10, 8, 16, 40));
    // Vector 3 (N = 16384, r = 8, p = 1), alone and in every position of a batch.
    for k in 1..=MAX_INTERLEAVED {
        for at in 0..k {
            let inputs: Vec<Input> = (0..k)
                .map(|i| {
                    if i == at {
                        (b"pleaseletmein".to_vec(), b"SodiumChloride".to_vec(), 64)
                    } else {
                        (vec![i as u8; i], b"SodiumChloride".to_vec(), 64)
                    }
                })
                .collect();
            let got = many(&mut s, &inputs, 14, 8, 1);
            assert_eq!(got[at], unhex(V3), "batch of {k}, at {at}");
            if k == 3 && at == 0 {
                assert_eq!(got[1], ours(&[1], b"SodiumChloride", 14, 8, 1, 64));
                assert_eq!(got[2], ours(&[2, 2], b"SodiumChloride", 14, 8, 1, 64));
            }
        }
    }
}

#[test]
fn better_auths_parameters_in_batches_of_2_and_3() {
    let inputs: Vec<Input> = vec![
        (
            b"password123".to_vec(),
            b"0123456789abcdef0123456789abcdef".to_vec(),
            64,
        ),
        (
            b"correct horse battery staple".to_vec(),
            b"9f86d081884c7d659a2feaa0c55ad015".to_vec(),
            64,
        ),
        (
            b"".to_vec(),
            b"00000000000000000000000000000000".to_vec(),
            64,
        ),
    ];
    let mut s = Scratch::new();
    let got = many(&mut s, &inputs, 14, 16, 1);
    assert_eq!(
        hex::encode(&got[0]),
        "e8b256b6f9f4b1641136a66d4a26ba41a47b6c8c9bad6aa4145559ffda45ece1\
         f0f16dec8482a3e5545feada0ba62f2b05eeb943b750c9396874e1762c78d27d"
    );
    for ((pw, salt, len), key) in inputs.iter().zip(&got) {
        assert_eq!(*key, rustcrypto(pw, salt, 14, 16, 1, *len));
    }
    let two = many(&mut s, &inputs[1..], 14, 16, 1);
    assert_eq!(two, got[1..]);
}

#[test]
fn same_as_scrypt_and_rustcrypto_on_random_batches() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6d_61_6e_79);
    let mut s = Scratch::new();
    for case in 0..300 {
        let k = rng.gen_range(1..=2 * MAX_INTERLEAVED + 1);
        let r = rng.gen_range(1..=16u32);
        let log_n = rng.gen_range(1..=7u8);
        let p = rng.gen_range(1..=3u32);
        let inputs: Vec<Input> = (0..k)
            .map(|_| {
                let mut pw = vec![0u8; rng.gen_range(0..=80)];
                rng.fill_bytes(&mut pw);
                let mut salt = vec![0u8; rng.gen_range(0..=64)];
                rng.fill_bytes(&mut salt);
                (pw, salt, rng.gen_range(1..=130))
            })
            .collect();
        let got = many(&mut s, &inputs, log_n, r, p);
        for (i, ((pw, salt, len), key)) in inputs.iter().zip(&got).enumerate() {
            let want = ours(pw, salt, log_n, r, p, *len);
            assert_eq!(
                *key, want,
                "case {case} job {i}/{k}: log_n={log_n} r={r} p={p}"
            );
            if case % 10 == 0 {
                assert_eq!(*key, rustcrypto(pw, salt, log_n, r, p, *len), "case {case}");
            }
        }
    }
    // The scratch is kept (its wiping is checked by the unit tests, which can see inside it).
    assert!(s.bytes_held() > 0);
}

#[test]
fn invalid_jobs_are_errors_and_nothing_is_written() {
    let mut s = Scratch::new();
    let (mut a, mut b, mut empty) = ([7u8; 64], [7u8; 64], [0u8; 0]);
    let mut jobs = [
        Job::new(b"pw", b"salt", &mut a),
        Job::new(b"pw", b"salt", &mut b),
        Job::new(b"pw", b"salt", &mut empty),
    ];
    assert_eq!(
        scrypt_many(&mut s, &mut jobs, 4, 1, 1),
        Err(Error::InvalidOutputLen)
    );
    assert_eq!(
        scrypt_many(&mut s, &mut jobs[..2], 0, 1, 1),
        Err(Error::InvalidParams)
    );
    assert_eq!(
        scrypt_many(&mut s, &mut jobs[..2], 16, 1, 1),
        Err(Error::InvalidParams)
    );
    assert_eq!(
        scrypt_many(&mut s, &mut jobs[..2], 4, 1 << 15, 1 << 15),
        Err(Error::InvalidParams)
    );
    assert_eq!(scrypt_many(&mut s, &mut [], 4, 1, 1), Ok(()));
    assert_eq!(scrypt_many(&mut s, &mut [], 0, 0, 0), Ok(()));
    assert!(jobs.iter().all(|j| j.out.iter().all(|&x| x == 7)));
    let shown = format!("{:?}", jobs[0]);
    assert!(
        !shown.contains("112, 119") && shown.contains("password_len: 2"),
        "{shown}"
    );
    assert_eq!(s.bytes_held(), 0, "nothing was allocated");
    assert_eq!(scrypt_many(&mut s, &mut jobs[..2], 4, 1, 1), Ok(()));
    assert_eq!(a.to_vec(), ours(b"pw", b"salt", 4, 1, 1, 64));
    assert_eq!(a, b);
}
