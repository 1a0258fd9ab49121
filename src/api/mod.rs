//! The JavaScript facades: `RoomSession`, `Room`, `Call` and the rooms returned by
//! `connect()`, with their typed errors.
//!
//! Each facade keeps the names of the API it follows exactly (methods, parameters, events).
//! The work is split so that the rules are testable on the host:
//!
//! - [`error`]: [`ApiError`], the typed error every rejected promise carries;
//! - [`wire`]: argument validation and the translation of facade calls into OVSP requests;
//! - [`token`]: reading a token's expiry and room;
//!
//! and, in the browser only, the `#[wasm_bindgen]` classes built on the session actor of
//! [`crate::web`]. The exact TypeScript declarations of those classes live in `convene.d.ts`
//! next to this file and are embedded into the generated declarations.

pub mod error;
pub mod token;
pub mod wire;

pub use error::ApiError;

#[cfg(target_arch = "wasm32")]
pub mod call;
#[cfg(target_arch = "wasm32")]
pub mod common;
#[cfg(target_arch = "wasm32")]
pub mod opts;
#[cfg(target_arch = "wasm32")]
pub mod room;
#[cfg(target_arch = "wasm32")]
pub mod room_session;
#[cfg(target_arch = "wasm32")]
pub mod video;

#[cfg(target_arch = "wasm32")]
mod ts {
    use wasm_bindgen::prelude::*;

    /// The hand-written declarations of every exported class (their generated ones are skipped).
    #[wasm_bindgen(typescript_custom_section)]
    const TS_API: &'static str = include_str!("convene.d.ts");
}

#[cfg(test)]
mod tests {
    //! The hand-written declarations must name every error and every event the code can
    //! produce, so they cannot drift from the code table or the core's event catalogue.

    use crate::prelude::*;
    use convene_core::catalogue::{CALL_EVENTS, ROOM_EVENTS, ROOM_SESSION_EVENTS, TWILIO_EVENTS};
    use ovsp::codes::Code;

    const TS: &str = include_str!("convene.d.ts");

