//! Pure translation of facade calls into OVSP requests, with argument validation.
//!
//! The facades turn their JavaScript arguments into JSON values and hand them to the
//! functions here, which check every argument (type, presence, range, known layout and
//! position) and build the wire method and params. Nothing here touches the browser, so the
//! rules are tested on the host. A bad argument gives an [`ApiError`] before anything is sent.

use crate::prelude::*;
use ovsp::codes::Code;
use ovsp::json::{Map, Value};
use ovsp::model::MediaKind;

use super::error::{concat, ApiError};

/// A request to send: the OVSP method name and its params.
#[derive(Debug, Clone, PartialEq)]
pub struct Req {
    /// OVSP method, e.g. `"member.audio_mute"`.
    pub method: &'static str,
    /// Its params object.
    pub params: Value,
}

impl Req {
    fn new(method: &'static str, params: Value) -> Self {
        Req { method, params }
    }
}

/// Maximum length of a server id (B1).
const MAX_ID_LEN: usize = 64;

/// The layouts of the server's catalogue (names as `getLayouts` lists them).
pub const LAYOUTS: &[&str] = &[
    "1x1",
    "2x1",
    "2x2",
    "3x3",
    "4x4",
    "5x5",
    "6x6",
    "8x8",
    "10x10",
    "5up",
    "grid-responsive",
    "highlight-1-responsive",
];

// ---------------------------------------------------------------------------------------------
// Argument readers
// ---------------------------------------------------------------------------------------------

/// The params object at `args[i]`: `None` when absent/undefined/null (and not required).
#[inline(never)]
pub fn params_obj<'a>(
    args: &'a [Value],
    i: usize,
    name: &str,
    required: bool,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match args.get(i) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(ApiError::invalid(name, "is required")),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(ApiError::invalid(name, "must be an object")),
    }
}

#[inline(never)]
fn field<'a>(o: Option<&'a Map<String, Value>>, key: &str) -> Option<&'a Value> {
    o.and_then(|o| o.get(key)).filter(|v| !v.is_null())
}

/// An optional string field.
#[inline(never)]
pub fn opt_str(o: Option<&Map<String, Value>>, key: &str) -> Result<Option<String>, ApiError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(key, "must be a string")),
    }
}

/// A required non-empty string field.
#[inline(never)]
pub fn req_str(o: Option<&Map<String, Value>>, key: &str) -> Result<String, ApiError> {
    match opt_str(o, key)? {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(ApiError::invalid(key, "must not be empty")),
        None => Err(ApiError::invalid(key, "is required")),
    }
}

/// An optional boolean field.
#[inline(never)]
pub fn opt_bool(o: Option<&Map<String, Value>>, key: &str) -> Result<Option<bool>, ApiError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid(key, "must be a boolean")),
    }
}

/// A boolean positional argument (`None` when undefined).
#[inline(never)]
pub fn arg_bool(args: &[Value], i: usize, name: &str) -> Result<Option<bool>, ApiError> {
    match args.get(i) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid(name, "must be a boolean")),
    }
}

/// A required string positional argument.
#[inline(never)]
pub fn arg_str(args: &[Value], i: usize, name: &str) -> Result<String, ApiError> {
    match args.get(i) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(ApiError::invalid(name, "must not be empty")),
        None | Some(Value::Null) => Err(ApiError::invalid(name, "is required")),
        Some(_) => Err(ApiError::invalid(name, "must be a string")),
    }
}

/// A list of strings positional argument (a single string is accepted as a list of one when
/// `single_ok`).
#[inline(never)]
pub fn arg_str_list(
    args: &[Value],
    i: usize,
    name: &str,
    single_ok: bool,
) -> Result<Vec<String>, ApiError> {
    match args.get(i) {
        Some(Value::String(s)) if single_ok && !s.is_empty() => Ok(vec![s.clone()]),
        Some(v @ Value::Array(_)) => str_list(v, name),
        None | Some(Value::Null) => Err(ApiError::invalid(name, "is required")),
        Some(_) => Err(ApiError::invalid(name, "must be a list of strings")),
    }
}

#[inline(never)]
fn str_list(v: &Value, name: &str) -> Result<Vec<String>, ApiError> {
    let Value::Array(a) = v else {
        return Err(ApiError::invalid(name, "must be a list of strings"));
    };
    let mut out = Vec::with_capacity(a.len());
    for x in a {
        match x {
            Value::String(s) if !s.is_empty() => out.push(s.clone()),
            _ => {
                return Err(ApiError::invalid(
                    name,
                    "must be a list of non-empty strings",
                ))
            }
        }
    }
    Ok(out)
}

/// Checks an id's shape: non-empty, at most 64 characters.
#[inline(never)]
pub fn check_id(id: &str, name: &str) -> Result<(), ApiError> {
    if id.is_empty() {
        return Err(ApiError::invalid(name, "must not be empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(ApiError::invalid(name, "must be at most 64 characters"));
    }
    Ok(())
}

/// A required integer-valued number in `lo..=hi` (fractions are rounded).
#[inline(never)]
pub fn num_in(
    o: Option<&Map<String, Value>>,
    key: &str,
    lo: i64,
    hi: i64,
) -> Result<i64, ApiError> {
    match field(o, key) {
        None => Err(ApiError::invalid(key, "is required")),
        Some(v) => number_in(v, key, lo, hi),
    }
}

/// A number in `lo..=hi` (fractions are rounded).
#[inline(never)]
pub fn number_in(v: &Value, key: &str, lo: i64, hi: i64) -> Result<i64, ApiError> {
    let Some(n) = v.as_f64().filter(|n| n.is_finite()) else {
        return Err(ApiError::invalid(key, "must be a finite number"));
    };
    let r = round(n);
    if r < lo as f64 || r > hi as f64 {
        let mut why = String::from("must be between ");
        push_i64(&mut why, lo);
        why.push_str(" and ");
        push_i64(&mut why, hi);
        return Err(ApiError::invalid(key, &why));
    }
    Ok(r as i64)
}

/// An optional JSON object field (meta).
#[inline(never)]
pub fn opt_meta(o: Option<&Map<String, Value>>, key: &str) -> Result<Option<Value>, ApiError> {
    match field(o, key) {
        None => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(_) => Err(ApiError::invalid(key, "must be an object")),
    }
}

/// Checks a layout name against the catalogue.
#[inline(never)]
pub fn check_layout(name: &str) -> Result<(), ApiError> {
    if LAYOUTS.contains(&name) {
        Ok(())
    } else {
        let mut e = ApiError::new(
            Code::LAYOUT_NOT_FOUND,
            concat(&["unknown layout \"", name, "\"; see getLayouts()"]),
        );
        e.field = Some("name".into());
        Err(e)
    }
}

/// Checks a layout position: `auto`, `off-canvas`, `playback`, `full-screen`, `reserved-N`,
/// `standard-N` (N ≥ 1).
#[inline(never)]
pub fn check_position(p: &str) -> Result<(), ApiError> {
    let n = p
        .strip_prefix("reserved-")
        .or_else(|| p.strip_prefix("standard-"));
    let numbered = n.is_some_and(|n| {
        !n.is_empty() && n.len() <= 4 && n.as_bytes().iter().all(u8::is_ascii_digit) && n != "0"
    });
    if numbered || matches!(p, "auto" | "off-canvas" | "playback" | "full-screen") {
        Ok(())
    } else {
        let mut e = ApiError::new(
            Code::INVALID_POSITION,
            concat(&["invalid layout position \"", p, "\""]),
        );
        e.field = Some("position".into());
        Err(e)
    }
}

/// A positions map `{memberId | "self": position}`; `"self"` becomes `self_id`.
#[inline(never)]
pub fn positions(v: Option<&Value>, self_id: &str) -> Result<Option<Value>, ApiError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Value::Object(o) = v else {
        return Err(ApiError::invalid(
            "positions",
            "must be an object of memberId → position",
        ));
    };
    let mut out = Map::new();
    for (k, p) in o {
        let Value::String(p) = p else {
            return Err(ApiError::invalid("positions", "positions must be strings"));
        };
        check_position(p)?;
        let id = if k == "self" { self_id } else { k.as_str() };
        check_id(id, "positions")?;
        out.insert(id.to_owned(), Value::String(p.clone()));
    }
    Ok(Some(Value::Object(out)))
}

/// Each `mediaAllowed` value with what a promoted member may send and what a demoted one
/// may receive.
const MEDIA_ALLOWED: [(&str, &[&str], &[&str]); 3] = [
    (
        "all",
        &["microphone", "camera", "screen", "screen_audio", "data"],
        &["audio", "video", "data"],
    ),
    ("audio-only", &["microphone"], &["audio", "data"]),
    ("video-only", &["camera", "screen"], &["video", "data"]),
];

/// A SignalWire `mediaAllowed` value as OVSP `media_allowed`: `send` sources for a promote
/// (`for_send`), `recv` kinds for a demote.
#[inline(never)]
pub fn media_allowed(v: Option<String>, for_send: bool) -> Result<Option<Value>, ApiError> {
    let Some(v) = v else { return Ok(None) };
    let Some(&(_, send, recv)) = MEDIA_ALLOWED.iter().find(|m| m.0 == v) else {
        return Err(ApiError::invalid(
            "mediaAllowed",
            "must be \"all\", \"audio-only\" or \"video-only\"",
        ));
    };
    let (send, recv) = if for_send {
        (send, MEDIA_ALLOWED[0].2)
    } else {
        (&[][..], recv)
    };
    Ok(Some(two("send", str_array(send), "recv", str_array(recv))))
}

/// `m[key] = v` (one shared body instead of an inlined key allocation per call site).
#[inline(never)]
pub fn put(m: &mut Map<String, Value>, key: &str, v: Value) {
    m.insert(key.to_owned(), v);
}

/// `{key: v}`.
#[inline(never)]
pub fn one(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    put(&mut m, key, v);
    Value::Object(m)
}

/// `{k1: v1, k2: v2}`.
#[inline(never)]
pub fn two(k1: &str, v1: Value, k2: &str, v2: Value) -> Value {
    let mut m = Map::new();
    put(&mut m, k1, v1);
    put(&mut m, k2, v2);
    Value::Object(m)
}

/// A JSON array of strings.
#[inline(never)]
pub fn str_array(l: &[&str]) -> Value {
    let mut out = Vec::with_capacity(l.len());
    for s in l {
        out.push(Value::String((*s).to_owned()));
    }
    Value::Array(out)
}

/// A JSON array of owned strings.
#[inline(never)]
pub fn strings(l: Vec<String>) -> Value {
    let mut out = Vec::with_capacity(l.len());
    for s in l {
        out.push(Value::String(s));
    }
    Value::Array(out)
}

// ---------------------------------------------------------------------------------------------
// RoomSession
// ---------------------------------------------------------------------------------------------

/// How a [`Ty::Str`] field checks its string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Check {
    /// Any string.
    Any,
    /// A server id (see [`check_id`]).
    Id,
    /// A layout name of the catalogue.
    Layout,
    /// A layout position (see [`check_position`]).
    Position,
    /// A `mediaAllowed` value, sent as what a promoted member may send (see
    /// [`media_allowed`]).
    Send,
    /// A `mediaAllowed` value, sent as what a demoted member may receive.
    Recv,
}

