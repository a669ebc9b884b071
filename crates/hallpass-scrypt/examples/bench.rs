//! Single-thread scrypt micro-benchmark with Better Auth's parameters (N = 2^14, r = 16, p = 1,
//! 64-byte key): hallpass-scrypt against the RustCrypto `scrypt` crate. `hallpass` allocates `V`
//! (32 MiB) afresh for every hash, as `hallpass_scrypt::scrypt` does; `hallpass-reuse` keeps it in
//! one `Scratch` across hashes, as hallpass-core's hashing threads do (`scrypt_with`).
//! `hallpass-x2`, `-x3` and `-x4` hash 2, 3 or 4 inputs at once on the thread (`scrypt_many`, one
//! reused `Scratch`): their per-hash figures are the batch's time divided by the batch size (the
//! amortized cost per hash on one core); the batch's own time (what each of its sign-ins waits) is
//! printed after `batch`.
//!
//! `cargo run --release -p hallpass-scrypt --example bench [-- hallpass|hallpass-reuse|hallpass-x2|hallpass-x3|hallpass-x4|rustcrypto ...]`
//!
//! Environment: `SCRYPT_BENCH_SECS` (minimum seconds per implementation, default 3),
//! `SCRYPT_BENCH_MIN` (minimum hashes, default 20). Prints the hex key of a fixed input (for the
//! cross-check in `bench/scrypt/run`) and one `RESULT {...}` line per implementation.

use std::time::{Duration, Instant};

const LOG_N: u8 = 14;
const R: u32 = 16;
const P: u32 = 1;
const PASSWORD: &[u8] = b"password123";
const SALT: &[u8] = b"0123456789abcdef0123456789abcdef";

/// One implementation: derives the benchmark key into every element of `outs` (one hash each).
type Hash = fn(&mut [[u8; 64]]);

fn single(f: fn(&mut [u8; 64]), outs: &mut [[u8; 64]]) {
    for out in outs {
        f(out);
    }
}

fn hallpass(out: &mut [u8; 64]) {
    if hallpass_scrypt::scrypt(PASSWORD, SALT, LOG_N, R, P, out).is_err() {
        std::process::exit(1);
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<hallpass_scrypt::Scratch> =
        const { std::cell::RefCell::new(hallpass_scrypt::Scratch::new()) };
}

fn hallpass_reuse(out: &mut [u8; 64]) {
    let ok = SCRATCH.with_borrow_mut(|scratch| {
        hallpass_scrypt::scrypt_with(scratch, PASSWORD, SALT, LOG_N, R, P, out).is_ok()
    });
    if !ok {
        std::process::exit(1);
    }
}

fn hallpass_many(outs: &mut [[u8; 64]]) {
    let mut jobs: Vec<hallpass_scrypt::Job<'_>> = outs
        .iter_mut()
        .map(|out| hallpass_scrypt::Job::new(PASSWORD, SALT, out))
        .collect();
    let ok = SCRATCH.with_borrow_mut(|scratch| {
        hallpass_scrypt::scrypt_many(scratch, &mut jobs, LOG_N, R, P).is_ok()
    });
    if !ok {
        std::process::exit(1);
    }
}

fn rustcrypto(out: &mut [u8; 64]) {
    let Ok(params) = scrypt::Params::new(LOG_N, R, P, 64) else {
        std::process::exit(1);
    };
    if scrypt::scrypt(PASSWORD, SALT, &params, out).is_err() {
        std::process::exit(1);
    }
}

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Nanoseconds this thread has spent on a CPU (Linux), to see through a busy machine; 0 elsewhere.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Median milliseconds per batch of `k` hashes, wall clock and on-CPU: 3 warm-up batches, then
/// at least `secs` seconds and `min` batches. Exits if the batch's keys differ.
fn measure(f: Hash, k: usize, secs: f64, min: usize) -> (f64, f64, String) {
    let mut outs = vec![[0u8; 64]; k];
    for _ in 0..3 {
        f(&mut outs);
    }
    let budget = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    while wall.len() < min || start.elapsed() < budget {
        outs.fill([0; 64]);
        let c = thread_cpu_ns();
        let t = Instant::now();
        f(&mut outs);
        wall.push(t.elapsed().as_secs_f64() * 1e3);
        cpu.push(thread_cpu_ns().saturating_sub(c) as f64 / 1e6);
    }
    if outs.iter().any(|o| *o != outs[0]) {
        eprintln!("a batch derived different keys for the same input");
        std::process::exit(1);
    }
    (median(wall), median(cpu), hex::encode(outs[0]))
}

fn main() {
    let secs = env_num("SCRYPT_BENCH_SECS", 3.0);
    let min = env_num("SCRYPT_BENCH_MIN", 20.0) as usize;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let impls: [(&str, usize, Hash); 6] = [
        ("hallpass", 1, |o| single(hallpass, o)),
        ("hallpass-reuse", 1, |o| single(hallpass_reuse, o)),
        ("hallpass-x2", 2, hallpass_many),
        ("hallpass-x3", 3, hallpass_many),
        ("hallpass-x4", 4, hallpass_many),
        ("rustcrypto", 1, |o| single(rustcrypto, o)),
    ];
    // What a server thread interleaves on this CPU (bench/scrypt/run reports that row as the
    // server's).
    println!("GROUP {}", hallpass_scrypt::preferred_group());
    let mut results = Vec::new();
    for (name, k, f) in impls {
        if !args.is_empty() && !args.iter().any(|a| a == name) {
            continue;
        }
        let (batch_ms, batch_cpu_ms, key) = measure(f, k, secs, min);
        let (ms, cpu_ms) = (batch_ms / k as f64, batch_cpu_ms / k as f64);
        println!(
            "{name:<14} {ms:>8.2} ms/hash (wall median) {cpu_ms:>8.2} ms/hash (on-CPU median) {:>7.1} hashes/s  batch {k} {batch_ms:>8.2} ms (wall) {batch_cpu_ms:>8.2} ms (on-CPU)  key {key}",
            1e3 / ms
        );
        results.push((name, ms));
    }
    for (name, ms) in results {
        println!(
            "RESULT {{\"case\":\"scrypt\",\"impl\":\"{name}\",\"ms_per_hash\":{ms:.2},\"per_s\":{:.1}}}",
            1e3 / ms
        );
    }
}
