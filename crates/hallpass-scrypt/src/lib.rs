//! scrypt (RFC 7914), byte-identical to every other scrypt (speed: `bench/scrypt/README.md`).
//!
//! The expensive part is ROMix: `2 * N * 2r` salsa20/8 calls, each needing the previous one's
//! output, so the cost is the latency of the salsa20/8 core times about a million (N = 2^14,
//! r = 16). The `romix` module (source) explains how that latency is kept low and why the core is
//! scalar rather than SSE2. PBKDF2-HMAC-SHA256 comes from the `pbkdf2` crate. The only `unsafe`
//! code is the call into the AVX-512 build of the interleaved ROMix, after the CPU was checked.
//!
//! [`scrypt_many`] hashes two or three independent inputs at once on one thread, interleaved (the
//! `batch` module: SSE2 cores through `safe_arch` on x86_64, built a second time for AVX-512 and
//! chosen at run time), for about half the CPU time per hash of one-at-a-time hashing, each hash
//! waiting for its group instead. [`preferred_group`] says how many to give it at once here.

use core::fmt;

mod batch;
#[cfg(test)]
mod reference;
mod romix;

/// Largest output RFC 7914 allows: `(2^32 - 1) * 32` bytes.
pub const MAX_OUTPUT_LEN: u64 = 0xffff_ffff * 32;

/// Why [`scrypt`] refused to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// `log_n` is 0 or too large (`N` must be `2^log_n` with `1 <= log_n < min(64, 16 * r)`
    /// and `128 * r * N` must fit in memory addresses), or `r` or `p` is 0, or `r * p >= 2^30`.
    InvalidParams,
    /// The output is empty or longer than [`MAX_OUTPUT_LEN`].
    InvalidOutputLen,
    /// The working memory (`128 * r * N` bytes plus `128 * r * p`) could not be allocated.
    OutOfMemory,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::InvalidParams => "invalid scrypt parameters",
            Error::InvalidOutputLen => "invalid scrypt output length",
            Error::OutOfMemory => "not enough memory for scrypt",
        })
    }
}

impl std::error::Error for Error {}

/// Validated sizes for one run.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    log_n: u8,
    r: usize,
    p: usize,
}

fn check(log_n: u8, r: u32, p: u32, out_len: usize) -> Result<Sizes, Error> {
    if out_len == 0 || out_len as u64 > MAX_OUTPUT_LEN {
        return Err(Error::InvalidOutputLen);
    }
    if r == 0 || p == 0 || log_n == 0 || log_n >= 64 || u32::from(log_n) >= usize::BITS {
        return Err(Error::InvalidParams);
    }
    // N < 2^(128 * r / 8), i.e. log_n < 16 * r.
    if u64::from(log_n) >= 16 * u64::from(r) {
        return Err(Error::InvalidParams);
    }
    // p <= ((2^32 - 1) * 32) / (128 * r), i.e. r * p < 2^30.
    if u64::from(r) * u64::from(p) >= 1 << 30 {
        return Err(Error::InvalidParams);
    }
    let r = usize::try_from(r).map_err(|_| Error::InvalidParams)?;
    let p = usize::try_from(p).map_err(|_| Error::InvalidParams)?;
    let r128 = r.checked_mul(128).ok_or(Error::InvalidParams)?;
    r128.checked_mul(p).ok_or(Error::InvalidParams)?;
    r128.checked_shl(u32::from(log_n))
        .filter(|v| v >> log_n == r128)
        .ok_or(Error::InvalidParams)?;
    Ok(Sizes { log_n, r, p })
}

/// Derives `out.len()` bytes from `password` and `salt` with scrypt, `N = 2^log_n`.
///
/// Requirements (RFC 7914): `1 <= log_n < 16 * r` (and `< 64`), `r >= 1`, `p >= 1`,
/// `r * p < 2^30`, `1 <= out.len() <= (2^32 - 1) * 32`. Uses `128 * r * (N + p)` bytes of memory,
/// allocated for this call, wiped and freed before it returns (to hash many times on one thread,
/// [`scrypt_with`] keeps that memory between calls). Never panics; bad parameters and failed
/// allocations are errors.
pub fn scrypt(
    password: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
    out: &mut [u8],
) -> Result<(), Error> {
    scrypt_with(&mut Scratch::new(), password, salt, log_n, r, p, out)
}