/// An argument's JS key with the wire key it becomes, as an index of `KEYS` (a spec
/// entry is then a few bytes of data instead of two string references).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Key {
    /// `memberId` (`member_id`).
    MemberId,
    /// `name` (`name`).
    Name,
    /// `position` (`position`).
    Position,
    /// `url` (`url`).
    Url,
    /// `layout` (`layout`).
    Layout,
    /// `defaultLayout` (`default_layout`).
    DefaultLayout,
    /// `joinAudioMuted` (`join_audio_muted`).
    JoinAudioMuted,
    /// `joinVideoMuted` (`join_video_muted`).
    JoinVideoMuted,
    /// `hideVideoMuted` (`hide_video_muted`).
    HideVideoMuted,
    /// `prioritizeHandraise` (`prioritize_handraise`).
    PrioritizeHandraise,
    /// `permissions` (`permissions`).
    Permissions,
    /// `keys` (`keys`).
    Keys,
    /// `volume` (`volume`).
    Volume,
    /// `value` (`value`).
    Value,
    /// `seekPosition` (`seek_position_ms`).
    SeekPosition,
    /// `maxUsers` (`max_members`).
    MaxUsers,
    /// `param` (`enable`).
    Param,
    /// `params` (the name of an options object in errors).
    Params,
    /// `config` (the name of a config object in errors).
    Config,
    /// `options` (the name of a data track's options in errors).
    Options,
    /// `ordered` (`ordered`).
    Ordered,
    /// `maxPacketLifeTime` (`maxPacketLifeTime`).
    MaxPacketLifeTime,
    /// `maxRetransmits` (`maxRetransmits`).
    MaxRetransmits,
    /// `meta` (`meta`).
    Meta,
    /// `positions` (`positions`).
    Positions,
    /// `mediaAllowed` (`media_allowed`).
    MediaAllowed,
}

/// The (JS key, wire key) of each [`Key`].
const KEYS: [(&str, &str); 26] = [
    ("memberId", "member_id"),
    ("name", "name"),
    ("position", "position"),
    ("url", "url"),
    ("layout", "layout"),
    ("defaultLayout", "default_layout"),
    ("joinAudioMuted", "join_audio_muted"),
    ("joinVideoMuted", "join_video_muted"),
    ("hideVideoMuted", "hide_video_muted"),
    ("prioritizeHandraise", "prioritize_handraise"),
    ("permissions", "permissions"),
    ("keys", "keys"),
    ("volume", "volume"),
    ("value", "value"),
    ("seekPosition", "seek_position_ms"),
    ("maxUsers", "max_members"),
    ("param", "enable"),
    ("params", ""),
    ("config", ""),
    ("options", ""),
    ("ordered", "ordered"),
    ("maxPacketLifeTime", "maxPacketLifeTime"),
    ("maxRetransmits", "maxRetransmits"),
    ("meta", "meta"),
    ("positions", "positions"),
    ("mediaAllowed", "media_allowed"),
];

/// One part of a RoomSession request's params, read in order by [`room_session_at`]: the
/// arguments of a method are data (a list of these), not code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RsArg {
    /// The object of argument 0 (its name in errors, required when `true`): where the next
    /// fields are read.
    Obj(Key, bool),
    /// The next field is argument 0 itself rather than a key of the object.
    Arg,
    /// A field (key, type, required): its value, checked, under its wire key.
    Field(Key, Ty, bool),
    /// A constant of `CONSTS` under a wire key (an absent optional field after it keeps
    /// it: a default).
    Const(Key, u8),
    /// `raised: false` lowers the hand instead.
    Hand,
}

/// The type of an [`RsArg::Field`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ty {
    /// A string, checked; a required one must not be empty.
    Str(Check),
    /// A boolean.
    Bool,
    /// A list of non-empty strings.
    List,
    /// An object (application data).
    Meta,
    /// A number rounded into a range of `RANGES` (by index).
    Num(u8),
    /// `{memberId | "self": position}` (see [`positions`]).
    Positions,
}

/// The values of [`RsArg::Const`]: `"all"`, `false`, `true`.
const CONSTS: [fn() -> Value; 3] = [|| "all".into(), || false.into(), || true.into()];

/// The ranges of [`Ty::Num`]: volumes, the input sensitivity, a media position (ms), a
/// call's user limit and a data channel's retransmission limits.
const RANGES: [(i64, i64); 5] = [
    (-50, 50),
    (0, 100),
    (0, i64::MAX / 2),
    (1, 100_000),
    (0, 65535),
];
/// The [`RANGES`] index of a volume (-50 to 50 dB).
const VOLUME_DB: u8 = 0;
/// The [`RANGES`] index of a percentage (0 to 100).
const PERCENT: u8 = 1;
/// The [`RANGES`] index of a non-negative duration in milliseconds.
const MILLIS: u8 = 2;
/// The [`RANGES`] index of a call's `maxUsers`.
const USERS: u8 = 3;
/// The [`RANGES`] index of a data channel's retransmission limit (a `u16`).
const U16: u8 = 4;

/// The egress kinds, by the index [`RsReply::Egress`] and [`RsReply::List`] give.
pub const EGRESS_KINDS: [&str; 3] = ["recording", "playback", "stream"];

/// What the reply of a RoomSession request resolves to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RsReply {
    /// `undefined`.
    Nothing,
    /// `{members}`.
    Members,
    /// `{meta}`.
    Meta,
    /// `{layouts}` (names).
    Layouts,
    /// The `enable` flag sent.
    Enable,
    /// The object under the key of the reply that is this kind of [`EGRESS_KINDS`]
    /// (`recording`, `playback`, `stream`), as a control object of that kind.
    Egress(u8),
    /// `{<kind>s: [...]}`: the list under the plural key of this kind of [`EGRESS_KINDS`], as
    /// control objects.
    List(u8),
}

/// A RoomSession method that is a plain request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RsReq {
    /// The JS name (for the tests: the facade finds an entry by index).
    #[cfg(test)]
    pub js: &'static str,
    /// The OVSP method.
    pub method: &'static str,
    /// How its arguments are read.
    pub args: &'static [RsArg],
    /// What its reply becomes.
    pub reply: RsReply,
}

/// An [`RsReq`] (JS name, OVSP method, arguments, reply).
macro_rules! rq {
    ($js:literal, $method:literal, $args:expr, $reply:expr) => {
        RsReq {
            #[cfg(test)]
            js: $js,
            method: $method,
            args: $args,
            reply: $reply,
        }
    };
}

use Check as C;
use Key as K;
use RsArg as A;
use RsReply as R;
use Ty as T;

const MEMBER_ID: RsArg = A::Field(K::MemberId, T::Str(C::Id), false);
const REQ_MEMBER_ID: RsArg = A::Field(K::MemberId, T::Str(C::Id), true);
const MEMBER: &[RsArg] = &[A::Obj(K::Params, false), MEMBER_ID];
const EMPTY: &[RsArg] = &[];
const VOLUME: &[RsArg] = &[
    A::Obj(K::Params, true),
    MEMBER_ID,
    A::Field(K::Volume, T::Num(VOLUME_DB), true),
];
const META: &[RsArg] = &[A::Arg, A::Field(K::Meta, T::Meta, true)];
const MEMBER_META: &[RsArg] = &[
    A::Obj(K::Params, true),
    MEMBER_ID,
    A::Field(K::Meta, T::Meta, true),
];
const URL: RsArg = A::Field(K::Url, T::Str(C::Any), true);

