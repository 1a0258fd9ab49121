//! Typed errors of the core. Every error has a numeric code (an OVSP or Twilio code from
//! [`ovsp::codes::Code`]), a stable class `name` and a human `message`.

use crate::prelude::*;
use core::fmt;

use ovsp::codes::Code;
use serde::Serialize;

/// Any error the core reports: in a command completion, in
/// [`crate::CoreEvent::RoomLeft`] or in [`crate::CoreEvent::Reconnecting`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoreError {
    /// The server answered a request with an error object.
    Server(ServerError),
    /// The signaling connection failed (53000–53003).
    Signaling(SignalingError),
    /// A PeerConnection operation or the media connection failed (534xx).
    Media(MediaError),
    /// The caller used the API wrongly (for example a method before `join`). Nothing was sent.
    Misuse(MisuseError),
}

impl CoreError {
    /// The numeric code.
    pub fn code(&self) -> Code {
        match self {
            CoreError::Server(e) => e.code,
            CoreError::Signaling(e) => e.code(),
            CoreError::Media(e) => e.code(),
            CoreError::Misuse(e) => e.code(),
        }
    }

    /// The stable error class name (Twilio's where Twilio has the code), e.g.
    /// `"SignalingConnectionDisconnectedError"`. Misuse errors are all `"MisuseError"`.
    pub fn name(&self) -> &'static str {
        match self {
            CoreError::Misuse(_) => "MisuseError",
            other => other.code().name(),
        }
    }

    /// Human-readable text.
    pub fn message(&self) -> String {
        match self {
            CoreError::Server(e) => e.message.clone(),
            CoreError::Signaling(e) => e.code().message().to_owned(),
            CoreError::Media(e) => match e {
                MediaError::Failed { message, .. } => message.clone(),
                other => other.code().message().to_owned(),
            },
            CoreError::Misuse(e) => e.message(),
        }
    }

    /// The missing permission, for a 54100 error.
    pub fn permission(&self) -> Option<&str> {
        match self {
            CoreError::Server(e) => e.permission.as_deref(),
            _ => None,
        }
    }

    /// Builds the error for a server error object (taking its texts).
    pub fn from_rpc(err: ovsp::envelope::RpcError) -> Self {
        let mut e = ServerError {
            code: err.code,
            message: err.message,
            reason: None,
            permission: None,
            field: None,
            retryable: None,
            retry_after_ms: None,
        };
        if let Some(d) = err.data {
            e.reason = d.reason;
            e.permission = d.permission;
            e.field = d.field;
            e.retryable = d.retryable;
            e.retry_after_ms = d.retry_after_ms;
        }
        CoreError::Server(e)
    }
}

impl CoreError {
    /// A server error with only a code and a message.
    #[inline(never)]
    pub(crate) fn server(code: Code, message: String) -> Self {
        CoreError::Server(ServerError {
            code,
            message,
            reason: None,
            permission: None,
            field: None,
            retryable: None,
            retry_after_ms: None,
        })
    }

    /// The error an entity or event reports (`{code, message}`).
    pub(crate) fn from_info(info: &ovsp::model::ErrorInfo) -> Self {
        Self::server(info.code, info.message.clone())
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.name(), self.code().0, self.message())
    }
}

impl core::error::Error for CoreError {}

/// An error object received from the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerError {
    /// The code, e.g. 54100.
    pub code: Code,
    /// The server's message.
    pub message: String,
    /// `data.reason`.
    pub reason: Option<String>,
    /// `data.permission`: the missing permission of a 54100 error.
    pub permission: Option<String>,
    /// `data.field`: the offending field of a −32602 error.
    pub field: Option<String>,
    /// `data.retryable`.
    pub retryable: Option<bool>,
    /// `data.retry_after_ms`.
    pub retry_after_ms: Option<u64>,
}

/// A failure of the signaling connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalingError {
    /// 53000: the socket could not be opened or failed.
    ConnectionError,
    /// 53001: the connection was lost and could not be resumed or rejoined.
    Disconnected,
    /// 53002: a request or the connect response timed out.
    Timeout,
    /// 53003: the server sent a frame the client cannot understand.
    InvalidMessage,
}

