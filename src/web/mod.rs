//! The browser layer: adapters over web-sys and the session actor that joins them to the core.
//!
//! Everything here runs on the page's single thread. The adapters own every browser object
//! and every JS callback:
//!
//! - [`listener`]: RAII [`listener::Listener`] / [`listener::Timer`]; nothing is leaked with
//!   `Closure::forget`, and [`listener::live_callbacks`] counts what is still registered;
//! - [`ws`]: the WebSocket (subprotocol `ovsp.v1`);
//! - [`peer`]: RTCPeerConnection for the publishing and subscribing connections;
//! - [`media`]: getUserMedia / getDisplayMedia, the device list, `devicechange`, and
//!   [`media::LocalTrack`] which stops its track when dropped;
//! - [`element`]: attaching tracks to `<video>`/`<audio>`, autoplay blocks, `setSinkId`;
//! - [`clock`]: the only place that reads the time;
//! - [`chan`]: the actor's inbox and one-shot replies.

pub mod chan;
pub mod clock;
pub mod element;
pub mod error;
pub mod listener;
pub mod media;
pub mod peer;
pub mod ws;
