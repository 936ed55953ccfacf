//! The mutation engine: byte-level and (for text formats) token-level edits, driven by one
//! seeded ChaCha stream, so the same seed gives the same inputs.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Bytes that often sit on a parser's boundaries.
pub const INTERESTING_BYTES: [u8; 10] = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x20, 0x0a, b'"', b'['];

/// Little-endian integers that often sit on a parser's boundaries: 0, 1, −1, the extremes of
/// i8/i16/i32/u32/i64/u64 and lengths big enough to overflow an allocation.
pub const INTERESTING_INTS: [u64; 16] = [
    0,
    1,
    u64::MAX, // −1
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0x8000,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0x0000_1000_0000_0000, // 16 TiB: a "huge length"
];

/// Replacements for a number in a text format.
pub const INTERESTING_NUMBERS: [&str; 12] = [
    "-1",
    "0",
    "1",
    "1e309",
    "-1e309",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "18446744073709551616",
    "9223372036854775807",
    "4294967296",
];

/// The mutation engine (deterministic for a given seed).
#[derive(Debug, Clone)]
pub struct Mutator {
    rng: ChaCha8Rng,
    /// Inputs never grow beyond this many bytes.
    pub max_len: usize,
}

impl Mutator {
    /// A mutator seeded with `seed`.
    pub fn new(seed: u64) -> Mutator {
        Mutator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            max_len: 1 << 20,
        }
    }

    /// The random stream (for the caller's own choices, e.g. which corpus entry to mutate).
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// A mutant of `input`: 1–4 stacked edits; `text` adds token-level edits; `other` is a
    /// second corpus entry for splicing.
    pub fn mutate(&mut self, input: &[u8], other: &[u8], text: bool) -> Vec<u8> {
        let mut out = input.to_vec();
        let n = 1 + self
            .rng
            .random_range(0..4u32)
            .min(self.rng.random_range(0..4u32));
        for _ in 0..n {
            if text && self.rng.random_bool(0.6) {
                self.text_edit(&mut out);
            } else {
                self.byte_edit(&mut out, other);
            }
        }
        out.truncate(self.max_len);
        out
    }

    fn pos(&mut self, len: usize) -> usize {
        if len == 0 {
            0
        } else {
            self.rng.random_range(0..len)
        }
    }

    /// A range start and length inside `len` (length ≥ 1 when `len` > 0), biased to short.
    fn range(&mut self, len: usize) -> (usize, usize) {
        if len == 0 {
            return (0, 0);
        }
        let start = self.pos(len);
        let max = (len - start).min(if self.rng.random_bool(0.8) { 16 } else { 4096 });
        (start, 1 + self.pos(max))
    }

    fn byte_edit(&mut self, b: &mut Vec<u8>, other: &[u8]) {
        match self.rng.random_range(0..10u32) {
            0 => {
                // bit flip
                if !b.is_empty() {
                    let i = self.pos(b.len());
                    b[i] ^= 1 << self.rng.random_range(0..8);
                }
            }
            1 => {
                if !b.is_empty() {
                    let i = self.pos(b.len());
                    b[i] = INTERESTING_BYTES[self.pos(INTERESTING_BYTES.len())];
                }
            }
            2 => {
                if !b.is_empty() {
                    let i = self.pos(b.len());
                    b[i] = self.rng.random();
                }
            }
            3 => {
                // insert random bytes
                let i = self.pos(b.len() + 1);
                let k = 1 + self.pos(8);
                let bytes: Vec<u8> = (0..k).map(|_| self.rng.random()).collect();
                b.splice(i..i, bytes);
            }
            4 => {
                let (s, l) = self.range(b.len());
                b.drain(s..s + l);
            }
            5 => {
                // duplicate a range in place
                let (s, l) = self.range(b.len());
                let chunk = b[s..s + l].to_vec();
                let at = self.pos(b.len() + 1);
                b.splice(at..at, chunk);
            }
            6 => {
                let keep = self.pos(b.len() + 1);
                b.truncate(keep);
            }
            7 | 8 => {
                // overwrite with an interesting little-endian integer of 1, 2, 4 or 8 bytes
                let v = INTERESTING_INTS[self.pos(INTERESTING_INTS.len())];
                let w = [1usize, 2, 4, 8][self.pos(4)];
                let v = if self.rng.random_bool(0.2) {
                    v.wrapping_add(self.rng.random_range(0..3)).wrapping_sub(1)
                } else {
                    v
                };
                if b.len() >= w {
                    let i = self.pos(b.len() - w + 1);
                    b[i..i + w].copy_from_slice(&v.to_le_bytes()[..w]);
                }
            }
            _ => {
                // splice: a prefix of this input and a suffix of the other
                if !other.is_empty() {
                    let a = self.pos(b.len() + 1);
                    let c = self.pos(other.len());
                    b.truncate(a);
                    b.extend_from_slice(&other[c..]);
                }
            }
        }
    }

    fn text_edit(&mut self, b: &mut Vec<u8>) {
        match self.rng.random_range(0..5u32) {
            0 | 1 => {
                // a number replaced by an interesting one
                let nums = number_spans(b);
                if let Some(&(s, e)) = nums.get(self.pos(nums.len())) {
                    let r = INTERESTING_NUMBERS[self.pos(INTERESTING_NUMBERS.len())];
                    b.splice(s..e, r.bytes());
                }
            }
            2 => {
                // a bracket or quote deleted or duplicated
                let spots: Vec<usize> = b
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| b"[]{}\"'()<>".contains(c))
                    .map(|(i, _)| i)
                    .collect();
                if let Some(&i) = spots.get(self.pos(spots.len())) {
                    if self.rng.random_bool(0.5) {
                        b.remove(i);
                    } else {
                        b.insert(i, b[i]);
                    }
                }
            }
            _ => {
                // a line duplicated or removed
                let starts: Vec<usize> = std::iter::once(0)
                    .chain(
                        b.iter()
                            .enumerate()
                            .filter(|(_, c)| **c == b'\n')
                            .map(|(i, _)| i + 1),
                    )
                    .filter(|&i| i < b.len())
                    .collect();
                if let Some(&s) = starts.get(self.pos(starts.len())) {
                    let e = b[s..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(b.len(), |p| s + p + 1);
                    if self.rng.random_bool(0.5) {
                        b.drain(s..e);
                    } else {
                        let line = b[s..e].to_vec();
                        b.splice(e..e, line);
                    }
                }
            }
        }
    }
}

/// Byte spans of decimal numbers (with sign, fraction, exponent) in `b`.
pub fn number_spans(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts_num =
            b[i].is_ascii_digit() || (b[i] == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit));
        let prev_ident = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if starts_num && !prev_ident {
            let s = i;
            i += 1;
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || b[i] == b'.'
                    || b[i] == b'e'
                    || b[i] == b'E'
                    || ((b[i] == b'-' || b[i] == b'+') && matches!(b[i - 1], b'e' | b'E')))
            {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_inputs() {
        let seed = b"[a]\nx = 1.5\ny = [1, 2, 3]\nname = \"q\"\n".to_vec();
        let run = |s| {
            let mut m = Mutator::new(s);
            (0..200)
                .map(|_| m.mutate(&seed, b"other", true))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn numbers_are_found() {
        assert_eq!(number_spans(b"a = -1.5e3, b2 = 7"), vec![(4, 10), (17, 18)]);
    }

    #[test]
    fn empty_input_is_fine() {
        let mut m = Mutator::new(1);
        for _ in 0..1000 {
            let _ = m.mutate(&[], &[], true);
            let _ = m.mutate(&[], &[], false);
        }
    }
}
