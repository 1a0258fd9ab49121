//! The clock: the only place in the SDK that reads the time.
//!
//! The core never reads a clock; every input carries `now` from here.

/// Monotonic milliseconds since the page started (`performance.now()`).
pub fn now_ms() -> f64 {
    super::js::global_num("performance", "now").unwrap_or_else(js_sys::Date::now)
}

/// Wall-clock milliseconds since the Unix epoch (`Date.now()`), for token expiry checks.
pub fn unix_ms() -> u64 {
    js_sys::Date::now() as u64
}
