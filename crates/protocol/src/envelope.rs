//! The JSON-RPC 2.0 envelope.
//!
//! One frame holds exactly one JSON-RPC object (no batches):
//! - client → server: a [`Request`] (with `id`) or a [`Notification`] (without);
//! - server → client: a [`Response`] (result or error) or an event, which is a notification
//!   with `method: "event"` whose params are an [`EventEnvelope`].
//!
//! Decoding never panics. Invalid JSON gives [`Code::PARSE_ERROR`]; valid JSON that is not a
//! valid frame gives [`Code::INVALID_REQUEST`]; a frame over [`MAX_FRAME_BYTES`] gives
//! [`Code::MESSAGE_TOO_LARGE`].
//!
//! The `seq` of a response (the highest durable seq sent before it) travels inside the result
//! object as a `seq` field; [`Response::ok_with_seq`] writes it and [`Response::seq`] reads it,
//! so typed result structs need not carry it.

use crate::prelude::*;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::json::{FromWire, ToWire, Wire};
use crate::json::{Map, Value};

use crate::codes::Code;
use crate::events::Event;
use crate::limits::MAX_FRAME_BYTES;
use crate::model::SessionAction;

const JSONRPC: &str = "2.0";

/// The optional `data` of an error object. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorData {
    /// Machine-readable reason in snake case (see [`Code::reason`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the same request may be retried later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    /// How long to wait before retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// The missing permission (with 54100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// The offending params field (with −32602 and validation errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What the client does next (session-level errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<SessionAction>,
    /// Supported subprotocols (with 54000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported: Option<Vec<String>>,
    /// Where to reconnect (with 54009).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl ErrorData {
    #[cfg(feature = "std")]
    fn is_empty(&self) -> bool {
        *self == ErrorData::default()
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RpcError {
    /// The code.
    pub code: Code,
    /// Human-readable text.
    #[serde(default)]
    pub message: String,
    /// Structured detail (boxed to keep `Result<_, RpcError>` small).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<ErrorData>>,
}

impl RpcError {
    /// An error with a message and no data.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// An error with the code's default message, `data.reason` and `data.retryable`.
    pub fn from_code(code: Code) -> Self {
        RpcError::new(code, code.message())
            .with_reason(code.reason())
            .with_retryable(code.is_retryable())
    }

    fn data_mut(&mut self) -> &mut ErrorData {
        self.data.get_or_insert_with(Box::default)
    }

    /// Set `data.reason`.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.data_mut().reason = Some(reason.into());
        self
    }

    /// Set `data.retryable`.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.data_mut().retryable = Some(retryable);
        self
    }

    /// Set `data.retry_after_ms`.
    pub fn with_retry_after(mut self, ms: u64) -> Self {
        self.data_mut().retry_after_ms = Some(ms);
        self
    }

    /// Set `data.permission` (the missing permission, with 54100).
    pub fn with_permission(mut self, permission: impl Into<String>) -> Self {
        self.data_mut().permission = Some(permission.into());
        self
    }

    /// Set `data.field` (the offending params field).
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.data_mut().field = Some(field.into());
        self
    }

    /// Set `data.action`.
    pub fn with_action(mut self, action: SessionAction) -> Self {
        self.data_mut().action = Some(action);
        self
    }

    /// Set `data.supported`.
    pub fn with_supported(mut self, supported: Vec<String>) -> Self {
        self.data_mut().supported = Some(supported);
        self
    }

    /// Set `data.url`.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.data_mut().url = Some(url.into());
        self
    }

    /// The missing permission, if any.
    pub fn permission(&self) -> Option<&str> {
        self.data.as_ref().and_then(|d| d.permission.as_deref())
    }

    /// The session action, if any.
    pub fn action(&self) -> Option<SessionAction> {
        self.data.as_ref().and_then(|d| d.action)
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.name(),
            self.code.0,
            self.message
        )
    }
}

impl core::error::Error for RpcError {}

/// A frame that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// [`Code::PARSE_ERROR`], [`Code::INVALID_REQUEST`] or [`Code::MESSAGE_TOO_LARGE`] for
    /// frames; [`Code::SIGNALING_INCOMING_INVALID`] for invalid event data
    /// ([`EventEnvelope::try_decode_event`]).
    pub code: Code,
    /// What was wrong.
    pub message: String,
    /// The request id, when it could be read (the error response then carries it).
    pub id: Option<String>,
}

impl DecodeError {
    fn parse(msg: impl Into<String>) -> Self {
        DecodeError {
            code: Code::PARSE_ERROR,
            message: msg.into(),
            id: None,
        }
    }

