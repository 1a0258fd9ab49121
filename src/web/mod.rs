//! The browser layer: adapters over web-sys and the session actor that joins them to the core.
//!
//! Everything here runs on the page's single thread. The adapters own every browser object
//! and every JS callback:
//!
//! - [`listener`]: RAII [`listener::Listener`] / [`listener::Timer`]; no closure is ever
//!   leaked, and [`listener::live_callbacks`] counts what is still registered;
//! - [`ws`]: the WebSocket (subprotocol `ovsp.v1`);
//! - [`peer`]: RTCPeerConnection for the publishing and subscribing connections;
//! - [`media`]: getUserMedia / getDisplayMedia, the device list, `devicechange`, and
//!   [`media::LocalTrack`] which stops its track when dropped;
//! - [`element`]: attaching tracks to `<video>`/`<audio>`, autoplay blocks, `setSinkId`;
//! - [`clock`]: the only place that reads the time;
//! - [`js`]: plain JS objects and properties (dictionaries, event fields, states);
//! - [`log`]: console output filtered by the session's level (`logLevel`);
//! - [`chan`]: the actor's inbox and one-shot replies;
//! - [`session`]: the actor and [`SessionHandle`].
//!
//! # The API the facades use
//!
//! [`SessionHandle`] is a cheap `Clone` handle (an `Rc`); every method takes `&self` and no
//! method holds a borrow across an `await`, so it can live inside `#[wasm_bindgen]` classes
//! and be captured by `future_to_promise` blocks.
//!
//! | need | call |
//! |---|---|
//! | create (state `new`) | `SessionHandle::new(convene_core::Config)` (seed 0 = random) |
//! | any core command | `call(Command)`, a [`Reply`]: a future of `Result<Value, CoreError>` (a JSON value) (the command is submitted at once) |
//! | join / leave / destroy | `call(Command::Join)`, `leave()`, `destroy()` |
//! | events | `subscribe(Fn(&SessionEvent)) -> Subscription` (drop = unsubscribe); called after the actor released all borrows, in order; the callback may call the handle again |
//! | state | `state() -> convene_core::State` (a clone), `with_machine(|m| ..)`, `is_alive()` |
//! | acquire media | `SessionHandle::acquire(Source, &constraints) -> Result<MediaStreamTrack, MediaError>`; also [`media::user_media`], [`media::display_media`] |
//! | publish local media | `publish(track, Source, PublishOptions)`, `unpublish(cid)`, `replace_track(cid, track)`, `mute_track(cid, muted)`, `local_track(cid)`, `local_cids()` |
//! | remote media | `remote_track(track_id)` once `CoreEvent::RemoteTrackAttached` fired |
//! | show media | `attach(track_id or cid, Option<element>) -> element`, `detach(key)`, `resume_playback()` (after `MediaEvent::AutoplayBlocked`, from a user gesture), `set_speaker(sink_id)` |
//! | devices | [`media::devices`], `watch_devices()` (then `MediaEvent::DevicesChanged`) |
//! | stats | `stats() -> SessionStats` (totals and the raw reports of both connections) |
//! | configure (before join) | `set_ice_servers(Vec<convene_core::IceServer>)` (added to the server's), `set_log_level(log::Level)`; `log(level, msg, value)` writes through the session's filter |
//!
//! A published track the browser ends (camera unplugged) is replaced from another device of
//! the same kind (`MediaEvent::LocalTrackEnded`, then `DeviceFallback` or
//! `DeviceFallbackFailed`). The SDK owns published tracks: it stops them on unpublish,
//! replace and leave.
//!
//! Beware: `MediaStreamTrack` and `MediaStream` have a JS method named `clone()` which
//! web-sys exposes as an inherent method, so `track.clone()` *creates a new capture track*
//! (that nobody stops). Copy the handle with `Clone::clone(&track)` instead.

pub mod chan;
pub mod clock;
pub mod element;
pub mod error;
pub mod js;
pub mod listener;
pub mod log;
pub mod media;
pub mod peer;
pub mod session;
pub mod ws;

pub use session::{MediaEvent, Reply, SessionEvent, SessionHandle, SessionStats, Subscription};
