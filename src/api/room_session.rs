//! `RoomSession`: the video room session (browser half and room-control half), with its
//! devices, recordings/playbacks/streams and the layout-following renderer for `rootElement`.

use convene_core::map::VecMap;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use convene_core::catalogue::room_session_names;
use convene_core::{Command, CoreEvent, PublishOptions};
use ovsp::json::{Map, Value};
use ovsp::model::{MediaSource, Member, Role, Room, TrackKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlMediaElement, MediaStream, MediaStreamTrack};

use super::common::{self, get, obj, promise, reject, set, to_js, JsResult, Listeners};
use super::error::ApiError;
use super::wire::{self, camelize, RsApi as M};
use crate::web::media::Source;
use crate::web::session::{MediaEvent, SessionEvent, SessionHandle, Subscription};

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
    devices: RefCell<Vec<(String, JsValue)>>,
    next_cid: Cell<u32>,
}

/// A video room session.
#[wasm_bindgen(skip_typescript)]
pub struct RoomSession {
    inner: Rc<Rs>,
}

/// Wire field names as a JSON list of camelCase names.
fn camel_list(fields: &[String]) -> Value {
    Value::Array(
        fields
            .iter()
            .map(|f| Value::String(wire::camel(f)))
            .collect(),
    )
}

/// A wire value as JSON (one shared body per type, not inlined at every use).
#[inline(never)]
fn enc<T: ovsp::json::ToWire>(v: &T) -> Value {
    ovsp::json::encode(v)
}

/// A wire value as JSON with camelCase keys.
#[inline(never)]
fn camel_of<T: ovsp::json::ToWire>(v: &T) -> Value {
    camelize(&enc(v))
}

/// The recordings, playbacks or streams (`kind`) of the room, as JSON.
#[inline(never)]
fn egress_of(s: &convene_core::State, kind: &str) -> Vec<Value> {
    match kind {
        "recording" => s.recordings.values().map(enc).collect(),
        "playback" => s.playbacks.values().map(enc).collect(),
        _ => s.rtmp_streams.values().map(enc).collect(),
    }
}

fn opt_js(v: JsValue) -> Option<JsValue> {
    (!v.is_undefined() && !v.is_null()).then_some(v)
}

impl Rs {
    fn state<R>(&self, f: impl FnOnce(&convene_core::State) -> R) -> R {
        self.handle.with_machine(|m| f(m.state()))
    }

    fn self_id(&self) -> String {
        self.state(|s| s.self_id().unwrap_or_default().to_owned())
    }

    fn room(&self) -> Option<Room> {
        self.state(|s| s.room.clone())
    }

    fn ids(&self) -> (String, String) {
        let id = self.room_id();
        (id.clone(), id)
    }

    /// The room id (empty before the join).
    fn room_id(&self) -> String {
        self.state(|s| s.room.as_ref().map(|r| r.id.clone()).unwrap_or_default())
    }

    /// A member as the facade shows it (`room_id` is the room's id).
    fn member_value(m: &Member, updated: Option<&[String]>, room_id: &str) -> Value {
        let mut v = camel_of(m);
        if let Value::Object(o) = &mut v {
            wire::put(o, "roomId", room_id.into());
            wire::put(o, "roomSessionId", room_id.into());
            wire::put(o, "type", "member".into());
            if !o.contains_key("name") {
                wire::put(o, "name", m.identity.as_str().into());
            }
            if !o.contains_key("inputSensitivity") {
                wire::put(o, "inputSensitivity", 30.into());
            }
            if let Some(u) = updated {
                wire::put(o, "updated", camel_list(u));
            }
        }
        v
    }

    fn room_value(&self, room: &Room, updated: Option<&[String]>) -> Value {
        let mut v = camel_of(room);
        if let Value::Object(o) = &mut v {
            wire::put(o, "roomId", room.id.as_str().into());
            wire::put(o, "roomSessionId", room.id.as_str().into());
            if !o.contains_key("displayName") {
                wire::put(o, "displayName", room.name.as_str().into());
            }
            if !o.contains_key("layoutName") {
                wire::put(o, "layoutName", "".into());
            }
            if let Some(u) = updated {
                wire::put(o, "updated", camel_list(u));
            }
        }
        v
    }