    fn invalid(msg: impl Into<String>, id: Option<String>) -> Self {
        DecodeError {
            code: Code::INVALID_REQUEST,
            message: msg.into(),
            id,
        }
    }

    /// The error as an [`RpcError`].
    pub fn to_rpc_error(&self) -> RpcError {
        RpcError::new(self.code, self.message.clone()).with_reason(self.code.reason())
    }

    /// The error response a server sends for this frame (`id` null when unknown).
    pub fn to_response(&self) -> Response {
        Response::err(self.id.clone(), self.to_rpc_error())
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.name(),
            self.code.0,
            self.message
        )
    }
}

impl core::error::Error for DecodeError {}

/// A client request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Client-chosen id, unique within the session.
    pub id: String,
    /// Method name.
    pub method: String,
    /// Params (an object; `{}` when absent).
    pub params: Value,
}

impl Request {
    /// A request with typed params. Params that fail to serialise become `{}` (cannot happen
    /// for this crate's params types).
    pub fn new(id: impl Into<String>, method: &str, params: &impl ToWire) -> Self {
        Request {
            id: id.into(),
            method: method.into(),
            params: to_value_or_empty(params),
        }
    }

    /// Decode the params as `T`. Errors map to [`Code::INVALID_PARAMS`].
    pub fn params_as<T: FromWire>(&self) -> Result<T, RpcError> {
        decode_params(&self.params)
    }
}

/// A client notification (no response): `session.ack`, `ice.candidate`, `stats.report`.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Method name.
    pub method: String,
    /// Params (an object; `{}` when absent).
    pub params: Value,
}

impl Notification {
    /// A notification with typed params.
    pub fn new(method: &str, params: &impl ToWire) -> Self {
        Notification {
            method: method.into(),
            params: to_value_or_empty(params),
        }
    }

    /// Decode the params as `T`. Errors map to [`Code::INVALID_PARAMS`].
    pub fn params_as<T: FromWire>(&self) -> Result<T, RpcError> {
        decode_params(&self.params)
    }
}

/// A server response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The request id; `None` (`null` on the wire) for errors not tied to a request.
    pub id: Option<String>,
    /// The result object or the error.
    pub outcome: Result<Value, RpcError>,
}

impl Response {
    /// A success response with a typed result.
    pub fn ok(id: impl Into<String>, result: &impl ToWire) -> Self {
        Response {
            id: Some(id.into()),
            outcome: Ok(to_value_or_empty(result)),
        }
    }

    /// A success response whose result object also carries `seq` (the highest durable seq
    /// sent to this session so far).
    pub fn ok_with_seq(id: impl Into<String>, result: &impl ToWire, seq: u64) -> Self {
        let mut r = Response::ok(id, result);
        r.set_seq(seq);
        r
    }

    /// An error response.
    pub fn err(id: Option<String>, error: RpcError) -> Self {
        Response {
            id,
            outcome: Err(error),
        }
    }

    /// Set `seq` in the result object (no effect on error responses or non-object results).
    pub fn set_seq(&mut self, seq: u64) {
        if let Ok(Value::Object(m)) = &mut self.outcome {
            m.insert("seq".into(), Value::from(seq));
        }
    }

    /// The `seq` carried in the result, if any.
    pub fn seq(&self) -> Option<u64> {
        match &self.outcome {
            Ok(Value::Object(m)) => m.get("seq").and_then(Value::as_u64),
            _ => None,
        }
    }

    /// Decode the result as `T`. A decode failure maps to [`Code::SIGNALING_INCOMING_INVALID`];
    /// an error response returns its error.
    pub fn result_as<T: FromWire>(&self) -> Result<T, RpcError> {
        match &self.outcome {
            Ok(v) => T::from_wire(v).map_err(|e| {
                RpcError::new(Code::SIGNALING_INCOMING_INVALID, e.to_string())
                    .with_reason(Code::SIGNALING_INCOMING_INVALID.reason())
            }),
            Err(e) => Err(e.clone()),
        }
    }
}

/// An event: the params of a server notification with `method: "event"`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventEnvelope {
    /// The event type (`type` on the wire), e.g. `member.joined`.
    pub event_type: String,
    /// Server time (ms since the Unix epoch).
    pub ts: u64,
    /// Per-session sequence number; present on durable events only.
    pub seq: Option<u64>,
    /// The payload.
    pub data: Value,
}

