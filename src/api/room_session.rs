//! `RoomSession`: the video room session (browser half and room-control half), with its
//! devices, recordings/playbacks/streams and the layout-following renderer for `rootElement`.

use crate::cell::RefCell;
use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use convene_core::map::VecMap;
use core::cell::Cell;

use convene_core::catalogue::room_session_names;
use convene_core::{Command, CoreEvent, PublishOptions};
use ovsp::json::{Map, Value};
use ovsp::model::{MediaSource, Member, Role, Room, TrackKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlMediaElement, MediaStream, MediaStreamTrack};

use super::call::{rpc, run, Step, Then};
use super::common::{self, get, obj, one, reject, set, to_js, JsResult, Listeners};
use super::error::ApiError;
use super::wire::{self, camelize, RsApi as M};
use crate::web::error::WebError;
use crate::web::media::Source;
use crate::web::session::{MediaEvent, Reply, SessionEvent, SessionHandle, Subscription};

/// Client track ids of the default microphone and camera.
const MIC: &str = "mic";
const CAM: &str = "cam";

pub(crate) struct Rs {
    pub(crate) handle: SessionHandle,
    listeners: Listeners,
    root: Option<HtmlElement>,
    local_stream: Option<MediaStream>,
    audio: JsValue,
    video: JsValue,
    speaker_id: Option<String>,
    stop_camera: bool,
    stop_microphone: bool,
    sub: RefCell<Option<Subscription>>,
    /// Remote video elements placed in `root`, by track id (or cid for the local preview).
    tiles: RefCell<VecMap<String, HtmlMediaElement>>,
    /// Attached remote audio, by track id.
    audio_out: RefCell<Vec<String>>,
    /// Elements the autoplay policy blocked, by attachment key.
    elements: RefCell<VecMap<String, HtmlMediaElement>>,
    /// The device objects, in the order they were added.
    devices: RefCell<js_sys::Array>,
    next_cid: Cell<u32>,
}

/// A video room session.
#[wasm_bindgen(skip_typescript)]
pub struct RoomSession {
    inner: Rc<Rs>,
}

/// Wire field names as a JSON list of camelCase names.
fn camel_list(fields: &[String]) -> Value {
    let mut out = Vec::new();
    for f in fields {
        out.push(Value::String(wire::camel(f)));
    }
    Value::Array(out)
}

/// A wire value as JSON (one shared body per type, not inlined at every use).
#[inline(never)]
fn enc<T: ovsp::json::ToWire>(v: &T) -> Value {
    ovsp::json::encode(v)
}

/// The recordings, playbacks or streams (`kind`, an index of [`wire::EGRESS_KINDS`]) of the
/// room, as JSON.
fn egress_of(s: &convene_core::State, kind: u8) -> Vec<Value> {
    let mut out = Vec::new();
    // Plain loops: `for_each` would instantiate a fold per kind.
    match kind {
        0 => {
            for v in s.recordings.values() {
                out.push(enc(v));
            }
        }
        1 => {
            for v in s.playbacks.values() {
                out.push(enc(v));
            }
        }
        _ => {
            for v in s.rtmp_streams.values() {
                out.push(enc(v));
            }
        }
    }
    out
}

/// The plural key of each egress kind (by index of [`wire::EGRESS_KINDS`]).
const PLURALS: [&str; 3] = ["recordings", "playbacks", "streams"];

/// `roomId` and `roomSessionId` of an object the facade shows.
#[inline(never)]
fn room_ids(o: &mut Map<String, Value>, room_id: &str) {
    wire::put(o, "roomId", room_id.into());
    wire::put(o, "roomSessionId", room_id.into());
}

/// `o[key] = v` unless `o` has `key` already.
#[inline(never)]
fn or_put(o: &mut Map<String, Value>, key: &str, v: Value) {
    if o.get(key).is_none() {
        wire::put(o, key, v);
    }
}

fn opt_js(v: JsValue) -> Option<JsValue> {
    (!v.is_undefined() && !v.is_null()).then_some(v)
}

impl Rs {
    fn state<R>(&self, f: impl FnOnce(&convene_core::State) -> R) -> R {
        self.handle.with_machine(|m| f(m.state()))
    }

    /// The local member's role (`None` before the join).
    fn role(&self) -> Option<Role> {
        self.state(|s| s.self_member.as_ref().map(|m| m.role))
    }

    fn self_id(&self) -> String {
        self.state(|s| s.self_id().unwrap_or_default().to_owned())
    }

    /// The room as the facade shows it (`None` before the join).
    fn room_json(&self) -> Option<Value> {
        self.state(|s| s.room.as_ref().map(|r| self.room_value(r, None)))
    }

    /// The room id (empty before the join).
    fn room_id(&self) -> String {
        self.state(|s| s.room.as_ref().map(|r| r.id.clone()).unwrap_or_default())
    }

    /// A member as the facade shows it (`room_id` is the room's id).
    fn member_value(m: &Member, updated: Option<&[String]>, room_id: &str) -> Value {
        let mut v = camelize(&enc(m));
        if let Value::Object(o) = &mut v {
            room_ids(o, room_id);
            wire::put(o, "type", "member".into());
            or_put(o, "name", m.identity.as_str().into());
            or_put(o, "inputSensitivity", 30.into());
            if let Some(u) = updated {
                wire::put(o, "updated", camel_list(u));
            }
        }
        v
    }