    fn full_state(self: &Rc<Self>) -> JsValue {
        let (room, me, members, layout, egress) = self.state(|s| {
            (
                s.room.clone(),
                s.self_id().unwrap_or_default().to_owned(),
                s.members.values().cloned().collect::<Vec<_>>(),
                s.layout.clone(),
                ["recording", "playback", "stream"].map(|k| (k, egress_of(s, k))),
            )
        });
        let Some(room) = room else {
            return JsValue::UNDEFINED;
        };
        let mut v = self.room_value(&room, None);
        if let Value::Object(o) = &mut v {
            wire::put(o, "memberId", me.into());
            let list = members
                .iter()
                .map(|m| Self::member_value(m, None, &room.id))
                .collect();
            wire::put(o, "members", Value::Array(list));
            if let Some(l) = layout {
                wire::put(o, "layout", camel_of(&l));
            }
        }
        let v = to_js(&v);
        for (kind, list) in egress {
            let mut key = String::from(kind);
            key.push('s');
            set(&v, &key, &self.egress_list(kind, list));
        }
        v
    }

    fn egress(self: &Rc<Self>, kind: &'static str, data: Value) -> JsValue {
        Egress {
            rs: self.clone(),
            kind,
            room_id: self.ids().0,
            data,
        }
        .into()
    }

    fn egress_list(self: &Rc<Self>, kind: &'static str, list: Vec<Value>) -> JsValue {
        list.into_iter()
            .map(|d| self.egress(kind, d))
            .collect::<js_sys::Array>()
            .into()
    }