impl EventEnvelope {
    /// The typed event. Unknown types, and known types whose data does not decode, give
    /// [`Event::Unknown`] (never an error).
    pub fn decode_event(&self) -> Event {
        Event::decode(&self.event_type, &self.data)
    }

    /// The typed event, or the decode error for a known type whose data is invalid.
    /// Unknown types still give `Ok(Event::Unknown)`.
    pub fn try_decode_event(&self) -> Result<Event, DecodeError> {
        Event::try_decode(&self.event_type, &self.data)
    }
}

/// A frame sent by the client.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
}

/// A frame sent by the server.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    /// A response.
    Response(Response),
    /// An event.
    Event(EventEnvelope),
}

// ---------- encoding ----------

/// A request as serde writes it (the reference `ClientFrame::encode` is tested against).
#[cfg(test)]
#[derive(Serialize)]
struct WireRequest<'a> {
    jsonrpc: &'static str,
    id: &'a str,
    method: &'a str,
    params: &'a Value,
}

#[cfg(feature = "std")]
#[derive(Serialize)]
struct WireNotification<'a, P: Serialize> {
    jsonrpc: &'static str,
    method: &'a str,
    params: P,
}

#[cfg(feature = "std")]
#[derive(Serialize)]
struct WireResult<'a> {
    jsonrpc: &'static str,
    id: Option<&'a str>,
    result: &'a Value,
}

#[cfg(feature = "std")]
#[derive(Serialize)]
struct WireError<'a> {
    jsonrpc: &'static str,
    id: Option<&'a str>,
    error: WireErrorObject<'a>,
}

#[cfg(feature = "std")]
#[derive(Serialize)]
struct WireErrorObject<'a> {
    code: Code,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a ErrorData>,
}

#[cfg(feature = "std")]
#[derive(Serialize)]
struct WireEvent<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    ts: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    data: &'a Value,
}

#[cfg(feature = "std")]
fn to_string_infallible(v: &impl Serialize) -> String {
    // Serialising these borrowed structs of strings, integers and `Value`s cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

/// Append `,"key":value` (`key` needs no escaping).
fn push_member(out: &mut String, key: &str, v: &Value) {
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":");
    crate::json::write_text(out, v);
}

fn to_value_or_empty(v: &impl ToWire) -> Value {
    match v.to_wire() {
        Value::Null => Value::Object(Map::new()),
        v => v,
    }
}

fn decode_params<T: FromWire>(params: &Value) -> Result<T, RpcError> {
    T::from_wire(params).map_err(|e| {
        let msg = e.to_string();
        let mut err = RpcError::new(Code::INVALID_PARAMS, msg.clone())
            .with_reason(Code::INVALID_PARAMS.reason())
            .with_retryable(false);
        if let Some(field) = field_from_serde_message(&msg) {
            err = err.with_field(field);
        }
        err
    })
}

/// serde_json messages name missing/unknown fields as "missing field `x`".
fn field_from_serde_message(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg.get(start..)?.find('`')?;
    msg.get(start..start + len).map(str::to_string)
}

/// A client frame as a JSON value, from its parts (`id` `None` for a notification): what
/// [`ClientFrame::to_value`] gives, for a driver that holds the parts rather than a
/// [`ClientFrame`] (no copy of `params`).
pub fn frame_value(id: Option<String>, method: &str, params: Value) -> Value {
    let mut m = Map::new();
    m.insert("jsonrpc".into(), JSONRPC.into());
    if let Some(id) = id {
        m.insert("id".into(), Value::String(id));
    }
    m.insert("method".into(), method.into());
    m.insert("params".into(), params);
    Value::Object(m)
}

impl ClientFrame {
    /// Encode as one JSON text frame: `{"jsonrpc":"2.0","id":…,"method":…,"params":…}` (no
    /// `id` for notifications), compact, members in that order.
    pub fn encode(&self) -> String {
        // Written by hand around `Value`'s own text form: no serde serializer is compiled
        // for client frames.
        let (id, method, params) = self.parts();
        let mut out = String::from("{\"jsonrpc\":\"2.0\"");
        if let Some(id) = id {
            push_member(&mut out, "id", &Value::String(id.clone()));
        }
        push_member(&mut out, "method", &Value::String(method.clone()));
        push_member(&mut out, "params", params);
        out.push('}');
        out
    }

    /// The frame as a JSON value, for a driver that writes JSON text with its own serializer
    /// (a browser's `JSON.stringify`): the members of [`ClientFrame::encode`], whose order
    /// JSON leaves free.
    pub fn to_value(&self) -> Value {
        let (id, method, params) = self.parts();
        frame_value(id.cloned(), method, params.clone())
    }

