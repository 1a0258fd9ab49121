//! # `convene-core`: the sans-IO heart of the Convene SDK
//!
//! This crate holds everything about a video-room session that can be decided without a
//! browser: the signaling session (request correlation, keepalive, acks, resume and rejoin),
//! PeerConnection negotiation orchestration, the state store and its reducer, the event
//! catalogue that names events for each facade, typed errors and an event emitter.
//!
//! It never touches a socket, a PeerConnection, a clock or a random number generator, and it
//! has no async runtime: the same inputs always give the same outputs. That is what lets the
//! reconnection logic be proven by host tests in virtual time.
//!
//! ## The machine
//!
//! [`SessionMachine`] is driven like str0m's `Rtc` or quinn-proto's `Connection`:
//!
//! ```
//! use convene_core::{Command, Config, Input, Output, RequestHandle, SessionMachine};
//!
//! let mut m = SessionMachine::new(Config::new("wss://example.net/ovsp", "<jwt>", 42));
//! let now = 0;
//! m.handle_input(now, Input::Command { handle: RequestHandle(1), command: Command::Join });
//! // Drain every output after every input:
//! while let Some(out) = m.poll_output() {
//!     match out {
//!         Output::OpenSocket { .. } => { /* open a WebSocket */ }
//!         Output::SendFrame(_frame) => { /* ws.send(frame.to_string()) */ }
//!         _ => {}
//!     }
//! }
//! // Then arm one timer for `m.poll_timeout()` and feed `Input::Timeout` when it fires.
//! assert!(m.poll_timeout().is_some());
//! ```
//!
//! ### Inputs ([`Input`])
//! - [`Input::Command`]: a facade command ([`Command`]) with a [`RequestHandle`]; every command
//!   completes exactly once with [`Output::Completed`] (a result JSON or a typed
//!   [`CoreError`]). Generic [`Command::Rpc`] reaches any OVSP method.
//! - [`Input::FrameReceived`]: a frame from the WebSocket, parsed as JSON.
//! - [`Input::SocketOpened`] / [`Input::SocketClosed`] (with the close code; use 1006 when
//!   the socket failed).
//! - [`Input::Peer`]: a [`PeerEvent`] (description created, local/remote description set, ICE
//!   candidate, ICE state, remote track by mid, data-channel message, media change, failure).
//! - [`Input::Timeout`]: the deadline from [`SessionMachine::poll_timeout`] has passed.
//!
//! ### Outputs ([`Output`])
//! - [`Output::OpenSocket`] / [`Output::CloseSocket`] / [`Output::SendFrame`];
//! - [`Output::Peer`]: a [`PeerOp`] for the PeerConnection adapter. The driver performs the
//!   operations of one PeerConnection in order, each finishing before the next starts;
//! - [`Output::Event`]: a [`CoreEvent`] for the facades (named per facade by [`catalogue`]);
//! - [`Output::Completed`]: the end of a command.
//!
//! ### The drain rule
//! After **every** call to [`SessionMachine::handle_input`] the driver calls
//! [`SessionMachine::poll_output`] until it returns `None`, performing each output in order,
//! and then re-arms its single timer to [`SessionMachine::poll_timeout`] (`None`: no timer).
//! Outputs are never lost if the driver drains late, but the order of socket frames and peer
//! operations is only meaningful if they are performed in the order they are polled. Events
//! should be queued while draining and dispatched to listeners only after the driver released
//! every borrow of the machine (see [`emitter`]); a listener may then call back into the
//! machine (for example `leave`) re-entrantly.
//!
//! ### Time
//! Time is a `u64` of milliseconds passed with each input (`now_ms`), from any monotonic
//! origin. The machine never reads a clock. [`SessionMachine::poll_timeout`] returns an absolute
//! time on the same scale. Feeding a `now` smaller than an earlier one is treated as no time
//! passing.
//!
//! ### Randomness
//! The reconnect jitter comes from a SplitMix64 generator seeded by [`Config::seed`].
//!
//! ## State
//! [`SessionMachine::state`] returns the [`State`] store: plain data (serialisable with serde)
//! for `getState()`. It changes only through the pure [`store::reduce`].
//! Its maps are [`VecMap`]s ([`map`]): sorted vectors that iterate in key order like a
//! `BTreeMap`, at a fraction of the code size in the WebAssembly bundle.
//!
//! ## Events and facades
//! Every fact is one [`CoreEvent`]. [`catalogue`] names it for each facade: SignalWire
//! `RoomSession` (including the `member.updated.<field>` fan-out), Telnyx `Room`, the Calls
//! API `Call`, and the Twilio-style objects. [`emitter::Emitter`] implements `on`/`once`/`off`/
//! `removeAllListeners` with snapshot-then-dispatch, so listeners may re-enter.
//!
//! ## Recovery in one paragraph
//! A lost socket (close, ping silence, or a request timeout) moves the state to
//! `reconnecting(53001)` and starts resume attempts after 0, 500, 1000, 2000, 4000, then every
//! 5000 ms (±20 % jitter from the seed). A resume sends `session.connect{resume}`, applies the
//! replay (duplicates are dropped by `seq`) or reconciles a snapshot by entity version with
//! synthetic events, then resends unanswered requests with their original ids before the
//! queued ones. [`CoreEvent::Reconnected`] (and the state `connected`) comes only once the
//! session has converged: after the last event of the announced replay range
//! (`replay{from,to}`) was processed, at once when there is nothing to replay or a snapshot was
//! reconciled, or when the rest of the replay has not arrived within the request timeout. On 54004/54005, a token error, or the end of the resume window it does a full
//! rejoin (new session with the newest token, tracks republished by `cid`, explicit
//! subscriptions re-applied), at most [`Timers::max_rejoins`] times. ICE failure is handled
//! apart from signaling: `reconnecting(53405)`, an ICE-restart offer (pub) or
//! `sub.ice_restart` (sub), and a full rejoin if ICE is still failed after 15 s (after a
//! best-effort `room.leave` on the old socket, not awaited, so the old member does not
//! linger). The pub PC can
//! also be rebuilt from scratch (B6.4 `pub.reset`): on [`Command::ResetPublisher`], or once
//! when the server cannot apply a pub offer (54402 or 53403) or the browser cannot apply the
//! answer; every current track is re-added to a new PC and offered with new mids under the
//! same track ids.
//!
//! ## Testing
//! `cargo test -p convene-core` runs everything on the host in virtual time: unit and reducer
//! table tests, the scenario tests driven by a sans-IO fake server (`tests/common`), the
//! seed-event catalogue check, random-input robustness, a 1,000-member benchmark, and a guard
//! that the dependency tree holds no wasm-bindgen, web-sys, js-sys or tokio.
//! `tests/live_server.rs` runs machines against a real reference server; it is `#[ignore]`d in
//! a plain `cargo test` and run by `tests/tiers/30-core-live.sh`, which starts the server and
//! passes its address in `CONVENE_TEST_SERVER=host:port` (with `--ignored`).
//!
//! ## Panics
//! Nothing in this crate panics on input from the network, the browser or the application; a
//! panic is a bug.
#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

/// What `std`'s prelude gives, from `alloc` (this crate is `no_std`): the protocol crate's.
pub(crate) use ovsp::prelude;

pub mod backoff;
pub mod catalogue;
pub mod emitter;
mod error;
mod event;
mod io;
mod machine;
pub mod map;
pub mod store;

pub use error::{CoreError, MediaError, MisuseError, ServerError, SignalingError};
pub use event::{AclChange, ConnectionState, CoreEvent, Speaker};
pub use io::{
    ClientInfo, Command, Config, IceCandidate, IceServer, IceState, Input, JoinOptions,
    MediaChange, MediaRef, Output, PeerEvent, PeerOp, PeerOpKind, PublishOptions, RequestHandle,
    SdpType, SubSetting, SubTarget, Timers,
};
pub use machine::{encode_data_frame, SessionMachine};
pub use map::{VecMap, VecSet};
pub use store::State;

/// Re-export of the protocol crate, so facades use the same model types.
pub use ovsp;
