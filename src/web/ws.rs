//! The WebSocket adapter (text frames, subprotocol `ovsp.v1`).

use super::error::WebError;
use super::js;
use super::listener::Listener;
use std::rc::Rc;
use web_sys::WebSocket;

/// What the socket reports; produced inside the browser callbacks and queued for the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketEvent {
    /// The socket is open; `protocol` is the subprotocol the server selected.
    Opened {
        /// Selected subprotocol (empty when the server chose none).
        protocol: String,
    },
    /// A text frame arrived.
    Text(String),
    /// The socket closed.
    Closed {
        /// The close code (1006 when the connection dropped without a close frame).
        code: u16,
        /// The close reason.
        reason: String,
        /// Whether the closing handshake completed.
        clean: bool,
    },
    /// The browser reported an error (a `Closed` always follows).
    Error,
}

/// An open (or opening) WebSocket; closing and listener removal happen on drop.
pub struct Socket {
    ws: WebSocket,
    _listeners: [Listener; 4],
}

impl Socket {
    /// Opens `url` offering `protocol`; every event goes to `sink` (called from browser callbacks).
    pub fn open<F: Fn(SocketEvent) + 'static>(
        url: &str,
        protocol: &str,
        sink: F,
    ) -> Result<Socket, WebError> {
        let ws = WebSocket::new_with_str(url, protocol)?;
        js::set_str(&ws, "binaryType", "arraybuffer");
        let sink = Rc::new(sink);
        let t: &web_sys::EventTarget = ws.as_ref();
        let (s1, s2, s3, s4) = (sink.clone(), sink.clone(), sink.clone(), sink);
        let ws1 = ws.clone();
        let listeners = [
            Listener::new(t, "open", move |_| {
                s1(SocketEvent::Opened {
                    protocol: js::get_str(&ws1, "protocol").unwrap_or_default(),
                })
            }),
            Listener::new(t, "message", move |e| {
                if let Some(text) = js::get_str(&e, "data") {
                    s2(SocketEvent::Text(text));
                }
            }),
            Listener::new(t, "close", move |e| {
                s3(SocketEvent::Closed {
                    code: js::get_f64(&e, "code").map_or(1006, |c| c as u16),
                    reason: js::get_str(&e, "reason").unwrap_or_default(),
                    clean: js::get(&e, "wasClean").is_truthy(),
                })
            }),
            Listener::new(t, "error", move |_| s4(SocketEvent::Error)),
        ];
        Ok(Socket {
            ws,
            _listeners: listeners,
        })
    }

    /// Sends one text frame (dropped when the socket is already closing or closed).
    pub fn send(&self, text: &str) -> Result<(), WebError> {
        // A closing or closed socket drops the frame either way (its close event follows);
        // send() would only make the browser log "already in CLOSING or CLOSED state".
        if self.ws.ready_state() > WebSocket::OPEN {
            return Ok(());
        }
        self.ws.send_with_str(text).map_err(WebError::from)
    }

    /// True once the socket is open and not yet closing.
    pub fn is_open(&self) -> bool {
        self.ws.ready_state() == WebSocket::OPEN
    }

    /// Starts the closing handshake with `code` (1000 or 3000-4999) and `reason`.
    pub fn close(&self, code: u16, reason: &str) {
        let _ = self.ws.close_with_code_and_reason(code, reason);
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
        let _ = self.ws.close();
    }
}
