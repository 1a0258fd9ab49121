//! Errors of the browser layer: JS exceptions and media failures as typed values.

use super::js::get_str;
use crate::prelude::*;
use alloc::fmt;
use wasm_bindgen::JsValue;

/// A JS exception or `DOMException`, reduced to its `name` and `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebError {
    /// The exception's `name` (for example `NotAllowedError`, `InvalidStateError`).
    pub name: String,
    /// The exception's `message`.
    pub message: String,
}

impl WebError {
    /// An error with a fixed name and message.
    pub fn new(name: &str, message: &str) -> Self {
        WebError {
            name: name.into(),
            message: message.into(),
        }
    }
}

impl WebError {
    /// `name: message`, built without the formatting machinery.
    pub fn text(&self) -> String {
        let mut s = String::with_capacity(self.name.len() + 2 + self.message.len());
        s.push_str(&self.name);
        s.push_str(": ");
        s.push_str(&self.message);
        s
    }
}

impl From<JsValue> for WebError {
    fn from(v: JsValue) -> Self {
        // DOMExceptions, Errors and other objects (some browsers' OverconstrainedError) all
        // carry name/message; a thrown string is the message.
        WebError {
            name: get_str(&v, "name").unwrap_or_else(|| "Error".into()),
            message: get_str(&v, "message")
                .or_else(|| v.as_string())
                .unwrap_or_default(),
        }
    }
}

impl fmt::Display for WebError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        f.write_str(": ")?;
        f.write_str(&self.message)
    }
}

/// Why a camera, microphone or screen could not be acquired (keyed on the DOMException name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaError {
    /// The user or the browser refused permission (`NotAllowedError`).
    NotAllowed(WebError),
    /// No device matches (`NotFoundError`).
    NotFound(WebError),
    /// The device is in use or failed (`NotReadableError`).
    NotReadable(WebError),
    /// The constraints cannot be satisfied (`OverconstrainedError`).
    Overconstrained(WebError),
    /// Insecure context or policy (`SecurityError`).
    Security(WebError),
    /// Acquisition was aborted (`AbortError`).
    Abort(WebError),
    /// `navigator.mediaDevices` is missing (no secure context or no browser).
    Unsupported,
    /// Anything else.
    Other(WebError),
}

impl MediaError {
    /// The underlying browser error, if any.
    pub fn web(&self) -> Option<&WebError> {
        match self {
            MediaError::NotAllowed(e)
            | MediaError::NotFound(e)
            | MediaError::NotReadable(e)
            | MediaError::Overconstrained(e)
            | MediaError::Security(e)
            | MediaError::Abort(e)
            | MediaError::Other(e) => Some(e),
            MediaError::Unsupported => None,
        }
    }

    /// A stable name for the JS error class (`NotAllowedError`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            MediaError::NotAllowed(_) => "NotAllowedError",
            MediaError::NotFound(_) => "NotFoundError",
            MediaError::NotReadable(_) => "NotReadableError",
            MediaError::Overconstrained(_) => "OverconstrainedError",
            MediaError::Security(_) => "SecurityError",
            MediaError::Abort(_) => "AbortError",
            MediaError::Unsupported => "NotSupportedError",
            MediaError::Other(_) => "MediaError",
        }
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        match self.web() {
            Some(e) => &e.message,
            None => "media devices are not available in this context",
        }
    }
}

/// The DOMException names of the media errors (legacy names included), by variant.
const KINDS: [(&str, u8); 10] = [
    ("NotAllowedError", 0),
    ("PermissionDeniedError", 0),
    ("NotFoundError", 1),
    ("DevicesNotFoundError", 1),
    ("NotReadableError", 2),
    ("TrackStartError", 2),
    ("OverconstrainedError", 3),
    ("ConstraintNotSatisfiedError", 3),
    ("SecurityError", 4),
    ("AbortError", 5),
];

impl From<WebError> for MediaError {
    #[inline(never)]
    fn from(e: WebError) -> Self {
        let kind = KINDS.iter().find(|(n, _)| *n == e.name).map_or(6, |k| k.1);
        match kind {
            0 => MediaError::NotAllowed(e),
            1 => MediaError::NotFound(e),
            2 => MediaError::NotReadable(e),
            3 => MediaError::Overconstrained(e),
            4 => MediaError::Security(e),
            5 => MediaError::Abort(e),
            _ => MediaError::Other(e),
        }
    }
}

impl From<JsValue> for MediaError {
    fn from(v: JsValue) -> Self {
        WebError::from(v).into()
    }
}
