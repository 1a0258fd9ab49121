//! The clock: the only place in the SDK that reads the time.
//!
//! The core never reads a clock; every input carries `now` from here.

use wasm_bindgen::JsCast;

/// Monotonic milliseconds since the page started (`performance.now()`).
pub fn now_ms() -> f64 {
    let p = super::js::get(&js_sys::global(), "performance");
    if p.is_object() {
        p.unchecked_into::<web_sys::Performance>().now()
    } else {
        js_sys::Date::now()
    }
}

/// Wall-clock milliseconds since the Unix epoch (`Date.now()`), for token expiry checks.
pub fn unix_ms() -> u64 {
    js_sys::Date::now() as u64
}