    fn room_value(&self, room: &Room, updated: Option<&[String]>) -> Value {
        let mut v = camelize(&enc(room));
        if let Value::Object(o) = &mut v {
            room_ids(o, &room.id);
            or_put(o, "displayName", room.name.as_str().into());
            or_put(o, "layoutName", "".into());
            if let Some(u) = updated {
                wire::put(o, "updated", camel_list(u));
            }
        }
        v
    }

    fn full_state(self: &Rc<Self>) -> JsValue {
        let state = self.state(|s| {
            let room = s.room.as_ref()?;
            let mut v = self.room_value(room, None);
            if let Value::Object(o) = &mut v {
                wire::put(o, "memberId", s.self_id().unwrap_or_default().into());
                let mut list = Vec::new();
                for m in s.members.values() {
                    list.push(Self::member_value(m, None, &room.id));
                }
                wire::put(o, "members", Value::Array(list));
                if let Some(l) = &s.layout {
                    wire::put(o, "layout", camelize(&enc(l)));
                }
            }
            Some(v)
        });
        let Some(v) = state else {
            return JsValue::UNDEFINED;
        };
        let v = to_js(&v);
        for kind in 0..3 {
            set(&v, PLURALS[kind as usize], &self.egress_now(kind));
        }
        v
    }

    /// The room's recordings, playbacks or streams (`kind`, see [`egress_of`]) now, as
    /// objects.
    fn egress_now(self: &Rc<Self>, kind: u8) -> JsValue {
        let list = self.state(|s| egress_of(s, kind));
        self.egress_list(kind, list)
    }

    fn egress(self: &Rc<Self>, kind: u8, data: Value) -> JsValue {
        Egress {
            rs: self.clone(),
            kind,
            room_id: self.room_id(),
            data,
        }
        .into()
    }

    fn egress_list(self: &Rc<Self>, kind: u8, list: Vec<Value>) -> JsValue {
        let out = js_sys::Array::new();
        for d in list {
            out.push(&self.egress(kind, d));
        }
        out.into()
    }

    /// The payload of facade event `name` for `ev`.
    fn payload(self: &Rc<Self>, name: &str, ev: &CoreEvent) -> JsValue {
        // Most payloads are `{<key>: value, room_id, room_session_id}`.
        let room_id = self.room_id();
        let mut o = Map::new();
        let mut error = None;
        let mut ids = true;
        let (key, val) = match ev {
            CoreEvent::ConnectionStateChanged { state } => {
                if let convene_core::ConnectionState::Disconnected { error: e } = state {
                    error = e.as_ref();
                }
                ids = false;
                ("state", state.name().into())
            }
            CoreEvent::RoomLeft { reason, error: e } => {
                error = e.as_ref();
                ids = false;
                match reason {
                    Some(r) => ("reason", enc(r)),
                    None => ("", Value::Null),
                }
            }
            CoreEvent::RoomJoined { room, .. } if name == "room.started" => {
                ("room", self.room_value(room, None))
            }
            CoreEvent::RoomJoined { .. } => return self.full_state(),
            CoreEvent::RoomUpdated { room, updated } => {
                ("room", self.room_value(room, Some(updated)))
            }
            CoreEvent::SessionClosing { .. } => ("room", self.room_json().unwrap_or_default()),
            CoreEvent::AudienceCount { total } => ("total", Value::from(*total)),
            CoreEvent::LayoutChanged { layout } => ("layout", camelize(&enc(layout))),
            CoreEvent::MemberJoined { member } => {
                ("member", Self::member_value(member, None, &room_id))
            }
            CoreEvent::MemberUpdated {
                member, updated, ..
            } => (
                "member",
                Self::member_value(member, Some(updated), &room_id),
            ),
            CoreEvent::MemberLeft {
                member, reason: r, ..
            } => {
                wire::put(&mut o, "reason", enc(r));
                ("member", Self::member_value(member, None, &room_id))
            }
            CoreEvent::MemberTalking { member_id, talking } => {
                let mut m = Map::new();
                wire::put(&mut m, "id", member_id.as_str().into());
                room_ids(&mut m, &room_id);
                wire::put(&mut m, "talking", (*talking).into());
                ("member", Value::Object(m))
            }
            CoreEvent::RecordingStarted { recording }
            | CoreEvent::RecordingUpdated { recording }
            | CoreEvent::RecordingEnded { recording } => return self.egress(0, enc(recording)),
            CoreEvent::PlaybackStarted { playback }
            | CoreEvent::PlaybackUpdated { playback }
            | CoreEvent::PlaybackEnded { playback } => return self.egress(1, enc(playback)),
            CoreEvent::RtmpStreamStarted { stream } | CoreEvent::RtmpStreamEnded { stream, .. } => {
                return self.egress(2, enc(stream))
            }
            _ => return JsValue::UNDEFINED,
        };
        let no_room = val.is_null();
        if !key.is_empty() {
            wire::put(&mut o, key, val);
        }
        if ids {
            wire::put(&mut o, "room_id", room_id.as_str().into());
            wire::put(&mut o, "room_session_id", room_id.into());
        }
        let o = to_js(&Value::Object(o));
        if no_room && ids {
            // `room.ended` before any join: the room is undefined, not null.
            set(&o, key, &JsValue::UNDEFINED);
        }
        if let Some(e) = error {
            set(&o, "error", &ApiError::from(e).to_js());
        }
        o
    }