    /// The body of `export interface <name> ... { ... }` (up to the closing brace at column 0).
    fn interface(name: &str) -> &'static str {
        let head = format!("export interface {name} ");
        let start = TS
            .find(&head)
            .unwrap_or_else(|| panic!("interface {name} not declared"));
        let rest = &TS[start..];
        let end = rest.find("\n}").unwrap_or(rest.len());
        &rest[..end]
    }

    fn declares(body: &str, event: &str) -> bool {
        body.contains(&format!("\"{event}\":")) || body.contains(&format!("\n  {event}:"))
    }

    /// The members (properties and methods) declared in an interface or class body.
    fn members(body: &str) -> Vec<String> {
        let mut out: Vec<String> = body
            .lines()
            .filter_map(|l| {
                let l = l.strip_prefix("  ")?.trim_start_matches("readonly ");
                let end = l.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
                let (name, rest) = l.split_at(end);
                let decl = rest.starts_with(':')
                    || rest.starts_with('(')
                    || rest.starts_with('<')
                    || rest.starts_with("?:");
                (!name.is_empty() && decl && name != "constructor" && name != "free")
                    .then(|| name.to_owned())
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The names the package's JS installs on `class` (`api(Class, "names")`), getters and
    /// chained methods without their marks.
    fn installed(class: &str) -> Vec<String> {
        let js = include_str!("../../pkg-template/append/convene.js");
        let head = format!("api({class}, \"");
        let start = js.find(&head).expect("class not installed") + head.len();
        let list = &js[start..start + js[start..].find('"').expect("unterminated list")];
        let mut out: Vec<String> = list
            .split(' ')
            .map(|n| n.trim_start_matches(['.', '~']).to_owned())
            .collect();
        out.sort();
        out
    }

    /// The dispatcher index a line of the package's JS passes for `on` (`<prefix>N,`).
    fn js_index(prefix: &str) -> usize {
        let js = include_str!("../../pkg-template/append/convene.js");
        let start = js.find(prefix).expect("line not in convene.js") + prefix.len();
        let end = start + js[start..].find(',').expect("no index");
        js[start..end].parse().expect("index is a number")
    }

    #[test]
    fn js_on_overrides_call_the_dispatcher_at_the_listed_indexes() {
        use super::wire::{CALL_API, ROOM_API};
        let at = |list: &str, name: &str| list.split(' ').position(|n| n == name);
        // Room's and Call's `on` reach the dispatcher at the index of "on" in their lists; the
        // function Room's `on` returns uses the first index past the list (the dispatcher's
        // removal arm).
        let room_on = "Room.prototype.on = function (e, f) { const x = this._c(";
        assert_eq!(Some(js_index(room_on)), at(ROOM_API, "on"));
        assert_eq!(
            js_index("return () => this._c("),
            ROOM_API.split(' ').count()
        );
        let call_on = "Call.prototype.on = function (e, f) { const x = this._c(";
        assert_eq!(Some(js_index(call_on)), at(CALL_API, "on"));
    }

    #[test]
    fn installed_names_are_the_declared_members() {
        let class = |name: &str| {
            let head = format!("export declare class {name} ");
            let start = TS.find(&head).expect("class not declared");
            let rest = &TS[start..];
            &rest[..rest.find("\n}").unwrap_or(rest.len())]
        };
        for c in ["RoomSession", "Room", "Call", "VideoRoom"] {
            assert_eq!(installed(c), members(class(c)), "{c}");
        }
        assert_eq!(
            installed("RoomSessionDevice"),
            members(interface("RoomSessionDevice"))
        );
        let mut egress: Vec<String> = [
            "RoomSessionRecording",
            "RoomSessionPlayback",
            "RoomSessionStream",
        ]
        .iter()
        .flat_map(|i| members(interface(i)))
        .collect();
        egress.sort();
        egress.dedup();
        assert_eq!(installed("Egress"), egress);
        // No name twice in a list.
        for c in [
            "RoomSession",
            "RoomSessionDevice",
            "Egress",
            "Call",
            "Room",
            "LocalTrack",
            "VideoRoom",
        ] {
            let mut l = installed(c);
            let n = l.len();
            l.dedup();
            assert_eq!(l.len(), n, "{c} lists a name twice");
        }
    }

    #[test]
    fn every_error_name_is_declared() {
        for c in Code::ALL {
            assert!(
                TS.contains(&format!("\"{}\"", c.name())),
                "{} missing from ConveneErrorName",
                c.name()
            );
        }
    }

    #[test]
    fn every_catalogue_event_is_in_the_event_maps() {
        let rs = interface("RoomSessionEvents");
        for e in ROOM_SESSION_EVENTS {
            assert!(declares(rs, e), "RoomSessionEvents lacks {e}");
        }
        let room = interface("Events");
        for e in ROOM_EVENTS {
            assert!(declares(room, e), "Events lacks {e}");
        }
        let call = interface("CallEventMap");
        for e in CALL_EVENTS {
            assert!(declares(call, e), "CallEventMap lacks {e}");
        }
        use convene_core::catalogue::TwilioObject as T;
        for (obj, e) in TWILIO_EVENTS {
            let map = match obj {
                T::Room => "VideoRoomEvents",
                T::LocalParticipant => "LocalParticipantEvents",
                T::RemoteParticipant => "RemoteParticipantEvents",
                T::LocalTrack | T::RemoteTrack => "TrackEvents",
                T::LocalTrackPublication | T::RemoteTrackPublication => "TrackPublicationEvents",
            };
            let body = interface(map);
            let inherited = matches!(obj, T::LocalParticipant | T::RemoteParticipant)
                && declares(interface("ParticipantEvents"), e);
            assert!(declares(body, e) || inherited, "{map} lacks {e}");
        }
    }
}