/// Every RoomSession method that is a plain request: JS name, OVSP method, how its arguments
/// are read and what its reply becomes. Device, media and egress-object methods are handled
/// by the facade itself.
pub const ROOM_SESSION_REQUESTS: &[RsReq] = &[
    rq!("audioMute", "member.audio_mute", MEMBER, R::Nothing),
    rq!("audioUnmute", "member.audio_unmute", MEMBER, R::Nothing),
    rq!("videoMute", "member.video_mute", MEMBER, R::Nothing),
    rq!("videoUnmute", "member.video_unmute", MEMBER, R::Nothing),
    rq!("deaf", "member.deaf", MEMBER, R::Nothing),
    rq!("undeaf", "member.undeaf", MEMBER, R::Nothing),
    rq!("getMembers", "member.list", EMPTY, R::Members),
    rq!(
        "removeMember",
        "member.remove",
        &[A::Obj(K::Params, true), REQ_MEMBER_ID],
        R::Nothing
    ),
    rq!(
        "removeAllMembers",
        "member.remove",
        &[A::Const(K::MemberId, 0)],
        R::Nothing
    ),
    rq!("lock", "room.lock", EMPTY, R::Nothing),
    rq!("unlock", "room.unlock", EMPTY, R::Nothing),
    rq!(
        "promote",
        "member.promote",
        &[
            A::Obj(K::Params, true),
            REQ_MEMBER_ID,
            A::Field(K::Permissions, T::List, false),
            A::Field(K::MediaAllowed, T::Str(C::Send), false),
            A::Field(K::JoinAudioMuted, T::Bool, false),
            A::Field(K::JoinVideoMuted, T::Bool, false),
            A::Field(K::Meta, T::Meta, false),
        ],
        R::Nothing
    ),
    rq!(
        "demote",
        "member.demote",
        &[
            A::Obj(K::Params, true),
            REQ_MEMBER_ID,
            A::Field(K::MediaAllowed, T::Str(C::Recv), false)
        ],
        R::Nothing
    ),
    rq!(
        "setRaisedHand",
        "member.raise_hand",
        &[A::Obj(K::Params, false), MEMBER_ID, A::Hand],
        R::Nothing
    ),
    rq!(
        "setPrioritizeHandraise",
        "room.set_prioritize_handraise",
        &[
            A::Const(K::Param, 2),
            A::Arg,
            A::Field(K::Param, T::Bool, false)
        ],
        R::Enable
    ),
    rq!(
        "setHideVideoMuted",
        "room.set_hide_video_muted",
        &[A::Arg, A::Field(K::Value, T::Bool, true)],
        R::Nothing
    ),
    rq!(
        "showVideoMuted",
        "room.set_hide_video_muted",
        &[A::Const(K::Value, 1)],
        R::Nothing
    ),
    rq!(
        "setInputVolume",
        "member.set_input_volume",
        VOLUME,
        R::Nothing
    ),
    rq!(
        "setMicrophoneVolume",
        "member.set_input_volume",
        VOLUME,
        R::Nothing
    ),
    rq!(
        "setOutputVolume",
        "member.set_output_volume",
        VOLUME,
        R::Nothing
    ),
    rq!(
        "setSpeakerVolume",
        "member.set_output_volume",
        VOLUME,
        R::Nothing
    ),
    rq!(
        "setInputSensitivity",
        "member.set_input_sensitivity",
        &[
            A::Obj(K::Params, true),
            MEMBER_ID,
            A::Field(K::Value, T::Num(PERCENT), true)
        ],
        R::Nothing
    ),
    rq!("getMeta", "room.get_meta", EMPTY, R::Meta),
    rq!("setMeta", "room.set_meta", META, R::Nothing),
    rq!("updateMeta", "room.update_meta", META, R::Nothing),
    rq!(
        "deleteMeta",
        "room.delete_meta",
        &[A::Arg, A::Field(K::Keys, T::List, true)],
        R::Nothing
    ),
    rq!("getMemberMeta", "member.get_meta", MEMBER, R::Meta),
    rq!("setMemberMeta", "member.set_meta", MEMBER_META, R::Nothing),
    rq!(
        "updateMemberMeta",
        "member.update_meta",
        MEMBER_META,
        R::Nothing
    ),
    rq!(
        "deleteMemberMeta",
        "member.delete_meta",
        &[
            A::Obj(K::Params, true),
            MEMBER_ID,
            A::Field(K::Keys, T::List, true)
        ],
        R::Nothing
    ),
    rq!("getLayouts", "layout.list", EMPTY, R::Layouts),
    rq!(
        "setLayout",
        "layout.set",
        &[
            A::Obj(K::Params, true),
            A::Field(K::Name, T::Str(C::Layout), true),
            A::Field(K::Positions, T::Positions, false)
        ],
        R::Nothing
    ),
    rq!(
        "setPositions",
        "layout.set_positions",
        &[
            A::Obj(K::Params, true),
            A::Field(K::Positions, T::Positions, true)
        ],
        R::Nothing
    ),
    rq!(
        "setMemberPosition",
        "member.set_position",
        &[
            A::Obj(K::Params, true),
            MEMBER_ID,
            A::Field(K::Position, T::Str(C::Position), true)
        ],
        R::Nothing
    ),
    rq!("startRecording", "recording.start", EMPTY, R::Egress(0)),
    rq!("getRecordings", "recording.list", EMPTY, R::List(0)),
    rq!(
        "play",
        "playback.start",
        &[
            A::Obj(K::Params, true),
            URL,
            A::Field(K::Volume, T::Num(VOLUME_DB), false),
            A::Field(K::SeekPosition, T::Num(MILLIS), false),
            A::Field(K::Layout, T::Str(C::Layout), false),
            A::Field(K::Positions, T::Positions, false),
        ],
        R::Egress(1)
    ),
    rq!("getPlaybacks", "playback.list", EMPTY, R::List(1)),
    rq!(
        "startStream",
        "stream.start",
        &[A::Obj(K::Params, true), URL],
        R::Egress(2)
    ),
    rq!("getStreams", "stream.list", EMPTY, R::List(2)),
];

/// Builds the request of a RoomSession method (`js` is the JS method name, `args` its
/// arguments, `self_id` the local member id for `"self"` in positions).
#[cfg(test)]
pub fn room_session(js: &str, args: &[Value], self_id: &str) -> Result<Req, ApiError> {
    match ROOM_SESSION_REQUESTS.iter().position(|e| e.js == js) {
        Some(i) => room_session_at(i, args, self_id),
        None => Err(ApiError::unsupported(js)),
    }
}

/// Builds the request of entry `i` of [`ROOM_SESSION_REQUESTS`] (see `room_session`).
#[inline(never)]
pub fn room_session_at(i: usize, args: &[Value], self_id: &str) -> Result<Req, ApiError> {
    let Some(e) = ROOM_SESSION_REQUESTS.get(i) else {
        return Err(ApiError::unsupported("this method"));
    };
    build(e.method, e.args, args, self_id)
}

/// The request of OVSP `method` with params read from `args` as `spec` says (`self_id` is
/// the local member id for `"self"` in positions): the one argument interpreter.
#[inline(never)]
fn build(
    mut method: &'static str,
    spec: &[RsArg],
    args: &[Value],
    self_id: &str,
) -> Result<Req, ApiError> {
    let mut m = Map::new();
    let mut o = None;
    let mut arg = false;
    for f in spec {
        let (k, ty, req) = match *f {
            A::Obj(k, req) => {
                o = params_obj(args, 0, KEYS[k as usize].0, req)?;
                continue;
            }
            A::Arg => {
                arg = true;
                continue;
            }
            A::Const(k, c) => {
                put(&mut m, KEYS[k as usize].1, CONSTS[c as usize]());
                continue;
            }
            A::Hand => {
                if !opt_bool(o, "raised")?.unwrap_or(true) {
                    method = "member.lower_hand";
                }
                continue;
            }
            A::Field(k, ty, req) => (k, ty, req),
        };
        let (js, w) = KEYS[k as usize];
        let arg = core::mem::take(&mut arg);
        let v = if arg {
            args.first().filter(|v| !v.is_null())
        } else {
            field(o, js)
        };
        let bad = |why| Err(ApiError::invalid(js, why));
        let v = match (ty, v) {
            (_, None) if req => {
                // Argument 0 as `meta` (`setMeta`) is "an object" even when absent.
                return bad(if arg && ty == T::Meta {
                    "must be an object"
                } else {
                    "is required"
                });
            }
            (_, None) => continue,
            (T::Str(check), Some(v)) => {
                let Value::String(s) = v else {
                    return bad("must be a string");
                };
                if req && s.is_empty() {
                    return bad("must not be empty");
                }
                match check {
                    C::Any => {}
                    C::Id => check_id(s, js)?,
                    C::Layout => check_layout(s)?,
                    C::Position => check_position(s)?,
                    C::Send | C::Recv => {
                        let send = check == C::Send;
                        let Some(v) = media_allowed(Some(s.clone()), send)? else {
                            continue;
                        };
                        put(&mut m, w, v);
                        continue;
                    }
                }
                v.clone()
            }
            (T::Bool, Some(v @ Value::Bool(_))) | (T::Meta, Some(v @ Value::Object(_))) => {
                v.clone()
            }
            (T::Bool, Some(_)) => return bad("must be a boolean"),
            (T::Meta, Some(_)) => return bad("must be an object"),
            (T::List, Some(v)) => strings(str_list(v, js)?),
            (T::Num(range), Some(v)) => {
                let (lo, hi) = RANGES[range as usize];
                Value::from(number_in(v, js, lo, hi)?)
            }
            (T::Positions, v) => match positions(v, self_id)? {
                Some(p) => p,
                None => continue,
            },
        };
        put(&mut m, w, v);
    }
    Ok(Req::new(method, Value::Object(m)))
}

/// Builds the request of a recording/playback/stream object method (`kind` is `"recording"`,
/// `"playback"` or `"stream"`, `js` one of [`EGRESS_METHODS`]).
pub fn egress(kind: &str, id: &str, js: &str, args: &[Value]) -> Result<Req, ApiError> {
    match EGRESS_METHODS.iter().position(|m| *m == js) {
        Some(i) => {
            let k = EGRESS_KINDS.iter().position(|k| *k == kind).unwrap_or(2);
            egress_at(k as u8, id, i, args)
        }
        None => Err(ApiError::unsupported(js)),
    }
}

/// The OVSP method of each egress method (by index in [`EGRESS_METHODS`]) for recordings,
/// playbacks and streams (`""`: the kind has no such method).
const EGRESS_REQUESTS: [[&str; 7]; 3] = [
    [
        "recording.pause",
        "recording.resume",
        "recording.stop",
        "",
        "",
        "",
        "",
    ],
    [
        "playback.pause",
        "playback.resume",
        "playback.stop",
        "playback.set_volume",
        "playback.seek",
        "playback.seek",
        "playback.seek",
    ],
    ["", "", "stream.stop", "", "", "", ""],
];

/// Builds the request of egress method `i` of [`EGRESS_METHODS`] for an object of `kind`, an
/// index of [`EGRESS_KINDS`] (see [`egress`]).
#[inline(never)]
pub fn egress_at(kind: u8, id: &str, i: usize, args: &[Value]) -> Result<Req, ApiError> {
    let k = (kind as usize).min(2);
    let key = ["recording_id", "playback_id", "stream_id"][k];
    let method = EGRESS_REQUESTS[k].get(i).copied().unwrap_or_default();
    if method.is_empty() {
        return Err(ApiError::unsupported(
            EGRESS_METHODS.get(i).copied().unwrap_or_default(),
        ));
    }
    let mut m = Map::new();
    put(&mut m, key, Value::String(id.to_owned()));
    // setVolume(volume), seek(timecode), forward(offset?), rewind(offset?)
    let (name, wire, lo, hi) = match i {
        3 => ("volume", "volume", -50, 50),
        4 => ("timecode", "position_ms", 0, i64::MAX / 2),
        5 | 6 => ("offset", "delta_ms", 0, i64::MAX / 2),
        _ => return Ok(Req::new(method, Value::Object(m))),
    };
    let n = match args.first().filter(|v| !v.is_null()) {
        Some(v) => number_in(v, name, lo, hi)?,
        None if i >= 5 => 5000,
        None => return Err(ApiError::invalid(name, "is required")),
    };
    put(&mut m, wire, Value::from(if i == 6 { -n } else { n }));
    Ok(Req::new(method, Value::Object(m)))
}