    fn on_event(self: &Rc<Self>, ev: &SessionEvent) {
        match ev {
            SessionEvent::Core(ce) => {
                self.render(ce);
                if let CoreEvent::PermissionsChanged {
                    role: Role::Member, ..
                } = ce
                {
                    // Promoted from the audience: publish the microphone and camera now.
                    if self.handle.local_cids().is_empty() {
                        let steps = self.default_steps(&JsValue::UNDEFINED);
                        self.go(Ok((steps, Done::Promoted)));
                    }
                }
                for name in room_session_names(ce) {
                    if self.listeners.has(&name) {
                        self.listeners.emit(&name, &[self.payload(&name, ce)]);
                    }
                }
            }
            SessionEvent::Media(MediaEvent::AutoplayBlocked { key }) => {
                let el = self.elements.borrow().get(key).cloned();
                let o = obj();
                if let Some(el) = el {
                    set(&o, "element", &el);
                }
                self.listeners.emit("autoplay.blocked", &[o]);
            }
            SessionEvent::Media(_) => {}
        }
    }

    // ---- rendering --------------------------------------------------------------------

    fn render(&self, ev: &CoreEvent) {
        match ev {
            CoreEvent::RemoteTrackAttached { track_id, kind, .. } => {
                if *kind == TrackKind::Audio {
                    if let Ok(el) = self.handle.attach(track_id, None) {
                        self.elements.borrow_mut().insert(track_id.clone(), el);
                        self.audio_out.borrow_mut().push(track_id.clone());
                    }
                } else {
                    self.relayout();
                }
            }
            CoreEvent::TrackUnpublished { track, .. }
            | CoreEvent::SubscriptionEnded {
                track: Some(track), ..
            } => {
                self.drop_track(&track.id);
                self.relayout();
            }
            CoreEvent::LayoutChanged { .. }
            | CoreEvent::MemberLeft { .. }
            | CoreEvent::RoomJoined { .. }
            | CoreEvent::TrackPublished { local: true, .. } => self.relayout(),
            CoreEvent::RoomLeft { .. } => self.clear_view(),
            _ => {}
        }
    }

    fn drop_track(&self, id: &str) {
        if let Some(el) = self.tiles.borrow_mut().remove(id) {
            el.remove();
        }
        self.elements.borrow_mut().remove(id);
        self.audio_out.borrow_mut().retain(|k| k != id);
        self.handle.detach(id);
    }

    fn clear_view(&self) {
        self.drop_tiles(&[], true);
    }

    /// Drops every video tile but those of `keep`, in order, and with `audio` every attached
    /// remote audio too.
    fn drop_tiles(&self, keep: &[&str], audio: bool) {
        loop {
            let key = self
                .tiles
                .borrow()
                .keys()
                .find(|k| !keep.contains(&k.as_str()))
                .cloned();
            let key = key.or_else(|| {
                audio
                    .then(|| self.audio_out.borrow().first().cloned())
                    .flatten()
            });
            let Some(k) = key else { break };
            self.drop_track(&k);
        }
    }

    /// Places every received video (and the local camera) in `root` following the layout's
    /// normalised geometry; videos without a layer are hidden, and without any layout the
    /// videos are tiled in an even grid.
    fn relayout(&self) {
        let Some(root) = &self.root else { return };
        // Every video as (member id, key, its layer's x, y, width, height, z): the first video
        // of a member takes the member's layer; without any layer, an even grid.
        let (videos, grid) = self.state(|s| {
            let layers: &[ovsp::model::LayoutLayer] = match &s.layout {
                Some(l) => &l.layers,
                None => &[],
            };
            let mut videos: Vec<(String, String, _)> = Vec::new();
            let mut add = |member: &str, key: &str| {
                let mut rect = None;
                if !videos.iter().any(|v| v.0 == member) {
                    for l in layers {
                        if l.member_id.as_deref() == Some(member) {
                            rect = Some(([l.x, l.y, l.width, l.height], l.z));
                            break;
                        }
                    }
                }
                videos.push((member.to_owned(), key.to_owned(), rect));
            };
            if s.local_tracks.get(CAM).is_some() {
                add(s.self_id().unwrap_or_default(), CAM);
            }
            for m in s.members.values() {
                for t in &m.tracks {
                    if t.kind == TrackKind::Video {
                        add(&m.id, &t.id);
                    }
                }
            }
            (videos, layers.iter().all(|l| l.member_id.is_none()))
        });
        let style = get(root, "style");
        if common::get_str(&style, "position")
            .unwrap_or_default()
            .is_empty()
        {
            set(&style, "position", &"relative".into());
        }
        // A near-square grid: ceil(sqrt(n)) columns, as many rows as they need.
        let n = videos.len().max(1);
        let mut cols = 1;
        while cols * cols < n {
            cols += 1;
        }
        let rows = n.div_ceil(cols) as f64;
        let cols = cols as f64;
        let mut live: Vec<&str> = Vec::new();
        for (i, (member, key, rect)) in videos.iter().enumerate() {
            let existing = self.tiles.borrow().get(key).cloned();
            let el = match existing {
                Some(el) => el,
                None => {
                    let Ok(el) = self.handle.attach(key, None) else {
                        continue;
                    };
                    let _ = el.set_attribute("data-member-id", member);
                    el.set_autoplay(true);
                    let _ = el.set_attribute("playsinline", "");
                    let _ = common::invoke(root, "appendChild", &[&el]);
                    self.tiles.borrow_mut().insert(key.clone(), el.clone());
                    self.elements.borrow_mut().insert(key.clone(), el.clone());
                    el
                }
            };
            live.push(key);
            let rect = if grid {
                let row = (i / cols as usize) as f64;
                let col = i as f64 - row * cols;
                Some(([col / cols, row / rows, 1.0 / cols, 1.0 / rows], 0))
            } else {
                *rect
            };
            let mut css = String::from("display:none");
            if let Some((xywh, z)) = rect {
                css = String::from("position:absolute");
                for (k, v) in [";left:", ";top:", ";width:", ";height:"].iter().zip(xywh) {
                    css.push_str(k);
                    wire::push_percent(&mut css, v);
                    css.push('%');
                }
                css.push_str(";z-index:");
                wire::push_i64(&mut css, z.into());
                css.push_str(";object-fit:cover;display:block");
            }
            let _ = el.set_attribute("style", &css);
        }
        self.drop_tiles(&live, false);
    }

