//! Passwords: length rules, hashing in Better Auth's scrypt format (or Argon2id by choice), and a
//! bounded pool of dedicated threads so a storm of sign-ins can never starve the async executor
//! that answers session checks. See the reference, section 5.

use crate::error::DomainError;
use argon2::{password_hash::PasswordHasher as _, password_hash::PasswordVerifier as _, Argon2};
use rand::{rngs::OsRng, RngCore};
use std::sync::{mpsc, Arc, Mutex};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;
use unicode_normalization::UnicodeNormalization;

/// Better Auth's scrypt parameters: N = 2^14, r = 16, p = 1, 64-byte key.
const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 16;
const SCRYPT_P: u32 = 1;
const SCRYPT_LEN: usize = 64;

/// Which algorithm new hashes use. Verification always accepts both formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Better Auth's own format (`hexsalt:hexkey`); the database stays usable by Better Auth.
    Scrypt,
    /// Argon2id in the PHC string format; Better Auth cannot verify these.
    Argon2id,
}

/// Length limits, counted as JavaScript counts string length (UTF-16 code units), as Better Auth does.
#[derive(Clone, Copy, Debug)]
pub struct LengthPolicy {
    /// Shortest accepted new password (default 8).
    pub min: usize,
    /// Longest accepted password (default 128).
    pub max: usize,
}

impl Default for LengthPolicy {
    fn default() -> Self {
        LengthPolicy { min: 8, max: 128 }
    }
}

impl LengthPolicy {
    /// Checks a new password (sign-up, change-password, reset): both limits.
    pub fn check_new(&self, password: &str) -> Result<(), DomainError> {
        let len = password.encode_utf16().count();
        if len < self.min {
            return Err(DomainError::PasswordTooShort);
        }
        self.check_presented(password)
    }

    /// Checks a presented password (sign-in): only the maximum, so the hash never runs on huge input.
    pub fn check_presented(&self, password: &str) -> Result<(), DomainError> {
        if password.encode_utf16().count() > self.max {
            return Err(DomainError::PasswordTooLong);
        }
        Ok(())
    }
}

fn scrypt_key(password: &str, salt: &[u8]) -> Option<[u8; SCRYPT_LEN]> {
    let normalized: String = password.nfkc().collect();
    let params = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN).ok()?;
    let mut out = [0u8; SCRYPT_LEN];
    scrypt::scrypt(normalized.as_bytes(), salt, &params, &mut out).ok()?;
    Some(out)
}

/// Hashes with the chosen algorithm. Blocking and deliberately slow: call through [`HashPool`].
pub fn hash_blocking(password: &str, algorithm: Algorithm) -> Option<String> {
    match algorithm {
        Algorithm::Scrypt => {
            let mut raw = [0u8; 16];
            OsRng.fill_bytes(&mut raw);
            // The salt is the hex *string*; its ASCII bytes are the scrypt salt.
            let salt = hex::encode(raw);
            let key = scrypt_key(password, salt.as_bytes())?;
            Some(format!("{salt}:{}", hex::encode(key)))
        }
        Algorithm::Argon2id => {
            let normalized: String = password.nfkc().collect();
            let salt = argon2::password_hash::SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(normalized.as_bytes(), &salt)
                .ok()
                .map(|h| h.to_string())
        }
    }
}

/// The algorithm a stored hash was made with.
pub fn algorithm_of(stored: &str) -> Algorithm {
    if stored.starts_with("$argon2") {
        Algorithm::Argon2id
    } else {
        Algorithm::Scrypt
    }
}

/// Verifies a password against a stored hash in either format, in constant time.
/// Blocking and deliberately slow: call through [`HashPool`].
pub fn verify_blocking(password: &str, stored: &str) -> bool {
    if stored.starts_with("$argon2") {
        let Ok(parsed) = argon2::PasswordHash::new(stored) else {
            return false;
        };
        let normalized: String = password.nfkc().collect();
        return Argon2::default()
            .verify_password(normalized.as_bytes(), &parsed)
            .is_ok();
    }
    let Some((salt, key_hex)) = stored.split_once(':') else {
        return false;
    };
    let Ok(expected) = hex::decode(key_hex) else {
        return false;
    };
    match scrypt_key(password, salt.as_bytes()) {
        Some(key) if expected.len() == SCRYPT_LEN => key.ct_eq(&expected).into(),
        _ => false,
    }
}

