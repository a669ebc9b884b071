//! Passwords: length rules, hashing in Better Auth's scrypt format (or Argon2id by choice), and a
//! bounded pool of dedicated threads so a storm of sign-ins can never starve the async executor
//! that answers session checks. See the reference, section 5.
//!
//! The hashing threads run at a lower scheduling priority (nice 10 on Linux: about a tenth of the
//! CPU share of a normal thread when both want a core), so the executor's threads win a core from
//! them and hashing gets mostly the time left over; that is what lets the pool have as many threads
//! as there are cores. Not the lowest (nice 19, a seventieth): on a machine busy with other work,
//! sign-ins would then all but stop. A thread takes up to [`derivations_at_once`] waiting scrypt
//! derivations at once and runs them interleaved (`hallpass_scrypt::scrypt_many`): two, or three
//! on CPUs with AVX-512, take about the time of one, so under a storm of sign-ins each core hashes
//! about twice as many (or more). Each thread keeps its scrypt working memory (32 MiB per
//! derivation: 64 or 96 MiB while a group runs, back to 32 MiB at the next lone hash) from one
//! hash to the next, wiped with zeros after every hash, and frees it after [`SCRATCH_IDLE`]
//! without work.

use crate::error::DomainError;
use argon2::{password_hash::PasswordHasher as _, password_hash::PasswordVerifier as _, Argon2};
use hallpass_scrypt::Scratch;
use rand::{rngs::OsRng, RngCore};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;
use unicode_normalization::UnicodeNormalization;

/// Better Auth's scrypt parameters: N = 2^14, r = 16, p = 1, 64-byte key.
const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 16;
const SCRYPT_P: u32 = 1;
const SCRYPT_LEN: usize = 64;

/// How long a hashing thread keeps its scrypt working memory after its last job. Long enough to
/// stay allocated through a burst of sign-ins, short enough that an idle server holds none.
pub const SCRATCH_IDLE: Duration = Duration::from_secs(2);

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

fn scrypt_key(scratch: &mut Scratch, password: &str, salt: &[u8]) -> Option<[u8; SCRYPT_LEN]> {
    let normalized: String = password.nfkc().collect();
    let mut out = [0u8; SCRYPT_LEN];
    hallpass_scrypt::scrypt_with(
        scratch,
        normalized.as_bytes(),
        salt,
        SCRYPT_LOG_N,
        SCRYPT_R,
        SCRYPT_P,
        &mut out,
    )
    .ok()?;
    Some(out)
}

/// Hashes with the chosen algorithm. Blocking and deliberately slow: call through [`HashPool`].
pub fn hash_blocking(password: &str, algorithm: Algorithm) -> Option<String> {
    hash_in(&mut Scratch::new(), password, algorithm)
}

