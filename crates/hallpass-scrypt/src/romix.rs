//! ROMix, written for the latency of the salsa20/8 chain.
//!
//! ROMix is one dependency chain: each of its `2 * N * 2r` salsa20/8 calls needs the previous
//! call's output, so the time per hash is the latency of one salsa20/8 times about a million
//! (N = 2^14, r = 16). Within one core, every output word depends on 32 quarter-round steps in a
//! row (`b ^= rotl(a + d, k)`). A scalar step is three one-cycle instructions (`lea`, `rol`,
//! `xor`); the same step on SSE2 is four (`paddd`, `pslld`+`psrld`, `por`, `pxor`), because
//! SSE2 has no rotate, so the four-lane SSE2 core is slower per call than a scalar core here (no
//! other work can fill the lanes with p = 1). So the core is plain Rust, fully unrolled, with the
//! 16 words in local variables, which LLVM keeps in registers (or spills off the critical path).
//! (With several independent hashes to run, the lanes do fill: see `crate::batch`.)
//!
//! The rest is about not adding to that chain: `V` is allocated once per call (or reused from the
//! caller's [`crate::Scratch`]), the BlockMix output
//! order is written directly, and in the second loop the block `V[j]` is xored into the working
//! block in a separate pass before the salsa chain starts, so its 32 cache lines are requested at
//! once (the loads are independent) rather than one by one as the chain reaches them.

use crate::Error;

/// One 64-byte salsa20 block: 16 little-endian words.
pub(crate) type Block = [u32; 16];

/// The salsa20/8 core: four double rounds plus the feed-forward add.
#[inline(always)]
pub(crate) fn salsa20_8(input: &Block) -> Block {
    let [mut x0, mut x1, mut x2, mut x3, mut x4, mut x5, mut x6, mut x7, mut x8, mut x9, mut x10, mut x11, mut x12, mut x13, mut x14, mut x15] =
        *input;
    macro_rules! quarter {
        ($a:ident, $b:ident, $c:ident, $d:ident) => {
            $b ^= $a.wrapping_add($d).rotate_left(7);
            $c ^= $b.wrapping_add($a).rotate_left(9);
            $d ^= $c.wrapping_add($b).rotate_left(13);
            $a ^= $d.wrapping_add($c).rotate_left(18);
        };
    }
    macro_rules! double_round {
        () => {
            quarter!(x0, x4, x8, x12);
            quarter!(x5, x9, x13, x1);
            quarter!(x10, x14, x2, x6);
            quarter!(x15, x3, x7, x11);
            quarter!(x0, x1, x2, x3);
            quarter!(x5, x6, x7, x4);
            quarter!(x10, x11, x8, x9);
            quarter!(x15, x12, x13, x14);
        };
    }
    double_round!();
    double_round!();
    double_round!();
    double_round!();
    let x = [
        x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
    ];
    let mut out = [0u32; 16];
    for ((o, x), i) in out.iter_mut().zip(x).zip(input) {
        *o = x.wrapping_add(*i);
    }
    out
}

#[inline(always)]
fn xor(x: &Block, y: &Block) -> Block {
    let mut out = [0u32; 16];
    for ((o, x), y) in out.iter_mut().zip(x).zip(y) {
        *o = x ^ y;
    }
    out
}

/// `y = BlockMix(x)` for `2r` blocks: even-numbered salsa outputs go to the first half of `y`,
/// odd-numbered ones to the second.
pub(crate) fn block_mix(x: &[Block], y: &mut [Block]) {
    let (y_even, y_odd) = y.split_at_mut(y.len() / 2);
    let Some(mut t) = x.last().copied() else {
        return;
    };
    for ((pair, ye), yo) in x.chunks_exact(2).zip(y_even).zip(y_odd) {
        t = salsa20_8(&xor(&t, &pair[0]));
        *ye = t;
        t = salsa20_8(&xor(&t, &pair[1]));
        *yo = t;
    }
}

pub(crate) fn block_from_bytes(bytes: &[u8]) -> Block {
    let mut w = [0u32; 16];
    for (word, c) in w.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    w
}

pub(crate) fn block_to_bytes(block: &Block, bytes: &mut [u8]) {
    for (c, word) in bytes.chunks_exact_mut(4).zip(block) {
        c.copy_from_slice(&word.to_le_bytes());
    }
}

/// Empties `v` and makes it able to hold `len` blocks, keeping its allocation if that is big
/// enough. A too-small one is freed first rather than grown, so nothing is copied.
fn reserve_blocks(v: &mut Vec<Block>, len: usize) -> Result<(), Error> {
    if v.capacity() < len {
        *v = Vec::new();
    }
    v.clear();
    v.try_reserve_exact(len).map_err(|_| Error::OutOfMemory)
}

/// ROMix on each of the `p` chunks of `128 * r` bytes in `b`, in place, with fresh working memory.
#[cfg(test)]
pub(crate) fn romix_all(b: &mut [u8], r: usize, log_n: u8, p: usize) -> Result<(), Error> {
    let (mut v, mut x, mut y) = (Vec::new(), Vec::new(), Vec::new());
    romix_all_in(b, r, log_n, p, &mut v, &mut x, &mut y)
}

/// ROMix on each of the `p` chunks of `128 * r` bytes in `b`, in place. `v` (`128 * r * N`
/// bytes) and the two working blocks `x` and `y` are the caller's; they grow here if they are too
/// small (once; nothing is allocated inside the loops) and are left holding the last state, which
/// the caller wipes.
pub(crate) fn romix_all_in(
    b: &mut [u8],
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
    reserve_blocks(v, two_r * n)?;
    reserve_blocks(x, two_r)?;
    reserve_blocks(y, two_r)?;
    x.resize(two_r, [0; 16]);
    y.resize(two_r, [0; 16]);
    let (mut x, mut y) = (x, y);
    for chunk in b.chunks_exact_mut(128 * r).take(p) {
        for (block, bytes) in x.iter_mut().zip(chunk.chunks_exact(64)) {
            *block = block_from_bytes(bytes);
        }
        v.clear();
        for _ in 0..n {
            v.extend_from_slice(x);
            block_mix(x, y);
            core::mem::swap(&mut x, &mut y);
        }
        for _ in 0..n {
            // Neither fails: x has 2r blocks, j < N and v has N * 2r blocks.
            let Some(last) = x.last() else {
                return Err(Error::InvalidParams);
            };
            let j = ((u64::from(last[1]) << 32 | u64::from(last[0])) & mask) as usize;
            let Some(vj) = v.get(j * two_r..(j + 1) * two_r) else {
                return Err(Error::InvalidParams);
            };
            for (xb, vb) in x.iter_mut().zip(vj) {
                *xb = xor(xb, vb);
            }
            block_mix(x, y);
            core::mem::swap(&mut x, &mut y);
        }
        for (block, bytes) in x.iter().zip(chunk.chunks_exact_mut(64)) {
            block_to_bytes(block, bytes);
        }
    }
    Ok(())
}
