//! Numeric error codes and WebSocket close codes.
//!
//! Three families share one [`Code`] type:
//! - the JSON-RPC 2.0 envelope codes (−32700 … −32603);
//! - codes shared with Twilio Video, with the same meaning (20101–20107, 53000–53501);
//! - OVSP's own codes, 54000–54999.
//!
//! Every code has a stable [`Code::name`], which SDKs use as the error class name
//! (for example `RoomMaxParticipantsExceededError`), and a default [`Code::message`].

use crate::prelude::*;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::json::Wire;

/// A numeric protocol error code (the `code` of a JSON-RPC error object).
///
/// Unknown values are kept as they are: a receiver never fails on an unknown code.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Wire,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Code(pub i32);

/// The family a [`Code`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeFamily {
    /// JSON-RPC 2.0 envelope errors (−32768 … −32000).
    JsonRpc,
    /// Codes whose meaning is shared with Twilio Video (2xxxx, 53xxx).
    Shared,
    /// OVSP-specific codes (54000–54999).
    Ovsp,
    /// Anything else.
    Other,
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $konst:ident = $value:literal, $name:literal, $msg:literal; )*) => {
        impl Code {
            $( $(#[$doc])* pub const $konst: Code = Code($value); )*

            /// Every code defined by OVSP v1, in ascending family order.
            pub const ALL: &'static [Code] = &[ $( Code::$konst ),* ];

            /// The stable error class name, e.g. `"AccessTokenExpiredError"` for 20104.
            /// Unknown codes are named `"OvspError"`.
            pub fn name(self) -> &'static str {
                nth_entry(
                    concat!($( $name, "\0", )*),
                    self.index(),
                    "OvspError",
                )
            }

            /// A default human-readable message for this code.
            pub fn message(self) -> &'static str {
                nth_entry(
                    concat!($( $msg, "\0", )*),
                    self.index(),
                    "unknown error",
                )
            }

            /// The position of this code in [`Code::ALL`] (`None` for a code OVSP does not
            /// define).
            fn index(self) -> Option<usize> {
                const VALUES: &[i32] = &[ $( $value ),* ];
                VALUES.iter().position(|v| *v == self.0)
            }

            /// The name of the Rust constant in upper snake case (e.g. `"PERMISSION_DENIED"`),
            /// or `None` for a code OVSP does not define.
            pub fn const_name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($konst)), )*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// −32700: the frame is not valid JSON.
    PARSE_ERROR = -32700, "ParseError", "parse error: the frame is not valid JSON";
    /// −32600: the frame is JSON but not a valid JSON-RPC 2.0 object.
    INVALID_REQUEST = -32600, "InvalidRequestError", "invalid request";
    /// −32601: unknown method, or a method not enabled on this server.
    METHOD_NOT_FOUND = -32601, "MethodNotFoundError", "method not found";
    /// −32602: the params do not match the method (`data.field` names the field).
    INVALID_PARAMS = -32602, "InvalidParamsError", "invalid params";
    /// −32603: internal server error (retryable).
    INTERNAL_ERROR = -32603, "InternalError", "internal error";

    /// 20101: the access token is malformed.
    TOKEN_INVALID = 20101, "AccessTokenInvalidError", "access token invalid";
    /// 20102: the token header is invalid (bad `alg`, `typ` or `kid`).
    TOKEN_HEADER_INVALID = 20102, "AccessTokenHeaderInvalidError", "access token header invalid";
    /// 20103: unknown `kid`/`iss`, or an invalid subject.
    TOKEN_ISSUER_INVALID = 20103, "AccessTokenIssuerInvalidError", "access token issuer or subject invalid";
    /// 20104: the token has expired.
    TOKEN_EXPIRED = 20104, "AccessTokenExpiredError", "access token expired";
    /// 20105: the token is not valid yet (`nbf`).
    TOKEN_NOT_YET_VALID = 20105, "AccessTokenNotYetValidError", "access token not yet valid";
    /// 20106: the `ovsp` claim is missing or invalid, or names another room.
    TOKEN_GRANTS_INVALID = 20106, "AccessTokenGrantsInvalidError", "access token grants invalid";
    /// 20107: the token signature does not verify.
    TOKEN_SIGNATURE_INVALID = 20107, "AccessTokenSignatureInvalidError", "access token signature invalid";

    /// 53000: the signaling connection could not be established (client-side).
    SIGNALING_CONNECTION_ERROR = 53000, "SignalingConnectionError", "signaling connection error";
    /// 53001: the signaling connection was lost (client-side; cause of `reconnecting`).
    SIGNALING_DISCONNECTED = 53001, "SignalingConnectionDisconnectedError", "signaling connection disconnected";
    /// 53002: the signaling connection timed out (client-side).
    SIGNALING_TIMEOUT = 53002, "SignalingConnectionTimeoutError", "signaling connection timed out";
    /// 53003: the client received an invalid message (client-side).
    SIGNALING_INCOMING_INVALID = 53003, "SignalingIncomingMessageInvalidError", "client received an invalid signaling message";
    /// 53004: the client sent an invalid message (server-side, used in `session.closing`).
    SIGNALING_OUTGOING_INVALID = 53004, "SignalingOutgoingMessageInvalidError", "client sent an invalid signaling message";
    /// 53006: the server is busy; see `retry_after_ms`.
    SERVER_BUSY = 53006, "SignalingServerBusyError", "server busy";
    /// 53105: the room is full.
    ROOM_MAX_PARTICIPANTS_EXCEEDED = 53105, "RoomMaxParticipantsExceededError", "room is full";
    /// 53106: the room does not exist and the token does not allow creating it.
    ROOM_NOT_FOUND = 53106, "RoomNotFoundError", "room not found";
    /// 53118: the room has ended.
    ROOM_COMPLETED = 53118, "RoomCompletedError", "room completed";
    /// 53203: the member already publishes the maximum number of tracks.
    MAX_TRACKS_EXCEEDED = 53203, "ParticipantMaxTracksExceededError", "maximum published tracks exceeded";
    /// 53204: no such member.
    MEMBER_NOT_FOUND = 53204, "ParticipantNotFoundError", "member not found";
    /// 53205: another session joined with the same identity; this one was closed.
    DUPLICATE_IDENTITY = 53205, "ParticipantDuplicateIdentityError", "duplicate identity";
    /// 53300: the track description is invalid.
    TRACK_INVALID = 53300, "TrackInvalidError", "track invalid";
    /// 53304: the track name is already used by this member.
    TRACK_NAME_DUPLICATED = 53304, "TrackNameIsDuplicatedError", "track name duplicated";
    /// 53400: the client failed to create or apply a local description (client-side).
    CLIENT_LOCAL_DESC_FAILED = 53400, "MediaClientLocalDescFailedError", "client failed to create or apply a local description";
    /// 53401: the server failed to create a local description.
    SERVER_LOCAL_DESC_FAILED = 53401, "MediaServerLocalDescFailedError", "server failed to create a local description";
    /// 53402: the client failed to apply the remote description (client-side).
    CLIENT_REMOTE_DESC_FAILED = 53402, "MediaClientRemoteDescFailedError", "client failed to apply the remote description";
    /// 53403: the server failed to apply the remote description (bad SDP).
    SERVER_REMOTE_DESC_FAILED = 53403, "MediaServerRemoteDescFailedError", "server failed to apply the remote description";
    /// 53404: no codec supported by both sides.
    NO_SUPPORTED_CODEC = 53404, "MediaNoSupportedCodecError", "no supported codec";
    /// 53405: the media connection failed (cause of `reconnecting` for media).
    MEDIA_CONNECTION_FAILED = 53405, "MediaConnectionError", "media connection failed";
    /// 53407: the DTLS handshake failed.
    DTLS_FAILED = 53407, "MediaDTLSTransportFailedError", "DTLS handshake failed";
    /// 53500: the configuration (e.g. ICE servers) could not be acquired.
    CONFIGURATION_FAILED = 53500, "ConfigurationAcquireFailedError", "configuration acquisition failed";
    /// 53501: TURN credentials are unavailable.
    TURN_UNAVAILABLE = 53501, "ConfigurationAcquireTurnFailedError", "TURN credentials unavailable";

    /// 54000: no common protocol major version (`data.supported`; close 4011).
    PROTOCOL_VERSION_UNSUPPORTED = 54000, "ProtocolVersionUnsupportedError", "protocol version unsupported";
    /// 54001: the first frame must be `session.connect` (close 4009).
    NOT_CONNECTED = 54001, "NotConnectedError", "not connected: the first message must be session.connect";
    /// 54002: the method needs a joined room; call `room.join` first.
    NOT_JOINED = 54002, "NotJoinedError", "not joined";
    /// 54003: the session already joined a room.
    ALREADY_JOINED = 54003, "AlreadyJoinedError", "already joined";
    /// 54004: unknown session, or the resume window has expired (`action: rejoin`).
    SESSION_UNKNOWN = 54004, "SessionUnknownError", "session unknown or resume window expired";
    /// 54005: the resume token is invalid (`action: rejoin`).
    RESUME_TOKEN_INVALID = 54005, "ResumeTokenInvalidError", "resume token invalid";
    /// 54006: a request id was reused with different params.
    REQUEST_ID_REUSED = 54006, "RequestIdReusedError", "request id reused with different params";
    /// 54007: rate limited; see `retry_after_ms`.
    RATE_LIMITED = 54007, "RateLimitedError", "rate limited";
    /// 54008: the frame exceeds the maximum frame size.
    MESSAGE_TOO_LARGE = 54008, "MessageTooLargeError", "message too large";
    /// 54009: the server is draining; see `action` and `url`.
    SERVER_DRAINING = 54009, "ServerDrainingError", "server draining";
    /// 54100: a permission is missing (`data.permission` names it).
    PERMISSION_DENIED = 54100, "PermissionDeniedError", "permission denied";
    /// 54101: the caller's role does not allow this (e.g. an audience member publishing).
    ROLE_NOT_ALLOWED = 54101, "RoleNotAllowedError", "role does not allow this";
    /// 54102: the media source or kind is not in `media_allowed`.
    MEDIA_NOT_ALLOWED = 54102, "MediaNotAllowedError", "media source or kind not allowed";
    /// 54103: the room is locked.
    ROOM_LOCKED = 54103, "RoomLockedError", "room locked";
    /// 54104: the member was removed from the room.
    REMOVED = 54104, "RemovedFromRoomError", "removed from room";
    /// 54105: the identity is not on the room's access list.
    NOT_ON_ACL = 54105, "NotOnAclError", "identity not on the room access list";
    /// 54106: `session.update_token` with another identity or room.
    TOKEN_MISMATCH = 54106, "TokenMismatchError", "token identity or room mismatch";
    /// 54201: promote of a member, or demote of an audience member.
    INVALID_ROLE_TRANSITION = 54201, "InvalidRoleTransitionError", "invalid role transition";
    /// 54300: no such track.
    TRACK_NOT_FOUND = 54300, "TrackNotFoundError", "track not found";
    /// 54301: the track is not owned by the caller.
    TRACK_NOT_OWNED = 54301, "TrackNotOwnedError", "track not owned by caller";
    /// 54302: invalid simulcast layers or scalability mode.
    INVALID_LAYERS = 54302, "InvalidLayersError", "invalid layers or scalability mode";
    /// 54303: no free data handle, or data tracks unsupported.
    DATA_HANDLES_EXHAUSTED = 54303, "DataHandlesExhaustedError", "data handles exhausted or data tracks unsupported";
    /// 54400: unknown or stale `offer_id`.
    STALE_OFFER = 54400, "StaleOfferError", "unknown or stale offer_id";
    /// 54401: a negotiation is already in progress on this PeerConnection.
    NEGOTIATION_IN_PROGRESS = 54401, "NegotiationInProgressError", "negotiation already in progress";
    /// 54402: the `mids` map does not match the SDP.
    MIDS_INCONSISTENT = 54402, "MidsInconsistentError", "mids map inconsistent with SDP";
    /// 54403: subscribing to this track is not allowed.
    SUBSCRIPTION_NOT_ALLOWED = 54403, "SubscriptionNotAllowedError", "subscription not allowed";
    /// 54500: no such layout.
    LAYOUT_NOT_FOUND = 54500, "LayoutNotFoundError", "layout not found";
    /// 54501: invalid layout position.
    INVALID_POSITION = 54501, "InvalidPositionError", "invalid position";
    /// 54600: no such recording, playback or stream.
    EGRESS_NOT_FOUND = 54600, "EgressNotFoundError", "recording, playback or stream not found";
    /// 54601: egress unavailable, or already active.
    EGRESS_UNAVAILABLE = 54601, "EgressUnavailableError", "egress unavailable or already active";
    /// 54602: invalid or unreachable media URL.
    INVALID_MEDIA_URL = 54602, "InvalidMediaUrlError", "invalid or unreachable media URL";
    /// 54700: meta is not a JSON object or is larger than 16 KiB.
    META_INVALID = 54700, "MetaInvalidError", "meta invalid or too large";
    /// 54701: message payload larger than 64 KiB.
    PAYLOAD_TOO_LARGE = 54701, "PayloadTooLargeError", "message payload too large";
    /// 54702: a recipient of `message.send` does not exist.
    RECIPIENT_NOT_FOUND = 54702, "RecipientNotFoundError", "recipient not found";
    /// 54800: invalid access-list entry.
    INVALID_ACL_ENTRY = 54800, "InvalidAclEntryError", "invalid ACL entry";
}