    // ---- media ------------------------------------------------------------------------

    /// A new device stream key, `<prefix>-<n>`.
    fn cid(&self, prefix: &str) -> String {
        let n = self.next_cid.get() + 1;
        self.next_cid.set(n);
        let mut s = String::from(prefix);
        s.push('-');
        ovsp::json::push_u64(&mut s, n.into());
        s
    }

    /// The steps publishing the microphone and camera (or the tracks of `localStream`) after
    /// a join, in order.
    fn default_steps(&self, params: &JsValue) -> Vec<Step> {
        let mut steps = Vec::new();
        if let Some(stream) = &self.local_stream {
            stream_steps(&mut steps, stream);
            return steps;
        }
        for (cid, k, send, dflt) in [
            (MIC, "audio", "sendAudio", &self.audio),
            (CAM, "video", "sendVideo", &self.video),
        ] {
            if get(params, send) == JsValue::FALSE {
                continue;
            }
            let c = opt_js(get(params, k))
                .or_else(|| opt_js(dflt.clone()))
                .unwrap_or(JsValue::TRUE);
            if c != JsValue::FALSE {
                steps.push(Step::Acquire(common::media_kind(cid == MIC).0, c));
                steps.push(Step::PublishAs(cid.to_owned(), "main".into()));
            }
        }
        steps
    }

    /// The steps of adding a device (`kind`: camera, microphone, device or screen) with the
    /// `audio` and `video` constraints (`false`/absent: none).
    fn device(&self, kind: &'static str, audio: JsValue, video: JsValue) -> Plan {
        let screen = kind == "screen";
        let key = self.cid(if screen { kind } else { "device" });
        let mut cids = Vec::new();
        let mut steps = Vec::new();
        for is_audio in [true, false] {
            let (c, suffix) = if is_audio {
                (&audio, ":audio")
            } else {
                (&video, ":video")
            };
            if c.is_undefined() || c.is_null() || *c == JsValue::FALSE {
                continue;
            }
            let source = if screen {
                Source::Screen
            } else {
                common::media_kind(is_audio).0
            };
            let mut cid = key.clone();
            cid.push_str(suffix);
            steps.push(Step::Acquire(source, c.clone()));
            steps.push(Step::PublishAs(cid.clone(), key.clone()));
            cids.push(cid);
        }
        let stream = MediaStream::new().ok();
        Ok((steps, Done::Device(kind, key, cids, stream)))
    }

