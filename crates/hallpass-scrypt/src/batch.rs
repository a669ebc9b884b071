//! ROMix for `K` independent hashes at once on one thread (`crate::scrypt_many`).
//!
//! One hash is a single dependency chain of salsa20/8 calls, so it leaves most of a core's
//! execution ports idle. `K` hashes run in lockstep here: every salsa20/8 call computes one block
//! of each hash, with the `K` chains' instructions interleaved so the out-of-order core always has
//! independent work. On x86_64 each chain is an SSE2 core (`safe_arch`, no `unsafe` here): the
//! vector units are otherwise unused, four lane-wise steps do the work of sixteen scalar ones, and
//! two or three chains fill them. Elsewhere (or with the `force-portable` feature) the chains are
//! the scalar core of `crate::romix`, called one after the other for the `K` lanes.
//!
//! Memory layout: the working blocks `x` and `y` hold `2r` groups of `K` blocks (block `i` of
//! lane `k` at `i * K + k`), so a BlockMix step reads and writes the `K` lanes' blocks side by
//! side. `V` holds the `K` lanes one after the other (`N * 2r` blocks each), so each lane's
//! `V[j]` is contiguous for the reads of the second loop. Blocks are kept in the core's word
//! order ([`to_lanes`]): the SSE2 core's diagonal order, or the natural order for the scalar one.
//!
//! In the second loop every lane's `V[j]` is prefetched (all `2r` blocks of all lanes, in the
//! order they will be used) and xored in inside BlockMix, as each block enters the chain, so
//! the first blocks' salsa20/8 calls overlap the fetch of the later ones (a separate xor pass
//! first, as `crate::romix` does, measured the same or slightly slower here).

use crate::romix::{block_from_bytes, block_to_bytes, Block};
use crate::Error;

#[cfg(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(feature = "force-portable")
))]
mod lanes {
    //! The SSE2 salsa20/8 core for `K` blocks at once. A block is four rows in the diagonal
    //! order `(x0,x5,x10,x15) (x4,x9,x14,x3) (x8,x13,x2,x7) (x12,x1,x6,x11)`: the four quarter
    //! rounds of a column round are then one lane-wise step per row, and those of a row round too
    //! once rows 1 to 3 are rotated by a lane (`pshufd`, off the critical path).

    use crate::romix::Block;
    use safe_arch::{
        add_i32_m128i as add, bitor_m128i as or, bitxor_m128i as xor, m128i,
        shl_imm_u32_m128i as shl, shr_imm_u32_m128i as shr, shuffle_ai_f32_all_m128i as shuffle,
    };

    /// One block in registers: the four diagonal rows.
    pub(super) type W = [m128i; 4];

    /// Asks for the cache line(s) of `b` ahead of use.
    #[inline(always)]
    pub(super) fn prefetch(b: &Block) {
        safe_arch::prefetch_t0(b);
    }

    /// Word of the natural order held at position `p` of the diagonal order.
    const fn diagonal(p: usize) -> usize {
        (4 * (p / 4) + 5 * (p % 4)) % 16
    }

    /// Natural word order to the core's (diagonal) order.
    pub(crate) fn to_lanes(b: &Block) -> Block {
        let mut out = [0u32; 16];
        for (p, o) in out.iter_mut().enumerate() {
            *o = b[diagonal(p)];
        }
        out
    }

    /// The core's order back to the natural one.
    pub(crate) fn from_lanes(b: &Block) -> Block {
        let mut out = [0u32; 16];
        for (p, w) in b.iter().enumerate() {
            out[diagonal(p)] = *w;
        }
        out
    }

    /// Where word 1 (the high half of Integerify) sits in the core's order: row 3, lane 1.
    pub(super) const WORD1: usize = 13;

    #[inline(always)]
    pub(super) fn load(b: &Block) -> W {
        let [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15] = *b;
        [
            m128i::from([a0, a1, a2, a3]),
            m128i::from([a4, a5, a6, a7]),
            m128i::from([a8, a9, a10, a11]),
            m128i::from([a12, a13, a14, a15]),
        ]
    }

    #[inline(always)]
    pub(super) fn store(w: &W) -> Block {
        let [r0, r1, r2, r3] = w.map(<[u32; 4]>::from);
        [
            r0[0], r0[1], r0[2], r0[3], r1[0], r1[1], r1[2], r1[3], r2[0], r2[1], r2[2], r2[3],
            r3[0], r3[1], r3[2], r3[3],
        ]
    }