    /// The payload of facade event `name` for `ev`.
    fn payload(self: &Rc<Self>, name: &str, ev: &CoreEvent) -> JsValue {
        let error = |o: &JsValue, e: &Option<convene_core::CoreError>| {
            if let Some(e) = e {
                set(o, "error", &ApiError::from(e).to_js());
            }
        };
        // Most payloads are `{<key>: value, room_id, room_session_id}`.
        let room_id = self.room_id();
        let mut reason = None;
        let (key, val) = match ev {
            CoreEvent::ConnectionStateChanged { state } => {
                let o = obj();
                set(&o, "state", &state.name().into());
                if let convene_core::ConnectionState::Disconnected { error: e } = state {
                    error(&o, e);
                }
                return o;
            }
            CoreEvent::RoomLeft { reason, error: e } => {
                let o = obj();
                if let Some(r) = reason {
                    set(&o, "reason", &to_js(r));
                }
                error(&o, e);
                return o;
            }
            CoreEvent::RoomJoined { room, .. } if name == "room.started" => {
                ("room", self.room_value(room, None))
            }
            CoreEvent::RoomJoined { .. } => return self.full_state(),
            CoreEvent::RoomUpdated { room, updated } => {
                ("room", self.room_value(room, Some(updated)))
            }
            CoreEvent::SessionClosing { .. } => match self.room() {
                Some(r) => ("room", self.room_value(&r, None)),
                None => ("room", Value::Null),
            },
            CoreEvent::AudienceCount { total } => ("total", Value::from(*total)),
            CoreEvent::LayoutChanged { layout } => ("layout", camel_of(layout)),
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
                reason = Some(enc(r));
                ("member", Self::member_value(member, None, &room_id))
            }
            CoreEvent::MemberTalking { member_id, talking } => {
                let mut m = Map::new();
                wire::put(&mut m, "id", member_id.as_str().into());
                wire::put(&mut m, "roomId", room_id.as_str().into());
                wire::put(&mut m, "roomSessionId", room_id.as_str().into());
                wire::put(&mut m, "talking", (*talking).into());
                ("member", Value::Object(m))
            }
            CoreEvent::RecordingStarted { recording }
            | CoreEvent::RecordingUpdated { recording }
            | CoreEvent::RecordingEnded { recording } => {
                return self.egress("recording", enc(recording))
            }
            CoreEvent::PlaybackStarted { playback }
            | CoreEvent::PlaybackUpdated { playback }
            | CoreEvent::PlaybackEnded { playback } => {
                return self.egress("playback", enc(playback))
            }
            CoreEvent::RtmpStreamStarted { stream } | CoreEvent::RtmpStreamEnded { stream, .. } => {
                return self.egress("stream", enc(stream))
            }
            _ => return JsValue::UNDEFINED,
        };
        let no_room = val.is_null();
        let mut o = Map::new();
        wire::put(&mut o, key, val);
        wire::put(&mut o, "room_id", room_id.as_str().into());
        wire::put(&mut o, "room_session_id", room_id.into());
        if let Some(r) = reason {
            wire::put(&mut o, "reason", r);
        }
        let o = to_js(&Value::Object(o));
        if no_room {
            // `room.ended` before any join: the room is undefined, not null.
            set(&o, key, &JsValue::UNDEFINED);
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
                        let rs = self.clone();
                        common::spawn(async move {
                            if let Err(e) = rs.publish_default(&JsValue::UNDEFINED).await {
                                // A leave during the publish is not an error worth reporting.
                                if rs.handle.is_alive() {
                                    rs.handle.log(
                                        crate::web::log::Level::Error,
                                        "convene: publishing after promotion failed",
                                        &e.to_js(),
                                    );
                                }
                            }
                        });
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
        loop {
            let key = self.tiles.borrow().keys().next().cloned();
            let key = key.or_else(|| self.audio_out.borrow().first().cloned());
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
            let layers: Vec<&ovsp::model::LayoutLayer> = s
                .layout
                .iter()
                .flat_map(|l| &l.layers)
                .filter(|l| l.member_id.is_some())
                .collect();
            let mut videos = Vec::new();
            let mut push = |member: &str, key: &str| {
                let first = !videos.iter().any(|(m, _, _)| m == member);
                let rect = layers
                    .iter()
                    .find(|l| first && l.member_id.as_deref() == Some(member))
                    .map(|l| ([l.x, l.y, l.width, l.height], l.z));
                videos.push((member.to_owned(), key.to_owned(), rect));
            };
            if s.local_tracks.contains_key(CAM) {
                push(s.self_id().unwrap_or_default(), CAM);
            }
            for m in s.members.values() {
                for t in &m.tracks {
                    if t.kind == TrackKind::Video {
                        push(&m.id, &t.id);
                    }
                }
            }
            (videos, layers.is_empty())
        });
        let style = root.style();
        if style
            .get_property_value("position")
            .unwrap_or_default()
            .is_empty()
        {
            let _ = style.set_property("position", "relative");
        }
        let cols = (videos.len().max(1) as f64).sqrt().ceil();
        let rows = (videos.len() as f64 / cols).ceil().max(1.0);
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
                    let _ = root.append_child(&el);
                    self.tiles.borrow_mut().insert(key.clone(), el.clone());
                    self.elements.borrow_mut().insert(key.clone(), el.clone());
                    el
                }
            };
            live.push(key);
            let rect = if grid {
                let row = (i as f64 / cols).floor();
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
                if z < 0 {
                    css.push('-');
                }
                wire::push_int(&mut css, u64::from(z.unsigned_abs()));
                css.push_str(";object-fit:cover;display:block");
            }
            let _ = el.set_attribute("style", &css);
        }
        let stale: Vec<String> = self
            .tiles
            .borrow()
            .keys()
            .filter(|k| !live.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in stale {
            self.drop_track(&k);
        }
    }

    // ---- media ------------------------------------------------------------------------

    /// A new device stream key, `<prefix>-<n>`.
    fn cid(&self, prefix: &str) -> String {
        let n = self.next_cid.get() + 1;
        self.next_cid.set(n);
        let mut s = String::from(prefix);
        s.push('-');
        wire::push_int(&mut s, n.into());
        s
    }

    /// Publishes `track` as `cid` in stream `key`: a `screen-…` id is a screen share, any other
    /// the microphone or camera by the track's kind.
    fn publish<'a>(
        &'a self,
        cid: &str,
        track: MediaStreamTrack,
        key: &str,
    ) -> common::Op<'a, Value> {
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
        common::op(self.handle.publish(track, source, opts))
    }

    /// Publishes the microphone and camera (or the tracks of `localStream`) after a join.
    fn publish_default<'a>(&'a self, params: &'a JsValue) -> common::Op<'a, ()> {
        Box::pin(async move {
            if let Some(stream) = &self.local_stream {
                return self.put_stream(stream).await;
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
                    let t = common::acquire(common::media_kind(cid == MIC).0, &c).await?;
                    self.publish(cid, t, "main").await?;
                }
            }
            Ok(())
        })
    }

    /// Sends every track of `stream` as the default microphone or camera ([`Rs::put_main`]).
    fn put_stream<'a>(&'a self, stream: &'a MediaStream) -> common::Op<'a, ()> {
        Box::pin(async move {
            for t in stream.get_tracks().iter() {
                let t: MediaStreamTrack = t.unchecked_into();
                let cid = if t.kind() == "audio" { MIC } else { CAM };
                self.put_main(cid, t).await?;
            }
            Ok(())
        })
    }

    /// Sends `track` as the default track `cid`: in place of the one published, or published.
    fn put_main<'a>(&'a self, cid: &'a str, track: MediaStreamTrack) -> common::Op<'a, ()> {
        Box::pin(async move {
            if self.handle.local_track(cid).is_some() {
                common::op(self.handle.replace_track(cid, track)).await?;
            } else {
                self.publish(cid, track, "main").await?;
            }
            Ok(())
        })
    }

    async fn add_device(
        self: &Rc<Self>,
        kind: &'static str,
        audio: JsValue,
        video: JsValue,
    ) -> JsResult {
        let screen = kind == "screen";
        let key = self.cid(if screen { kind } else { "device" });
        let mut cids = Vec::new();
        let stream = MediaStream::new().ok();
        for (c, audio, suffix) in [(audio, true, ":audio"), (video, false, ":video")] {
            if c.is_undefined() || c.is_null() || c == JsValue::FALSE {
                continue;
            }
            let source = if screen {
                Source::Screen
            } else {
                common::media_kind(audio).0
            };
            let t = common::acquire(source, &c).await?;
            let mut cid = key.clone();
            cid.push_str(suffix);
            if let Some(s) = &stream {
                s.add_track(&t);
            }
            self.publish(&cid, t, &key).await?;
            cids.push(cid);
        }
        let dev: JsValue = RoomSessionDevice {
            rs: Rc::downgrade(self),
            id: key,
            kind,
            cids,
            stream,
        }
        .into();
        self.devices
            .borrow_mut()
            .push((kind.to_owned(), dev.clone()));
        Ok(dev)
    }

    async fn send(
        self: &Rc<Self>,
        op: Option<M>,
        req: wire::Req,
        reply: wire::RsReply,
    ) -> JsResult {
        // Self mute/unmute acts on the local track (track.mute): the sender stops at once.
        let me = self.self_id();
        let target = req.params.get("member_id").and_then(Value::as_str);
        if target.is_none() || target == Some(me.as_str()) {
            let local = match op {
                Some(M::AudioMute | M::AudioUnmute) => Some(MIC),
                Some(M::VideoMute | M::VideoUnmute) => Some(CAM),
                _ => None,
            };
            if let Some(cid) = local.filter(|c| self.handle.local_track(c).is_some()) {
                let mute = matches!(op, Some(M::AudioMute | M::VideoMute));
                let (stop, source, constraints) = if cid == CAM {
                    (self.stop_camera, Source::Camera, &self.video)
                } else {
                    (self.stop_microphone, Source::Microphone, &self.audio)
                };
                if !mute
                    && self
                        .handle
                        .local_track(cid)
                        .is_some_and(|t| t.ready_state() == web_sys::MediaStreamTrackState::Ended)
                {
                    // Stopped while muted: acquire the device again before unmuting.
                    let c = opt_js(constraints.clone())
                        .filter(|c| *c != JsValue::FALSE)
                        .unwrap_or(JsValue::TRUE);
                    let t = common::acquire(source, &c).await?;
                    common::op(self.handle.replace_track(cid, t)).await?;
                }
                common::op(self.handle.mute_track(cid, mute)).await?;
                if mute && stop {
                    // track.stop() fires no `ended` event, so no device fallback starts.
                    if let Some(t) = self.handle.local_track(cid) {
                        t.stop();
                    }
                }
                return Ok(JsValue::UNDEFINED);
            }
        }
        let enable = req.params.get("enable").cloned();
        let v = common::op(self.handle.call(Command::Rpc {
            method: req.method.to_owned(),
            params: req.params,
        }))
        .await?;
        let list = |key: &str| {
            v.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let o = obj();
        let (key, val): (&str, JsValue) = match reply {
            wire::RsReply::Nothing => return Ok(JsValue::UNDEFINED),
            wire::RsReply::Enable => {
                return Ok(enable.and_then(|e| e.as_bool()).unwrap_or(true).into())
            }
            wire::RsReply::Egress(kind) => {
                return Ok(self.egress(kind, v.get(kind).cloned().unwrap_or_default()))
            }
            wire::RsReply::Layouts => return Ok(to_js(&wire::layout_names(&v))),
            wire::RsReply::Meta => ("meta", v.get("meta").map(to_js).unwrap_or_else(obj)),
            wire::RsReply::Members => {
                let members: Vec<Member> =
                    ovsp::json::decode(&Value::Array(list("members"))).unwrap_or_default();
                let id = self.room_id();
                let list = members
                    .iter()
                    .map(|m| Self::member_value(m, None, &id))
                    .collect();
                ("members", to_js(&Value::Array(list)))
            }
            wire::RsReply::List(kind) => {
                let mut key = String::from(kind);
                key.push('s');
                let l = self.egress_list(kind, list(&key));
                set(&o, &key, &l);
                return Ok(o);
            }
        };
        set(&o, key, &val);
        Ok(o)
    }

    fn local_stream(&self) -> Option<MediaStream> {
        let tracks: Vec<MediaStreamTrack> = [MIC, CAM]
            .iter()
            .filter_map(|c| self.handle.local_track(c))
            .collect();
        if tracks.is_empty() {
            return None;
        }
        let s = MediaStream::new().ok()?;
        for t in &tracks {
            s.add_track(t);
        }
        Some(s)
    }

    fn track_setting(&self, cid: &str, label: bool) -> JsValue {
        match self.handle.local_track(cid) {
            Some(t) if label => t.label().into(),
            Some(t) => get(&t.get_settings(), "deviceId"),
            None => JsValue::NULL,
        }
    }
}