    /// The steps and completion of the asynchronous method `op` of the session (arguments are
    /// checked here: a bad one rejects the promise).
    fn plan(self: &Rc<Self>, op: M, a: &JsValue, b: &JsValue) -> Plan {
        let or_true = |v: JsValue| opt_js(v).unwrap_or(JsValue::TRUE);
        let (steps, done) = match op {
            M::Join => {
                let mut s = one(Step::Cmd(Command::Join));
                if let Some(id) = &self.speaker_id {
                    s.push(Step::Speaker(id.clone()));
                }
                s.push(Step::Defaults(a.clone()));
                (s, Done::Joined)
            }
            M::Leave => (one(Step::Leave), Done::Left),
            M::AddCamera
            | M::AddMicrophone
            | M::AddDevice
            | M::StartScreenShare
            | M::CreateScreenShareObject => {
                // (kind, audio, video): a camera or microphone takes its constraints (`true`
                // when absent), a device `{audio, video}`, a screen share `{video}`.
                let (kind, audio, video) = match op {
                    M::AddCamera => ("camera", JsValue::FALSE, or_true(a.clone())),
                    M::AddMicrophone => ("microphone", or_true(a.clone()), JsValue::FALSE),
                    M::AddDevice => {
                        if !a.is_object() {
                            return Err(ApiError::invalid(
                                "params",
                                "must be an object {audio, video}",
                            ));
                        }
                        ("device", get(a, "audio"), get(a, "video"))
                    }
                    _ => ("screen", JsValue::FALSE, or_true(get(a, "video"))),
                };
                return self.device(kind, audio, video);
            }
            M::UpdateCamera | M::UpdateMicrophone => {
                let mic = op == M::UpdateMicrophone;
                let s = vec![
                    Step::Acquire(common::media_kind(mic).0, a.clone()),
                    Step::Put(if mic { MIC } else { CAM }),
                ];
                (s, Done::Relayout)
            }
            M::UpdateSpeaker => {
                let Some(id) = common::get_str(a, "deviceId") else {
                    return Err(ApiError::invalid("deviceId", "is required"));
                };
                // The session remembers the device for later attachments. Only the audio
                // elements carry sound (video tiles are silent, and Chromium refuses to
                // re-route some of them), so the outcome is that of the audio elements.
                (vec![Step::Speaker(id.clone()), Step::Sink(id)], Done::Undef)
            }
            M::SetLocalStream => {
                if !common::is_a(a, "MediaStream") {
                    return Err(ApiError::invalid("stream", "must be a MediaStream"));
                }
                let mut s = Vec::new();
                stream_steps(&mut s, a.unchecked_ref());
                (s, Done::Relayout)
            }
            M::SendDigits => return Err(ApiError::unsupported("sendDigits")),
            _ => {
                let i = op as usize;
                let args = common::args(&[a, b])?;
                let me = self.self_id();
                let req = wire::room_session_at(i, &args, &me)?;
                let reply = wire::ROOM_SESSION_REQUESTS
                    .get(i)
                    .map_or(wire::RsReply::Nothing, |e| e.reply);
                // Self mute/unmute acts on the local track (track.mute): the sender stops at
                // once.
                let target = req.params.get("member_id").and_then(Value::as_str);
                let local = match op {
                    M::AudioMute | M::AudioUnmute => Some(MIC),
                    M::VideoMute | M::VideoUnmute => Some(CAM),
                    _ => None,
                }
                .filter(|c| {
                    (target.is_none() || target == Some(me.as_str()))
                        && self.handle.local_track(c).is_some()
                });
                if let Some(cid) = local {
                    let mute = matches!(op, M::AudioMute | M::VideoMute);
                    let (stop, source, constraints) = if cid == CAM {
                        (self.stop_camera, Source::Camera, &self.video)
                    } else {
                        (self.stop_microphone, Source::Microphone, &self.audio)
                    };
                    let mut s = Vec::new();
                    if !mute
                        && self
                            .handle
                            .local_track(cid)
                            .is_some_and(|t| !crate::web::media::is_live(&t))
                    {
                        // Stopped while muted: acquire the device again before unmuting.
                        let c = opt_js(constraints.clone())
                            .filter(|c| *c != JsValue::FALSE)
                            .unwrap_or(JsValue::TRUE);
                        s.push(Step::Acquire(source, c));
                        s.push(Step::Swap(cid));
                    }
                    s.push(Step::Mute(cid.to_owned(), mute));
                    if mute && stop {
                        s.push(Step::Stop(cid));
                    }
                    (s, Done::Undef)
                } else {
                    let enable = req.params.get("enable").and_then(Value::as_bool);
                    (one(rpc(req)), Done::Reply(reply, enable))
                }
            }
        };
        Ok((steps, done))
    }

    /// The promise of `plan` (rejected with its error): its steps run in the facades' one
    /// step runner, which ends with [`Rs::finish`].
    fn go(self: &Rc<Self>, plan: Plan) -> JsValue {
        match plan {
            Ok((steps, done)) => run(&self.handle, steps, Then::Rs(self.clone(), done)),
            Err(e) => reject(e),
        }
        .into()
    }

    /// The steps that follow a join's last step: the default steps, if a member.
    pub(super) fn defaults(&self, params: &JsValue) -> Option<Vec<Step>> {
        (self.role() == Some(Role::Member)).then(|| self.default_steps(params))
    }

    /// Starts routing the attached remote audio elements to output device `id`; the promise
    /// settles once all are routed.
    pub(super) fn sink(&self, id: &str) -> Result<js_sys::Promise, WebError> {
        let all = js_sys::Array::new();
        let elements = self.elements.borrow();
        for k in self.audio_out.borrow().iter() {
            if let Some(el) = elements.get(k) {
                all.push(&crate::web::element::sink_promise(el, id)?.into());
            }
        }
        Ok(js_sys::Promise::all(&all))
    }

