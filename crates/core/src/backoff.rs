//! Reconnect backoff with jitter from a seeded, deterministic generator.
//!
//! The core has no randomness of its own: the seed arrives in [`crate::Config::seed`] and the
//! whole sequence of delays is a pure function of it.

/// SplitMix64: a tiny, well-distributed deterministic generator (Steele, Lea, Flood 2014).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole output is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value uniformly spread over `0..=max` (`max` small compared with 2^64).
    pub fn below_or_eq(&mut self, max: u64) -> u64 {
        if max == u64::MAX {
            return self.next_u64();
        }
        self.next_u64() % (max + 1)
    }
}

/// The nominal reconnect schedule of the protocol: 0, 500, 1000, 2000, 4000, then 5000 ms.
pub const SCHEDULE_MS: [u64; 6] = [0, 500, 1000, 2000, 4000, 5000];

/// Jitter applied to every delay, in percent (±).
pub const JITTER_PERCENT: u64 = 20;

/// Backoff state for one outage: attempt counter plus the generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    attempt: u32,
    rng: SplitMix64,
}

impl Backoff {
    /// A fresh backoff drawing its jitter from `rng`.
    pub fn new(rng: SplitMix64) -> Self {
        Self { attempt: 0, rng }
    }

    /// Number of delays handed out since the last [`Backoff::reset`].
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Starts a new outage (the generator keeps running, so outages differ).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The delay before the next attempt: the schedule entry ±20 % jitter.
    pub fn next_delay_ms(&mut self) -> u64 {
        let idx = (self.attempt as usize).min(SCHEDULE_MS.len() - 1);
        self.attempt = self.attempt.saturating_add(1);
        jittered(SCHEDULE_MS[idx], &mut self.rng)
    }
}

/// `base` ±20 %, uniformly, drawn from `rng`.
pub fn jittered(base: u64, rng: &mut SplitMix64) -> u64 {
    let span = base * JITTER_PERCENT / 100;
    if span == 0 {
        return base;
    }
    base - span + rng.below_or_eq(2 * span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn splitmix_known_values() {
        // Reference outputs of SplitMix64 for seed 0.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn schedule_with_jitter_is_deterministic_and_bounded() {
        let delays = |seed| {
            let mut b = Backoff::new(SplitMix64::new(seed));
            (0..10).map(|_| b.next_delay_ms()).collect::<Vec<_>>()
        };
        let a = delays(7);
        assert_eq!(a, delays(7));
        assert_ne!(a, delays(8));
        assert_eq!(a[0], 0);
        for (i, d) in a.iter().enumerate() {
            let base = SCHEDULE_MS[i.min(5)];
            assert!(*d >= base * 8 / 10 && *d <= base * 12 / 10, "{i}: {d}");
        }
    }
}