/// What an asynchronous call acts on: the session itself, one of its devices (client track
/// ids, device id, method index in [`wire::DEVICE_API`]) or a recording/playback/stream (kind,
/// id, method).
enum Target {
    Session(M),
    Device(Vec<String>, String, u32),
    Egress(&'static str, String, &'static str),
}

impl Rs {
    /// The synchronous methods and getters of `RoomSession`; every other name is a request
    /// answered by a promise ([`Rs::run`]).
    fn call(self: &Rc<Self>, op: M, a: JsValue, b: JsValue) -> JsResult {
        let v: JsValue = match op {
            M::Active => self
                .state(|s| matches!(s.connection, convene_core::ConnectionState::Connected))
                .into(),
            M::MemberId => self.self_id().into(),
            M::RoomId | M::RoomSessionId | M::Id => self.ids().0.into(),
            M::Name
            | M::DisplayName
            | M::LayoutName
            | M::Meta
            | M::HideVideoMuted
            | M::Recording => {
                let key = match op {
                    M::Name => "name",
                    M::DisplayName => "displayName",
                    M::LayoutName => "layoutName",
                    M::Meta => "meta",
                    M::HideVideoMuted => "hideVideoMuted",
                    _ => "recording",
                };
                let v = self
                    .room()
                    .map(|r| get(&to_js(&self.room_value(&r, None)), key))
                    .unwrap_or(JsValue::UNDEFINED);
                match op {
                    M::Meta if v.is_undefined() => obj(),
                    M::HideVideoMuted | M::Recording => (v == JsValue::TRUE).into(),
                    _ => v,
                }
            }
            M::Recordings => {
                let l = self.state(|s| egress_of(s, "recording"));
                self.egress_list("recording", l)
            }
            M::Permissions => to_js(&self.state(|s| {
                s.self_member
                    .as_ref()
                    .map(|m| m.permissions.clone())
                    .unwrap_or_default()
            })),
            M::InteractivityMode => {
                let audience = self.state(|s| {
                    s.self_member
                        .as_ref()
                        .is_some_and(|m| m.role == Role::Audience)
                });
                if audience { "audience" } else { "member" }.into()
            }
            M::PreviewUrl | M::LocalOverlay => JsValue::UNDEFINED,
            M::LocalStream => self.local_stream().into(),
            M::LocalAudioTrack => self.handle.local_track(MIC).into(),
            M::LocalVideoTrack => self.handle.local_track(CAM).into(),
            M::CameraId => self.track_setting(CAM, false),
            M::CameraLabel => self.track_setting(CAM, true),
            M::MicrophoneId => self.track_setting(MIC, false),
            M::MicrophoneLabel => self.track_setting(MIC, true),
            M::RemoteStream => self.remote_stream().into(),
            M::DeviceList | M::ScreenShareList => {
                let screens = op == M::ScreenShareList;
                self.devices
                    .borrow()
                    .iter()
                    .filter(|(k, _)| (k == "screen") == screens)
                    .map(|(_, d)| d.clone())
                    .collect::<js_sys::Array>()
                    .into()
            }
            M::On | M::Once => {
                self.listeners
                    .add(&a.as_string().unwrap_or_default(), &b, op == M::Once)?;
                JsValue::UNDEFINED
            }
            M::Off => {
                self.listeners.off(&a.as_string().unwrap_or_default(), &b);
                JsValue::UNDEFINED
            }
            M::RemoveAllListeners => {
                self.listeners.remove_all(a.as_string());
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
            M::ResumePlayback => {
                self.handle.resume_playback();
                js_sys::Promise::resolve(&JsValue::UNDEFINED).into()
            }
            M::Subscribe => js_sys::Promise::resolve(&self.full_state()).into(),
            _ => promise(self.clone().run(Target::Session(op), a, b)).into(),
        };
        Ok(v)
    }

    /// Every asynchronous method of the session, its devices and its recordings, playbacks and
    /// streams: one state machine for all of them. Arguments are checked here too, so a bad
    /// one rejects the promise.
    async fn run(self: Rc<Self>, t: Target, a: JsValue, b: JsValue) -> JsResult {
        let or_true = |v: JsValue| opt_js(v).unwrap_or(JsValue::TRUE);
        let op = match t {
            Target::Device(cids, id, i) => {
                if i >= 8 {
                    for c in &cids {
                        common::op(self.handle.unpublish(c)).await?;
                    }
                    self.devices
                        .borrow_mut()
                        .retain(|(_, d)| get(d, "id").as_string().as_deref() != Some(&id));
                } else {
                    // 4..=7: audioMute, audioUnmute, videoMute, videoUnmute
                    let audio = i < 6;
                    let muted = i % 2 == 0;
                    for c in cids.iter().filter(|c| c.ends_with(":audio") == audio) {
                        common::op(self.handle.mute_track(c, muted)).await?;
                    }
                }
                return Ok(JsValue::UNDEFINED);
            }
            Target::Egress(kind, id, js) => {
                let req = wire::egress(kind, &id, js, &common::args(&[&a])?)?;
                return self.send(None, req, wire::RsReply::Nothing).await;
            }
            Target::Session(op) => op,
        };
        match op {
            M::Join => {
                common::op(self.handle.call(Command::Join)).await?;
                if let Some(id) = &self.speaker_id {
                    let _ = self.handle.set_speaker(id).await;
                }
                let member = self.state(|s| {
                    s.self_member
                        .as_ref()
                        .is_some_and(|m| m.role == Role::Member)
                });
                if member {
                    self.publish_default(&a).await?;
                }
                self.relayout();
                Ok(RoomSession { inner: self }.into())
            }
            M::Leave => {
                let r = common::op(self.handle.leave()).await;
                self.clear_view();
                r.map(|_| JsValue::UNDEFINED)
            }
            M::AddCamera => self.add_device("camera", JsValue::FALSE, or_true(a)).await,
            M::AddMicrophone => {
                self.add_device("microphone", or_true(a), JsValue::FALSE)
                    .await
            }
            M::AddDevice => {
                if !a.is_object() {
                    return Err(ApiError::invalid(
                        "params",
                        "must be an object {audio, video}",
                    ));
                }
                self.add_device("device", get(&a, "audio"), get(&a, "video"))
                    .await
            }
            M::StartScreenShare | M::CreateScreenShareObject => {
                self.add_device("screen", JsValue::FALSE, or_true(get(&a, "video")))
                    .await
            }
            M::UpdateCamera | M::UpdateMicrophone => {
                let mic = op == M::UpdateMicrophone;
                let t = common::acquire(common::media_kind(mic).0, &a).await?;
                self.put_main(if mic { MIC } else { CAM }, t).await?;
                self.relayout();
                Ok(JsValue::UNDEFINED)
            }
            M::UpdateSpeaker => {
                let Some(id) = common::get_str(&a, "deviceId") else {
                    return Err(ApiError::invalid("deviceId", "is required"));
                };
                // The session remembers the device for later attachments. Only the audio
                // elements carry sound (video tiles are silent, and Chromium refuses to
                // re-route some of them), so the outcome is that of the audio elements.
                let _ = self.handle.set_speaker(&id).await;
                let els: Vec<HtmlMediaElement> = {
                    let keys = self.audio_out.borrow().clone();
                    let map = self.elements.borrow();
                    keys.iter().filter_map(|k| map.get(k).cloned()).collect()
                };
                for el in els {
                    crate::web::element::set_sink_id(&el, &id)
                        .await
                        .map_err(|e| ApiError::new(ovsp::codes::Code::TRACK_INVALID, e.text()))?;
                }
                Ok(JsValue::UNDEFINED)
            }
            M::SetLocalStream => {
                let Ok(stream) = a.dyn_into::<MediaStream>() else {
                    return Err(ApiError::invalid("stream", "must be a MediaStream"));
                };
                self.put_stream(&stream).await?;
                self.relayout();
                Ok(JsValue::UNDEFINED)
            }
            M::SendDigits => Err(ApiError::unsupported("sendDigits")),
            _ => {
                let i = op as usize;
                let args = common::args(&[&a, &b])?;
                let req = wire::room_session_at(i, &args, &self.self_id())?;
                let reply = wire::ROOM_SESSION_REQUESTS
                    .get(i)
                    .map_or(wire::RsReply::Nothing, |e| e.3);
                self.send(Some(op), req, reply).await
            }
        }
    }

    fn remote_stream(&self) -> Option<MediaStream> {
        let ids: Vec<String> = self.state(|s| {
            s.members
                .values()
                .flat_map(|m| m.tracks.iter().map(|t| t.id.clone()))
                .collect()
        });
        let s = MediaStream::new().ok()?;
        for id in ids {
            if let Some(t) = self.handle.remote_track(&id) {
                s.add_track(&t);
            }
        }
        Some(s)
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
    /// wrapper.
    #[wasm_bindgen(js_name = _c)]
    pub fn call(&self, i: u32, a: JsValue, b: JsValue) -> Result<JsValue, JsValue> {
        match M::ALL.get(i as usize) {
            Some(&op) => self.inner.call(op, a, b).map_err(JsValue::from),
            None => Ok(JsValue::UNDEFINED),
        }
    }
}

impl RoomSession {
    fn create(options: &JsValue) -> Result<RoomSession, ApiError> {
        let token = common::get_str(options, "token")
            .ok_or_else(|| ApiError::invalid("token", "is required"))?;
        let root = match opt_js(get(options, "rootElement")) {
            None => None,
            Some(r) => Some(
                r.dyn_into::<HtmlElement>()
                    .map_err(|_| ApiError::invalid("rootElement", "must be an HTMLElement"))?,
            ),
        };
        let local_stream = match opt_js(get(options, "localStream")) {
            None => None,
            Some(s) => Some(
                s.dyn_into::<MediaStream>()
                    .map_err(|_| ApiError::invalid("localStream", "must be a MediaStream"))?,
            ),
        };
        let opts = super::opts::read(options)?;
        let handle = common::session(&token, common::get_str(options, "host"), |_| {})?;
        let listeners = opts.apply(&handle);
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
            devices: RefCell::new(Vec::new()),
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
                Some(rs) => promise(rs.run(
                    Target::Device(self.cids.clone(), self.id.clone(), i),
                    JsValue::UNDEFINED,
                    JsValue::UNDEFINED,
                ))
                .into(),
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
    kind: &'static str,
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
                let method = i
                    .checked_sub(wire::EGRESS_FIELDS.len())
                    .and_then(|m| wire::EGRESS_METHODS.get(m))
                    .copied()
                    .unwrap_or_default();
                let id = self
                    .data
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                promise(self.rs.clone().run(
                    Target::Egress(self.kind, id.to_owned(), method),
                    a,
                    JsValue::UNDEFINED,
                ))
                .into()
            }
        }
    }
}