    /// What an asynchronous method resolves with once its steps ran (`out`: the last
    /// command's result, or the first error).
    pub(super) fn finish(self: &Rc<Self>, done: Done, out: Result<Value, ApiError>) -> JsResult {
        let v = match (done, out) {
            (Done::Left, out) => {
                self.clear_view();
                out?;
                JsValue::UNDEFINED
            }
            (Done::Promoted, Err(e)) => {
                // A leave during the publish is not an error worth reporting.
                if self.handle.is_alive() {
                    self.handle.log(
                        crate::web::log::Level::Error,
                        "convene: publishing after promotion failed",
                        &e.to_js(),
                    );
                }
                JsValue::UNDEFINED
            }
            (_, Err(e)) => return Err(e),
            (Done::Undef | Done::Promoted, _) => JsValue::UNDEFINED,
            (Done::Relayout, _) => {
                self.relayout();
                JsValue::UNDEFINED
            }
            (Done::Joined, _) => {
                self.relayout();
                RoomSession {
                    inner: self.clone(),
                }
                .into()
            }
            (Done::Device(kind, id, cids, stream), _) => {
                let dev: JsValue = RoomSessionDevice {
                    rs: Rc::downgrade(self),
                    id,
                    kind,
                    cids,
                    stream,
                }
                .into();
                self.devices.borrow().push(&dev);
                dev
            }
            (Done::DeviceGone(id), _) => {
                let rest = self.devices_where("id", &id.into(), false);
                *self.devices.borrow_mut() = rest;
                JsValue::UNDEFINED
            }
            (Done::Reply(reply, enable), Ok(v)) => self.reply(reply, enable, v),
        };
        Ok(v)
    }

    /// The value of a request's reply `v`, as `reply` says.
    fn reply(self: &Rc<Self>, reply: wire::RsReply, enable: Option<bool>, v: Value) -> JsValue {
        let o = obj();
        let (key, val): (&str, JsValue) = match reply {
            wire::RsReply::Nothing => return JsValue::UNDEFINED,
            wire::RsReply::Enable => return enable.unwrap_or(true).into(),
            wire::RsReply::Egress(k) => {
                let data = v.get(wire::EGRESS_KINDS[k as usize]).cloned();
                return self.egress(k, data.unwrap_or_default());
            }
            wire::RsReply::Layouts => return to_js(&wire::layout_names(&v)),
            wire::RsReply::Meta => ("meta", v.get("meta").map(to_js).unwrap_or_else(obj)),
            wire::RsReply::Members => {
                // A missing or malformed list is an empty one.
                let members: Vec<Member> = v
                    .get("members")
                    .and_then(|m| ovsp::json::decode(m).ok())
                    .unwrap_or_default();
                let id = self.room_id();
                let mut list = Vec::new();
                for m in &members {
                    list.push(Self::member_value(m, None, &id));
                }
                ("members", to_js(&Value::Array(list)))
            }
            wire::RsReply::List(k) => {
                let key = PLURALS[k as usize];
                let list = v.get(key).and_then(Value::as_array).cloned();
                let l = self.egress_list(k, list.unwrap_or_default());
                set(&o, key, &l);
                return o;
            }
        };
        set(&o, key, &val);
        o
    }

    /// The local microphone and camera as a stream (`None` without either), or with `remote`
    /// every remote track.
    fn stream(&self, remote: bool) -> Option<MediaStream> {
        let ids: Vec<String> = self.state(|s| {
            let mut ids = Vec::new();
            if !remote {
                ids.push(MIC.to_owned());
                ids.push(CAM.to_owned());
            }
            for m in s.members.values() {
                for t in &m.tracks {
                    if remote {
                        ids.push(t.id.clone());
                    }
                }
            }
            ids
        });
        let s = MediaStream::new().ok()?;
        let mut any = remote;
        for id in &ids {
            let t = if remote {
                self.handle.remote_track(id)
            } else {
                self.handle.local_track(id)
            };
            if let Some(t) = t {
                s.add_track(&t);
                any = true;
            }
        }
        any.then_some(s)
    }

    /// The devices whose property `key` is (`eq`) or is not `val`, in order.
    fn devices_where(&self, key: &str, val: &JsValue, eq: bool) -> js_sys::Array {
        let out = js_sys::Array::new();
        let all = self.devices.borrow();
        for i in 0..all.length() {
            let d = all.get(i);
            if (get(&d, key) == *val) == eq {
                out.push(&d);
            }
        }
        out
    }

    fn track_setting(&self, cid: &str, label: bool) -> JsValue {
        match self.handle.local_track(cid) {
            Some(t) if label => t.label().into(),
            Some(t) => get(&t.get_settings(), "deviceId"),
            None => JsValue::NULL,
        }
    }
}