    #[inline(always)]
    pub(super) fn xor_w(a: &W, b: &W) -> W {
        [
            xor(a[0], b[0]),
            xor(a[1], b[1]),
            xor(a[2], b[2]),
            xor(a[3], b[3]),
        ]
    }

    #[inline(always)]
    fn rotl<const L: i32, const R: i32>(x: m128i) -> m128i {
        or(shl::<L>(x), shr::<R>(x))
    }

    /// `salsa20/8(t[k])` for every lane `k`, the lanes' instructions interleaved step by step.
    #[inline(always)]
    pub(super) fn salsa20_8<const K: usize>(t: &mut [W; K]) {
        let input = *t;
        let mut a: [m128i; K] = core::array::from_fn(|k| t[k][0]);
        let mut b: [m128i; K] = core::array::from_fn(|k| t[k][1]);
        let mut c: [m128i; K] = core::array::from_fn(|k| t[k][2]);
        let mut d: [m128i; K] = core::array::from_fn(|k| t[k][3]);
        // The four steps of a quarter round on rows (a, b, c, d), all lanes.
        macro_rules! quarter {
            ($a:ident, $b:ident, $c:ident, $d:ident) => {
                for k in 0..K {
                    $b[k] = xor($b[k], rotl::<7, 25>(add($a[k], $d[k])));
                }
                for k in 0..K {
                    $c[k] = xor($c[k], rotl::<9, 23>(add($b[k], $a[k])));
                }
                for k in 0..K {
                    $d[k] = xor($d[k], rotl::<13, 19>(add($c[k], $b[k])));
                }
                for k in 0..K {
                    $a[k] = xor($a[k], rotl::<18, 14>(add($d[k], $c[k])));
                }
            };
        }
        for _ in 0..4 {
            // Column round: rows are (a, b, c, d) of the four quarter rounds as they are.
            quarter!(a, b, c, d);
            // Row round: row 3 rotated by one lane plays b, row 2 by two c, row 1 by three d.
            let mut rb: [m128i; K] = core::array::from_fn(|k| shuffle::<0x39>(d[k]));
            let mut rc: [m128i; K] = core::array::from_fn(|k| shuffle::<0x4e>(c[k]));
            let mut rd: [m128i; K] = core::array::from_fn(|k| shuffle::<0x93>(b[k]));
            quarter!(a, rb, rc, rd);
            d = core::array::from_fn(|k| shuffle::<0x93>(rb[k]));
            c = core::array::from_fn(|k| shuffle::<0x4e>(rc[k]));
            b = core::array::from_fn(|k| shuffle::<0x39>(rd[k]));
        }
        for k in 0..K {
            t[k] = [
                add(a[k], input[k][0]),
                add(b[k], input[k][1]),
                add(c[k], input[k][2]),
                add(d[k], input[k][3]),
            ];
        }
    }
}

#[cfg(not(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(feature = "force-portable")
)))]
mod lanes {
    //! Portable fallback: the scalar core of `crate::romix` once per lane, natural word order.

    use crate::romix::Block;

    pub(super) type W = Block;

    #[inline(always)]
    pub(super) fn prefetch(_: &Block) {}

    pub(crate) fn to_lanes(b: &Block) -> Block {
        *b
    }

    pub(crate) fn from_lanes(b: &Block) -> Block {
        *b
    }

    pub(super) const WORD1: usize = 1;

    #[inline(always)]
    pub(super) fn load(b: &Block) -> W {
        *b
    }

    #[inline(always)]
    pub(super) fn store(w: &W) -> Block {
        *w
    }

    #[inline(always)]
    pub(super) fn xor_w(a: &W, b: &W) -> W {
        let mut out = [0u32; 16];
        for ((o, a), b) in out.iter_mut().zip(a).zip(b) {
            *o = a ^ b;
        }
        out
    }

    #[inline(always)]
    pub(super) fn salsa20_8<const K: usize>(t: &mut [W; K]) {
        for w in t.iter_mut() {
            *w = crate::romix::salsa20_8(w);
        }
    }
}

pub(crate) use self::lanes::{from_lanes, to_lanes};
use self::lanes::{load, prefetch, salsa20_8, store, xor_w, W, WORD1};