// ---------------------------------------------------------------------------------------------
// The RoomSession class's JS names
// ---------------------------------------------------------------------------------------------

/// Defines a `Copy` enum of a class's public JS names (variants in UpperCamel, index order) with
/// `ALL` (every variant by index) and, for tests, `NAMES` (the variant names).
macro_rules! js_api {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($v:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        $vis enum $name { $($v),* }
        impl $name {
            /// Every value, by index.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// The variant names, by index.
            #[cfg(test)]
            pub const NAMES: &'static [&'static str] = &[$(stringify!($v)),*];
        }
    };
}

js_api! {
    /// Every public method and getter of `RoomSession`, in the order of the names the
    /// package's JS installs (`pkg-template/append/convene.js` passes the index to the class's
    /// one export). The first ones are the plain requests, in the order of
    /// [`ROOM_SESSION_REQUESTS`].
    #[allow(missing_docs)]
    pub enum RsApi {
    AudioMute,
    AudioUnmute,
    VideoMute,
    VideoUnmute,
    Deaf,
    Undeaf,
    GetMembers,
    RemoveMember,
    RemoveAllMembers,
    Lock,
    Unlock,
    Promote,
    Demote,
    SetRaisedHand,
    SetPrioritizeHandraise,
    SetHideVideoMuted,
    ShowVideoMuted,
    SetInputVolume,
    SetMicrophoneVolume,
    SetOutputVolume,
    SetSpeakerVolume,
    SetInputSensitivity,
    GetMeta,
    SetMeta,
    UpdateMeta,
    DeleteMeta,
    GetMemberMeta,
    SetMemberMeta,
    UpdateMemberMeta,
    DeleteMemberMeta,
    GetLayouts,
    SetLayout,
    SetPositions,
    SetMemberPosition,
    StartRecording,
    GetRecordings,
    Play,
    GetPlaybacks,
    StartStream,
    GetStreams,
    SendDigits,
    Join,
    Leave,
    AddCamera,
    AddMicrophone,
    AddDevice,
    StartScreenShare,
    CreateScreenShareObject,
    UpdateCamera,
    UpdateMicrophone,
    UpdateSpeaker,
    SetLocalStream,
    Subscribe,
    ResumePlayback,
    Destroy,
    On,
    Once,
    Off,
    RemoveAllListeners,
    Active,
    MemberId,
    RoomId,
    RoomSessionId,
    Id,
    Name,
    DisplayName,
    LayoutName,
    Meta,
    HideVideoMuted,
    Recording,
    Recordings,
    Permissions,
    InteractivityMode,
    PreviewUrl,
    LocalOverlay,
    LocalStream,
    LocalAudioTrack,
    LocalVideoTrack,
    CameraId,
    CameraLabel,
    MicrophoneId,
    MicrophoneLabel,
    RemoteStream,
    DeviceList,
    ScreenShareList
    }
}

/// The JS name list of [`RsApi`] as `pkg-template/append/convene.js` spells it (a leading `.`
/// marks a getter, `~` a method that returns the object).
pub const ROOM_SESSION_API: &str = "audioMute audioUnmute videoMute videoUnmute deaf undeaf getMembers removeMember removeAllMembers lock unlock promote demote setRaisedHand setPrioritizeHandraise setHideVideoMuted showVideoMuted setInputVolume setMicrophoneVolume setOutputVolume setSpeakerVolume setInputSensitivity getMeta setMeta updateMeta deleteMeta getMemberMeta setMemberMeta updateMemberMeta deleteMemberMeta getLayouts setLayout setPositions setMemberPosition startRecording getRecordings play getPlaybacks startStream getStreams sendDigits join leave addCamera addMicrophone addDevice startScreenShare createScreenShareObject updateCamera updateMicrophone updateSpeaker setLocalStream subscribe resumePlayback destroy ~on ~once ~off ~removeAllListeners .active .memberId .roomId .roomSessionId .id .name .displayName .layoutName .meta .hideVideoMuted .recording .recordings .permissions .interactivityMode .previewUrl .localOverlay .localStream .localAudioTrack .localVideoTrack .cameraId .cameraLabel .microphoneId .microphoneLabel .remoteStream .deviceList .screenShareList";

/// The JS name list of `RoomSessionDevice` (see [`ROOM_SESSION_API`]): four getters, then
/// `audioMute`, `audioUnmute`, `videoMute`, `videoUnmute` and `leave`.
pub const DEVICE_API: &str =
    ".id .kind .memberId .localStream audioMute audioUnmute videoMute videoUnmute leave";

/// The JS name list of the recording, playback and stream objects (see [`ROOM_SESSION_API`]):
/// the getters of [`EGRESS_FIELDS`], then the methods of [`EGRESS_METHODS`].
pub const EGRESS_API: &str = ".id .roomSessionId .state .url .volume .position .duration .startedAt .endedAt pause resume stop setVolume seek forward rewind";

/// The public members of `Call`, in the order of its `_c` indexes.
pub const CALL_API: &str = ".channel .status create join delete addTracks removeTracks muteTracks addUsers delUsers modUsers muteUser configure getUsers on leave";

/// The public members of `Room`, in the order of its `_c` indexes.
pub const ROOM_API: &str = ".id on connect disconnect updateClientToken getState getLocalParticipant getLocalStreams addStream updateStream removeStream addSubscription updateSubscription removeSubscription getParticipantStreams getParticipantStream getWebRTCStatsForStream sendMessage enableNetworkMetricsReport disableNetworkMetricsReport";

/// The public members of `LocalTrack`, in the order of its `_c` indexes.
pub const LOCAL_TRACK_API: &str = ".id .name .kind .sid .mediaStreamTrack .isEnabled .isStarted .isStopped .dimensions .ordered .reliable .maxPacketLifeTime .maxRetransmits ~enable ~disable ~stop restart attach detach send ~on ~once ~off ~removeAllListeners";

/// The public members of `VideoRoom`, in the order of its `_c` indexes.
pub const VIDEO_ROOM_API: &str = ".sid .name .state .isRecording .localParticipant .participants .dominantSpeaker ~disconnect getStats ~on ~once ~off ~removeAllListeners";

/// The wire field each egress getter reads, by index (`""`: the room session id).
pub const EGRESS_FIELDS: &[&str] = &[
    "id",
    "",
    "state",
    "url",
    "volume",
    "position_ms",
    "duration_ms",
    "started_at",
    "ended_at",
];

/// The egress methods, by index after [`EGRESS_FIELDS`].
pub const EGRESS_METHODS: &[&str] = &[
    "pause",
    "resume",
    "stop",
    "setVolume",
    "seek",
    "forward",
    "rewind",
];

// ---------------------------------------------------------------------------------------------
// Room
// ---------------------------------------------------------------------------------------------

/// A subscription config `{audio, video}` as the kinds it asks for and the kinds it does not.
#[inline(never)]
pub fn subscription_kinds(v: Option<&Value>) -> Result<[Vec<MediaKind>; 2], ApiError> {
    let Some(Value::Object(o)) = v else {
        return Err(ApiError::invalid(
            "config",
            "must be an object {audio, video}",
        ));
    };
    let mut out = [Vec::new(), Vec::new()];
    for k in [MediaKind::Audio, MediaKind::Video] {
        let name = k.as_str();
        let on = opt_bool(Some(o), name)?.ok_or_else(|| ApiError::invalid(name, "is required"))?;
        out[!on as usize].push(k);
    }
    Ok(out)
}

/// `addSubscription` / `updateSubscription` / `removeSubscription` as one `sub.update`.
/// `updateSubscription` adds the kinds asked for and removes the others.
pub fn room_subscription(js: &str, args: &[Value]) -> Result<Req, ApiError> {
    let member = arg_str(args, 0, "participantId")?;
    check_id(&member, "participantId")?;
    let key = arg_str(args, 1, "key")?;
    let target = |kinds: Option<&[MediaKind]>| {
        let mut t = two(
            "member_id",
            member.as_str().into(),
            "stream_key",
            key.as_str().into(),
        );
        if let (Some(k), Value::Object(m)) = (kinds, &mut t) {
            let names: Vec<&str> = k.iter().map(|k| k.as_str()).collect();
            put(m, "kinds", str_array(&names));
        }
        Value::Array(vec![t])
    };
    let params = match js {
        "addSubscription" => {
            let [on, _] = subscription_kinds(args.get(2))?;
            one("add", target(Some(&on)))
        }
        "updateSubscription" => {
            let [on, off] = subscription_kinds(args.get(2))?;
            let mut m = Map::new();
            if !on.is_empty() {
                put(&mut m, "add", target(Some(&on)));
            }
            if !off.is_empty() {
                put(&mut m, "remove", target(Some(&off)));
            }
            Value::Object(m)
        }
        "removeSubscription" => one("remove", target(None)),
        _ => return Err(ApiError::unsupported(js)),
    };
    Ok(Req::new("sub.update", params))
}

/// `sendMessage(message, recipients?)` as `message.send`.
pub fn room_message(args: &[Value]) -> Result<Req, ApiError> {
    let o = params_obj(args, 0, "message", true)?;
    if opt_str(o, "type")?.as_deref() != Some("text") {
        return Err(ApiError::invalid("message.type", "must be \"text\""));
    }
    if opt_str(o, "payload")?.is_none() {
        return Err(ApiError::invalid("message.payload", "must be a string"));
    }
    let mut m = Map::new();
    put(&mut m, "topic", Value::String("text".into()));
    put(&mut m, "payload", args[0].clone());
    match args.get(1) {
        None | Some(Value::Null) => {}
        Some(v) => {
            let to = str_list(v, "recipients")?;
            for id in &to {
                check_id(id, "recipients")?;
            }
            put(&mut m, "to", strings(to));
        }
    }
    Ok(Req::new("message.send", Value::Object(m)))
}

// ---------------------------------------------------------------------------------------------
// Call
// ---------------------------------------------------------------------------------------------

/// Every media source a `send: true` user may publish.
const ALL_SOURCES: &[&str] = &[
    "microphone",
    "camera",
    "screen",
    "screen_audio",
    "data",
    "custom",
];
/// Every kind a `recv: true` user may receive.
const ALL_KINDS: &[&str] = &["audio", "video", "data"];