/// A well-formed hash that no password matches. Verifying against it costs exactly what a real
/// verification costs (the work is in deriving the key, not in comparing it), so an unknown email
/// is not answered faster than a wrong password. Built without hashing, so start-up stays instant.
fn decoy_hash(algorithm: Algorithm) -> String {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    match algorithm {
        Algorithm::Scrypt => format!("{}:{}", hex::encode(salt), "0".repeat(SCRYPT_LEN * 2)),
        Algorithm::Argon2id => {
            use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
            let p = argon2::Params::default();
            format!(
                "$argon2id$v=19$m={},t={},p={}${}${}",
                p.m_cost(),
                p.t_cost(),
                p.p_cost(),
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode([0u8; 32])
            )
        }
    }
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of threads that run password hashing, fed by a bounded queue. When the queue is
/// full, new work is refused at once ([`DomainError::Busy`]) instead of piling up.
pub struct HashPool {
    queue: mpsc::SyncSender<Job>,
    /// Jobs queued and not started yet (the `hallpass_hash_queue_depth` gauge).
    waiting: Arc<std::sync::atomic::AtomicI64>,
    algorithm: Algorithm,
    decoys: Arc<[String; 2]>,
}

impl HashPool {
    /// Starts `workers` threads with room for `queue` waiting jobs.
    pub fn start(workers: usize, queue: usize, algorithm: Algorithm) -> std::io::Result<HashPool> {
        let (tx, rx) = mpsc::sync_channel::<Job>(queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..workers.max(1) {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("hallpass-hash-{n}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })?;
        }
        Ok(HashPool {
            queue: tx,
            waiting: Arc::new(std::sync::atomic::AtomicI64::new(0)),
            algorithm,
            decoys: Arc::new([
                decoy_hash(Algorithm::Scrypt),
                decoy_hash(Algorithm::Argon2id),
            ]),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        use std::sync::atomic::Ordering::Relaxed;
        let (tx, rx) = oneshot::channel();
        let queued = std::time::Instant::now();
        let waiting = Arc::clone(&self.waiting);
        let job: Job = Box::new(move || {
            let depth = waiting.fetch_sub(1, Relaxed) - 1;
            metrics::gauge!("hallpass_hash_queue_depth").set(depth as f64);
            metrics::histogram!("hallpass_hash_wait_seconds")
                .record(queued.elapsed().as_secs_f64());
            let started = std::time::Instant::now();
            let out = work();
            metrics::histogram!("hallpass_hash_seconds").record(started.elapsed().as_secs_f64());
            let _ = tx.send(out);
        });
        let depth = self.waiting.fetch_add(1, Relaxed) + 1;
        if self.queue.try_send(job).is_err() {
            self.waiting.fetch_sub(1, Relaxed);
            metrics::counter!("hallpass_hash_refused_total").increment(1);
            return Err(DomainError::Busy);
        }
        metrics::gauge!("hallpass_hash_queue_depth").set(depth as f64);
        rx.await.map_err(|_| DomainError::Busy)
    }

    /// Hashes a new password with the configured algorithm.
    pub async fn hash(&self, password: &str) -> Result<String, DomainError> {
        let password = password.to_owned();
        let algorithm = self.algorithm;
        self.run(move || hash_blocking(&password, algorithm))
            .await?
            .ok_or_else(|| DomainError::Internal("password hashing failed".into()))
    }

    /// The algorithm new hashes use.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Verifies a password; `None` for the stored hash verifies against a decoy of the given
    /// algorithm (so it costs what a real hash of that algorithm costs) and returns false.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
        decoy: Algorithm,
    ) -> Result<bool, DomainError> {
        let password = password.to_owned();
        let real = stored.map(str::to_owned);
        let decoys = Arc::clone(&self.decoys);
        self.run(move || match real {
            Some(hash) => verify_blocking(&password, &hash),
            None => {
                let index = usize::from(decoy == Algorithm::Argon2id);
                let _ = verify_blocking(&password, &decoys[index]);
                false
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR: &str = "0123456789abcdef0123456789abcdef:e8b256b6f9f4b1641136a66d4a26ba41a47b6c8c9bad6aa4145559ffda45ece1f0f16dec8482a3e5545feada0ba62f2b05eeb943b750c9396874e1762c78d27d";

    #[test]
    fn better_auth_test_vector_verifies() {
        assert!(verify_blocking("password123", VECTOR));
        assert!(!verify_blocking("password124", VECTOR));
    }

    #[test]
    fn passwords_are_nfkc_normalized() {
        let hash = hash_blocking("Password123", Algorithm::Scrypt).unwrap_or_default();
        assert!(verify_blocking("\u{FF30}assword123", &hash));
    }

    #[test]
    fn new_scrypt_hashes_have_better_auth_shape() {
        let hash = hash_blocking("correct horse", Algorithm::Scrypt).unwrap_or_default();
        let (salt, key) = hash.split_once(':').unwrap_or_default();
        assert_eq!((salt.len(), key.len(), hash.len()), (32, 128, 161));
        assert!(verify_blocking("correct horse", &hash));
    }

    #[test]
    fn argon2id_hashes_verify() {
        let hash = hash_blocking("correct horse", Algorithm::Argon2id).unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_blocking("correct horse", &hash));
        assert!(!verify_blocking("wrong horse", &hash));
    }

    #[test]
    fn decoys_are_well_formed_and_match_nothing() {
        for alg in [Algorithm::Scrypt, Algorithm::Argon2id] {
            let decoy = decoy_hash(alg);
            assert!(!verify_blocking("", &decoy));
            assert!(!verify_blocking("password123", &decoy));
        }
        let (salt, key) = decoy_hash(Algorithm::Scrypt)
            .split_once(':')
            .map(|(a, b)| (a.len(), b.len()))
            .unwrap();
        assert_eq!((salt, key), (32, 128));
        assert!(argon2::PasswordHash::new(&decoy_hash(Algorithm::Argon2id)).is_ok());
    }

    #[test]
    fn malformed_stored_hashes_never_verify() {
        for stored in ["", "nocolon", "abc:zz", "abc:00", "$argon2id$garbage"] {
            assert!(!verify_blocking("anything", stored), "{stored}");
        }
    }

    #[test]
    fn lengths_count_utf16_units() {
        let p = LengthPolicy::default();
        assert!(matches!(
            p.check_new("1234567"),
            Err(DomainError::PasswordTooShort)
        ));
        assert!(p.check_new("12345678").is_ok());
        // Four astral characters are eight UTF-16 units.
        assert!(p.check_new("😀😀😀😀").is_ok());
        assert!(matches!(
            p.check_new(&"a".repeat(129)),
            Err(DomainError::PasswordTooLong)
        ));
        assert!(p.check_presented("").is_ok());
    }

    #[tokio::test]
    async fn pool_hashes_and_verifies_off_the_executor() {
        let pool = HashPool::start(1, 4, Algorithm::Scrypt).map_err(|e| e.to_string());
        let pool = pool.unwrap_or_else(|e| unreachable_in_test(&e));
        let hash = pool.hash("a password").await.unwrap_or_default();
        assert_eq!(
            pool.verify("a password", Some(&hash), Algorithm::Scrypt)
                .await
                .ok(),
            Some(true)
        );
        for decoy in [Algorithm::Scrypt, Algorithm::Argon2id] {
            assert_eq!(
                pool.verify("a password", None, decoy).await.ok(),
                Some(false)
            );
        }
        assert_eq!(algorithm_of(&hash), Algorithm::Scrypt);
        let argon = hash_blocking("a password", Algorithm::Argon2id).unwrap_or_default();
        assert_eq!(algorithm_of(&argon), Algorithm::Argon2id);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_waiting() {
        let pool = HashPool::start(1, 1, Algorithm::Scrypt).map_err(|e| e.to_string());
        let pool = Arc::new(pool.unwrap_or_else(|e| unreachable_in_test(&e)));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let pool = Arc::clone(&pool);
            tasks.push(tokio::spawn(async move { pool.hash("x").await }));
        }
        let mut busy = 0;
        for t in tasks {
            if matches!(t.await, Ok(Err(DomainError::Busy))) {
                busy += 1;
            }
        }
        assert!(
            busy >= 1,
            "some of 8 simultaneous hashes must be refused with one worker and one slot"
        );
    }

    fn unreachable_in_test(e: &str) -> HashPool {
        std::panic::panic_any(e.to_owned())
    }
}
