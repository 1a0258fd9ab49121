//! The WebSocket adapter (text frames, subprotocol `ovsp.v1`).

use super::error::WebError;
use super::js;
use super::listener::{hooks, Hook, Listener};
use crate::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::WebSocket;

/// Added to a socket's tag for its `open` event (the event itself carries nothing needed).
pub const OPENED: u32 = 0;
/// Added to a socket's tag for a `message` event ([`data`] reads its frame).
pub const MESSAGE: u32 = 1;
/// Added to a socket's tag for its `close` event ([`closed`] reads code and reason).
pub const CLOSED: u32 = 2;

/// An open (or opening) WebSocket; closing and listener removal happen on drop.
pub struct Socket {
    ws: WebSocket,
    _listeners: Vec<Listener>,
}

/// The frame of a `message` event: a JS string for a text frame (an `ArrayBuffer` for a
/// binary one).
pub fn data(e: &wasm_bindgen::JsValue) -> wasm_bindgen::JsValue {
    js::get(e, "data")
}

/// The close code (1006 when the connection dropped without a close frame) and reason of a
/// `close` event.
pub fn closed(e: &wasm_bindgen::JsValue) -> (u16, String) {
    (
        js::get_f64(e, "code").map_or(1006, |c| c as u16),
        js::get_str(e, "reason").unwrap_or_default(),
    )
}

impl Socket {
    /// Opens `url` offering `protocol`; its events go to `h` with `tag` plus [`OPENED`],
    /// [`MESSAGE`] or [`CLOSED`].
    pub fn open(url: &str, protocol: &str, h: &Hook, tag: u32) -> Result<Socket, WebError> {
        let ws: WebSocket =
            js::construct("WebSocket", &[&url.into(), &protocol.into()])?.unchecked_into();
        js::set_str(&ws, "binaryType", "arraybuffer");
        let t: &web_sys::EventTarget = ws.as_ref();
        // `OPENED`, `MESSAGE` and `CLOSED` in order.
        let listeners = hooks(t, &["open", "message", "close"], h, tag);
        Ok(Socket {
            ws,
            _listeners: listeners,
        })
    }

    /// Sends one text frame (dropped when the socket is already closing or closed); false when
    /// the browser refused it.
    pub fn send(&self, text: &wasm_bindgen::JsValue) -> bool {
        // A closing or closed socket drops the frame either way (its close event follows);
        // send() would only make the browser log "already in CLOSING or CLOSED state".
        js::get_f64(&self.ws, "readyState").unwrap_or(0.0) > 1.0
            || js::call(&self.ws, "send", &[text]).is_ok()
    }

    /// Starts the closing handshake with `code` (1000 or 3000-4999) and `reason`.
    pub fn close(&self, code: u16, reason: &str) {
        let _ = js::call(&self.ws, "close", &[&code.into(), &reason.into()]);
    }

    /// The underlying browser object (tests use it to simulate a network drop).
    pub fn raw(&self) -> &WebSocket {
        &self.ws
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // The listeners are removed right after this body, so no event of this socket is
        // delivered once it is dropped.
        let _ = js::call(&self.ws, "close", &[]);
    }
}