/// `y = BlockMix(x)` for each of the `K` lanes (`x` and `y`: `2r` groups of `K` blocks), or
/// with `vj`, `y = BlockMix(x ^ vj)` where `vj[k]` is lane `k`'s `2r` blocks of `V[j]`.
#[inline(always)]
fn block_mix<const K: usize>(x: &[Block], vj: Option<[&[Block]; K]>, y: &mut [Block]) {
    let two_r = x.len() / K;
    let half = y.len() / 2;
    let (y_even, y_odd) = y.split_at_mut(half);
    let input = |i: usize, k: usize| -> W {
        let xb = x.get(i * K + k).map(load).unwrap_or_default();
        match vj {
            Some(vj) => xor_w(&xb, &vj[k].get(i).map(load).unwrap_or_default()),
            None => xb,
        }
    };
    let mut t: [W; K] = core::array::from_fn(|k| input(two_r.wrapping_sub(1), k));
    for (i, (ye, yo)) in y_even
        .chunks_exact_mut(K)
        .zip(y_odd.chunks_exact_mut(K))
        .enumerate()
    {
        for (k, t) in t.iter_mut().enumerate() {
            *t = xor_w(t, &input(2 * i, k));
        }
        salsa20_8(&mut t);
        for (t, yb) in t.iter().zip(ye.iter_mut()) {
            *yb = store(t);
        }
        for (k, t) in t.iter_mut().enumerate() {
            *t = xor_w(t, &input(2 * i + 1, k));
        }
        salsa20_8(&mut t);
        for (t, yb) in t.iter().zip(yo.iter_mut()) {
            *yb = store(t);
        }
    }
}

/// Makes `v` exactly `len` blocks long, keeping its allocation if that is big enough (a too-small
/// one is freed first rather than grown, so nothing is copied). Blocks it already holds are kept
/// as they are (zeros, after the caller's wipe), so with a reused scratch no time goes into
/// zeroing memory that ROMix overwrites anyway; only blocks beyond the old length are zeroed.
fn blocks_of_len(v: &mut Vec<Block>, len: usize) -> Result<(), Error> {
    if v.capacity() < len {
        *v = Vec::new();
        v.try_reserve_exact(len).map_err(|_| Error::OutOfMemory)?;
    }
    if v.len() > len {
        v.truncate(len);
    } else {
        v.resize(len, [0; 16]);
    }
    Ok(())
}

/// ROMix on `K` hashes at once: `bs[k]` is hash `k`'s `B` (`128 * r * p` bytes), transformed in
/// place chunk by chunk (chunk `c` of every hash together). `v`, `x` and `y` are the caller's
/// working memory, grown here if needed and left holding the last state for the caller to wipe.
///
/// On a CPU with AVX-512 (F and VL) the same code runs compiled for it ([`avx512`]), where each
/// rotate of the SSE2 core is one instruction (`vprold`) instead of three: a quarter-round step
/// is then three instructions and three cycles in a row instead of five and four.
pub(crate) fn romix_many<const K: usize>(
    bs: [&mut [u8]; K],
    r: usize,
    log_n: u8,
    p: usize,
    v: &mut Vec<Block>,
    x: &mut Vec<Block>,
    y: &mut Vec<Block>,
) -> Result<(), Error> {
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "sse2",
        not(feature = "force-portable")
    ))]
    // Keep this shape: choosing the build through a function value instead (one call site for
    // both) measured groups of three about 15% slower, alternated with this, on the same code.
    if avx512::available() {
        return avx512::romix_many::<K>(bs, r, log_n, p, v, x, y);
    }
    romix_many_here::<K>(bs, r, log_n, p, v, x, y)
}

#[cfg(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(feature = "force-portable")
))]
pub(crate) mod avx512 {
    //! [`super::romix_many`] compiled for AVX-512F and AVX-512VL, chosen at run time. The source
    //! is the same: LLVM turns the SSE2 core's `(x << k) | (x >> (32 - k))` into one `vprold`
    //! when the function it is inlined into may use AVX-512VL (`objdump -d` on the bench example
    //! shows them). The test `both_builds_of_the_interleaved_romix_agree_with_the_reference`
    //! runs both builds.

    use super::{Block, Error};