/// Working memory for [`scrypt_with`], kept from one call to the next so a thread that hashes
/// repeatedly pays for allocating (and the kernel for faulting in) the `128 * r * N` bytes of `V`
/// once, not on every hash: with N = 2^14 and r = 16 that is 32 MiB, whose 8192 fresh pages cost
/// about 12 to 20 ms per hash. [`scrypt_many`] uses it too, growing it to `k` times that for a
/// group of `k` hashes.
///
/// It holds only zeros between calls: [`scrypt_with`] and [`scrypt_many`] wipe it before
/// returning, so no password-derived data stays in memory. Dropping it returns the memory to the
/// allocator (and, for blocks that large, the allocator to the kernel); [`Scratch::bytes_held`]
/// tells how much it holds.
#[derive(Default)]
pub struct Scratch {
    /// `V`: N * 2r blocks (times the group size for `scrypt_many`).
    v: Vec<romix::Block>,
    /// The two working blocks of ROMix, 2r blocks each.
    x: Vec<romix::Block>,
    y: Vec<romix::Block>,
    /// `B`: the PBKDF2 output and ROMix input/output, 128 * r * p bytes.
    b: Vec<u8>,
}

impl Scratch {
    /// An empty scratch space; it allocates on the first [`scrypt_with`] call.
    pub const fn new() -> Scratch {
        Scratch {
            v: Vec::new(),
            x: Vec::new(),
            y: Vec::new(),
            b: Vec::new(),
        }
    }

    /// Bytes allocated (the capacity held, whether or not the last call used all of it).
    pub fn bytes_held(&self) -> usize {
        let block = core::mem::size_of::<romix::Block>();
        (self.v.capacity() + self.x.capacity() + self.y.capacity()) * block + self.b.capacity()
    }

    /// Overwrites everything the last call wrote with zeros. The `black_box` keeps the compiler
    /// from dropping the writes as dead even when the scratch is freed right after.
    fn wipe(&mut self) {
        for blocks in [&mut self.v, &mut self.x, &mut self.y] {
            blocks.fill([0; 16]);
            core::hint::black_box(blocks.as_slice());
        }
        self.b.fill(0);
        core::hint::black_box(self.b.as_slice());
    }
}

impl fmt::Debug for Scratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scratch")
            .field("bytes_held", &self.bytes_held())
            .finish()
    }
}

/// [`scrypt`] in the working memory `scratch`, which grows to what these parameters need (if it is
/// smaller) and is kept for the next call; it is wiped with zeros before this returns, whatever
/// the outcome. The derived key is identical to [`scrypt`]'s.
pub fn scrypt_with(
    scratch: &mut Scratch,
    password: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
    out: &mut [u8],
) -> Result<(), Error> {
    let sizes = check(log_n, r, p, out.len())?;
    let result = derive(scratch, password, salt, sizes, out);
    scratch.wipe();
    result
}

fn derive(
    scratch: &mut Scratch,
    password: &[u8],
    salt: &[u8],
    sizes: Sizes,
    out: &mut [u8],
) -> Result<(), Error> {
    let b_len = 128 * sizes.r * sizes.p;
    let b = &mut scratch.b;
    if b.capacity() < b_len {
        *b = Vec::new();
    }
    b.clear();
    b.try_reserve_exact(b_len).map_err(|_| Error::OutOfMemory)?;
    b.resize(b_len, 0);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, 1, b);
    romix::romix_all_in(
        b,
        sizes.r,
        sizes.log_n,
        sizes.p,
        &mut scratch.v,
        &mut scratch.x,
        &mut scratch.y,
    )?;
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, b, 1, out);
    Ok(())
}

