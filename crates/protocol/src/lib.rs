//! # `ovsp`: OVSP v1 as code
//!
//! The Open Video Signaling Protocol (OVSP) is the wire protocol between the Convene SDK and
//! any compatible server. This crate is its single definition: both sides compile against it,
//! and the project's `docs/protocol.md` and `docs/ovsp.schema.json` are generated from or
//! checked against it.
//!
//! - [`codes`]: error codes ([`Code`]) with stable names, and WebSocket close codes.
//! - [`envelope`]: JSON-RPC 2.0 frames ([`ClientFrame`], [`ServerFrame`]) with tolerant,
//!   panic-free decoding.
//! - [`methods`]: every client method as a typed params/result pair, and the [`METHODS`]
//!   table with each method's permission rule.
//! - [`events`]: every server event as a typed payload ([`Event`]), and the [`EVENTS`] table
//!   with durability and scope.
//! - [`model`]: rooms, members, tracks, subscriptions, layouts, egress entities.
//! - [`token`]: the claims of the access token.
//! - [`perm`]: permission matching and the self/member rule.
//! - [`layouts`]: the layout catalogue with normalised geometry.
//! - [`limits`]: limits and timer defaults.
//! - [`json`]: the compact wire codec ([`FromWire`], [`ToWire`], `#[derive(Wire)]`) that
//!   the SDK uses instead of serde's derived code.
//!
//! Receivers are tolerant: unknown fields are ignored, unknown event types decode to
//! [`Event::Unknown`], unknown enum values decode to an `Unknown` variant. Malformed frames
//! give a typed [`DecodeError`]; nothing in this crate panics on input.
//!
//! With the `schema` feature, `schema::schema()` produces the JSON Schema of the whole
//! protocol.
#![no_std]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

/// What `std`'s prelude gives, taken from `alloc`: the SDK's crates are `no_std`, and each
/// imports this (`use crate::prelude::*`, which the other crates alias to this module). The
/// `json!` macro names its vectors and strings through it too, so it works in any crate.
#[doc(hidden)]
pub mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

// Lets the derived wire codec name this crate as `::ovsp` from inside it too.
extern crate self as ovsp;

/// Declares a string enum with a catch-all `Unknown` variant (serialised as `"unknown"`),
/// so unknown values never fail decoding.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $( $(#[$vm:meta])* $var:ident = $s:literal ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub enum $name {
            $( $(#[$vm])* #[serde(rename = $s)] $var, )*
            /// A value this version of the protocol does not know.
            #[serde(rename = "unknown", other)]
            Unknown,
        }

        impl $name {
            /// Every known value (without `Unknown`).
            pub const ALL: &'static [$name] = &[ $( $name::$var ),* ];

            /// The wire strings of [`Self::ALL`], in the same order (a value's index is its
            /// discriminant), then `"unknown"`.
            const NAMES: &'static [&'static str] = &[ $( $s, )* "unknown" ];

            /// The wire string.
            pub fn as_str(self) -> &'static str {
                Self::NAMES.get(self as usize).copied().unwrap_or("unknown")
            }

            /// Parse a wire string; unknown strings give `Unknown`.
            pub fn parse(s: &str) -> Self {
                Self::ALL
                    .get($crate::json::wire::name_index(Self::NAMES, s))
                    .copied()
                    .unwrap_or($name::Unknown)
            }
        }

        impl $crate::json::FromWire for $name {
            fn from_wire(v: &$crate::json::Value) -> Result<Self, $crate::json::WireError> {
                $crate::json::wire::enum_str(v).map($name::parse)
            }

            fn placeholder() -> Self {
                $name::Unknown
            }
        }

        impl $crate::json::ToWire for $name {
            fn to_wire(&self) -> $crate::json::Value {
                $crate::json::wire::string(self.as_str())
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod codes;
pub mod envelope;
pub mod events;
pub mod json;
pub mod layouts;
pub mod limits;
pub mod methods;
pub mod model;
pub mod perm;
#[cfg(feature = "schema")]
pub mod schema;
pub mod token;

pub use codes::{CloseAction, CloseCode, Code};
pub use envelope::{
    ClientFrame, DecodeError, ErrorData, EventEnvelope, Notification, Request, Response, RpcError,
    ServerFrame,
};
pub use events::{event_info, Durability, Event, EventInfo, Scope, EVENTS};
pub use json::{FromWire, ToWire, Wire};
pub use methods::{method_info, Method, MethodInfo, MethodKind, PermRule, METHODS};

/// The WebSocket subprotocol of OVSP major version 1.
pub const SUBPROTOCOL: &str = "ovsp.v1";
/// The protocol major version.
pub const PROTOCOL_MAJOR: u32 = 1;
/// The highest protocol minor version this crate implements.
pub const PROTOCOL_MINOR: u32 = 0;
/// The WebSocket path of the endpoint (`wss://<host>/ovsp`).
pub const ENDPOINT_PATH: &str = "/ovsp";

/// Capability strings defined in v1.0 (exchanged in `session.connect`).
pub mod capabilities {
    /// Simulcast publishing.
    pub const SIMULCAST: &str = "simulcast";
    /// SVC publishing.
    pub const SVC: &str = "svc";
    /// Data tracks over SCTP.
    pub const DATA_TRACKS: &str = "data_tracks";
    /// Recording.
    pub const RECORDING: &str = "recording";
    /// Media playback into the room.
    pub const PLAYBACK: &str = "playback";
    /// Outbound RTMP streams.
    pub const RTMP_OUT: &str = "rtmp_out";
    /// Server-side layouts.
    pub const LAYOUTS: &str = "layouts";
    /// `member.network_quality` events.
    pub const NETWORK_QUALITY: &str = "network_quality";
    /// Reserved: end-to-end encryption.
    pub const E2EE: &str = "e2ee";
    /// Reserved: single-PeerConnection mode.
    pub const SINGLE_PC: &str = "single_pc";
    /// The `debug.simulate` method (never in production).
    pub const DEBUG_SIMULATE: &str = "debug_simulate";
    /// Every capability string of v1.0.
    pub const ALL: &[&str] = &[
        SIMULCAST,
        SVC,
        DATA_TRACKS,
        RECORDING,
        PLAYBACK,
        RTMP_OUT,
        LAYOUTS,
        NETWORK_QUALITY,
        E2EE,
        SINGLE_PC,
        DEBUG_SIMULATE,
    ];
}

/// Negotiate the minor version: `min(client, server)`.
pub fn negotiate_minor(client_minor: u32, server_minor: u32) -> u32 {
    client_minor.min(server_minor)
}
