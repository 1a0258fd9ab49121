//! Small helpers: ids, clock, rate limiting.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A random id with a prefix, e.g. `mem_3fA9…` (96 bits of randomness).
pub fn new_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let mut s = String::with_capacity(prefix.len() + 17);
    s.push_str(prefix);
    for _ in 0..16 {
        s.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
    }
    s
}

/// A 128-bit random resume token, hex encoded, prefixed `rt_`.
pub fn new_resume_token() -> String {
    let v: u128 = rand::rngs::OsRng.gen();
    format!("rt_{v:032x}")
}

/// Token bucket: `rate` tokens per second, at most `burst` stored.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// A full bucket.
    pub fn new(rate: u32, burst: u32) -> Self {
        RateLimiter {
            rate: f64::from(rate),
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: Instant::now(),
        }
    }

    /// Takes one token; on refusal returns how long until one is available.
    pub fn take(&mut self, now: Instant) -> Result<(), u64> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / self.rate;
            Err((wait * 1000.0).ceil() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_burst_then_rate() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(50, 100);
        rl.last = t0;
        for _ in 0..100 {
            assert!(rl.take(t0).is_ok());
        }
        assert!(rl.take(t0).is_err());
        // 1 s later: 50 more.
        let t1 = t0 + Duration::from_secs(1);
        for _ in 0..50 {
            assert!(rl.take(t1).is_ok());
        }
        assert!(rl.take(t1).is_err());
    }

    #[test]
    fn ids_are_prefixed_and_distinct() {
        let a = new_id("mem_");
        assert!(a.starts_with("mem_") && a.len() <= 64);
        assert_ne!(a, new_id("mem_"));
        assert_eq!(new_resume_token().len(), 35);
    }
}