#[inline(never)]
fn acl_list(v: &Value, key: &str, all: &[&str]) -> Result<Value, ApiError> {
    match v {
        Value::Bool(true) => Ok(str_array(all)),
        Value::Bool(false) => Ok(Value::Array(Vec::new())),
        Value::Array(_) => {
            let l = str_list(v, key)?;
            if let Some(bad) = l.iter().find(|s| !all.contains(&s.as_str())) {
                return Err(ApiError::invalid(
                    key,
                    &concat(&["unknown value \"", bad, "\""]),
                ));
            }
            Ok(strings(l))
        }
        _ => Err(ApiError::invalid(key, "must be a boolean or a list")),
    }
}

/// `addUsers` (`op` 0) / `delUsers` (1) / `modUsers` (2) as one `room.acl.update`;
/// `configure` (any other `op`) as `room.configure`.
pub fn call_users(op: u32, args: &[Value]) -> Result<Req, ApiError> {
    if op == 1 {
        let ids = strings(arg_str_list(args, 0, "users", false)?);
        return Ok(Req::new("room.acl.update", one("remove", ids)));
    }
    if op > 2 {
        return call_configure(args);
    }
    // `addUsers` takes ids, `modUsers` user objects: one loop builds the upsert of either.
    let ids = op == 0;
    let users = match args.first() {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) if ids => return Err(ApiError::invalid("users", "is required")),
        _ if ids => return Err(ApiError::invalid("users", "must be a list of strings")),
        _ => return Err(ApiError::invalid("users", "must be a list of users")),
    };
    let mut upsert = Vec::with_capacity(users.len());
    for u in users {
        let (o, id) = match u {
            Value::String(s) if ids && !s.is_empty() => (None, s.clone()),
            _ if ids => {
                return Err(ApiError::invalid(
                    "users",
                    "must be a list of non-empty strings",
                ))
            }
            Value::Object(o) => (Some(o), req_str(Some(o), "id")?),
            _ => return Err(ApiError::invalid("users", "each user must be an object")),
        };
        let mut e = Map::new();
        put(&mut e, "identity", Value::String(id));
        if let Some(v) = field(o, "send") {
            put(&mut e, "send", acl_list(v, "send", ALL_SOURCES)?);
        }
        if let Some(v) = field(o, "recv") {
            put(&mut e, "recv", acl_list(v, "recv", ALL_KINDS)?);
        }
        if opt_bool(o, "admin")? == Some(true) {
            put(&mut e, "permissions", str_array(&["room.*"]));
        }
        upsert.push(Value::Object(e));
    }
    Ok(Req::new(
        "room.acl.update",
        one("upsert", Value::Array(upsert)),
    ))
}

/// `configure(config)` as `room.configure`.
pub fn call_configure(args: &[Value]) -> Result<Req, ApiError> {
    build(
        "room.configure",
        &[
            A::Obj(K::Config, true),
            A::Field(K::MaxUsers, T::Num(USERS), false),
            A::Field(K::HideVideoMuted, T::Bool, false),
            A::Field(K::PrioritizeHandraise, T::Bool, false),
            A::Field(K::DefaultLayout, T::Str(C::Layout), false),
        ],
        args,
        "",
    )
}

/// `muteUser(userId, kind, newState, reason?)`: the member mute request for a resolved
/// member id.
pub fn call_mute_user(member_id: &str, args: &[Value]) -> Result<Req, ApiError> {
    let kind = arg_str(args, 1, "kind")?;
    let mute = arg_bool(args, 2, "newState")?
        .ok_or_else(|| ApiError::invalid("newState", "is required"))?;
    if let Some(r) = args.get(3).filter(|v| !v.is_null()) {
        if !r.is_string() {
            return Err(ApiError::invalid("reason", "must be a string"));
        }
    }
    let i = match kind.as_str() {
        "audio" => 0,
        "video" => 2,
        _ => return Err(ApiError::invalid("kind", "must be \"audio\" or \"video\"")),
    };
    let method = [
        "member.audio_mute",
        "member.audio_unmute",
        "member.video_mute",
        "member.video_unmute",
    ][i + usize::from(!mute)];
    Ok(Req::new(method, one("member_id", member_id.into())))
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/// The layout names of a `layout.list` result (`{layouts:[{name, positions}]}` or
/// `{layouts:[name]}`), as `getLayouts` returns them.
pub fn layout_names(result: &Value) -> Value {
    let mut names = Vec::new();
    if let Some(Value::Array(l)) = result.get("layouts") {
        for x in l {
            if let Some(s) = x.as_str().or_else(|| x.get("name").and_then(Value::as_str)) {
                names.push(Value::String(s.to_owned()));
            }
        }
    }
    one("layouts", Value::Array(names))
}

/// Converts a wire object (snake_case keys) into the JS shape (camelCase keys), leaving the
/// application's own data (`meta`, `payload`) untouched.
pub fn camelize(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            // An insert loop: collecting into the map would instantiate a sort of the pairs.
            let mut out = Map::new();
            for (k, x) in o {
                let x = if k == "meta" || k == "payload" {
                    x.clone()
                } else {
                    camelize(x)
                };
                out.insert(camel(k), x);
            }
            Value::Object(out)
        }
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for x in a {
                out.push(camelize(x));
            }
            Value::Array(out)
        }
        other => other.clone(),
    }
}

/// `x` (a fraction) as a percentage with three decimals, e.g. `0.5` → `"50.000"`, for CSS.
/// Plain integer arithmetic on thousandths of a percent (rounded half away from zero), so the
/// float formatting machinery stays out of the package; a non-finite `x` gives `"0.000"`.
pub fn percent(x: f64) -> String {
    let mut s = String::new();
    push_percent(&mut s, x);
    s
}

/// `x` rounded to the nearest integer, halves away from zero: `f64::round`, which `core`
/// lacks.
fn round(x: f64) -> f64 {
    // From 2^52 on every f64 is an integer (and NaN stays NaN); below it the cast truncates
    // exactly.
    if x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let t = x as i64 as f64;
    if (x - t).abs() >= 0.5 {
        t + if x < 0.0 { -1.0 } else { 1.0 }
    } else {
        t
    }
}

/// Appends [`percent`]`(x)` to `out`.
#[inline(never)]
pub fn push_percent(out: &mut String, x: f64) {
    let n = round(x * 100_000.0);
    let n = if n.is_finite() { n as i64 } else { 0 };
    if n < 0 {
        out.push('-');
    }
    let a = n.unsigned_abs();
    ovsp::json::push_u64(out, a / 1000);
    out.push('.');
    let f = a % 1000;
    for d in [f / 100, f / 10 % 10, f % 10] {
        out.push(char::from(b'0' + d as u8));
    }
}

/// Appends `n` in decimal, with its sign.
#[inline(never)]
pub fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    ovsp::json::push_u64(out, n.unsigned_abs());
}

/// `snake_case` → `camelCase`. Byte by byte: only ASCII bytes are dropped or changed, so the
/// result is valid UTF-8 (a leading `_` is kept).
#[inline(never)]
pub fn camel(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut up = false;
    for &b in s.as_bytes() {
        if b == b'_' && !out.is_empty() {
            up = true;
        } else if up {
            out.push(b.to_ascii_uppercase());
            up = false;
        } else {
            out.push(b);
        }
    }
    utf8(&out).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Session options shared by the facades (`iceServers`, `logLevel`)
// ---------------------------------------------------------------------------------------------

/// The `logLevel` names, from the most verbose to none.
pub const LOG_LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "silent"];

/// The `logLevel` option: `None` when absent, else one of [`LOG_LEVELS`].
pub fn log_level(v: &Value) -> Result<Option<&'static str>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => LOG_LEVELS
            .iter()
            .find(|l| **l == s.as_str())
            .map(|l| Some(*l))
            .ok_or_else(|| {
                ApiError::invalid(
                    "logLevel",
                    "must be trace, debug, info, warn, error or silent",
                )
            }),
        _ => Err(ApiError::invalid("logLevel", "must be a string")),
    }
}