/// Entry `i` of a list of `\0`-terminated strings, or `fallback`. The names and messages
/// are kept as one text each (data that compresses well) rather than a `match` per accessor.
fn nth_entry(list: &'static str, i: Option<usize>, fallback: &'static str) -> &'static str {
    let (Some(mut i), mut start) = (i, 0) else {
        return fallback;
    };
    for (end, b) in list.bytes().enumerate() {
        if b == 0 {
            if i == 0 {
                return list.get(start..end).unwrap_or(fallback);
            }
            i -= 1;
            start = end + 1;
        }
    }
    fallback
}

impl Code {
    /// Which family the code belongs to.
    pub fn family(self) -> CodeFamily {
        match self.0 {
            -32768..=-32000 => CodeFamily::JsonRpc,
            20000..=20999 | 53000..=53999 => CodeFamily::Shared,
            54000..=54999 => CodeFamily::Ovsp,
            _ => CodeFamily::Other,
        }
    }

    /// Whether OVSP v1 defines this code.
    pub fn is_known(self) -> bool {
        self.const_name().is_some()
    }

    /// The `data.reason` string for this code: the constant name in lower snake case
    /// (e.g. `"permission_denied"`), or `"unknown"`.
    pub fn reason(self) -> String {
        self.const_name()
            .map(|n| n.to_ascii_lowercase())
            .unwrap_or_else(|| "unknown".to_string())
    }