impl SignalingError {
    /// The numeric code.
    pub fn code(self) -> Code {
        match self {
            SignalingError::ConnectionError => Code::SIGNALING_CONNECTION_ERROR,
            SignalingError::Disconnected => Code::SIGNALING_DISCONNECTED,
            SignalingError::Timeout => Code::SIGNALING_TIMEOUT,
            SignalingError::InvalidMessage => Code::SIGNALING_INCOMING_INVALID,
        }
    }
}

/// A failure on a PeerConnection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaError {
    /// 53400: creating or applying a local description failed.
    LocalDescriptionFailed,
    /// 53402: applying the remote description failed.
    RemoteDescriptionFailed,
    /// 53405: ICE failed and could not be restored.
    ConnectionFailed,
    /// Another PeerConnection operation failed, with the browser's message.
    Failed {
        /// The code that best describes the failure.
        code: Code,
        /// The browser's message.
        message: String,
    },
}

impl MediaError {
    /// The numeric code.
    pub fn code(&self) -> Code {
        match self {
            MediaError::LocalDescriptionFailed => Code::CLIENT_LOCAL_DESC_FAILED,
            MediaError::RemoteDescriptionFailed => Code::CLIENT_REMOTE_DESC_FAILED,
            MediaError::ConnectionFailed => Code::MEDIA_CONNECTION_FAILED,
            MediaError::Failed { code, .. } => *code,
        }
    }
}

/// The caller used the API in a way that cannot work. Nothing is sent to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "misuse", rename_all = "snake_case")]
pub enum MisuseError {
    /// A room method was called before `join` completed.
    NotJoined,
    /// `join` was called while joining or joined.
    AlreadyJoined,
    /// The session has left or was disconnected; create a new one.
    Closed,
    /// No local track with this `cid` is published.
    UnknownTrack {
        /// The client track id.
        cid: String,
    },
    /// A local track with this `cid` is already published.
    DuplicateTrack {
        /// The client track id.
        cid: String,
    },
    /// The local member is in the audience and cannot publish.
    AudienceCannotPublish,
    /// An argument is invalid.
    InvalidArgument {
        /// Which argument and why.
        reason: String,
    },
}

impl MisuseError {
    /// The numeric code used for this misuse.
    pub fn code(&self) -> Code {
        match self {
            MisuseError::NotJoined => Code::NOT_JOINED,
            MisuseError::AlreadyJoined => Code::ALREADY_JOINED,
            MisuseError::Closed => Code::SIGNALING_DISCONNECTED,
            MisuseError::UnknownTrack { .. } => Code::TRACK_NOT_FOUND,
            MisuseError::DuplicateTrack { .. } => Code::TRACK_NAME_DUPLICATED,
            MisuseError::AudienceCannotPublish => Code::ROLE_NOT_ALLOWED,
            MisuseError::InvalidArgument { .. } => Code::INVALID_PARAMS,
        }
    }
}

impl MisuseError {
    /// The human-readable text (also the `Display` form), built without the formatting
    /// machinery.
    pub fn message(&self) -> String {
        let (head, arg, tail) = match self {
            MisuseError::NotJoined => (
                "call join() first: the session has not joined a room",
                None,
                "",
            ),
            MisuseError::AlreadyJoined => ("join() was already called on this session", None, ""),
            MisuseError::Closed => (
                "the session has ended; create a new one to join again",
                None,
                "",
            ),
            MisuseError::UnknownTrack { cid } => {
                ("no local track with cid ", Some(cid), " is published")
            }
            MisuseError::DuplicateTrack { cid } => (
                "a local track with cid ",
                Some(cid),
                " is already published",
            ),
            MisuseError::AudienceCannotPublish => {
                ("audience members cannot publish media", None, "")
            }
            MisuseError::InvalidArgument { reason } => {
                let mut s = String::from("invalid argument: ");
                s.push_str(reason);
                return s;
            }
        };
        let mut s = String::from(head);
        if let Some(cid) = arg {
            push_quoted(&mut s, cid);
        }
        s.push_str(tail);
        s
    }
}

/// Appends `text` in double quotes, escaping quotes, backslashes and control characters as
/// Rust's `{:?}` does for them.
fn push_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                out.push_str("\\u{");
                let n = c as u32;
                let mut started = false;
                for shift in (0..8).rev() {
                    let nibble = (n >> (shift * 4)) & 15;
                    if nibble != 0 || started || shift == 0 {
                        started = true;
                        out.push(char::from(b"0123456789abcdef"[nibble as usize]));
                    }
                }
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl fmt::Display for MisuseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}