/// What an asynchronous method resolves with once its steps succeeded.
pub(crate) enum Done {
    /// `undefined`.
    Undef,
    /// `undefined`, after placing the videos again.
    Relayout,
    /// The session (after `join`).
    Joined,
    /// `undefined`; the view is cleared whatever the outcome (after `leave`).
    Left,
    /// Nothing to resolve: a failure is logged (publishing after a promotion).
    Promoted,
    /// A new device object (kind, id, client track ids, its stream).
    Device(&'static str, String, Vec<String>, Option<MediaStream>),
    /// `undefined`; the device with this id is forgotten.
    DeviceGone(String),
    /// The reply of a request, as the request's table entry says (with the `enable` sent).
    Reply(wire::RsReply, Option<bool>),
}

/// Publishes `track` as `cid` in stream `key`: a `screen-…` id is a screen share, any other
/// the microphone or camera by the track's kind.
pub(super) fn publish(h: &SessionHandle, cid: &str, track: MediaStreamTrack, key: &str) -> Reply {
    let (mut source, mut ms, kind) = common::media_kind(track.kind() == "audio");
    if cid.starts_with("screen") {
        (source, ms) = (Source::Screen, MediaSource::Screen);
    }
    let opts = PublishOptions {
        cid: cid.to_owned(),
        kind,
        source: ms,
        stream_key: Some(key.to_owned()),
        name: None,
        muted: false,
        extra: Default::default(),
    };
    h.publish(track, source, opts)
}

/// The steps and completion of an asynchronous method, or its arguments' error.
type Plan = Result<(Vec<Step>, Done), ApiError>;

/// The steps sending every track of `stream` as the default microphone or camera.
fn stream_steps(steps: &mut Vec<Step>, stream: &MediaStream) {
    for t in stream.get_tracks().iter() {
        let t: MediaStreamTrack = t.unchecked_into();
        let cid = if t.kind() == "audio" { MIC } else { CAM };
        steps.push(Step::Use(t));
        steps.push(Step::Put(cid));
    }
}

impl Rs {
    /// The synchronous methods and getters of `RoomSession`; every other name is a request
    /// answered by a promise ([`Rs::go`]).
    fn call(self: &Rc<Self>, op: M, a: JsValue, b: JsValue) -> JsResult {
        let v: JsValue = match op {
            M::Active => self
                .state(|s| matches!(s.connection, convene_core::ConnectionState::Connected))
                .into(),
            M::MemberId => self.self_id().into(),
            M::RoomId | M::RoomSessionId | M::Id => self.room_id().into(),
            M::Name
            | M::DisplayName
            | M::LayoutName
            | M::Meta
            | M::HideVideoMuted
            | M::Recording => {
                // The room's key of each getter, in the order of [`wire::RsApi`].
                const KEYS: [&str; 6] = [
                    "name",
                    "displayName",
                    "layoutName",
                    "meta",
                    "hideVideoMuted",
                    "recording",
                ];
                let i = op as usize - M::Name as usize;
                let v = self
                    .room_json()
                    .and_then(|r| r.get(KEYS[i]).map(to_js))
                    .unwrap_or(JsValue::UNDEFINED);
                match i {
                    3 if v.is_undefined() => obj(),
                    4 | 5 => (v == JsValue::TRUE).into(),
                    _ => v,
                }
            }
            M::Recordings => self.egress_now(0),
            M::Permissions => to_js(&self.state(|s| {
                s.self_member
                    .as_ref()
                    .map(|m| m.permissions.clone())
                    .unwrap_or_default()
            })),
            M::InteractivityMode => if self.role() == Some(Role::Audience) {
                "audience"
            } else {
                "member"
            }
            .into(),
            M::PreviewUrl | M::LocalOverlay => JsValue::UNDEFINED,
            M::LocalStream => self.stream(false).into(),
            M::LocalAudioTrack => self.handle.local_track(MIC).into(),
            M::LocalVideoTrack => self.handle.local_track(CAM).into(),
            M::CameraId | M::CameraLabel | M::MicrophoneId | M::MicrophoneLabel => {
                // In this order: the id, then the label, of the camera, then the microphone.
                let i = op as u8 - M::CameraId as u8;
                self.track_setting(if i < 2 { CAM } else { MIC }, i % 2 == 1)
            }
            M::RemoteStream => self.stream(true).into(),
            M::DeviceList | M::ScreenShareList => self
                .devices_where("kind", &"screen".into(), op == M::ScreenShareList)
                .into(),
            M::On | M::Once | M::Off | M::RemoveAllListeners => {
                // In this order: on, once, off, removeAllListeners (`listen`'s codes).
                self.listeners.listen(op as u32 - M::On as u32, &a, &b)?;
                JsValue::UNDEFINED
            }
            M::Destroy => {
                self.clear_view();
                self.handle.destroy();
                self.listeners.emit("destroy", &[]);
                self.listeners.remove_all(None);
                self.sub.borrow_mut().take();
                JsValue::UNDEFINED
            }
            M::ResumePlayback | M::Subscribe => {
                let v = if op == M::Subscribe {
                    self.full_state()
                } else {
                    self.handle.resume_playback();
                    JsValue::UNDEFINED
                };
                js_sys::Promise::resolve(&v).into()
            }
            _ => self.go(self.plan(op, &a, &b)),
        };
        Ok(v)
    }
}

#[wasm_bindgen]
impl RoomSession {
    /// `new RoomSession({token, rootElement, iceServers, localStream, logLevel, speakerId,
    /// stopCameraWhileMuted, stopMicrophoneWhileMuted, audio, video, host})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<RoomSession, JsValue> {
        Self::create(&options).map_err(JsValue::from)
    }

    /// Every public method and getter, by its index in [`wire::RsApi`]. The package's JS
    /// installs the names of `pkg-template/append/convene.js` on the prototype as calls of this
    /// one export, so each costs a table entry instead of an exported function and its JS
    /// wrapper. An error (of the listener methods) is returned as its `Error` object, which the
    /// package's JS throws, so the export has no `Result` glue.
    #[wasm_bindgen(js_name = _c)]
    pub fn call(&self, i: u32, a: JsValue, b: JsValue) -> JsValue {
        match M::ALL.get(i as usize) {
            Some(&op) => self.inner.call(op, a, b).unwrap_or_else(|e| e.to_js()),
            None => JsValue::UNDEFINED,
        }
    }
}

