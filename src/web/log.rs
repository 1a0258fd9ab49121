//! What the SDK writes to the browser console, filtered by a level (the facades' `logLevel`).
//!
//! Each session has its own [`Level`]; a message is written when its level is at or above the
//! session's. `Silent` writes nothing. Messages are short fixed texts plus, where useful, one
//! value (an event name, a frame, an error), so logging costs no formatting machinery.

use wasm_bindgen::JsValue;

/// A console level, from the most verbose to none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Level {
    /// Every signaling frame sent and received.
    Trace,
    /// Every session event.
    Debug,
    /// Connection state changes.
    Info,
    /// Failures the session recovers from (a peer operation, a lost socket).
    #[default]
    Warn,
    /// Failures that end the session.
    Error,
    /// Nothing.
    Silent,
}

impl Level {
    /// The level of a `logLevel` name (`trace`, `debug`, `info`, `warn`, `error`, `silent`).
    pub fn parse(name: &str) -> Option<Level> {
        Some(match name {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "info" => Level::Info,
            "warn" => Level::Warn,
            "error" => Level::Error,
            "silent" => Level::Silent,
            _ => return None,
        })
    }
}

/// Writes `msg` (and `value`, unless undefined) at level `at` when `threshold` lets it through.
#[inline(never)]
pub fn write(threshold: Level, at: Level, msg: &str, value: &JsValue) {
    if at < threshold || at == Level::Silent {
        return;
    }
    let m = JsValue::from_str(msg);
    let v = value;
    use web_sys::console;
    match (at, v.is_undefined()) {
        (Level::Error, true) => console::error_1(&m),
        (Level::Error, false) => console::error_2(&m, v),
        (Level::Warn, true) => console::warn_1(&m),
        (Level::Warn, false) => console::warn_2(&m, v),
        (Level::Info, true) => console::info_1(&m),
        (Level::Info, false) => console::info_2(&m, v),
        (_, true) => console::debug_1(&m),
        (_, false) => console::debug_2(&m, v),
    }
}
