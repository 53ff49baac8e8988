//! Unbiased random strings over the short-link alphabet, drawn from the platform CSPRNG.

/// Lowercase letters and digits without the confusable `0 o 1 l i`: 31 symbols.
pub const ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// The CSPRNG could not be read; nothing sensible can be generated without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomUnavailable;

impl std::fmt::Display for RandomUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the random number generator is unavailable")
    }
}

/// Draws `len` symbols of [`ALPHABET`] from `getrandom`.
pub fn random_string(len: usize) -> Result<String, RandomUnavailable> {
    sample(len, |buf| {
        getrandom::fill(buf).map_err(|_| RandomUnavailable)
    })
}

/// A uniformly random `u32` from `getrandom` (an A/B split's draw).
pub fn random_u32() -> Result<u32, RandomUnavailable> {
    let mut buf = [0u8; 4];
    getrandom::fill(&mut buf).map_err(|_| RandomUnavailable)?;
    Ok(u32::from_le_bytes(buf))
}

/// Draws `len` symbols from bytes produced by `fill`.
///
/// A byte is used only when it is below the largest multiple of the alphabet size
/// (248 = 8 × 31); larger bytes are rejected and redrawn, so every symbol is equally
/// likely (a plain `byte % 31` would favour the first eight symbols).
pub fn sample<F>(len: usize, mut fill: F) -> Result<String, RandomUnavailable>
where
    F: FnMut(&mut [u8]) -> Result<(), RandomUnavailable>,
{
    let size = ALPHABET.len();
    let limit = 256 - 256 % size;
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 32];
    while out.len() < len {
        fill(&mut buf)?;
        for &byte in &buf {
            if out.len() == len {
                break;
            }
            if usize::from(byte) < limit {
                if let Some(&symbol) = ALPHABET.get(usize::from(byte) % size) {
                    out.push(char::from(symbol));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_have_the_requested_length_and_only_alphabet_symbols() {
        for len in [1, 8, 27, 100] {
            let s = random_string(len).unwrap();
            assert_eq!(s.len(), len);
            assert!(s.bytes().all(|b| ALPHABET.contains(&b)), "{s}");
        }
    }

    #[test]
    fn the_alphabet_has_no_confusable_symbols() {
        for c in [b'0', b'o', b'1', b'l', b'i'] {
            assert!(!ALPHABET.contains(&c));
        }
        assert_eq!(ALPHABET.len(), 31);
    }

    #[test]
    fn bytes_at_or_above_248_are_rejected_not_folded() {
        // 248..=255 would map to the first eight symbols under a plain modulo.
        let mut calls = 0;
        let s = sample(4, |buf| {
            calls += 1;
            let fillbyte = if calls == 1 { 250 } else { 31 + 2 };
            buf.iter_mut().for_each(|b| *b = fillbyte);
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, 2);
        assert_eq!(s, "4444");
    }

    #[test]
    fn an_unavailable_generator_is_an_error_not_a_panic() {
        assert_eq!(
            sample(8, |_| Err(RandomUnavailable)),
            Err(RandomUnavailable)
        );
    }

    #[test]
    fn symbols_are_roughly_uniform() {
        let mut counts = [0u32; 31];
        let s = random_string(31 * 2000).unwrap();
        for b in s.bytes() {
            let idx = ALPHABET.iter().position(|&a| a == b).unwrap();
            counts[idx] += 1;
        }
        // Expected 2000 each; 5 standard deviations is about ±220.
        assert!(
            counts.iter().all(|&c| (1700..2300).contains(&c)),
            "{counts:?}"
        );
    }
}
