//! Frame builders shared by the session and room actors.

use std::sync::Arc;

use ovsp::codes::Code;
use ovsp::envelope::{Response, RpcError, ServerFrame};
use serde::Serialize;
use serde_json::Value;

/// An event as produced by a room: its data is serialised once and shared by every recipient;
/// each session adds its own `seq` when it writes the frame.
#[derive(Debug)]
pub(crate) struct EventMsg {
    pub ty: &'static str,
    pub ts: u64,
    pub durable: bool,
    pub data: Box<str>,
}

impl EventMsg {
    /// Builds an event; durability comes from the protocol crate's event catalogue.
    pub fn new(ty: &'static str, data: &impl Serialize) -> Arc<EventMsg> {
        let durable = ovsp::events::event_info(ty)
            .map(|i| i.durability == ovsp::events::Durability::Durable)
            .unwrap_or(true);
        let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
        Arc::new(EventMsg {
            ty,
            ts: crate::util::now_ms(),
            durable,
            data: data.into_boxed_str(),
        })
    }

    /// Builds the message of a typed protocol event (`None` for an event type the catalogue
    /// does not know).
    pub fn from_event(ev: &ovsp::events::Event) -> Option<Arc<EventMsg>> {
        let info = ovsp::events::event_info(ev.event_type())?;
        Some(EventMsg::new(info.name, &ev.data()))
    }

    /// The wire frame with the given `seq` (durable events) or none (volatile).
    pub fn frame(&self, seq: Option<u64>) -> String {
        // `ty` is one of the catalogue's names (plain ASCII), `data` is already JSON.
        match seq {
            Some(seq) => format!(
                r#"{{"jsonrpc":"2.0","method":"event","params":{{"type":"{}","ts":{},"seq":{},"data":{}}}}}"#,
                self.ty, self.ts, seq, self.data
            ),
            None => format!(
                r#"{{"jsonrpc":"2.0","method":"event","params":{{"type":"{}","ts":{},"data":{}}}}}"#,
                self.ty, self.ts, self.data
            ),
        }
    }
}

/// An error response frame.
pub(crate) fn error_frame(id: Option<String>, err: RpcError) -> String {
    ServerFrame::Response(Response::err(id, err)).encode()
}

/// A success response frame; `seq` is written into the result object.
pub(crate) fn ok_frame(id: String, mut result: Value, seq: u64) -> String {
    if let Value::Object(map) = &mut result {
        map.insert("seq".into(), Value::from(seq));
    }
    ServerFrame::Response(Response {
        id: Some(id),
        outcome: Ok(result.into()),
    })
    .encode()
}

/// Shorthand for an error with a code and message.
pub(crate) fn err(code: Code, message: impl Into<String>) -> RpcError {
    let e = RpcError::new(code, message).with_reason(code.reason());
    if code.is_retryable() {
        e.with_retryable(true)
    } else {
        e
    }
}

/// Invalid params (-32602) naming the field.
pub(crate) fn bad_params(field: &str, message: impl Into<String>) -> RpcError {
    err(Code::INVALID_PARAMS, message).with_field(field)
}

/// Decodes typed params; a failure is -32602 with serde's message.
pub(crate) fn params<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, RpcError> {
    let v = if v.is_null() {
        Value::Object(Default::default())
    } else {
        v.clone()
    };
    serde_json::from_value(v).map_err(|e| {
        let msg = e.to_string();
        let field = msg
            .split('`')
            .nth(1)
            .map(str::to_string)
            .unwrap_or_else(|| "params".into());
        err(Code::INVALID_PARAMS, format!("invalid params: {msg}")).with_field(field)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event type the server emits is in the protocol catalogue, with the durability the
    /// server relies on.
    #[test]
    fn emitted_events_are_in_the_catalogue() {
        let durable = [
            "layout.changed",
            "member.joined",
            "member.left",
            "member.updated",
            "message.received",
            "pub.ice_restart_requested",
            "room.updated",
            "self.permissions_changed",
            "self.unmute_requested",
            "session.closing",
            "sub.offer",
            "sub.updated",
            "track.published",
            "track.stream_state",
            "track.subscribed",
            "track.unpublished",
            "track.updated",
        ];
        let volatile = [
            "ice.candidate",
            "member.talking",
            "room.audience_count",
            "room.speakers",
        ];
        for ty in durable {
            assert!(EventMsg::new(ty, &serde_json::json!({})).durable, "{ty}");
        }
        for ty in volatile {
            assert!(ovsp::events::event_info(ty).is_some(), "{ty}");
            assert!(!EventMsg::new(ty, &serde_json::json!({})).durable, "{ty}");
        }
        for ty in durable {
            assert!(
                ovsp::events::event_info(ty).is_some(),
                "{ty} not in the catalogue"
            );
        }
    }

    #[test]
    fn event_frames_decode_with_the_protocol_crate() {
        let ev = EventMsg::new(
            "member.left",
            &serde_json::json!({"member_id": "mem_1", "reason": "left"}),
        );
        for seq in [Some(7), None] {
            let frame = ev.frame(seq);
            match ServerFrame::decode(&frame) {
                Ok(ServerFrame::Event(e)) => {
                    assert_eq!(e.event_type, "member.left");
                    assert_eq!(e.seq, seq);
                    assert_eq!(e.data["member_id"], "mem_1");
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