    /// Whether a client may retry the same request later without changing it.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Code::INTERNAL_ERROR
                | Code::SERVER_BUSY
                | Code::RATE_LIMITED
                | Code::SERVER_DRAINING
                | Code::NEGOTIATION_IN_PROGRESS
                | Code::SIGNALING_DISCONNECTED
                | Code::SIGNALING_TIMEOUT
        )
    }

    /// Whether this is one of the token errors 20101–20107 (a client must do a full rejoin
    /// with a fresh token, or stop).
    pub fn is_token_error(self) -> bool {
        (20101..=20107).contains(&self.0)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

impl From<i32> for Code {
    fn from(v: i32) -> Self {
        Code(v)
    }
}

/// What a client does when the server closes the WebSocket with a given [`CloseCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseAction {
    /// Stop: do not reconnect; surface the error to the application.
    Stop,
    /// Reconnect and resume the session (B5 algorithm).
    Resume,
    /// Do one full rejoin (new session), then stop if that fails too.
    RejoinOnce,
    /// Do what the preceding `session.closing` event's `action` says (resume if there was none).
    FollowClosing,
    /// Reconnect after the `retry_after_ms` of the preceding error.
    RetryAfter,
}

/// A WebSocket close code used by OVSP.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Wire,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct CloseCode(pub u16);