/// The `iceServers` option: a list of `{urls: string | string[], username?, credential?}`
/// with `stun:`/`stuns:`/`turn:`/`turns:` URLs; TURN servers need `username` and
/// `credential` (as `RTCPeerConnection` requires). Absent means none.
pub fn ice_servers(v: &Value) -> Result<Vec<ovsp::methods::IceServer>, ApiError> {
    const F: &str = "iceServers";
    let list = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => a,
        _ => return Err(ApiError::invalid(F, "must be a list of RTCIceServer")),
    };
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let o = Some(
            s.as_object()
                .ok_or_else(|| ApiError::invalid(F, "each server must be an object"))?,
        );
        let urls = match field(o, "urls") {
            Some(Value::String(u)) => vec![u.clone()],
            Some(a @ Value::Array(_)) => str_list(a, F)?,
            _ => {
                return Err(ApiError::invalid(
                    F,
                    "urls must be a string or a list of strings",
                ))
            }
        };
        let (Ok(username), Ok(credential)) = (opt_str(o, "username"), opt_str(o, "credential"))
        else {
            return Err(ApiError::invalid(
                F,
                "username and credential must be strings",
            ));
        };
        for u in &urls {
            // The scheme (up to the first `:`) is `stun`, `turn`, or either with an `s`: the
            // first four bytes, then an optional `s`, then the `:` or the end.
            let b = u.as_bytes();
            let turn = match b.first_chunk::<4>() {
                Some(b"stun") => Some(false),
                Some(b"turn") => Some(true),
                _ => None,
            };
            let end = if b.get(4) == Some(&b's') { 5 } else { 4 };
            let (Some(turn), None | Some(b':')) = (turn, b.get(end)) else {
                return Err(ApiError::invalid(
                    F,
                    "urls must be stun:, stuns:, turn: or turns: URLs",
                ));
            };
            if b.len() == end + 1 {
                return Err(ApiError::invalid(F, "a URL has no host"));
            }
            if turn && (username.is_none() || credential.is_none()) {
                return Err(ApiError::invalid(
                    F,
                    "a TURN server needs username and credential",
                ));
            }
        }
        if urls.is_empty() {
            return Err(ApiError::invalid(F, "urls must not be empty"));
        }
        out.push(ovsp::methods::IceServer {
            urls,
            username,
            credential,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Data tracks
// ---------------------------------------------------------------------------------------------

/// The options of a local data track (`createLocalDataTrack` / `new LocalDataTrack`); the
/// default is Twilio's: ordered, no limits (reliable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTrackOptions {
    /// Track name.
    pub name: Option<String>,
    /// Ordered delivery (default true).
    pub ordered: bool,
    /// Retransmission time limit in ms (`null`: none).
    pub max_packet_life_time: Option<u16>,
    /// Retransmission count limit (`null`: none).
    pub max_retransmits: Option<u16>,
}

impl Default for DataTrackOptions {
    fn default() -> Self {
        DataTrackOptions {
            name: None,
            ordered: true,
            max_packet_life_time: None,
            max_retransmits: None,
        }
    }
}

impl DataTrackOptions {
    /// Reliable when ordered without either retransmission limit (as Twilio defines it):
    /// sent on `ovsp-reliable`, else on `ovsp-lossy`.
    pub fn reliable(&self) -> bool {
        self.ordered && self.max_packet_life_time.is_none() && self.max_retransmits.is_none()
    }
}

/// Validates data track options (`undefined`/`null` gives the defaults): a spec of the
/// argument interpreter, then the rules it does not know.
pub fn data_track_options(v: &Value) -> Result<DataTrackOptions, ApiError> {
    let r = build(
        "",
        &[
            A::Obj(K::Options, false),
            A::Field(K::Name, T::Str(C::Any), false),
            A::Field(K::Ordered, T::Bool, false),
            A::Field(K::MaxPacketLifeTime, T::Num(U16), false),
            A::Field(K::MaxRetransmits, T::Num(U16), false),
        ],
        alloc::slice::from_ref(v),
        "",
    )?;
    let p = &r.params;
    let limit = |k: &str| p.get(k).and_then(Value::as_i64).map(|n| n as u16);
    let opts = DataTrackOptions {
        name: p.get("name").and_then(Value::as_str).map(str::to_owned),
        ordered: p.get("ordered").and_then(Value::as_bool).unwrap_or(true),
        max_packet_life_time: limit("maxPacketLifeTime"),
        max_retransmits: limit("maxRetransmits"),
    };
    if opts.max_packet_life_time.is_some() && opts.max_retransmits.is_some() {
        return Err(ApiError::invalid(
            "maxRetransmits",
            "cannot be set together with maxPacketLifeTime",
        ));
    }
    if let Some(n) = &opts.name {
        check_id(n, "name")?;
    }
    Ok(opts)
}

/// Largest message of `LocalDataTrack.send`: a data frame payload (64 KiB) less the tag byte.
pub const MAX_DATA_MESSAGE: usize = ovsp::limits::MAX_PAYLOAD_BYTES - 1;

/// Tag byte of a data-track payload carrying binary data (an SDK convention between clients;
/// the server forwards payloads untouched).
pub const DATA_BINARY: u8 = 0;
/// Tag byte of a data-track payload carrying UTF-8 text.
pub const DATA_TEXT: u8 = 1;

/// The payload of one data-track message: the tag byte, then the bytes.
pub fn encode_data_message(text: bool, bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.push(if text { DATA_TEXT } else { DATA_BINARY });
    v.extend_from_slice(bytes);
    v
}

/// A received data-track payload: `Ok(text)` for a text message, `Err(bytes)` for binary.
/// A payload without a known tag (another kind of sender) is binary as a whole; text that is
/// not UTF-8 (checked by [`utf8`], the package's one UTF-8 reader) is delivered as binary too.
#[inline(never)]
pub fn decode_data_text(payload: &[u8]) -> Result<String, &[u8]> {
    match payload.split_first() {
        Some((&DATA_TEXT, rest)) => utf8(rest).ok_or(rest),
        Some((&DATA_BINARY, rest)) => Err(rest),
        _ => Err(payload),
    }
}

/// `bytes` as text when they are valid UTF-8 (the rules of `alloc::str::from_utf8`: no overlong
/// forms, no surrogates, nothing above U+10FFFF), decoded one code point at a time: a far
/// smaller body than the standard validator.
#[inline(never)]
pub fn utf8(b: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // The continuation bytes after `c`, the range of the first one, and the bits of `c`.
        let (n, lo, hi, bits) = match c {
            0x00..=0x7F => (0, 0, 0, c),
            0xC2..=0xDF => (1, 0x80, 0xBF, c & 0x1F),
            0xE0 => (2, 0xA0, 0xBF, 0),
            0xE1..=0xEC | 0xEE | 0xEF => (2, 0x80, 0xBF, c & 0x0F),
            0xED => (2, 0x80, 0x9F, 0x0D),
            0xF0 => (3, 0x90, 0xBF, 0),
            0xF1..=0xF3 => (3, 0x80, 0xBF, c & 0x07),
            0xF4 => (3, 0x80, 0x8F, 4),
            _ => return None,
        };
        let mut cp = u32::from(bits);
        for k in 1..=n {
            let x = *b.get(i + k)?;
            let (l, h) = if k == 1 { (lo, hi) } else { (0x80, 0xBF) };
            if x < l || x > h {
                return None;
            }
            cp = (cp << 6) | u32::from(x & 0x3F);
        }
        out.push(char::from_u32(cp)?);
        i += n + 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovsp::json::json;

    #[test]
    fn percent_matches_three_decimal_formatting() {
        for x in [
            0.0,
            1.0,
            0.5,
            0.25,
            1.0 / 3.0,
            2.0 / 3.0,
            0.125,
            0.0625,
            0.1,
            0.7,
            1.0 / 7.0,
            0.999999,
            12.345678,
            -0.25,
            -1.0 / 3.0,
        ] {
            assert_eq!(percent(x), format!("{:.3}", x * 100.0), "{x}");
        }
        for cols in 1..=12 {
            for c in 0..cols {
                let x = c as f64 / cols as f64;
                assert_eq!(percent(x), format!("{:.3}", x * 100.0), "{c}/{cols}");
            }
            let w = 1.0 / cols as f64;
            assert_eq!(percent(w), format!("{:.3}", w * 100.0), "1/{cols}");
        }
        assert_eq!(percent(f64::NAN), "0.000");
        assert_eq!(percent(-0.25), "-25.000");
    }

    fn rs(js: &str, args: Value) -> Result<Req, ApiError> {
        let args = match args {
            Value::Array(a) => a,
            other => vec![other],
        };
        room_session(js, &args, "mem_self")
    }

    #[test]
    fn each_key_names_its_own_pair() {
        // `KEYS` is indexed by `Key`: the two lists must stay in the same order.
        use Key::*;
        let keys = [
            (MemberId, "memberId"),
            (Name, "name"),
            (Position, "position"),
            (Url, "url"),
            (Layout, "layout"),
            (DefaultLayout, "defaultLayout"),
            (JoinAudioMuted, "joinAudioMuted"),
            (JoinVideoMuted, "joinVideoMuted"),
            (HideVideoMuted, "hideVideoMuted"),
            (PrioritizeHandraise, "prioritizeHandraise"),
            (Permissions, "permissions"),
            (Keys, "keys"),
            (Volume, "volume"),
            (Value, "value"),
            (SeekPosition, "seekPosition"),
            (MaxUsers, "maxUsers"),
            (Param, "param"),
            (Params, "params"),
            (Config, "config"),
            (Options, "options"),
            (Ordered, "ordered"),
            (MaxPacketLifeTime, "maxPacketLifeTime"),
            (MaxRetransmits, "maxRetransmits"),
            (Meta, "meta"),
            (Positions, "positions"),
            (MediaAllowed, "mediaAllowed"),
        ];
        assert_eq!(keys.len(), KEYS.len());
        for (k, js) in keys {
            assert_eq!(KEYS[k as usize].0, js, "{k:?}");
        }
    }

    #[test]
    fn mute_targets_self_or_member() {
        let r = rs("audioMute", json!([])).unwrap();
        assert_eq!(r, Req::new("member.audio_mute", json!({})));
        let r = rs("videoUnmute", json!({ "memberId": "mem_b" })).unwrap();
        assert_eq!(
            r,
            Req::new("member.video_unmute", json!({ "member_id": "mem_b" }))
        );
        let r = rs("deaf", json!({ "memberId": "mem_b" })).unwrap();
        assert_eq!(r.method, "member.deaf");
    }

    #[test]
    fn bad_member_ids_are_rejected_before_sending() {
        let e = rs("audioMute", json!({ "memberId": 5 })).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (Code::INVALID_PARAMS, Some("memberId"))
        );
        let e = rs("removeMember", json!({})).unwrap_err();
        assert!(e.message.contains("required"), "{e}");
        let e = rs("removeMember", json!([])).unwrap_err();
        assert_eq!(e.code, Code::INVALID_PARAMS);
        let e = rs("promote", json!({ "memberId": "" })).unwrap_err();
        assert_eq!(e.code, Code::INVALID_PARAMS);
        let long = "x".repeat(65);
        assert!(rs("audioMute", json!({ "memberId": long })).is_err());
        assert!(
            rs("audioMute", json!("mem_b")).is_err(),
            "params must be an object"
        );
    }

    #[test]
    fn volumes_and_sensitivity_are_range_checked() {
        let r = rs("setInputVolume", json!({ "memberId": "m", "volume": -10 })).unwrap();
        assert_eq!(
            r,
            Req::new(
                "member.set_input_volume",
                json!({ "member_id": "m", "volume": -10 })
            )
        );
        let r = rs("setSpeakerVolume", json!({ "volume": 50 })).unwrap();
        assert_eq!(
            r,
            Req::new("member.set_output_volume", json!({ "volume": 50 }))
        );
        assert_eq!(
            rs("setMicrophoneVolume", json!({ "volume": 1 }))
                .unwrap()
                .method,
            "member.set_input_volume"
        );
        for bad in [
            json!(51),
            json!(-51),
            json!("10"),
            json!(null),
            json!(f64::MAX),
        ] {
            let e = rs("setOutputVolume", json!({ "volume": bad })).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("volume"), "{bad}");
        }
        let r = rs("setInputSensitivity", json!({ "value": 80 })).unwrap();
        assert_eq!(r.params, json!({ "value": 80 }));
        assert!(rs("setInputSensitivity", json!({ "value": 101 })).is_err());
        assert!(rs("setInputSensitivity", json!({ "volume": 80 })).is_err());
        assert_eq!(
            rs("setInputVolume", json!({ "volume": 2.6 }))
                .unwrap()
                .params,
            json!({ "volume": 3 })
        );
    }

    #[test]
    fn layouts_and_positions_are_checked() {
        let r = rs("setLayout", json!({ "name": "6x6" })).unwrap();
        assert_eq!(r, Req::new("layout.set", json!({ "name": "6x6" })));
        let e = rs("setLayout", json!({ "name": "7x7" })).unwrap_err();
        assert_eq!(
            (e.code, e.name()),
            (Code::LAYOUT_NOT_FOUND, "LayoutNotFoundError")
        );
        let r = rs(
            "setPositions",
            json!({ "positions": { "mem_a": "reserved-1", "self": "auto" } }),
        )
        .unwrap();
        assert_eq!(
            r.params,
            json!({ "positions": { "mem_a": "reserved-1", "mem_self": "auto" } })
        );
        for bad in ["left", "reserved-", "standard-0", "reserved-x", ""] {
            let e = rs("setMemberPosition", json!({ "position": bad })).unwrap_err();
            assert!(
                e.code == Code::INVALID_POSITION || e.code == Code::INVALID_PARAMS,
                "{bad}"
            );
        }
        let r = rs(
            "setMemberPosition",
            json!({ "memberId": "m", "position": "off-canvas" }),
        )
        .unwrap();
        assert_eq!(
            r.params,
            json!({ "member_id": "m", "position": "off-canvas" })
        );
    }

    #[test]
    fn meta_methods() {
        assert_eq!(
            rs("setMeta", json!({ "foo": "bar" })).unwrap().params,
            json!({ "meta": { "foo": "bar" } })
        );
        assert!(rs("setMeta", json!(["x"])).is_err());
        assert_eq!(
            rs("deleteMeta", json!([["foo"]])).unwrap().params,
            json!({ "keys": ["foo"] })
        );
        assert!(rs("deleteMeta", json!("foo")).is_err());
        let r = rs("updateMemberMeta", json!({ "meta": { "t": 10 } })).unwrap();
        assert_eq!(
            r,
            Req::new("member.update_meta", json!({ "meta": { "t": 10 } }))
        );
        let r = rs(
            "deleteMemberMeta",
            json!({ "memberId": "m", "keys": ["foo"] }),
        )
        .unwrap();
        assert_eq!(r.params, json!({ "member_id": "m", "keys": ["foo"] }));
        assert!(rs("setMemberMeta", json!({ "memberId": "m" })).is_err());
        // Argument 0 as `meta` is "an object" even when absent; a field is "required".
        for (js, args, field, why) in [
            ("setMeta", json!([]), "meta", "must be an object"),
            ("updateMeta", json!([null]), "meta", "must be an object"),
            (
                "setMemberMeta",
                json!({ "memberId": "m" }),
                "meta",
                "is required",
            ),
            ("deleteMeta", json!([]), "keys", "is required"),
            (
                "setPrioritizeHandraise",
                json!("yes"),
                "param",
                "must be a boolean",
            ),
            ("setHideVideoMuted", json!([]), "value", "is required"),
        ] {
            let e = rs(js, args).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{js}");
            assert!(e.message.ends_with(why), "{js}: {}", e.message);
        }
    }

    #[test]
    fn promote_demote_hand_and_room_flags() {
        let r = rs(
            "promote",
            json!({ "memberId": "m", "mediaAllowed": "audio-only", "joinAudioMuted": true, "permissions": ["room.self.*"] }),
        )
        .unwrap();
        assert_eq!(
            r.params,
            json!({ "member_id": "m", "join_audio_muted": true, "permissions": ["room.self.*"],
                    "media_allowed": { "send": ["microphone"], "recv": ["audio", "video", "data"] } })
        );
        let r = rs(
            "demote",
            json!({ "memberId": "m", "mediaAllowed": "video-only" }),
        )
        .unwrap();
        assert_eq!(
            r.params["media_allowed"],
            json!({ "send": [], "recv": ["video", "data"] })
        );
        assert!(rs("demote", json!({ "memberId": "m", "mediaAllowed": "some" })).is_err());
        assert_eq!(
            rs("setRaisedHand", json!([])).unwrap().method,
            "member.raise_hand"
        );
        assert_eq!(
            rs("setRaisedHand", json!({ "raised": false }))
                .unwrap()
                .method,
            "member.lower_hand"
        );
        assert_eq!(
            rs("setPrioritizeHandraise", json!(false)).unwrap().params,
            json!({ "enable": false })
        );
        assert_eq!(
            rs("setPrioritizeHandraise", json!([])).unwrap().params,
            json!({ "enable": true })
        );
        assert!(rs("setHideVideoMuted", json!([])).is_err());
        assert!(rs("setHideVideoMuted", json!("yes")).is_err());
        assert_eq!(
            rs("removeAllMembers", json!([])).unwrap().params,
            json!({ "member_id": "all" })
        );
        assert!(matches!(rs("sendDigits", json!("1")), Err(e) if e.code == Code::METHOD_NOT_FOUND));
    }

    #[test]
    fn every_table_entry_builds_with_plausible_args() {
        let plausible = json!({ "memberId": "m", "volume": 1, "value": 1, "meta": {}, "keys": ["k"],
            "name": "2x2", "positions": { "m": "auto" }, "position": "auto", "url": "rtmp://x" });
        for e in ROOM_SESSION_REQUESTS {
            let js = e.js;
            let args: Vec<Value> = match js {
                "setMeta" | "updateMeta" => vec![json!({})],
                "deleteMeta" => vec![json!(["k"])],
                "setHideVideoMuted" | "setPrioritizeHandraise" => vec![json!(true)],
                _ => vec![plausible.clone()],
            };
            assert!(room_session(js, &args, "me").is_ok(), "{js}");
        }
    }

    #[test]
    fn the_js_api_list_is_the_enum() {
        let names: Vec<&str> = ROOM_SESSION_API.split(' ').collect();
        assert_eq!(names.len(), RsApi::ALL.len());
        for (i, (n, v)) in names.iter().zip(RsApi::NAMES).enumerate() {
            let n = n.trim_start_matches(['.', '~']);
            let mut upper = n[..1].to_uppercase();
            upper.push_str(&n[1..]);
            assert_eq!(&upper, v, "entry {i}");
            if let Some(e) = ROOM_SESSION_REQUESTS.get(i) {
                assert_eq!(e.js, n, "request entry {i}");
            }
        }
        let js = include_str!("../../pkg-template/append/convene.js");
        for (class, list) in [
            ("RoomSession", ROOM_SESSION_API),
            ("RoomSessionDevice", DEVICE_API),
            ("Egress", EGRESS_API),
            ("Call", CALL_API),
            ("Room", ROOM_API),
            ("LocalTrack", LOCAL_TRACK_API),
            ("VideoRoom", VIDEO_ROOM_API),
        ] {
            assert!(
                js.contains(&format!("api({class}, \"{list}\");")),
                "{class}"
            );
        }
        let dev: Vec<&str> = DEVICE_API.split(' ').collect();
        assert_eq!(
            dev[4..],
            [
                "audioMute",
                "audioUnmute",
                "videoMute",
                "videoUnmute",
                "leave"
            ]
        );
        assert!(dev[..4].iter().all(|n| n.starts_with('.')));
        let eg: Vec<&str> = EGRESS_API.split(' ').collect();
        let (getters, methods) = eg.split_at(EGRESS_FIELDS.len());
        assert!(getters.iter().all(|n| n.starts_with('.')));
        assert_eq!(getters[1], ".roomSessionId");
        assert_eq!(methods, EGRESS_METHODS);
        for m in EGRESS_METHODS {
            assert!(egress("playback", "pb_1", m, &[json!(1)]).is_ok(), "{m}");
        }
    }

    #[test]
    fn egress_objects() {
        let r = egress("playback", "pb_1", "forward", &[]).unwrap();
        assert_eq!(
            r,
            Req::new(
                "playback.seek",
                json!({ "playback_id": "pb_1", "delta_ms": 5000 })
            )
        );
        let r = egress("playback", "pb_1", "rewind", &[json!(1000)]).unwrap();
        assert_eq!(r.params["delta_ms"], json!(-1000));
        assert!(egress("playback", "pb_1", "setVolume", &[json!(99)]).is_err());
        assert_eq!(
            egress("stream", "st_1", "stop", &[]).unwrap().params,
            json!({ "stream_id": "st_1" })
        );
        assert!(egress("recording", "r", "seek", &[]).is_err());
        let r = egress("playback", "pb_1", "rewind", &[]).unwrap();
        assert_eq!(r.params["delta_ms"], json!(-5000));
        let r = egress("playback", "pb_1", "seek", &[json!(1500.4)]).unwrap();
        assert_eq!(
            r,
            Req::new(
                "playback.seek",
                json!({ "playback_id": "pb_1", "position_ms": 1500 })
            )
        );
        for (js, args, field) in [
            ("seek", vec![], "timecode"),
            ("setVolume", vec![Value::Null], "volume"),
            ("forward", vec![json!(-1)], "offset"),
        ] {
            let e = egress("playback", "pb_1", js, &args).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{js}");
        }
    }

    #[test]
    fn room_subscriptions_and_messages() {
        let r = room_subscription(
            "addSubscription",
            &[
                json!("p1"),
                json!("main"),
                json!({ "audio": true, "video": false }),
            ],
        )
        .unwrap();
        assert_eq!(
            r.params,
            json!({ "add": [{ "member_id": "p1", "stream_key": "main", "kinds": ["audio"] }] })
        );
        let r = room_subscription(
            "updateSubscription",
            &[
                json!("p1"),
                json!("main"),
                json!({ "audio": false, "video": true }),
            ],
        )
        .unwrap();
        assert_eq!(
            r.params,
            json!({ "add": [{ "member_id": "p1", "stream_key": "main", "kinds": ["video"] }],
                    "remove": [{ "member_id": "p1", "stream_key": "main", "kinds": ["audio"] }] })
        );
        assert!(room_subscription(
            "addSubscription",
            &[json!("p1"), json!("main"), json!({ "audio": true })]
        )
        .is_err());
        assert!(room_subscription("removeSubscription", &[json!(1), json!("main")]).is_err());
        let r = room_message(&[json!({ "type": "text", "payload": "hi" }), json!(["p1"])]).unwrap();
        assert_eq!(r.params["to"], json!(["p1"]));
        assert_eq!(
            r.params["payload"],
            json!({ "type": "text", "payload": "hi" })
        );
        assert!(room_message(&[json!({ "type": "binary", "payload": "x" })]).is_err());
        assert!(room_message(&[json!({ "type": "text", "payload": 1 })]).is_err());
        assert!(room_message(&[json!({ "type": "text", "payload": "x" }), json!("p1")]).is_err());
    }

    #[test]
    fn call_users_configure_and_mute() {
        let r = call_users(0, &[json!(["bob"])]).unwrap();
        assert_eq!(
            r,
            Req::new(
                "room.acl.update",
                json!({ "upsert": [{ "identity": "bob" }] })
            )
        );
        let r = call_users(
            2,
            &[json!([{ "id": "bob", "send": false, "recv": ["audio"] }])],
        )
        .unwrap();
        assert_eq!(
            r.params,
            json!({ "upsert": [{ "identity": "bob", "send": [], "recv": ["audio"] }] })
        );
        assert!(call_users(2, &[json!([{ "id": "bob", "recv": ["smell"] }])]).is_err());
        assert!(call_users(1, &[json!("bob")]).is_err());
        let r = call_configure(&[json!({ "maxUsers": 8, "defaultLayout": "2x2" })]).unwrap();
        assert_eq!(
            call_users(4, &[json!({ "maxUsers": 8, "defaultLayout": "2x2" })]),
            Ok(r.clone())
        );
        assert_eq!(
            r.params,
            json!({ "max_members": 8, "default_layout": "2x2" })
        );
        let r = call_mute_user("mem_b", &[json!("bob"), json!("video"), json!(true)]).unwrap();
        assert_eq!(
            r,
            Req::new("member.video_mute", json!({ "member_id": "mem_b" }))
        );
        assert!(call_mute_user("mem_b", &[json!("bob"), json!("screen"), json!(true)]).is_err());
        assert!(call_mute_user("mem_b", &[json!("bob"), json!("audio")]).is_err());
        for (args, field, why) in [
            (json!(["bob"]), "kind", "is required"),
            (json!(["bob", ""]), "kind", "must not be empty"),
            (json!(["bob", 3]), "kind", "must be a string"),
            (json!(["bob", "audio", null]), "newState", "is required"),
            (
                json!(["bob", "audio", "yes"]),
                "newState",
                "must be a boolean",
            ),
            (
                json!(["bob", "audio", true, 3]),
                "reason",
                "must be a string",
            ),
            (
                json!(["bob", "data", false, "r"]),
                "kind",
                "must be \"audio\" or \"video\"",
            ),
        ] {
            let Value::Array(args) = args else {
                unreachable!()
            };
            let e = call_mute_user("mem_b", &args).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{args:?}");
            assert!(e.message.ends_with(why), "{args:?}: {}", e.message);
        }
        assert_eq!(
            call_mute_user(
                "mem_b",
                &[json!("bob"), json!("audio"), json!(false), json!("r")]
            )
            .unwrap()
            .method,
            "member.audio_unmute"
        );
        for (args, why) in [
            (json!([]), "is required"),
            (json!(["bob"]), "must be a list of strings"),
            (json!([["bob", ""]]), "must be a list of non-empty strings"),
        ] {
            let Value::Array(args) = args else {
                unreachable!()
            };
            let e = call_users(1, &args).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("users"), "{args:?}");
            assert!(e.message.ends_with(why), "{args:?}: {}", e.message);
        }
        assert_eq!(
            call_users(1, &[json!(["bob"])]).unwrap(),
            Req::new("room.acl.update", json!({ "remove": ["bob"] }))
        );
    }

    #[test]
    fn camel_case_of_snake_names() {
        for (snake, camel_case) in [
            ("audio_muted", "audioMuted"),
            ("a__b", "aB"),
            ("_a_b", "_aB"),
            ("__a", "_A"),
            ("a_", "a"),
            ("x_é_ü", "xéü"),
            ("", ""),
        ] {
            assert_eq!(camel(snake), camel_case, "{snake}");
        }
    }

    #[test]
    fn camelize_keeps_application_data() {
        let v = json!({ "audio_muted": true, "meta": { "snake_key": 1 }, "tracks": [{ "stream_key": "main" }] });
        assert_eq!(
            camelize(&v),
            json!({ "audioMuted": true, "meta": { "snake_key": 1 }, "tracks": [{ "streamKey": "main" }] })
        );
        assert_eq!(
            layout_names(&json!({ "layouts": [{ "name": "2x2", "positions": [] }, "1x1"] })),
            json!({ "layouts": ["2x2", "1x1"] })
        );
    }

    #[test]
    fn log_levels() {
        assert_eq!(log_level(&Value::Null).unwrap(), None);
        assert_eq!(log_level(&json!("silent")).unwrap(), Some("silent"));
        assert_eq!(log_level(&json!("debug")).unwrap(), Some("debug"));
        let e = log_level(&json!("verbose")).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (Code::INVALID_PARAMS, Some("logLevel"))
        );
        assert!(log_level(&json!(3)).is_err());
    }

    #[test]
    fn ice_server_lists() {
        assert!(ice_servers(&Value::Null).unwrap().is_empty());
        let l = ice_servers(&json!([
            { "urls": "stun:stun.example.org:3478" },
            { "urls": ["turn:t.example.org:3478", "turns:t.example.org:5349"], "username": "u", "credential": "c" }
        ]))
        .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].urls, vec!["stun:stun.example.org:3478".to_owned()]);
        assert_eq!(l[1].urls.len(), 2);
        // The scheme ends at the first `:` or at the end.
        for ok in ["stuns:x", "stun", "turns", "stun:x:1"] {
            let server = json!([{ "urls": ok, "username": "u", "credential": "c" }]);
            assert!(ice_servers(&server).is_ok(), "{ok}");
        }
        assert_eq!(
            (l[1].username.as_deref(), l[1].credential.as_deref()),
            (Some("u"), Some("c"))
        );
        for bad in [
            json!({ "urls": "stun:x" }),
            json!(["stun:x"]),
            json!([{ "urls": 5 }]),
            json!([{ "urls": [] }]),
            json!([{ "urls": "http://x" }]),
            json!([{ "urls": "stun:" }]),
            json!([{ "urls": "turn:x:3478" }]),
            json!([{ "urls": "turn:x:3478", "username": "u" }]),
            json!([{ "urls": "stun:x", "username": 5 }]),
            json!([{ "urls": "stunx:x" }]),
            json!([{ "urls": "stu" }]),
            json!([{ "urls": ["stun:x", ""] }]),
        ] {
            let e = ice_servers(&bad).unwrap_err();
            assert_eq!(
                (e.code, e.field.as_deref()),
                (Code::INVALID_PARAMS, Some("iceServers")),
                "{bad}"
            );
        }
    }

    #[test]
    fn data_track_options_follow_twilio() {
        let d = data_track_options(&Value::Null).unwrap();
        assert!(d.ordered && d.reliable() && d.name.is_none());
        assert_eq!(d, DataTrackOptions::default());
        let d = data_track_options(&json!({ "name": "chat", "maxRetransmits": 0 })).unwrap();
        assert_eq!((d.max_retransmits, d.reliable()), (Some(0), false));
        let d = data_track_options(&json!({ "ordered": false })).unwrap();
        assert!(!d.reliable());
        let d = data_track_options(&json!({ "maxPacketLifeTime": 500, "maxRetransmits": null }))
            .unwrap();
        assert_eq!((d.max_packet_life_time, d.reliable()), (Some(500), false));
        for (bad, f) in [
            (
                json!({ "maxPacketLifeTime": 10, "maxRetransmits": 1 }),
                "maxRetransmits",
            ),
            (json!({ "maxRetransmits": -1 }), "maxRetransmits"),
            (json!({ "maxPacketLifeTime": "x" }), "maxPacketLifeTime"),
            (json!({ "ordered": "yes" }), "ordered"),
            (json!({ "name": 3 }), "name"),
            (json!({ "name": "" }), "name"),
            (json!(7), "options"),
        ] {
            let e = data_track_options(&bad).unwrap_err();
            assert_eq!(
                (e.code, e.field.as_deref()),
                (Code::INVALID_PARAMS, Some(f)),
                "{bad}"
            );
        }
    }

    #[test]
    fn data_messages_keep_text_and_binary_apart() {
        let decode = |p| decode_data_text(p).map_err(<[u8]>::to_vec);
        let t = encode_data_message(true, "héllo".as_bytes());
        assert_eq!(decode(&t), Ok("héllo".to_owned()));
        let b = encode_data_message(false, &[1, 0, 255]);
        assert_eq!(b[0], DATA_BINARY);
        assert_eq!(decode(&b), Err(vec![1u8, 0, 255]));
        assert_eq!(decode(&[7, 1]), Err(vec![7u8, 1]));
        assert_eq!(decode(&[]), Err(vec![]));
        assert_eq!(decode(&[DATA_TEXT, 0xff]), Err(vec![0xffu8]));
        // An empty text, a text split inside a character, and a foreign tag.
        assert_eq!(decode(&[DATA_TEXT]), Ok(String::new()));
        assert_eq!(decode(&[DATA_TEXT, b'h', 0xC3, 0xA9]), Ok("hé".to_owned()));
        assert_eq!(decode(&[DATA_TEXT, 0xC3]), Err(vec![0xC3u8]));
        assert_eq!(decode(&[DATA_BINARY, 1, 2]), Err(vec![1u8, 2]));
        assert_eq!(decode(&[7, 1, 2]), Err(vec![7u8, 1, 2]));
        assert_eq!(MAX_DATA_MESSAGE + 1, ovsp::limits::MAX_PAYLOAD_BYTES);
    }

    #[test]
    fn utf8_agrees_with_the_standard_validator() {
        let check = |b: &[u8]| {
            assert_eq!(
                utf8(b).as_deref(),
                alloc::str::from_utf8(b).ok(),
                "{b:02x?}"
            );
        };
        check(b"");
        check("héllo → 世界 🎉".as_bytes());
        for x in 0..=255u8 {
            check(&[x]);
            for y in 0..=255u8 {
                check(&[x, y]);
                check(&[b'a', x, y]);
            }
        }
        for x in 0xC0..=0xFFu8 {
            for y in 0..=255u8 {
                for z in 0..=255u8 {
                    check(&[x, y, z]);
                }
            }
        }
        let edges = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF];
        for x in 0xF0..=0xF8u8 {
            for y in edges {
                for z in edges {
                    for w in edges {
                        check(&[x, y, z, w]);
                        check(&[x, y, z, w, b'z']);
                    }
                }
            }
        }
    }
}
