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
    /// Connection state changes, and why a session ended (the application also gets that as
    /// an event or a rejected promise).
    Info,
    /// Unexpected failures the session lives with (a peer operation, a data message not sent).
    #[default]
    Warn,
    /// Failures nothing else reports to the application.
    Error,
    /// Nothing.
    Silent,
}

impl Level {
    /// The level of a `logLevel` name (`trace`, `debug`, `info`, `warn`, `error`, `silent`).
    pub fn parse(name: &str) -> Option<Level> {
        let i = NAMES.iter().position(|n| *n == name)?;
        Some(LEVELS[i])
    }
}

/// The `logLevel` names, in the order of [`LEVELS`].
const NAMES: [&str; 6] = ["trace", "debug", "info", "warn", "error", "silent"];
const LEVELS: [Level; 6] = [
    Level::Trace,
    Level::Debug,
    Level::Info,
    Level::Warn,
    Level::Error,
    Level::Silent,
];

/// Writes `msg` (and `value`, unless undefined) at level `at` when `threshold` lets it through
/// (`console.debug` for trace and debug, then `console.info`, `console.warn`, `console.error`).
#[inline(never)]
pub fn write(threshold: Level, at: Level, msg: &str, value: &JsValue) {
    if at < threshold || at == Level::Silent {
        return;
    }
    let method = match at {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        _ => "debug",
    };
    // One dynamic call instead of an import per console method keeps the glue small.
    // A console without the method throws, which is ignored.
    let console = super::js::get(&js_sys::global(), "console");
    let msg = JsValue::from_str(msg);
    let args: &[&JsValue] = if value.is_undefined() {
        &[&msg]
    } else {
        &[&msg, value]
    };
    let _ = super::js::call(&console, method, args);
}