    fn parts(&self) -> (Option<&String>, &String, &Value) {
        match self {
            ClientFrame::Request(r) => (Some(&r.id), &r.method, &r.params),
            ClientFrame::Notification(n) => (None, &n.method, &n.params),
        }
    }

    /// Decode a text frame.
    pub fn decode(text: &str) -> Result<ClientFrame, DecodeError> {
        ClientFrame::from_object(parse_object(text)?)
    }

    /// Decode a frame already parsed as JSON; the same rules as [`ClientFrame::decode`] after
    /// the parse.
    pub fn decode_value(v: Value) -> Result<ClientFrame, DecodeError> {
        ClientFrame::from_object(frame_object(v)?)
    }

    fn from_object(mut obj: Map<String, Value>) -> Result<ClientFrame, DecodeError> {
        let id = match obj.remove("id") {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(DecodeError::invalid("id must be a string", None)),
        };
        check_version(&obj, &id)?;
        let method = match obj.remove("method") {
            Some(Value::String(m)) => m,
            _ => return Err(DecodeError::invalid("missing method", id)),
        };
        let params = take_params(&mut obj, &id)?;
        Ok(match id {
            Some(id) => ClientFrame::Request(Request { id, method, params }),
            None => ClientFrame::Notification(Notification { method, params }),
        })
    }

    /// Decode a binary frame (must be UTF-8).
    pub fn decode_bytes(bytes: &[u8]) -> Result<ClientFrame, DecodeError> {
        ClientFrame::decode(utf8(bytes)?)
    }
}

impl ServerFrame {
    /// Encode as one JSON text frame.
    #[cfg(feature = "std")]
    pub fn encode(&self) -> String {
        match self {
            ServerFrame::Response(r) => match &r.outcome {
                Ok(result) => to_string_infallible(&WireResult {
                    jsonrpc: JSONRPC,
                    id: r.id.as_deref(),
                    result,
                }),
                Err(e) => to_string_infallible(&WireError {
                    jsonrpc: JSONRPC,
                    id: r.id.as_deref(),
                    error: WireErrorObject {
                        code: e.code,
                        message: &e.message,
                        data: e.data.as_deref().filter(|d| !d.is_empty()),
                    },
                }),
            },
            ServerFrame::Event(ev) => to_string_infallible(&WireNotification {
                jsonrpc: JSONRPC,
                method: "event",
                params: WireEvent {
                    event_type: &ev.event_type,
                    ts: ev.ts,
                    seq: ev.seq,
                    data: &ev.data,
                },
            }),
        }
    }

    /// Decode a text frame.
    pub fn decode(text: &str) -> Result<ServerFrame, DecodeError> {
        ServerFrame::from_object(parse_object(text)?)
    }

    /// Decode a frame already parsed as JSON (by any conforming JSON parser, such as a
    /// browser's `JSON.parse`); the same rules as [`ServerFrame::decode`] after the parse.
    pub fn decode_value(v: Value) -> Result<ServerFrame, DecodeError> {
        ServerFrame::from_object(frame_object(v)?)
    }

    fn from_object(mut obj: Map<String, Value>) -> Result<ServerFrame, DecodeError> {
        let mut id = match obj.get("id") {
            Some(Value::String(s)) => Some(s.clone()),
            // An integer id as its decimal text (a float one names no request).
            Some(Value::Number(n)) => {
                let mut t = String::new();
                crate::json::text::write_integer(&mut t, n).then_some(t)
            }
            _ => None,
        };
        // One place builds the error, whatever the fault.
        let frame = ServerFrame::read(&mut obj, &mut id);
        frame.map_err(|msg| DecodeError::invalid(msg, id))
    }

    /// The frame `obj` holds, or what is wrong with it. A response takes `id`; the faults of
    /// an event's params leave it `None` (they name no request).
    fn read(
        obj: &mut Map<String, Value>,
        id: &mut Option<String>,
    ) -> Result<ServerFrame, &'static str> {
        if !version_ok(obj) {
            return Err(BAD_VERSION);
        }
        if let Some(method) = obj.get("method") {
            if method.as_str() != Some("event") {
                return Err("the server sends no requests or notifications other than `event`");
            }
            let Some(Value::Object(params)) = obj.remove("params") else {
                return Err("event params must be an object");
            };
            *id = None;
            return decode_event_params(params).map(ServerFrame::Event);
        }
        if let Some(result) = obj.remove("result") {
            return Ok(ServerFrame::Response(Response {
                id: id.take(),
                outcome: Ok(result),
            }));
        }
        let Some(Value::Object(e)) = obj.remove("error") else {
            return Err("frame has neither method, result nor error");
        };
        let code = e
            .get("code")
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .ok_or("error.code must be an integer")?;
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        // Malformed `data` is dropped rather than failing the frame.
        let data = e
            .get("data")
            .and_then(|d| ErrorData::from_wire(d).ok())
            .map(Box::new);
        Ok(ServerFrame::Response(Response {
            id: id.take(),
            outcome: Err(RpcError {
                code: Code(code),
                message,
                data,
            }),
        }))
    }

    /// Decode a binary frame (must be UTF-8).
    pub fn decode_bytes(bytes: &[u8]) -> Result<ServerFrame, DecodeError> {
        ServerFrame::decode(utf8(bytes)?)
    }
}

