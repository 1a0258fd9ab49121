//! Talking detection from the RFC 6464 audio level, with hysteresis.
//!
//! The audio level is in -dBov (0 loudest, -127 silence). The member's input sensitivity
//! (0..=100, default 30) sets the threshold: `-20 - 0.6 × sensitivity` dBov (sensitivity 0 →
//! -20 dBov, only loud speech; 30 → -38 dBov; 100 → -80 dBov, almost anything). Talking starts
//! after the level has stayed at or above the threshold for [`START_AFTER`] (brief dips down to
//! 6 dB under it are tolerated) and stops after [`STOP_AFTER`] without a loud packet.

use std::time::{Duration, Instant};

/// Loudness must hold this long before talking starts.
pub(crate) const START_AFTER: Duration = Duration::from_millis(60);
/// Talking stops after this long without a loud packet.
pub(crate) const STOP_AFTER: Duration = Duration::from_millis(700);
/// Hysteresis: the level must fall this far below the threshold to break a loud run.
const HYSTERESIS_DB: i16 = 6;

/// Default input sensitivity of a member.
pub(crate) const DEFAULT_SENSITIVITY: u8 = 30;

/// The talking detector of one member.
#[derive(Debug, Clone)]
pub(crate) struct Talk {
    sensitivity: u8,
    talking: bool,
    loud_since: Option<Instant>,
    last_loud: Option<Instant>,
    level: f32,
    last_packet: Option<Instant>,
}

impl Default for Talk {
    fn default() -> Self {
        Talk {
            sensitivity: DEFAULT_SENSITIVITY,
            talking: false,
            loud_since: None,
            last_loud: None,
            level: 0.0,
            last_packet: None,
        }
    }
}

impl Talk {
    /// Sets the sensitivity (clamped to 0..=100).
    pub fn set_sensitivity(&mut self, value: u8) {
        self.sensitivity = value.min(100);
    }

    fn threshold(&self) -> i16 {
        -20 - (i16::from(self.sensitivity) * 6 / 10)
    }

    /// Whether the member is talking.
    pub fn talking(&self) -> bool {
        self.talking
    }

    /// Smoothed level 0..=1.
    pub fn level(&self) -> f32 {
        self.level
    }

    /// Feeds one audio packet's level (-127..=0 dBov). Returns `Some(new state)` on an edge.
    pub fn packet(&mut self, now: Instant, dbov: i8) -> Option<bool> {
        let dbov = i16::from(dbov).clamp(-127, 0);
        let linear = f32::from(127 + dbov) / 127.0;
        self.level = self.level * 0.7 + linear * 0.3;
        self.last_packet = Some(now);
        let threshold = self.threshold();
        if dbov >= threshold {
            self.last_loud = Some(now);
            if self.loud_since.is_none() {
                self.loud_since = Some(now);
            }
        } else if dbov < threshold - HYSTERESIS_DB {
            self.loud_since = None;
        }
        if !self.talking {
            if let Some(since) = self.loud_since {
                if now.saturating_duration_since(since) >= START_AFTER {
                    self.talking = true;
                    return Some(true);
                }
            }
        }
        self.tick(now)
    }

    /// Advances time without a packet. Returns `Some(false)` when talking stops.
    pub fn tick(&mut self, now: Instant) -> Option<bool> {
        if let Some(last) = self.last_packet {
            if now.saturating_duration_since(last) >= STOP_AFTER {
                self.level = 0.0;
                self.loud_since = None;
            }
        }
        if self.talking {
            let quiet = self
                .last_loud
                .map(|t| now.saturating_duration_since(t) >= STOP_AFTER)
                .unwrap_or(true);
            if quiet {
                self.talking = false;
                self.loud_since = None;
                return Some(false);
            }
        }
        None
    }

    /// Forces the detector silent (track muted, blocked or gone). Returns `Some(false)` on an
    /// edge.
    pub fn silence(&mut self) -> Option<bool> {
        self.loud_since = None;
        self.last_loud = None;
        self.level = 0.0;
        if self.talking {
            self.talking = false;
            Some(false)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(t: &mut Talk, start: Instant, from_ms: u64, to_ms: u64, dbov: i8) -> Vec<bool> {
        let mut edges = Vec::new();
        let mut ms = from_ms;
        while ms < to_ms {
            if let Some(e) = t.packet(start + Duration::from_millis(ms), dbov) {
                edges.push(e);
            }
            ms += 20;
        }
        edges
    }

    #[test]
    fn hysteresis_and_edges() {
        let start = Instant::now();
        let mut t = Talk::default();
        // Silence: no edge.
        assert!(feed(&mut t, start, 0, 500, -100).is_empty());
        // Loud speech: one rising edge.
        assert_eq!(feed(&mut t, start, 500, 1500, -20), vec![true]);
        assert!(t.talking());
        // A short dip does not end talking.
        assert!(feed(&mut t, start, 1500, 1800, -90).is_empty());
        assert_eq!(feed(&mut t, start, 1800, 2000, -20), Vec::<bool>::new());
        // Long silence: one falling edge.
        assert_eq!(feed(&mut t, start, 2000, 3500, -100), vec![false]);
        assert!(!t.talking());
    }

    #[test]
    fn sensitivity_is_the_threshold() {
        let start = Instant::now();
        let mut deaf_ear = Talk::default();
        deaf_ear.set_sensitivity(0);
        assert!(feed(&mut deaf_ear, start, 0, 1000, -40).is_empty());
        let mut keen = Talk::default();
        keen.set_sensitivity(100);
        assert_eq!(feed(&mut keen, start, 0, 1000, -40), vec![true]);
    }

    #[test]
    fn stops_when_packets_stop() {
        let start = Instant::now();
        let mut t = Talk::default();
        assert_eq!(feed(&mut t, start, 0, 400, -10), vec![true]);
        assert_eq!(t.tick(start + Duration::from_millis(600)), None);
        assert_eq!(t.tick(start + Duration::from_millis(1200)), Some(false));
    }
}
