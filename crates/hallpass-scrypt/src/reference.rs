//! A straightforward ROMix, written from RFC 7914's pseudo-code with no attention to speed (loops,
//! copies, the salsa20/8 core as an indexed loop). Test-only: the fast one is checked against it.

use crate::Error;

type Block = [u32; 16];

fn salsa20_8(input: &Block) -> Block {
    const QUARTERS: [[usize; 4]; 8] = [
        [0, 4, 8, 12],
        [5, 9, 13, 1],
        [10, 14, 2, 6],
        [15, 3, 7, 11],
        [0, 1, 2, 3],
        [5, 6, 7, 4],
        [10, 11, 8, 9],
        [15, 12, 13, 14],
    ];
    let mut x = *input;
    for _ in 0..4 {
        for [a, b, c, d] in QUARTERS {
            x[b] ^= x[a].wrapping_add(x[d]).rotate_left(7);
            x[c] ^= x[b].wrapping_add(x[a]).rotate_left(9);
            x[d] ^= x[c].wrapping_add(x[b]).rotate_left(13);
            x[a] ^= x[d].wrapping_add(x[c]).rotate_left(18);
        }
    }
    for i in 0..16 {
        x[i] = x[i].wrapping_add(input[i]);
    }
    x
}

/// RFC 7914 section 4: `B' = BlockMix(B)`.
fn block_mix(b: &[Block]) -> Vec<Block> {
    let two_r = b.len();
    let mut x = b[two_r - 1];
    let mut y = Vec::with_capacity(two_r);
    for block in b {
        for k in 0..16 {
            x[k] ^= block[k];
        }
        x = salsa20_8(&x);
        y.push(x);
    }
    let mut out: Vec<Block> = y.iter().step_by(2).copied().collect();
    out.extend(y.iter().skip(1).step_by(2).copied());
    out
}

fn block_from_bytes(bytes: &[u8]) -> Block {
    let mut w = [0u32; 16];
    for (k, word) in w.iter_mut().enumerate() {
        let mut le = [0u8; 4];
        le.copy_from_slice(&bytes[4 * k..4 * k + 4]);
        *word = u32::from_le_bytes(le);
    }
    w
}

fn block_to_bytes(block: &Block, bytes: &mut [u8]) {
    for (k, word) in block.iter().enumerate() {
        bytes[4 * k..4 * k + 4].copy_from_slice(&word.to_le_bytes());
    }
}

/// RFC 7914 section 5, on each of the `p` chunks of `128 * r` bytes in `b`.
pub(crate) fn romix_all(b: &mut [u8], r: usize, log_n: u8, p: usize) -> Result<(), Error> {
    let n = 1usize << log_n;
    for chunk in b.chunks_exact_mut(128 * r).take(p) {
        let mut x: Vec<Block> = chunk.chunks_exact(64).map(block_from_bytes).collect();
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(x.clone());
            x = block_mix(&x);
        }
        for _ in 0..n {
            let last = x[2 * r - 1];
            let j = ((u64::from(last[1]) << 32 | u64::from(last[0])) % n as u64) as usize;
            for (xb, vb) in x.iter_mut().zip(&v[j]) {
                for k in 0..16 {
                    xb[k] ^= vb[k];
                }
            }
            x = block_mix(&x);
        }
        for (block, bytes) in x.iter().zip(chunk.chunks_exact_mut(64)) {
            block_to_bytes(block, bytes);
        }
    }
    Ok(())
}

pub(crate) fn salsa20_8_bytes(input: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    block_to_bytes(&salsa20_8(&block_from_bytes(input)), &mut out);
    out
}

pub(crate) fn block_mix_bytes(input: &[u8], r: usize) -> Vec<u8> {
    let x: Vec<Block> = input.chunks_exact(64).map(block_from_bytes).collect();
    let mut out = vec![0u8; 128 * r];
    for (block, bytes) in block_mix(&x).iter().zip(out.chunks_exact_mut(64)) {
        block_to_bytes(block, bytes);
    }
    out
}