impl RoomSession {
    fn create(options: &JsValue) -> Result<RoomSession, ApiError> {
        let token = common::get_str(options, "token")
            .ok_or_else(|| ApiError::invalid("token", "is required"))?;
        let root = match opt_js(get(options, "rootElement")) {
            None => None,
            Some(r) if common::is_a(&r, "HTMLElement") => Some(r.unchecked_into::<HtmlElement>()),
            Some(_) => return Err(ApiError::invalid("rootElement", "must be an HTMLElement")),
        };
        let local_stream = match opt_js(get(options, "localStream")) {
            None => None,
            Some(s) if common::is_a(&s, "MediaStream") => Some(s.unchecked_into::<MediaStream>()),
            Some(_) => return Err(ApiError::invalid("localStream", "must be a MediaStream")),
        };
        let (handle, listeners) = super::call::open(Some(token), "", "", options, true)?;
        let inner = Rc::new(Rs {
            handle,
            listeners,
            root,
            local_stream,
            audio: get(options, "audio"),
            video: get(options, "video"),
            speaker_id: common::get_str(options, "speakerId"),
            stop_camera: get(options, "stopCameraWhileMuted") == JsValue::TRUE,
            stop_microphone: get(options, "stopMicrophoneWhileMuted") == JsValue::TRUE,
            sub: RefCell::new(None),
            tiles: RefCell::new(VecMap::new()),
            audio_out: RefCell::new(Vec::new()),
            elements: RefCell::new(VecMap::new()),
            devices: RefCell::new(js_sys::Array::new()),
            next_cid: Cell::new(0),
        });
        let weak: Weak<Rs> = Rc::downgrade(&inner);
        let sub = inner.handle.subscribe(move |ev| {
            if let Some(rs) = weak.upgrade() {
                rs.on_event(ev);
            }
        });
        *inner.sub.borrow_mut() = Some(sub);
        Ok(RoomSession { inner })
    }
}

/// An additional device or screen share of a RoomSession.
#[wasm_bindgen(skip_typescript)]
pub struct RoomSessionDevice {
    rs: Weak<Rs>,
    id: String,
    kind: &'static str,
    cids: Vec<String>,
    stream: Option<MediaStream>,
}

#[wasm_bindgen]
impl RoomSessionDevice {
    /// Every public method and getter, by its index in [`wire::DEVICE_API`] (see
    /// [`RoomSession::call`]).
    #[wasm_bindgen(js_name = _c)]
    pub fn call(&self, i: u32) -> JsValue {
        let rs = self.rs.upgrade();
        match i {
            0 => JsValue::from_str(&self.id),
            1 => JsValue::from_str(self.kind),
            2 => rs.map(|r| r.self_id()).into(),
            3 => self.stream.clone().into(),
            _ => match rs {
                Some(rs) => {
                    // 4..=7: audioMute, audioUnmute, videoMute, videoUnmute; 8: leave
                    let mut steps = Vec::new();
                    for c in &self.cids {
                        if i >= 8 {
                            steps.push(Step::Unpublish(c.clone()));
                        } else if c.ends_with(":audio") == (i < 6) {
                            steps.push(Step::Mute(c.clone(), i.is_multiple_of(2)));
                        }
                    }
                    let done = if i >= 8 {
                        Done::DeviceGone(self.id.clone())
                    } else {
                        Done::Undef
                    };
                    rs.go(Ok((steps, done)))
                }
                None if i >= 8 => js_sys::Promise::resolve(&JsValue::UNDEFINED).into(),
                None => reject(ApiError::from(convene_core::CoreError::Misuse(
                    convene_core::MisuseError::Closed,
                )))
                .into(),
            },
        }
    }
}

/// A recording, playback or RTMP stream of the room, with its controls.
#[wasm_bindgen(skip_typescript)]
pub struct Egress {
    rs: Rc<Rs>,
    /// An index of [`wire::EGRESS_KINDS`].
    kind: u8,
    room_id: String,
    data: Value,
}

#[wasm_bindgen]
impl Egress {
    /// Every public method and getter, by its index in [`wire::EGRESS_API`] (see
    /// [`RoomSession::call`]).
    #[wasm_bindgen(js_name = _c)]
    pub fn call(&self, i: u32, a: JsValue) -> JsValue {
        let i = i as usize;
        match wire::EGRESS_FIELDS.get(i) {
            Some(&"") => JsValue::from_str(&self.room_id),
            Some(field) => self
                .data
                .get(field)
                .map(to_js)
                .unwrap_or(JsValue::UNDEFINED),
            None => {
                let method = i.saturating_sub(wire::EGRESS_FIELDS.len());
                let id = self
                    .data
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let plan = common::args(&[&a])
                    .and_then(|args| wire::egress_at(self.kind, id, method, &args))
                    .map(|req| (one(rpc(req)), Done::Undef));
                self.rs.go(plan)
            }
        }
    }
}