    /// Whether this CPU (and its operating system) runs AVX-512F and AVX-512VL code. Detected
    /// once, then cached by the standard library.
    pub(crate) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
    }

    /// [`super::romix_many`] in its AVX-512 build; in the other one when the CPU lacks it.
    pub(crate) fn romix_many<const K: usize>(
        bs: [&mut [u8]; K],
        r: usize,
        log_n: u8,
        p: usize,
        v: &mut Vec<Block>,
        x: &mut Vec<Block>,
        y: &mut Vec<Block>,
    ) -> Result<(), Error> {
        if !available() {
            return super::romix_many_here::<K>(bs, r, log_n, p, v, x, y);
        }
        // SAFETY: `compiled` only needs the CPU to run AVX-512F and AVX-512VL instructions,
        // which `available()` has just checked; it is otherwise safe code.
        #[allow(unsafe_code)]
        unsafe {
            compiled::<K>(bs, r, log_n, p, v, x, y)
        }
    }

    #[target_feature(enable = "avx512f,avx512vl")]
    fn compiled<const K: usize>(
        bs: [&mut [u8]; K],
        r: usize,
        log_n: u8,
        p: usize,
        v: &mut Vec<Block>,
        x: &mut Vec<Block>,
        y: &mut Vec<Block>,
    ) -> Result<(), Error> {
        super::romix_many_here::<K>(bs, r, log_n, p, v, x, y)
    }
}

/// [`romix_many`] compiled for whatever the function it is inlined into may use (always inlined,
/// so that [`avx512`]'s copy is built for AVX-512 all the way down to the salsa20/8 core).
#[inline(always)]
pub(crate) fn romix_many_here<const K: usize>(
    bs: [&mut [u8]; K],
    r: usize,
    log_n: u8,
    p: usize,
    v: &mut Vec<Block>,
    x: &mut Vec<Block>,
    y: &mut Vec<Block>,
) -> Result<(), Error> {
    let n = 1usize << log_n;
    let mask = (n - 1) as u64;
    let two_r = 2 * r;
    let chunk_len = 128 * r;
    let lane_v = two_r.checked_mul(n).ok_or(Error::InvalidParams)?;
    let v_len = lane_v.checked_mul(K).ok_or(Error::OutOfMemory)?;
    blocks_of_len(v, v_len)?;
    blocks_of_len(x, two_r * K)?;
    blocks_of_len(y, two_r * K)?;
    let (mut x, mut y) = (x, y);
    let mut bs = bs;
    for c in 0..p {
        let start = c * chunk_len;
        // Load chunk c of every hash, lane k's block i at x[i * K + k].
        for (k, b) in bs.iter().enumerate() {
            let chunk = b
                .get(start..start + chunk_len)
                .ok_or(Error::InvalidParams)?;
            for (i, bytes) in chunk.chunks_exact(64).enumerate() {
                if let Some(block) = x.get_mut(i * K + k) {
                    *block = to_lanes(&block_from_bytes(bytes));
                }
            }
        }
        for i in 0..n {
            for (k, lane) in v.chunks_exact_mut(lane_v).enumerate() {
                let Some(vi) = lane.get_mut(i * two_r..(i + 1) * two_r) else {
                    return Err(Error::InvalidParams);
                };
                for (vb, xb) in vi.iter_mut().zip(x.iter().skip(k).step_by(K)) {
                    *vb = *xb;
                }
            }
            block_mix::<K>(x, None, y);
            core::mem::swap(&mut x, &mut y);
        }
        for _ in 0..n {
            let mut vj: [&[Block]; K] = [&[]; K];
            for ((k, lane), vj) in v.chunks_exact(lane_v).enumerate().zip(vj.iter_mut()) {
                let Some(last) = x.get((two_r - 1) * K + k) else {
                    return Err(Error::InvalidParams);
                };
                let j = ((u64::from(last[WORD1]) << 32 | u64::from(last[0])) & mask) as usize;
                let Some(blocks) = lane.get(j * two_r..(j + 1) * two_r) else {
                    return Err(Error::InvalidParams);
                };
                *vj = blocks;
            }
            for i in 0..two_r {
                for blocks in vj {
                    if let Some(b) = blocks.get(i) {
                        prefetch(b);
                    }
                }
            }
            block_mix::<K>(x, Some(vj), y);
            core::mem::swap(&mut x, &mut y);
        }
        for (k, b) in bs.iter_mut().enumerate() {
            let chunk = b
                .get_mut(start..start + chunk_len)
                .ok_or(Error::InvalidParams)?;
            for (i, bytes) in chunk.chunks_exact_mut(64).enumerate() {
                if let Some(block) = x.get(i * K + k) {
                    block_to_bytes(&from_lanes(block), bytes);
                }
            }
        }
    }
    Ok(())
}