/// One hash of a batch for [`scrypt_many`]: its password, its salt and where its key goes (the
/// key length is `out.len()`, which may differ from job to job). Its `Debug` shows lengths only.
pub struct Job<'a> {
    /// The password (PBKDF2's key).
    pub password: &'a [u8],
    /// The salt.
    pub salt: &'a [u8],
    /// Receives the derived key, `out.len()` bytes.
    pub out: &'a mut [u8],
}

impl fmt::Debug for Job<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("password_len", &self.password.len())
            .field("salt_len", &self.salt.len())
            .field("out_len", &self.out.len())
            .finish()
    }
}

impl<'a> Job<'a> {
    /// A job deriving `out.len()` bytes from `password` and `salt`.
    pub fn new(password: &'a [u8], salt: &'a [u8], out: &'a mut [u8]) -> Job<'a> {
        Job {
            password,
            salt,
            out,
        }
    }
}

/// Most hashes [`scrypt_many`] interleaves at once; a longer batch runs in consecutive groups of
/// sizes as equal as possible (4 jobs as 2 + 2, 5 as 2 + 3, 7 as 2 + 2 + 3). Three is where the
/// CPU time per hash stopped improving (`bench/scrypt/README.md`).
pub const MAX_INTERLEAVED: usize = 3;

/// How many waiting hashes a thread does best to give [`scrypt_many`] at once on this CPU, for the
/// most hashes per second without making each wait much longer than one hash alone: three where
/// the AVX-512 build of the interleaved ROMix runs (there a group of three takes about the wall
/// time of a pair, at about 30% less CPU per hash), two elsewhere (a third would save little more
/// CPU and make all three wait half as long again). Figures: `bench/scrypt/README.md`.
pub fn preferred_group() -> usize {
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "sse2",
        not(feature = "force-portable")
    ))]
    if batch::avx512::available() {
        return 3;
    }
    2
}

