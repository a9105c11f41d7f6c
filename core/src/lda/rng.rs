//! The pseudo-random generator behind every sampler in this module.
//!
//! Topica carries its own generator instead of depending on `rand`, so that a seed reproduces
//! a model bit for bit whatever the version of a dependency. The generator is xoshiro256++
//! (Blackman and Vigna, "Scrambled linear pseudorandom number generators", 2021), seeded by
//! expanding a 64-bit seed with splitmix64 as its authors recommend.

/// One step of splitmix64: advances `state` and returns the next output.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256++: 256 bits of state, period 2^256 - 1, passes BigCrush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xoshiro256PlusPlus {
    state: [u64; 4],
}

impl Xoshiro256PlusPlus {
    /// Creates a generator whose state is the splitmix64 expansion of `seed`.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let state = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        // splitmix64 is a bijection of its counter, so four consecutive outputs are never all
        // zero, and the all-zero state (the one xoshiro cannot leave) is unreachable.
        Self { state }
    }

    /// Creates the generator for one of several independent streams under one seed, such as
    /// one stream per document or per partition of documents.
    pub fn for_stream(seed: u64, stream: u64) -> Self {
        let mut sm = stream;
        Self::new(seed ^ splitmix64(&mut sm))
    }

    /// Returns the next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Returns a uniform `f64` in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Returns a uniform integer in `0..n` (Lemire's multiply-shift, bias below 2^-32 for the
    /// topic counts used here). `n` must be positive.
    #[inline]
    pub fn below(&mut self, n: u32) -> u32 {
        debug_assert!(n > 0);
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_matches_reference_output() {
        // Worked out by hand from the algorithm's definition, starting from the state [1, 2, 3, 4]:
        // rotl(1 + 4, 23) + 1, then rotl(7 + rotl(6, 45), 23) + 7.
        let mut rng = Xoshiro256PlusPlus {
            state: [1, 2, 3, 4],
        };
        let expected: [u64; 2] = [41_943_041, 58_720_359];
        for value in expected {
            assert_eq!(rng.next_u64(), value);
        }
    }

    #[test]
    fn uniform_f64_stays_in_unit_interval() {
        let mut rng = Xoshiro256PlusPlus::new(7);
        for _ in 0..10_000 {
            let x = rng.next_f64();
            assert!((0.0..1.0).contains(&x), "{x} outside [0, 1)");
        }
    }

    #[test]
    fn below_covers_every_value() {
        let mut rng = Xoshiro256PlusPlus::new(3);
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            seen[rng.below(7) as usize] += 1;
        }
        for (value, count) in seen.iter().enumerate() {
            assert!(
                (800..1200).contains(count),
                "value {value} drawn {count} times of 7000"
            );
        }
    }
}