macro_rules! close_codes {
    ($( $(#[$doc:meta])* $konst:ident = $value:literal, $action:ident, $meaning:literal; )*) => {
        impl CloseCode {
            $( $(#[$doc])* pub const $konst: CloseCode = CloseCode($value); )*

            /// Every close code defined by OVSP v1.
            pub const ALL: &'static [CloseCode] = &[ $( CloseCode::$konst ),* ];

            /// What the client does on this close code. Any code not listed (including the
            /// abnormal 1006) is treated as a network loss: resume.
            pub fn action(self) -> CloseAction {
                match self.0 {
                    $( $value => CloseAction::$action, )*
                    _ => CloseAction::Resume,
                }
            }

            /// A short description of the close code.
            pub fn meaning(self) -> &'static str {
                match self.0 {
                    $( $value => $meaning, )*
                    _ => "network loss or unknown close code",
                }
            }

            /// The constant name (e.g. `"AUTH_FAILED"`), or `None` for an undefined code.
            pub fn const_name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($konst)), )*
                    _ => None,
                }
            }
        }
    };
}

close_codes! {
    /// 1000: normal close, after `room.leave` or `session.closing{action: disconnect}`.
    NORMAL = 1000, Stop, "normal close (after leave or a disconnect)";
    /// 4001: authentication failed (a 2010x error preceded it).
    AUTH_FAILED = 4001, Stop, "authentication failed; ask the application for a new token";
    /// 4002: superseded by a newer socket of the same session.
    SUPERSEDED = 4002, Stop, "superseded by a newer socket of the same session";
    /// 4003: removed from the room, or permission revoked.
    REMOVED = 4003, Stop, "removed or permission revoked";
    /// 4004: the room ended.
    ROOM_ENDED = 4004, Stop, "room ended";
    /// 4008: ping timeout, or no `session.connect` within the first-frame deadline.
    TIMEOUT = 4008, Resume, "ping or connect timeout";
    /// 4009: protocol violation.
    PROTOCOL_VIOLATION = 4009, RejoinOnce, "protocol violation";
    /// 4011: unsupported protocol version.
    UNSUPPORTED_VERSION = 4011, Stop, "unsupported protocol version";
    /// 4012: server shutdown or drain.
    SHUTDOWN = 4012, FollowClosing, "server shutdown or drain";
    /// 4013: busy or rate limited.
    BUSY = 4013, RetryAfter, "busy or rate limited";
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