/// [`scrypt`] for several independent inputs at once on this thread, all with the same `log_n`,
/// `r` and `p`: every job's key is byte-identical to what [`scrypt`] derives from its password,
/// salt and output length.
///
/// One hash is a single chain of salsa20/8 calls that leaves most of the core idle; here up to
/// [`MAX_INTERLEAVED`] hashes advance in lockstep with their instructions interleaved (on x86_64,
/// as SSE2 cores), so a group of `k` costs much less CPU time than `k` single hashes, at the price
/// of every job in it waiting for the whole group (see `bench/scrypt/README.md` for both). A
/// group of one runs [`scrypt_with`]'s scalar code, the fastest for a single hash.
///
/// Memory: `scratch` grows to about `128 * r * N * k` bytes for the largest group of `k` jobs
/// (with N = 2^14 and r = 16, 32 MiB per job, so 96 MiB for three) and is kept for the next call,
/// wiped with zeros before this returns, whatever the outcome, as in [`scrypt_with`].
///
/// Every job is checked before anything is computed, with [`scrypt`]'s rules: if the parameters
/// or any output length are invalid, this returns the error and writes no output. An empty batch
/// is `Ok`. After [`Error::OutOfMemory`] the outputs are unspecified (earlier groups may have been
/// written). Never panics.
pub fn scrypt_many(
    scratch: &mut Scratch,
    jobs: &mut [Job<'_>],
    log_n: u8,
    r: u32,
    p: u32,
) -> Result<(), Error> {
    let mut sizes = None;
    for job in jobs.iter() {
        sizes = Some(check(log_n, r, p, job.out.len())?);
    }
    let Some(sizes) = sizes else {
        return Ok(());
    };
    let result = derive_groups(scratch, jobs, sizes);
    scratch.wipe();
    result
}

/// Runs `jobs` in `ceil(len / MAX_INTERLEAVED)` groups of sizes as equal as possible.
fn derive_groups(scratch: &mut Scratch, jobs: &mut [Job<'_>], sizes: Sizes) -> Result<(), Error> {
    let groups = jobs.len().div_ceil(MAX_INTERLEAVED);
    let mut rest = jobs;
    for g in 0..groups {
        let len = rest.len() / (groups - g);
        let (group, tail) = rest.split_at_mut(len.max(1).min(rest.len()));
        derive_group(scratch, group, sizes)?;
        rest = tail;
    }
    Ok(())
}

fn derive_group(scratch: &mut Scratch, group: &mut [Job<'_>], sizes: Sizes) -> Result<(), Error> {
    match group {
        [] => Ok(()),
        [a] => derive(scratch, a.password, a.salt, sizes, a.out),
        [a, b] => derive_many(scratch, [a, b], sizes),
        [a, b, c] => derive_many(scratch, [a, b, c], sizes),
        // Groups are at most MAX_INTERLEAVED (3) long.
        _ => Err(Error::InvalidParams),
    }
}

fn derive_many<const K: usize>(
    scratch: &mut Scratch,
    jobs: [&mut Job<'_>; K],
    sizes: Sizes,
) -> Result<(), Error> {
    let one = 128 * sizes.r * sizes.p;
    let b_len = one.checked_mul(K).ok_or(Error::OutOfMemory)?;
    let b = &mut scratch.b;
    if b.capacity() < b_len {
        *b = Vec::new();
    }
    b.clear();
    b.try_reserve_exact(b_len).map_err(|_| Error::OutOfMemory)?;
    b.resize(b_len, 0);
    let mut chunks = b.chunks_exact_mut(one);
    // K chunks of `one` bytes each (the fallback, an empty slice, never happens).
    let mut bs: [&mut [u8]; K] = core::array::from_fn(|_| chunks.next().unwrap_or_default());
    for (job, b) in jobs.iter().zip(bs.iter_mut()) {
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(job.password, job.salt, 1, b);
    }
    batch::romix_many::<K>(
        bs,
        sizes.r,
        sizes.log_n,
        sizes.p,
        &mut scratch.v,
        &mut scratch.x,
        &mut scratch.y,
    )?;
    for (job, b) in jobs.into_iter().zip(scratch.b.chunks_exact(one)) {
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(job.password, b, 1, job.out);
    }
    Ok(())
}

#[cfg(test)]
fn zeroed_bytes(len: usize) -> Result<Vec<u8>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::OutOfMemory)?;
    v.resize(len, 0);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole of scrypt on the straightforward reference ROMix.
    fn scrypt_reference(
        password: &[u8],
        salt: &[u8],
        log_n: u8,
        r: u32,
        p: u32,
        out: &mut [u8],
    ) -> Result<(), Error> {
        let sizes = check(log_n, r, p, out.len())?;
        let mut b = zeroed_bytes(128 * sizes.r * sizes.p)?;
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, 1, &mut b);
        reference::romix_all(&mut b, sizes.r, sizes.log_n, sizes.p)?;
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &b, 1, out);
        Ok(())
    }

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        hex::decode(s).unwrap()
    }

    // RFC 7914 section 8: salsa20/8 core.
    const SALSA_IN: &str = "7e879a214f3ec9867ca940e641718f26baee555b8c61c1b50df846116dcd3b1d
        ee24f319df9b3d8514121e4b5ac5aa3276021d2909c74829edebc68db8b8c25e";
    const SALSA_OUT: &str = "a41f859c6608cc993b81cacb020cef05044b2181a2fd337dfd7b1c6396682f29
        b4393168e3c9e6bcfe6bc5b7a06d96bae424cc102c91745c24ad673dc7618f81";

    // RFC 7914 section 9: BlockMix with r = 1.
    const BLOCKMIX_IN: &str = "f7ce0b653d2d72a4108cf5abe912ffdd777616dbbb27a70e8204f3ae2d0f6fad
        89f68f4811d1e87bcc3bd7400a9ffd29094f0184639574f39ae5a1315217bcd7
        894991447213bb226c25b54da86370fbcd984380374666bb8ffcb5bf40c254b0
        67d27c51ce4ad5fed829c90b505a571b7f4d1cad6a523cda770e67bceaaf7e89";
    const BLOCKMIX_OUT: &str = "a41f859c6608cc993b81cacb020cef05044b2181a2fd337dfd7b1c6396682f29
        b4393168e3c9e6bcfe6bc5b7a06d96bae424cc102c91745c24ad673dc7618f81
        20edc975323881a80540f64c162dcd3c21077cfe5f8d5fe2b1a4168f953678b7
        7d3b3d803b60e4ab920996e59b4d53b65d2a225877d5edf5842cb9f14eefe425";

    // RFC 7914 section 10: ROMix with r = 1, N = 16.
    const ROMIX_IN: &str = "f7ce0b653d2d72a4108cf5abe912ffdd777616dbbb27a70e8204f3ae2d0f6fad
        89f68f4811d1e87bcc3bd7400a9ffd29094f0184639574f39ae5a1315217bcd7
        894991447213bb226c25b54da86370fbcd984380374666bb8ffcb5bf40c254b0
        67d27c51ce4ad5fed829c90b505a571b7f4d1cad6a523cda770e67bceaaf7e89";
    const ROMIX_OUT: &str = "79ccc193629debca047f0b70604bf6b62ce3dd4a9626e355fafc6198e6ea2b46
        d58413673b99b029d665c357601fb426a0b2f4bba200ee9f0a43d19b571a9c71
        ef1142e65d5a266fddca832ce59faa7cac0b9cf1be2bffca300d01ee387619c4
        ae12fd4438f203a0e4e1c47ec314861f4e9087cb33396a6873e8f9d2539a4b8e";

    fn fast_salsa20_8_bytes(input: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; 64];
        romix::block_to_bytes(&romix::salsa20_8(&romix::block_from_bytes(input)), &mut out);
        out
    }

    fn fast_block_mix_bytes(input: &[u8], r: usize) -> Vec<u8> {
        let x: Vec<romix::Block> = input
            .chunks_exact(64)
            .map(romix::block_from_bytes)
            .collect();
        let mut y = vec![[0u32; 16]; 2 * r];
        romix::block_mix(&x, &mut y);
        let mut out = vec![0u8; 128 * r];
        for (block, bytes) in y.iter().zip(out.chunks_exact_mut(64)) {
            romix::block_to_bytes(block, bytes);
        }
        out
    }

    #[test]
    fn salsa20_8_core_rfc7914_section_8() {
        let input = unhex(SALSA_IN);
        let want = unhex(SALSA_OUT);
        assert_eq!(fast_salsa20_8_bytes(&input), want);
        assert_eq!(reference::salsa20_8_bytes(&input), want);
    }

    #[test]
    fn blockmix_rfc7914_section_9() {
        let input = unhex(BLOCKMIX_IN);
        let want = unhex(BLOCKMIX_OUT);
        assert_eq!(fast_block_mix_bytes(&input, 1), want);
        assert_eq!(reference::block_mix_bytes(&input, 1), want);
    }

    #[test]
    fn romix_rfc7914_section_10() {
        let want = unhex(ROMIX_OUT);
        let mut b = unhex(ROMIX_IN);
        romix::romix_all(&mut b, 1, 4, 1).unwrap();
        assert_eq!(b, want);
        let mut b = unhex(ROMIX_IN);
        reference::romix_all(&mut b, 1, 4, 1).unwrap();
        assert_eq!(b, want);
    }

    #[test]
    fn fast_and_reference_romix_agree() {
        use rand::{Rng, RngCore, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7914);
        for _ in 0..40 {
            let mut pw = vec![0u8; rng.gen_range(0..40)];
            rng.fill_bytes(&mut pw);
            let mut salt = vec![0u8; rng.gen_range(0..40)];
            rng.fill_bytes(&mut salt);
            let r = rng.gen_range(1..=9u32);
            let log_n = rng.gen_range(1..=8u8);
            let p = rng.gen_range(1..=3u32);
            let len = rng.gen_range(1..=100usize);
            let mut a = vec![0u8; len];
            let mut b = vec![0u8; len];
            scrypt(&pw, &salt, log_n, r, p, &mut a).unwrap();
            scrypt_reference(&pw, &salt, log_n, r, p, &mut b).unwrap();
            assert_eq!(a, b, "log_n={log_n} r={r} p={p} len={len}");
        }
    }

    /// The interleaved ROMix as built for any x86_64 (SSE2) and as built for AVX-512, against the
    /// reference ROMix lane by lane, on random blocks and parameters. On a CPU without AVX-512
    /// the second build is not run (said on stderr) and the test checks the first alone.
    #[test]
    fn both_builds_of_the_interleaved_romix_agree_with_the_reference() {
        use rand::{Rng, RngCore, SeedableRng};
        #[cfg(all(target_arch = "x86_64", not(feature = "force-portable")))]
        let avx512 = batch::avx512::available();
        #[cfg(not(all(target_arch = "x86_64", not(feature = "force-portable"))))]
        let avx512 = false;
        eprintln!("AVX-512 build checked too: {avx512}");
        fn run<const K: usize>(rng: &mut rand::rngs::StdRng, avx512: bool) {
            let r = rng.gen_range(1..=9usize);
            let log_n = rng.gen_range(1..=8u8);
            let p = rng.gen_range(1..=3usize);
            let lanes: Vec<Vec<u8>> = (0..K)
                .map(|_| {
                    let mut b = vec![0u8; 128 * r * p];
                    rng.fill_bytes(&mut b);
                    b
                })
                .collect();
            let mut want = lanes.clone();
            for b in &mut want {
                reference::romix_all(b, r, log_n, p).unwrap();
            }
            let mut builds: Vec<(&str, Vec<Vec<u8>>)> = vec![("sse2", lanes.clone())];
            if avx512 {
                builds.push(("avx512", lanes.clone()));
            }
            for (build, got) in &mut builds {
                let (mut v, mut x, mut y) = (Vec::new(), Vec::new(), Vec::new());
                let mut it = got.iter_mut();
                let bs: [&mut [u8]; K] =
                    core::array::from_fn(|_| it.next().unwrap().as_mut_slice());
                match *build {
                    #[cfg(all(target_arch = "x86_64", not(feature = "force-portable")))]
                    "avx512" => {
                        batch::avx512::romix_many::<K>(bs, r, log_n, p, &mut v, &mut x, &mut y)
                    }
                    _ => batch::romix_many_here::<K>(bs, r, log_n, p, &mut v, &mut x, &mut y),
                }
                .unwrap();
                assert_eq!(*got, want, "{build} build, K={K} r={r} log_n={log_n} p={p}");
            }
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(1914);
        for _ in 0..30 {
            run::<2>(&mut rng, avx512);
            run::<3>(&mut rng, avx512);
        }
    }

    #[test]
    fn reference_rfc7914_vector_1() {
        let mut out = [0u8; 64];
        scrypt_reference(b"", b"", 4, 1, 1, &mut out).unwrap();
        assert_eq!(
            out.to_vec(),
            unhex(
                "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442
                 fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
            )
        );
    }

    fn holds_only_zeros(s: &Scratch) -> bool {
        s.v.iter().chain(&s.x).chain(&s.y).all(|b| *b == [0; 16]) && s.b.iter().all(|&x| x == 0)
    }

    #[test]
    fn scrypt_many_reuses_and_wipes_the_scratch() {
        let mut s = Scratch::new();
        let (mut a, mut b, mut c) = ([0u8; 64], [0u8; 64], [0u8; 32]);
        let mut jobs = [
            Job::new(b"pleaseletmein", b"SodiumChloride", &mut a),
            Job::new(b"x", b"y", &mut b),
            Job::new(b"", b"", &mut c),
        ];
        scrypt_many(&mut s, &mut jobs, 14, 8, 1).unwrap();
        let held = s.bytes_held();
        assert!(held >= 3 * 128 * 8 * 16384, "{held}");
        assert_eq!(s.v.len(), 3 * 2 * 8 * 16384, "the last group's V, wiped");
        assert!(holds_only_zeros(&s));
        let v_ptr = s.v.as_ptr();
        // Smaller batches and parameters run in the same memory, single hashes too.
        scrypt_many(&mut s, &mut jobs[..2], 10, 8, 1).unwrap();
        assert_eq!((s.bytes_held(), s.v.as_ptr()), (held, v_ptr));
        assert!(holds_only_zeros(&s));
        scrypt_many(&mut s, &mut jobs[..1], 14, 8, 1).unwrap();
        let mut single = [0u8; 64];
        vector_3(&mut s, &mut single);
        assert_eq!((s.bytes_held(), s.v.as_ptr()), (held, v_ptr));
        assert!(holds_only_zeros(&s));
        assert_eq!(a, single);
        // A failed check leaves the scratch as it was.
        let mut empty = [0u8; 0];
        let mut jobs = [Job::new(b"", b"", &mut a), Job::new(b"", b"", &mut empty)];
        assert_eq!(
            scrypt_many(&mut s, &mut jobs, 4, 1, 1),
            Err(Error::InvalidOutputLen)
        );
        assert_eq!((s.bytes_held(), s.v.as_ptr()), (held, v_ptr));
    }

    #[test]
    fn batch_lane_order_round_trips() {
        let block: romix::Block = core::array::from_fn(|i| i as u32 * 0x0101_0101);
        assert_eq!(batch::from_lanes(&batch::to_lanes(&block)), block);
    }

    /// RFC 7914's third vector ("pleaseletmein", "SodiumChloride", N = 2^14, r = 8) in `s`.
    fn vector_3(s: &mut Scratch, out: &mut [u8; 64]) {
        scrypt_with(s, b"pleaseletmein", b"SodiumChloride", 14, 8, 1, out).unwrap();
    }

    #[test]
    fn scratch_is_reused_and_wiped() {
        // RFC 7914 section 12, vectors 1 and 3, alternately through one scratch space.
        let v1 = unhex(
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442
             fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
        );
        let v3 = unhex(
            "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2
             d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
        );
        let mut s = Scratch::new();
        assert_eq!(s.bytes_held(), 0);
        let mut out = [0u8; 64];
        vector_3(&mut s, &mut out);
        assert_eq!(out.to_vec(), v3);
        let held = s.bytes_held();
        assert!(held >= 128 * 8 * 16384, "{held}");
        assert_eq!(
            s.v.len(),
            2 * 8 * 16384,
            "the last call's V is there, wiped"
        );
        assert!(holds_only_zeros(&s));
        let v_ptr = s.v.as_ptr();

        // Smaller parameters run in the same memory.
        scrypt_with(&mut s, b"", b"", 4, 1, 1, &mut out).unwrap();
        assert_eq!(out.to_vec(), v1);
        assert_eq!((s.bytes_held(), s.v.as_ptr()), (held, v_ptr));
        assert!(holds_only_zeros(&s));

        // And the same again: same key, same allocation, no growth.
        out = [0u8; 64];
        vector_3(&mut s, &mut out);
        assert_eq!(out.to_vec(), v3);
        assert_eq!((s.bytes_held(), s.v.as_ptr()), (held, v_ptr));
        assert!(holds_only_zeros(&s));

        // A call that fails its checks leaves it as it was; one that needs more memory grows it.
        assert_eq!(
            scrypt_with(&mut s, b"", b"", 0, 1, 1, &mut out),
            Err(Error::InvalidParams)
        );
        assert_eq!(s.bytes_held(), held);
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        scrypt_with(&mut s, b"password", b"NaCl", 10, 8, 16, &mut a).unwrap();
        scrypt(b"password", b"NaCl", 10, 8, 16, &mut b).unwrap();
        assert_eq!(a, b);
        assert!(holds_only_zeros(&s));
        scrypt_with(&mut s, b"x", b"y", 15, 16, 1, &mut a).unwrap();
        scrypt(b"x", b"y", 15, 16, 1, &mut b).unwrap();
        assert_eq!(a, b);
        assert!(s.bytes_held() >= 128 * 16 * 32768);
        assert!(holds_only_zeros(&s));
    }
}