fn decode_event_params(mut p: Map<String, Value>) -> Result<EventEnvelope, &'static str> {
    let event_type = match p.remove("type") {
        Some(Value::String(t)) => t,
        _ => return Err("event type must be a string"),
    };
    let ts = p.get("ts").and_then(Value::as_u64).unwrap_or(0);
    let seq = match p.get("seq") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or("event seq must be a non-negative integer")?,
        ),
    };
    let data = match p.remove("data") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v) => v,
    };
    Ok(EventEnvelope {
        event_type,
        ts,
        seq,
        data,
    })
}

fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(too_large(bytes.len()));
    }
    core::str::from_utf8(bytes).map_err(|_| DecodeError::parse("frame is not valid UTF-8"))
}

fn too_large(len: usize) -> DecodeError {
    DecodeError {
        code: Code::MESSAGE_TOO_LARGE,
        message: {
            let mut m = String::from("frame of ");
            crate::json::write_text(&mut m, &len.into());
            m.push_str(" bytes exceeds ");
            crate::json::write_text(&mut m, &MAX_FRAME_BYTES.into());
            m
        },
        id: None,
    }
}

fn parse_object(text: &str) -> Result<Map<String, Value>, DecodeError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(too_large(text.len()));
    }
    match crate::json::parse(text) {
        Ok(v) => frame_object(v),
        Err(e) => Err(DecodeError::parse(String::from(e))),
    }
}

fn frame_object(v: Value) -> Result<Map<String, Value>, DecodeError> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Array(_) => Err(DecodeError::invalid("batches are not supported", None)),
        _ => Err(DecodeError::invalid("frame must be a JSON object", None)),
    }
}

const BAD_VERSION: &str = "jsonrpc must be \"2.0\"";

/// Whether `obj` says `"jsonrpc": "2.0"`.
fn version_ok(obj: &Map<String, Value>) -> bool {
    matches!(obj.get("jsonrpc"), Some(Value::String(v)) if v == JSONRPC)
}

fn check_version(obj: &Map<String, Value>, id: &Option<String>) -> Result<(), DecodeError> {
    if version_ok(obj) {
        Ok(())
    } else {
        Err(DecodeError::invalid(BAD_VERSION, id.clone()))
    }
}

fn take_params(obj: &mut Map<String, Value>, id: &Option<String>) -> Result<Value, DecodeError> {
    match obj.remove("params") {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(v @ Value::Object(_)) => Ok(v),
        Some(_) => Err(DecodeError::invalid("params must be an object", id.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written client frame text is exactly what serde writes for the same frame.
    #[test]
    fn client_frames_encode_as_serde_writes_them() {
        let params = crate::json::json!({
            "z": [1, -2, 3.5, null, true],
            "a": {"nested": "quote \" backslash \\ newline \n tab \t nul \u{0} é 🎉"},
            "": ""
        });
        for (id, method) in [
            ("1", "ping"),
            ("we\"ird\\ id\n\u{1f}", "room.get"),
            ("", ""),
        ] {
            let req = ClientFrame::Request(Request {
                id: id.into(),
                method: method.into(),
                params: params.clone(),
            });
            let expected = serde_json::to_string(&WireRequest {
                jsonrpc: JSONRPC,
                id,
                method,
                params: &params,
            })
            .expect("serialise");
            assert_eq!(req.encode(), expected);
            let note = ClientFrame::Notification(Notification {
                method: method.into(),
                params: params.clone(),
            });
            let expected = serde_json::to_string(&WireNotification {
                jsonrpc: JSONRPC,
                method,
                params: &params,
            })
            .expect("serialise");
            assert_eq!(note.encode(), expected);
            assert_eq!(ClientFrame::decode(&req.encode()).expect("decode"), req);
        }
    }
}