/// [`hash_blocking`] with scrypt working memory kept by the caller.
fn hash_in(scratch: &mut Scratch, password: &str, algorithm: Algorithm) -> Option<String> {
    match algorithm {
        Algorithm::Scrypt => {
            let mut raw = [0u8; 16];
            OsRng.fill_bytes(&mut raw);
            // The salt is the hex *string*; its ASCII bytes are the scrypt salt.
            let salt = hex::encode(raw);
            let key = scrypt_key(scratch, password, salt.as_bytes())?;
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
    verify_in(&mut Scratch::new(), password, stored)
}

/// [`verify_blocking`] with scrypt working memory kept by the caller.
fn verify_in(scratch: &mut Scratch, password: &str, stored: &str) -> bool {
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
    match scrypt_key(scratch, password, salt.as_bytes()) {
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

/// How many waiting scrypt derivations a hashing thread takes at once (run interleaved by
/// `hallpass_scrypt::scrypt_many`), in 32 MiB of working memory each: what
/// `hallpass_scrypt::preferred_group` says for this CPU. Two cost about the time of one; with
/// AVX-512 three cost about the time of two, and elsewhere a third would save little more CPU and
/// make all three wait half as long again (`bench/scrypt/README.md`).
pub fn derivations_at_once() -> usize {
    hallpass_scrypt::preferred_group()
}

/// What a hashing thread is handed.
struct Job {
    queued: std::time::Instant,
    work: Work,
}

enum Work {
    /// An scrypt key with Better Auth's parameters from an NFKC-normalized password: the common
    /// case (every sign-up, sign-in and decoy), and the one that can share a thread's time.
    Derive {
        password: String,
        salt: Vec<u8>,
        done: Box<dyn FnOnce(Option<[u8; SCRYPT_LEN]>) + Send + 'static>,
    },
    /// Anything else, with the thread's scrypt working memory (Argon2id).
    Run(Box<dyn FnOnce(&mut Scratch) + Send + 'static>),
}

/// The jobs waiting for a hashing thread: a bounded queue that any idle thread takes from. Idle
/// threads wait on the condition variable (not on the lock), each with its own timeout, so each
/// can free its working memory after [`SCRATCH_IDLE`] without work.
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    capacity: usize,
    /// Jobs queued and not started yet (the `hallpass_hash_queue_depth` gauge).
    waiting: std::sync::atomic::AtomicI64,
    /// Derivations that ran alongside another on one thread (`hallpass_hash_paired_total`).
    paired: std::sync::atomic::AtomicU64,
    /// Scrypt working memory the threads hold, all of it touched (`hallpass_hash_scratch_bytes`):
    /// updated when a job ends and when idle memory is freed, so it leads the resident set only
    /// while a hash is running (`hallpass_hash_running`). Lets a soak tell this memory, which
    /// comes and goes with sign-ins, from the rest.
    scratch_bytes: std::sync::atomic::AtomicI64,
    /// Threads running a job now (`hallpass_hash_running`).
    running: std::sync::atomic::AtomicI64,
}

struct QueueState {
    jobs: VecDeque<Job>,
    /// Set when the pool is dropped: threads finish what is queued, then exit.
    closed: bool,
}

impl Queue {
    /// Jobs run outside the lock, so a poisoned lock (a panic while holding it) left nothing
    /// half-done; carry on with it.
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a job, or gives it back at once if `capacity` jobs are already waiting.
    fn try_push(&self, job: Job) -> Result<(), Job> {
        use std::sync::atomic::Ordering::Relaxed;
        let mut state = self.lock();
        if state.closed || state.jobs.len() >= self.capacity {
            return Err(job);
        }
        state.jobs.push_back(job);
        let depth = self.waiting.fetch_add(1, Relaxed) + 1;
        drop(state);
        metrics::gauge!("hallpass_hash_queue_depth").set(depth as f64);
        self.ready.notify_one();
        Ok(())
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// Counts a job as started.
    fn started(&self, queued: std::time::Instant) {
        let depth = self
            .waiting
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed)
            - 1;
        metrics::gauge!("hallpass_hash_queue_depth").set(depth as f64);
        metrics::histogram!("hallpass_hash_wait_seconds").record(queued.elapsed().as_secs_f64());
    }

    /// The next job for a hashing thread, waiting as long as it takes; `None` once the pool is
    /// dropped and the queue drained. While `scratch` holds memory the wait is in steps of
    /// [`SCRATCH_IDLE`], and a step that ends with no job frees it.
    fn next(&self, scratch: &mut Scratch, held: &mut usize) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Some(job);
            }
            if state.closed {
                return None;
            }
            if scratch.bytes_held() == 0 {
                state = self
                    .ready
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            let (guard, waited) = self
                .ready
                .wait_timeout(state, SCRATCH_IDLE)
                .unwrap_or_else(PoisonError::into_inner);
            state = guard;
            if waited.timed_out() && state.jobs.is_empty() {
                // Freed outside the lock: returning 32 MiB to the kernel takes a moment, and the
                // executor's threads take this lock to queue jobs. (It holds only zeros.)
                drop(state);
                *scratch = Scratch::new();
                self.scratch_changed(held, 0);
                state = self.lock();
            }
        }
    }

    /// Records that a thread's scratch space went from `*held` bytes to `now`.
    fn scratch_changed(&self, held: &mut usize, now: usize) {
        if *held == now {
            return;
        }
        let delta = now as i64 - *held as i64;
        *held = now;
        let total = self
            .scratch_bytes
            .fetch_add(delta, std::sync::atomic::Ordering::Relaxed)
            + delta;
        metrics::gauge!("hallpass_hash_scratch_bytes").set(total as f64);
    }

    /// Counts a thread as running a job (`by` 1) or done with it (-1).
    fn running(&self, by: i64) {
        let now = self
            .running
            .fetch_add(by, std::sync::atomic::Ordering::Relaxed)
            + by;
        metrics::gauge!("hallpass_hash_running").set(now as f64);
    }

    /// The next job if it is a derivation waiting now (never waits, never reorders the queue).
    fn next_derivation(&self) -> Option<Job> {
        let mut state = self.lock();
        match state.jobs.front() {
            Some(Job {
                work: Work::Derive { .. },
                ..
            }) => state.jobs.pop_front(),
            _ => None,
        }
    }
}

/// Lowers the calling thread's scheduling priority to [`HASH_NICENESS`] (Linux, where the nice
/// value is per thread), so any thread at normal priority, in particular the async executor's,
/// takes a core from it whenever it needs one. A failure (a platform or sandbox that refuses) is
/// logged and the thread hashes at normal priority.
fn lower_priority() {
    // The crate maps 0..=99 onto nice 19..=-20: 22 is nice 10.
    let priority = thread_priority::ThreadPriorityValue::try_from(HASH_PRIORITY)
        .map(thread_priority::ThreadPriority::Crossplatform)
        .unwrap_or(thread_priority::ThreadPriority::Min);
    if let Err(error) = thread_priority::set_current_thread_priority(priority) {
        tracing::warn!(
            %error,
            "could not lower the scheduling priority of a password hashing thread; \
             it competes with request handling at normal priority"
        );
    }
}

/// The nice value of the hashing threads on Linux.
pub const HASH_NICENESS: i32 = 10;
/// [`HASH_NICENESS`] in the thread-priority crate's cross-platform scale.
const HASH_PRIORITY: u8 = 22;

/// The body of a hashing thread.
fn work(queue: &Queue) {
    lower_priority();
    let mut scratch = Scratch::new();
    let mut held = 0;
    let at_once = derivations_at_once();
    while let Some(job) = queue.next(&mut scratch, &mut held) {
        queue.started(job.queued);
        queue.running(1);
        let began = std::time::Instant::now();
        match job.work {
            Work::Run(run) => {
                run(&mut scratch);
                metrics::histogram!("hallpass_hash_seconds").record(began.elapsed().as_secs_f64());
            }
            Work::Derive {
                password,
                salt,
                done,
            } => {
                let mut batch = vec![(password, salt, done)];
                while batch.len() < at_once {
                    let Some(Job {
                        queued,
                        work:
                            Work::Derive {
                                password,
                                salt,
                                done,
                            },
                    }) = queue.next_derivation()
                    else {
                        break;
                    };
                    queue.started(queued);
                    batch.push((password, salt, done));
                }
                derive_batch(&mut scratch, batch, queue);
                metrics::histogram!("hallpass_hash_seconds").record(began.elapsed().as_secs_f64());
            }
        }
        queue.scratch_changed(&mut held, scratch.bytes_held());
        queue.running(-1);
    }
}

type Derivation = (
    String,
    Vec<u8>,
    Box<dyn FnOnce(Option<[u8; SCRYPT_LEN]>) + Send + 'static>,
);

/// Bytes of scrypt working memory one derivation needs (`V`: 128 * r * N; the rest is small).
const ONE_DERIVATION_BYTES: usize = 128 * SCRYPT_R as usize * (1 << SCRYPT_LOG_N);

/// Derives the keys of `batch` together on this thread and hands each to its job.
fn derive_batch(scratch: &mut Scratch, batch: Vec<Derivation>, queue: &Queue) {
    if batch.len() == 1 && scratch.bytes_held() > ONE_DERIVATION_BYTES * 3 / 2 {
        // Sized for a group that is over: give its memory back rather than keep 64 or 96 MiB
        // for one hash (a fresh 32 MiB costs a few milliseconds of page faults).
        *scratch = Scratch::new();
    }
    let mut keys = vec![[0u8; SCRYPT_LEN]; batch.len()];
    let mut jobs: Vec<hallpass_scrypt::Job<'_>> = batch
        .iter()
        .zip(keys.iter_mut())
        .map(|((password, salt, _), key)| hallpass_scrypt::Job::new(password.as_bytes(), salt, key))
        .collect();
    let derived =
        hallpass_scrypt::scrypt_many(scratch, &mut jobs, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P).is_ok();
    drop(jobs);
    if batch.len() > 1 {
        let paired = batch.len() as u64;
        queue
            .paired
            .fetch_add(paired, std::sync::atomic::Ordering::Relaxed);
        metrics::counter!("hallpass_hash_paired_total").increment(paired);
    }
    for ((_, _, done), key) in batch.into_iter().zip(keys) {
        done(derived.then_some(key));
    }
}

/// A fixed set of threads that run password hashing, fed by a bounded queue. When the queue is
/// full, new work is refused at once ([`DomainError::Busy`]) instead of piling up. The threads run
/// at a lower scheduling priority, keep scrypt's working memory between hashes (see the module
/// documentation) and take up to [`derivations_at_once`] waiting scrypt derivations at a time.
/// Dropping the pool lets the threads finish the queued jobs and exit.
pub struct HashPool {
    queue: Arc<Queue>,
    algorithm: Algorithm,
    decoys: Arc<[String; 2]>,
}

impl Drop for HashPool {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl HashPool {
    /// Starts `workers` threads with room for `queue` waiting jobs.
    pub fn start(workers: usize, queue: usize, algorithm: Algorithm) -> std::io::Result<HashPool> {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState {
                jobs: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
            capacity: queue.max(1),
            waiting: std::sync::atomic::AtomicI64::new(0),
            paired: std::sync::atomic::AtomicU64::new(0),
            scratch_bytes: std::sync::atomic::AtomicI64::new(0),
            running: std::sync::atomic::AtomicI64::new(0),
        });
        for n in 0..workers.max(1) {
            let shared = Arc::clone(&queue);
            let spawned = std::thread::Builder::new()
                .name(format!("hallpass-hash-{n}"))
                .spawn(move || work(&shared));
            if let Err(error) = spawned {
                // Let the threads already started exit.
                queue.close();
                return Err(error);
            }
        }
        Ok(HashPool {
            queue,
            algorithm,
            decoys: Arc::new([
                decoy_hash(Algorithm::Scrypt),
                decoy_hash(Algorithm::Argon2id),
            ]),
        })
    }

    /// Queues `work` for a hashing thread and waits for it.
    async fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(oneshot::Sender<T>) -> Work,
    ) -> Result<T, DomainError> {
        let (tx, rx) = oneshot::channel();
        let job = Job {
            queued: std::time::Instant::now(),
            work: work(tx),
        };
        if self.queue.try_push(job).is_err() {
            metrics::counter!("hallpass_hash_refused_total").increment(1);
            return Err(DomainError::Busy);
        }
        rx.await.map_err(|_| DomainError::Busy)
    }

    /// Runs `work` on a hashing thread, with its scrypt working memory.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Scratch) -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        self.submit(|tx| {
            Work::Run(Box::new(move |scratch| {
                let _ = tx.send(work(scratch));
            }))
        })
        .await
    }

    /// The scrypt key of `password` (NFKC-normalized here) and `salt`, derived on a hashing
    /// thread, possibly alongside another; `None` if the derivation failed.
    async fn derive(
        &self,
        password: &str,
        salt: &[u8],
    ) -> Result<Option<[u8; SCRYPT_LEN]>, DomainError> {
        let password: String = password.nfkc().collect();
        let salt = salt.to_vec();
        self.submit(|tx| Work::Derive {
            password,
            salt,
            done: Box::new(move |key| {
                let _ = tx.send(key);
            }),
        })
        .await
    }

    /// Hashes a new password with the configured algorithm.
    pub async fn hash(&self, password: &str) -> Result<String, DomainError> {
        let hashed = match self.algorithm {
            Algorithm::Scrypt => {
                let mut raw = [0u8; 16];
                OsRng.fill_bytes(&mut raw);
                // The salt is the hex *string*; its ASCII bytes are the scrypt salt.
                let salt = hex::encode(raw);
                self.derive(password, salt.as_bytes())
                    .await?
                    .map(|key| format!("{salt}:{}", hex::encode(key)))
            }
            Algorithm::Argon2id => {
                let password = password.to_owned();
                self.run(move |scratch| hash_in(scratch, &password, Algorithm::Argon2id))
                    .await?
            }
        };
        hashed.ok_or_else(|| DomainError::Internal("password hashing failed".into()))
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
        let hash = match stored {
            Some(hash) => hash,
            None => &self.decoys[usize::from(decoy == Algorithm::Argon2id)],
        };
        if algorithm_of(hash) == Algorithm::Argon2id {
            let (password, hash) = (password.to_owned(), hash.to_owned());
            let matched = self
                .run(move |scratch| verify_in(scratch, &password, &hash))
                .await?;
            return Ok(matched && stored.is_some());
        }
        // A malformed scrypt hash matches nothing (real accounts never hold one).
        let Some((salt, key_hex)) = hash.split_once(':') else {
            return Ok(false);
        };
        let expected = match hex::decode(key_hex) {
            Ok(key) if key.len() == SCRYPT_LEN => key,
            _ => return Ok(false),
        };
        let matched = match self.derive(password, salt.as_bytes()).await? {
            Some(key) => bool::from(key.ct_eq(&expected)),
            None => false,
        };
        Ok(matched && stored.is_some())
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

    /// The key the RustCrypto scrypt crate (the implementation before hallpass-scrypt) derives.
    fn rustcrypto_key(password: &str, salt: &[u8]) -> [u8; SCRYPT_LEN] {
        let normalized: String = password.nfkc().collect();
        let params = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN).unwrap();
        let mut out = [0u8; SCRYPT_LEN];
        scrypt::scrypt(normalized.as_bytes(), salt, &params, &mut out).unwrap();
        out
    }

    #[test]
    fn same_keys_as_the_rustcrypto_scrypt_crate() {
        for (password, salt) in [
            ("password123", "0123456789abcdef0123456789abcdef"),
            ("\u{FF30}ässwörd 😀", "5d41402abc4b2a76b9719d911017c592"),
        ] {
            let old = rustcrypto_key(password, salt.as_bytes());
            assert_eq!(
                scrypt_key(&mut Scratch::new(), password, salt.as_bytes()),
                Some(old)
            );
            // A hash stored by the old implementation verifies, byte for byte the same format.
            let stored = format!("{salt}:{}", hex::encode(old));
            assert!(verify_blocking(password, &stored));
            assert!(!verify_blocking("not it", &stored));
        }
        let fresh = hash_blocking("correct horse", Algorithm::Scrypt).unwrap();
        let (salt, key) = fresh.split_once(':').unwrap();
        assert_eq!(
            key,
            hex::encode(rustcrypto_key("correct horse", salt.as_bytes()))
        );
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_jobs_on_several_workers_all_complete_correctly() {
        use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
        let pool = HashPool::start(3, 64, Algorithm::Scrypt).map_err(|e| e.to_string());
        let pool = Arc::new(pool.unwrap_or_else(|e| unreachable_in_test(&e)));
        // What the pool reports while three threads work: never more threads running than it
        // has, never more scrypt memory than three full groups need.
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (pool, done) = (Arc::clone(&pool), Arc::clone(&done));
            tokio::spawn(async move {
                let (mut running, mut bytes) = (0, 0);
                while !done.load(Relaxed) {
                    running = running.max(pool.queue.running.load(Relaxed));
                    bytes = bytes.max(pool.queue.scratch_bytes.load(Relaxed));
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                (running, bytes)
            })
        };
        let mut tasks = Vec::new();
        for i in 0..12 {
            let pool = Arc::clone(&pool);
            tasks.push(tokio::spawn(async move {
                let password = format!("password number {i} \u{FF30}");
                let hash = pool.hash(&password).await.unwrap();
                let (right, wrong, decoy) = tokio::join!(
                    pool.verify(&password, Some(&hash), Algorithm::Scrypt),
                    pool.verify("not it", Some(&hash), Algorithm::Scrypt),
                    pool.verify(&password, None, Algorithm::Scrypt),
                );
                (password, hash, right, wrong, decoy)
            }));
        }
        let mut hashes = std::collections::HashSet::new();
        for task in tasks {
            let (password, hash, right, wrong, decoy) = task.await.unwrap();
            assert_eq!(
                (right.ok(), wrong.ok(), decoy.ok()),
                (Some(true), Some(false), Some(false))
            );
            // The key made in a reused scratch space is the one the RustCrypto crate derives.
            let (salt, key) = hash.split_once(':').unwrap();
            assert_eq!(key, hex::encode(rustcrypto_key(&password, salt.as_bytes())));
            assert!(hashes.insert(hash));
        }
        assert_eq!(hashes.len(), 12);
        assert_eq!(pool.queue.waiting.load(Relaxed), 0);
        done.store(true, Relaxed);
        let (running, bytes) = sampler.await.unwrap();
        assert!((1..=3).contains(&running), "{running} threads running");
        let group = (derivations_at_once() * ONE_DERIVATION_BYTES) as i64 + (1 << 20);
        assert!(bytes > 0 && bytes <= 3 * group, "{bytes} bytes reported");
        // Every change the threads counted adds up: all of it given back once they are idle.
        tokio::time::sleep(SCRATCH_IDLE + Duration::from_millis(700)).await;
        reported_scratch_settles_at(&pool, 0).await;
    }

    /// Derivations waiting together run [`derivations_at_once`] at a time on one thread (two, or
    /// three with AVX-512), each getting its own answer (the right password verifies, wrong ones
    /// and decoys do not).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn waiting_derivations_run_in_groups_each_with_its_own_answer() {
        let pool = HashPool::start(1, 64, Algorithm::Scrypt).map_err(|e| e.to_string());
        let pool = Arc::new(pool.unwrap_or_else(|e| unreachable_in_test(&e)));
        let hash = pool.hash("the password").await.unwrap();
        assert_eq!(
            pool.queue.paired.load(std::sync::atomic::Ordering::Relaxed),
            0
        );
        // Keep the only thread busy while six verifications queue up behind it. The blocker must
        // hold the thread before they are queued: a verification taken first would never count
        // as waiting, and the wait below would not end.
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (holding, held_now) = std::sync::mpsc::channel::<()>();
        let blocker = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move {
                pool.run(move |_| {
                    let _ = holding.send(());
                    hold.recv().is_ok()
                })
                .await
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while held_now.try_recv().is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the blocker never ran"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut tasks = Vec::new();
        for i in 0..6 {
            let pool = Arc::clone(&pool);
            let hash = hash.clone();
            tasks.push(tokio::spawn(async move {
                let (password, stored) = match i % 3 {
                    0 => ("the password", Some(hash)),
                    1 => ("not the password", Some(hash)),
                    _ => ("the password", None),
                };
                pool.verify(password, stored.as_deref(), Algorithm::Scrypt)
                    .await
            }));
        }
        while pool
            .queue
            .waiting
            .load(std::sync::atomic::Ordering::Relaxed)
            < 6
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the six verifications never all waited"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        release.send(()).unwrap();
        assert_eq!(blocker.await.unwrap().ok(), Some(true));
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap().ok(), Some(i % 3 == 0), "job {i}");
        }
        assert_eq!(
            pool.queue.paired.load(std::sync::atomic::Ordering::Relaxed),
            6
        );
        // The thread held memory for a whole group (six waiting: groups of two or three, never
        // fewer); a lone hash after it keeps only one's worth.
        let held = pool.run(|s| s.bytes_held()).await.unwrap();
        let group = derivations_at_once();
        assert!((2..=3).contains(&group), "{group}");
        assert!(
            held >= group * ONE_DERIVATION_BYTES,
            "{held} for groups of {group}"
        );
        reported_scratch_settles_at(&pool, held).await;
        pool.verify("the password", Some(&hash), Algorithm::Scrypt)
            .await
            .unwrap();
        let held = pool.run(|s| s.bytes_held()).await.unwrap();
        assert!(
            (ONE_DERIVATION_BYTES..ONE_DERIVATION_BYTES * 3 / 2).contains(&held),
            "{held}"
        );
    }

    #[tokio::test]
    async fn workers_keep_scratch_between_hashes_free_it_when_idle_and_run_at_low_priority() {
        let pool = HashPool::start(1, 4, Algorithm::Scrypt).map_err(|e| e.to_string());
        let pool = pool.unwrap_or_else(|e| unreachable_in_test(&e));
        assert_eq!(pool.run(|s| s.bytes_held()).await.ok(), Some(0));
        pool.hash("a password").await.unwrap();
        let held = pool.run(|s| s.bytes_held()).await.unwrap();
        assert!(held >= 128 * 16 * 16384, "{held}");
        reported_scratch_settles_at(&pool, held).await;
        pool.verify("a password", None, Algorithm::Scrypt)
            .await
            .unwrap();
        assert_eq!(pool.run(|s| s.bytes_held()).await.ok(), Some(held));
        tokio::time::sleep(SCRATCH_IDLE + Duration::from_millis(700)).await;
        reported_scratch_settles_at(&pool, 0).await;
        assert_eq!(pool.run(|s| s.bytes_held()).await.ok(), Some(0));

        // Linux: field 19 of /proc/thread-self/stat is the thread's nice value.
        if cfg!(target_os = "linux") {
            let stat = pool
                .run(|_| std::fs::read_to_string("/proc/thread-self/stat"))
                .await
                .unwrap()
                .unwrap();
            let after_name = stat.rsplit_once(')').unwrap().1;
            let nice = after_name.split_whitespace().nth(16).unwrap();
            assert_eq!(nice, HASH_NICENESS.to_string(), "{stat}");
        }
    }

    #[tokio::test]
    async fn dropping_the_pool_lets_its_threads_finish_and_exit() {
        let pool = HashPool::start(2, 4, Algorithm::Scrypt).map_err(|e| e.to_string());
        let pool = pool.unwrap_or_else(|e| unreachable_in_test(&e));
        let queue = Arc::downgrade(&pool.queue);
        let pending = pool.hash("x");
        assert!(pending.await.is_ok());
        drop(pool);
        // The threads hold the last references to the queue; they go when the threads exit.
        for _ in 0..100 {
            if queue.strong_count() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("hashing threads still running after the pool was dropped");
    }

    /// Waits (up to a second: a job's answer is sent before its thread counts its memory) for
    /// the pool to report `bytes` of scratch memory and no thread running, and fails otherwise.
    async fn reported_scratch_settles_at(pool: &HashPool, bytes: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let reported = || {
            (
                pool.queue.scratch_bytes.load(Relaxed),
                pool.queue.running.load(Relaxed),
            )
        };
        for _ in 0..100 {
            if reported() == (bytes as i64, 0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            reported(),
            (bytes as i64, 0),
            "scratch bytes and running threads"
        );
    }

    fn unreachable_in_test(e: &str) -> HashPool {
        std::panic::panic_any(e.to_owned())
    }
}
