//! `RoomSession`: the video room session (browser half and room-control half), with its
//! devices, recordings/playbacks/streams and the layout-following renderer for `rootElement`.

use convene_core::map::VecMap;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use convene_core::catalogue::room_session_names;
use convene_core::{Command, CoreEvent, PublishOptions};
use ovsp::json::Value;
use ovsp::model::{MediaSource, Member, Role, Room, TrackKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlMediaElement, MediaStream, MediaStreamTrack};

use super::common::{self, get, obj, promise, reject, set, to_js, JsResult, Listeners};
use super::error::ApiError;
use super::wire::{self, camelize};
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
        let id = self.state(|s| s.room.as_ref().map(|r| r.id.clone()).unwrap_or_default());
        (id.clone(), id)
    }

    fn member_js(&self, m: &Member, updated: Option<&[String]>) -> JsValue {
        let (room_id, rs_id) = self.ids();
        let mut v = camelize(&ovsp::json::encode(m));
        if let Value::Object(o) = &mut v {
            wire::put(o, "roomId", room_id.into());
            wire::put(o, "roomSessionId", rs_id.into());
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
        to_js(&v)
    }

    fn room_value(&self, room: &Room, updated: Option<&[String]>) -> Value {
        let mut v = camelize(&ovsp::json::encode(room));
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

    fn envelope(&self, key: &str, val: JsValue) -> JsValue {
        let (room_id, rs_id) = self.ids();
        let o = obj();
        set(&o, key, &val);
        set(&o, "room_id", &room_id.into());
        set(&o, "room_session_id", &rs_id.into());
        o
    }

    fn full_state(&self) -> JsValue {
        let (room, me, members) = self.state(|s| {
            (
                s.room.clone(),
                s.self_id().map(str::to_owned),
                s.members.values().cloned().collect::<Vec<_>>(),
            )
        });
        let Some(room) = room else {
            return JsValue::UNDEFINED;
        };
        let v = to_js(&self.room_value(&room, None));
        set(&v, "memberId", &me.unwrap_or_default().into());
        let list: js_sys::Array = members.iter().map(|m| self.member_js(m, None)).collect();
        set(&v, "members", &list);
        let (recs, pbs, sts, layout) = self.state(|s| {
            (
                s.recordings
                    .values()
                    .map(ovsp::json::encode)
                    .collect::<Vec<_>>(),
                s.playbacks
                    .values()
                    .map(ovsp::json::encode)
                    .collect::<Vec<_>>(),
                s.rtmp_streams
                    .values()
                    .map(ovsp::json::encode)
                    .collect::<Vec<_>>(),
                s.layout.clone(),
            )
        });
        set(&v, "recordings", &self.egress_list("recording", recs));
        set(&v, "playbacks", &self.egress_list("playback", pbs));
        set(&v, "streams", &self.egress_list("stream", sts));
        if let Some(l) = layout {
            set(&v, "layout", &to_js(&camelize(&ovsp::json::encode(&l))));
        }
        v
    }

    fn egress(&self, kind: &'static str, data: Value) -> JsValue {
        Egress {
            handle: self.handle.clone(),
            kind,
            room_id: self.ids().0,
            data,
        }
        .into()
    }

    fn egress_list(&self, kind: &'static str, list: Vec<Value>) -> JsValue {
        list.into_iter()
            .map(|d| self.egress(kind, d))
            .collect::<js_sys::Array>()
            .into()
    }

    /// The payload of facade event `name` for `ev`.
    fn payload(&self, name: &str, ev: &CoreEvent) -> JsValue {
        match ev {
            CoreEvent::ConnectionStateChanged { state } => {
                let o = obj();
                set(&o, "state", &state.name().into());
                if let convene_core::ConnectionState::Disconnected { error: Some(e) } = state {
                    set(&o, "error", &ApiError::from(e).to_js());
                }
                o
            }
            CoreEvent::RoomJoined { room, .. } if name == "room.started" => {
                self.envelope("room", to_js(&self.room_value(room, None)))
            }
            CoreEvent::RoomJoined { .. } => self.full_state(),
            CoreEvent::RoomLeft { reason, error } => {
                let o = obj();
                if let Some(r) = reason {
                    set(&o, "reason", &to_js(r));
                }
                if let Some(e) = error {
                    set(&o, "error", &ApiError::from(e).to_js());
                }
                o
            }
            CoreEvent::RoomUpdated { room, updated } => {
                self.envelope("room", to_js(&self.room_value(room, Some(updated))))
            }
            CoreEvent::SessionClosing { .. } => {
                let room = self
                    .room()
                    .map(|r| to_js(&self.room_value(&r, None)))
                    .unwrap_or(JsValue::UNDEFINED);
                self.envelope("room", room)
            }
            CoreEvent::AudienceCount { total } => {
                let (room_id, rs_id) = self.ids();
                let o = obj();
                set(&o, "room_id", &room_id.into());
                set(&o, "room_session_id", &rs_id.into());
                set(&o, "total", &JsValue::from_f64(*total as f64));
                o
            }
            CoreEvent::LayoutChanged { layout } => {
                self.envelope("layout", to_js(&camelize(&ovsp::json::encode(layout))))
            }
            CoreEvent::MemberJoined { member } => {
                self.envelope("member", self.member_js(member, None))
            }
            CoreEvent::MemberUpdated {
                member, updated, ..
            } => self.envelope("member", self.member_js(member, Some(updated))),
            CoreEvent::MemberLeft { member, reason, .. } => {
                let o = self.envelope("member", self.member_js(member, None));
                set(&o, "reason", &to_js(reason));
                o
            }
            CoreEvent::MemberTalking { member_id, talking } => {
                let (room_id, rs_id) = self.ids();
                let m = obj();
                set(&m, "id", &member_id.into());
                set(&m, "roomId", &room_id.into());
                set(&m, "roomSessionId", &rs_id.into());
                set(&m, "talking", &JsValue::from_bool(*talking));
                self.envelope("member", m)
            }
            CoreEvent::RecordingStarted { recording }
            | CoreEvent::RecordingUpdated { recording }
            | CoreEvent::RecordingEnded { recording } => {
                self.egress("recording", ovsp::json::encode(recording))
            }
            CoreEvent::PlaybackStarted { playback }
            | CoreEvent::PlaybackUpdated { playback }
            | CoreEvent::PlaybackEnded { playback } => {
                self.egress("playback", ovsp::json::encode(playback))
            }
            CoreEvent::RtmpStreamStarted { stream } | CoreEvent::RtmpStreamEnded { stream, .. } => {
                self.egress("stream", ovsp::json::encode(stream))
            }
            _ => JsValue::UNDEFINED,
        }
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
        let keys: Vec<String> = self
            .tiles
            .borrow()
            .keys()
            .chain(self.audio_out.borrow().iter())
            .cloned()
            .collect();
        for k in keys {
            self.drop_track(&k);
        }
    }

    /// Places every received video (and the local camera) in `root` following the layout's
    /// normalised geometry; videos without a layer are hidden, and without any layout the
    /// videos are tiled in an even grid.
    fn relayout(&self) {
        let Some(root) = &self.root else { return };
        let (layout, self_id, videos) = self.state(|s| {
            let self_id = s.self_id().unwrap_or_default().to_owned();
            let mut videos: Vec<(String, String)> = Vec::new(); // (member id, key)
            for m in s.members.values() {
                for t in &m.tracks {
                    if t.kind == TrackKind::Video {
                        videos.push((m.id.clone(), t.id.clone()));
                    }
                }
            }
            if s.local_tracks.contains_key(CAM) {
                videos.insert(0, (self_id.clone(), CAM.to_owned()));
            }
            (s.layout.clone(), self_id, videos)
        });
        let _ = self_id;
        if root
            .style()
            .get_property_value("position")
            .unwrap_or_default()
            .is_empty()
        {
            let _ = root.style().set_property("position", "relative");
        }
        let layers: Vec<ovsp::model::LayoutLayer> = layout
            .map(|l| {
                l.layers
                    .into_iter()
                    .filter(|l| l.member_id.is_some())
                    .collect()
            })
            .unwrap_or_default();
        let n = videos.len().max(1);
        let cols = (n as f64).sqrt().ceil() as usize;
        let rows = n.div_ceil(cols);
        let mut used_members: Vec<String> = Vec::new();
        let mut live: Vec<String> = Vec::new();
        for (i, (member, key)) in videos.iter().enumerate() {
            let existing = self.tiles.borrow().get(key).cloned();
            let el = match existing {
                Some(el) => Some(el),
                None => self.handle.attach(key, None).ok().inspect(|el| {
                    let _ = el.set_attribute("data-member-id", member);
                    el.set_autoplay(true);
                    let _ = el.set_attribute("playsinline", "");
                    let _ = root.append_child(el);
                    self.tiles.borrow_mut().insert(key.clone(), el.clone());
                    self.elements.borrow_mut().insert(key.clone(), el.clone());
                }),
            };
            let Some(el) = el else { continue };
            live.push(key.clone());
            let rect = if layers.is_empty() {
                let (c, r) = (i % cols, i / cols);
                Some((
                    c as f64 / cols as f64,
                    r as f64 / rows as f64,
                    1.0 / cols as f64,
                    1.0 / rows as f64,
                    0,
                ))
            } else if used_members.contains(member) {
                None
            } else {
                layers
                    .iter()
                    .find(|l| l.member_id.as_deref() == Some(member.as_str()))
                    .map(|l| (l.x, l.y, l.width, l.height, l.z))
            };
            used_members.push(member.clone());
            let style = match rect {
                Some((x, y, w, h, z)) => format!(
                    "position:absolute;left:{}%;top:{}%;width:{}%;height:{}%;z-index:{z};object-fit:cover;display:block",
                    wire::percent(x),
                    wire::percent(y),
                    wire::percent(w),
                    wire::percent(h)
                ),
                None => "display:none".to_owned(),
            };
            let _ = el.set_attribute("style", &style);
        }
        let stale: Vec<String> = self
            .tiles
            .borrow()
            .keys()
            .filter(|k| !live.contains(k))
            .cloned()
            .collect();
        for k in stale {
            self.drop_track(&k);
        }
    }

    // ---- media ------------------------------------------------------------------------

    fn cid(&self, prefix: &str) -> String {
        let n = self.next_cid.get() + 1;
        self.next_cid.set(n);
        format!("{prefix}-{n}")
    }

    fn publish(
        &self,
        cid: &str,
        track: MediaStreamTrack,
        source: Source,
        ms: MediaSource,
        key: &str,
    ) -> common::Op<'_, Value> {
        let kind = if track.kind() == "audio" {
            TrackKind::Audio
        } else {
            TrackKind::Video
        };
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
            let pick = |k: &str, send: &str, dflt: &JsValue| {
                if get(params, send) == JsValue::FALSE {
                    return JsValue::FALSE;
                }
                opt_js(get(params, k))
                    .or_else(|| opt_js(dflt.clone()))
                    .unwrap_or(JsValue::TRUE)
            };
            let audio = pick("audio", "sendAudio", &self.audio);
            let video = pick("video", "sendVideo", &self.video);
            if let Some(stream) = &self.local_stream {
                for t in stream.get_tracks().iter() {
                    let t: MediaStreamTrack = t.unchecked_into();
                    let (cid, src, ms) = if t.kind() == "audio" {
                        (MIC, Source::Microphone, MediaSource::Microphone)
                    } else {
                        (CAM, Source::Camera, MediaSource::Camera)
                    };
                    self.publish(cid, t, src, ms, "main").await?;
                }
                return Ok(());
            }
            if audio != JsValue::FALSE {
                let t = common::acquire(Source::Microphone, &audio).await?;
                self.publish(MIC, t, Source::Microphone, MediaSource::Microphone, "main")
                    .await?;
            }
            if video != JsValue::FALSE {
                let t = common::acquire(Source::Camera, &video).await?;
                self.publish(CAM, t, Source::Camera, MediaSource::Camera, "main")
                    .await?;
            }
            Ok(())
        })
    }

    /// Sends `track` as the default track `cid`: in place of the one published, or published.
    fn put_main<'a>(
        &'a self,
        cid: &'a str,
        track: MediaStreamTrack,
        source: Source,
        ms: MediaSource,
    ) -> common::Op<'a, ()> {
        Box::pin(async move {
            if self.handle.local_track(cid).is_some() {
                common::op(self.handle.replace_track(cid, track)).await?;
            } else {
                self.publish(cid, track, source, ms, "main").await?;
            }
            Ok(())
        })
    }

    /// Replaces the default track `cid` with a new device track (or publishes it).
    fn update_device<'a>(
        &'a self,
        cid: &'a str,
        source: Source,
        ms: MediaSource,
        constraints: JsValue,
    ) -> common::Op<'a, JsValue> {
        Box::pin(async move {
            let t = common::acquire(source, &constraints).await?;
            self.put_main(cid, t, source, ms).await?;
            self.relayout();
            Ok(JsValue::UNDEFINED)
        })
    }

    async fn add_device(
        self: Rc<Self>,
        kind: &'static str,
        audio: JsValue,
        video: JsValue,
    ) -> JsResult {
        let mut cids = Vec::new();
        let prefix = if kind == "screen" { "screen" } else { "device" };
        let key = self.cid(prefix);
        let mut stream_tracks = Vec::new();
        if kind == "screen" {
            let t = common::acquire(Source::Screen, &video).await?;
            let cid = format!("{key}:video");
            stream_tracks.push(t.clone());
            self.publish(&cid, t, Source::Screen, MediaSource::Screen, &key)
                .await?;
            cids.push(cid);
        } else {
            for (c, source, ms, suffix) in [
                (audio, Source::Microphone, MediaSource::Microphone, "audio"),
                (video, Source::Camera, MediaSource::Camera, "video"),
            ] {
                if c.is_undefined() || c.is_null() || c == JsValue::FALSE {
                    continue;
                }
                let t = common::acquire(source, &c).await?;
                let cid = format!("{key}:{suffix}");
                stream_tracks.push(t.clone());
                self.publish(&cid, t, source, ms, &key).await?;
                cids.push(cid);
            }
        }
        let stream = MediaStream::new().ok();
        if let Some(s) = &stream {
            for t in &stream_tracks {
                s.add_track(t);
            }
        }
        let dev: JsValue = RoomSessionDevice {
            rs: Rc::downgrade(&self),
            id: key.clone(),
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

    async fn send(self: Rc<Self>, js: &'static str, req: wire::Req) -> JsResult {
        // Self mute/unmute acts on the local track (track.mute): the sender stops at once.
        let me = self.self_id();
        let target = req.params.get("member_id").and_then(Value::as_str);
        if target.is_none() || target == Some(me.as_str()) {
            let local = match js {
                "audioMute" | "audioUnmute" => Some(MIC),
                "videoMute" | "videoUnmute" => Some(CAM),
                _ => None,
            };
            if let Some(cid) = local.filter(|c| self.handle.local_track(c).is_some()) {
                let mute = js.ends_with("Mute");
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
        Ok(match js {
            "getMembers" => {
                let members: Vec<Member> =
                    ovsp::json::decode(&Value::Array(list("members"))).unwrap_or_default();
                let arr: js_sys::Array = members.iter().map(|m| self.member_js(m, None)).collect();
                let o = obj();
                set(&o, "members", &arr);
                o
            }
            "getMeta" | "getMemberMeta" => to_js(&wire::one(
                "meta",
                v.get("meta")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Default::default())),
            )),
            "getLayouts" => to_js(&wire::layout_names(&v)),
            "setPrioritizeHandraise" => enable
                .unwrap_or(Value::Bool(true))
                .as_bool()
                .unwrap_or(true)
                .into(),
            "startRecording" => {
                self.egress("recording", v.get("recording").cloned().unwrap_or_default())
            }
            "play" => self.egress("playback", v.get("playback").cloned().unwrap_or_default()),
            "startStream" => self.egress("stream", v.get("stream").cloned().unwrap_or_default()),
            "getRecordings" => self.list_obj("recordings", "recording", list("recordings")),
            "getPlaybacks" => self.list_obj("playbacks", "playback", list("playbacks")),
            "getStreams" => self.list_obj("streams", "stream", list("streams")),
            _ => JsValue::UNDEFINED,
        })
    }

    fn list_obj(&self, key: &str, kind: &'static str, list: Vec<Value>) -> JsValue {
        let o = obj();
        set(&o, key, &self.egress_list(kind, list));
        o
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

macro_rules! requests {
    ($($js:literal => $rust:ident),* $(,)?) => {
        #[wasm_bindgen]
        impl RoomSession {
            $(
                #[allow(missing_docs)]
                #[wasm_bindgen(js_name = $js)]
                pub fn $rust(&self, a: JsValue, b: JsValue) -> js_sys::Promise {
                    self.request($js, &[&a, &b])
                }
            )*
        }
    };
}

requests! {
    "audioMute" => audio_mute, "audioUnmute" => audio_unmute, "videoMute" => video_mute,
    "videoUnmute" => video_unmute, "deaf" => deaf, "undeaf" => undeaf, "getMembers" => get_members,
    "removeMember" => remove_member, "removeAllMembers" => remove_all_members, "lock" => lock,
    "unlock" => unlock, "promote" => promote, "demote" => demote, "setRaisedHand" => set_raised_hand,
    "setPrioritizeHandraise" => set_prioritize_handraise, "setHideVideoMuted" => set_hide_video_muted,
    "showVideoMuted" => show_video_muted, "setInputVolume" => set_input_volume,
    "setMicrophoneVolume" => set_microphone_volume, "setOutputVolume" => set_output_volume,
    "setSpeakerVolume" => set_speaker_volume, "setInputSensitivity" => set_input_sensitivity,
    "getMeta" => get_meta, "setMeta" => set_meta, "updateMeta" => update_meta, "deleteMeta" => delete_meta,
    "getMemberMeta" => get_member_meta, "setMemberMeta" => set_member_meta,
    "updateMemberMeta" => update_member_meta, "deleteMemberMeta" => delete_member_meta,
    "getLayouts" => get_layouts, "setLayout" => set_layout, "setPositions" => set_positions,
    "setMemberPosition" => set_member_position, "startRecording" => start_recording,
    "getRecordings" => get_recordings, "play" => play, "getPlaybacks" => get_playbacks,
    "startStream" => start_stream, "getStreams" => get_streams, "sendDigits" => send_digits,
}

#[wasm_bindgen]
impl RoomSession {
    /// `new RoomSession({token, rootElement, iceServers, localStream, logLevel, speakerId,
    /// stopCameraWhileMuted, stopMicrophoneWhileMuted, audio, video, host})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<RoomSession, JsValue> {
        let token = common::get_str(&options, "token")
            .ok_or_else(|| ApiError::invalid("token", "is required").to_js())?;
        let root = opt_js(get(&options, "rootElement"))
            .map(|r| {
                r.dyn_into::<HtmlElement>()
                    .map_err(|_| ApiError::invalid("rootElement", "must be an HTMLElement").to_js())
            })
            .transpose()?;
        let local_stream = opt_js(get(&options, "localStream"))
            .map(|s| {
                s.dyn_into::<MediaStream>()
                    .map_err(|_| ApiError::invalid("localStream", "must be a MediaStream").to_js())
            })
            .transpose()?;
        let opts = super::opts::read(&options).map_err(|e| e.to_js())?;
        let handle = common::session(&token, common::get_str(&options, "host"), |_| {})
            .map_err(|e| e.to_js())?;
        let listeners = opts.apply(&handle);
        let inner = Rc::new(Rs {
            handle,
            listeners,
            root,
            local_stream,
            audio: get(&options, "audio"),
            video: get(&options, "video"),
            speaker_id: common::get_str(&options, "speakerId"),
            stop_camera: get(&options, "stopCameraWhileMuted") == JsValue::TRUE,
            stop_microphone: get(&options, "stopMicrophoneWhileMuted") == JsValue::TRUE,
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

    #[inline(never)]
    fn request(&self, js: &'static str, a: &[&JsValue]) -> js_sys::Promise {
        let inner = self.inner.clone();
        let args = match common::args(a) {
            Ok(v) => v,
            Err(e) => return reject(e),
        };
        let req = match wire::room_session(js, &args, &inner.self_id()) {
            Ok(r) => r,
            Err(e) => return reject(e),
        };
        promise(inner.send(js, req))
    }

    /// Joins the room, then publishes the microphone and camera (members only).
    pub fn join(&self, params: JsValue) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move {
            common::op(inner.handle.call(Command::Join)).await?;
            if let Some(id) = &inner.speaker_id {
                let _ = inner.handle.set_speaker(id).await;
            }
            let member = inner.state(|s| {
                s.self_member
                    .as_ref()
                    .is_some_and(|m| m.role == Role::Member)
            });
            if member {
                inner.publish_default(&params).await?;
            }
            inner.relayout();
            Ok(RoomSession { inner }.into())
        })
    }

    /// Leaves the room; every local track is stopped and every listener of the session ends.
    pub fn leave(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move {
            let r = common::op(inner.handle.leave()).await;
            inner.clear_view();
            r.map(|_| JsValue::UNDEFINED)
        })
    }

    /// Ends the session at once and removes every listener.
    pub fn destroy(&self) {
        self.inner.clear_view();
        self.inner.handle.destroy();
        self.inner.listeners.emit("destroy", &[]);
        self.inner.listeners.remove_all(None);
        self.inner.sub.borrow_mut().take();
    }

    /// The full state of the room session.
    pub fn subscribe(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move { Ok(inner.full_state()) })
    }

    /// Retries media playback the browser blocked (call it from a user gesture).
    #[wasm_bindgen(js_name = resumePlayback)]
    pub fn resume_playback(&self) -> js_sys::Promise {
        self.inner.handle.resume_playback();
        js_sys::Promise::resolve(&JsValue::UNDEFINED)
    }

    /// Adds a camera as an additional device.
    #[wasm_bindgen(js_name = addCamera)]
    pub fn add_camera(&self, c: JsValue) -> js_sys::Promise {
        let c = opt_js(c).unwrap_or(JsValue::TRUE);
        promise(self.inner.clone().add_device("camera", JsValue::FALSE, c))
    }

    /// Adds a microphone as an additional device.
    #[wasm_bindgen(js_name = addMicrophone)]
    pub fn add_microphone(&self, c: JsValue) -> js_sys::Promise {
        let c = opt_js(c).unwrap_or(JsValue::TRUE);
        promise(
            self.inner
                .clone()
                .add_device("microphone", c, JsValue::FALSE),
        )
    }

    /// Adds a device (`{audio, video}`).
    #[wasm_bindgen(js_name = addDevice)]
    pub fn add_device(&self, p: JsValue) -> js_sys::Promise {
        if !p.is_object() {
            return reject(ApiError::invalid(
                "params",
                "must be an object {audio, video}",
            ));
        }
        promise(
            self.inner
                .clone()
                .add_device("device", get(&p, "audio"), get(&p, "video")),
        )
    }

    /// Switches the camera (new constraints, e.g. `{deviceId}`).
    #[wasm_bindgen(js_name = updateCamera)]
    pub fn update_camera(&self, c: JsValue) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move {
            inner
                .update_device(CAM, Source::Camera, MediaSource::Camera, c)
                .await
        })
    }

    /// Switches the microphone.
    #[wasm_bindgen(js_name = updateMicrophone)]
    pub fn update_microphone(&self, c: JsValue) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move {
            inner
                .update_device(MIC, Source::Microphone, MediaSource::Microphone, c)
                .await
        })
    }

    /// Switches the audio output device (`{deviceId}`).
    #[wasm_bindgen(js_name = updateSpeaker)]
    pub fn update_speaker(&self, p: JsValue) -> js_sys::Promise {
        let Some(id) = common::get_str(&p, "deviceId") else {
            return reject(ApiError::invalid("deviceId", "is required"));
        };
        let inner = self.inner.clone();
        promise(async move {
            // The session remembers the device for later attachments. Only the audio elements
            // carry sound (video tiles are silent, and Chromium refuses to re-route some of
            // them), so the outcome is that of the audio elements.
            let _ = inner.handle.set_speaker(&id).await;
            let els: Vec<HtmlMediaElement> = {
                let keys = inner.audio_out.borrow().clone();
                let map = inner.elements.borrow();
                keys.iter().filter_map(|k| map.get(k).cloned()).collect()
            };
            for el in els {
                crate::web::element::set_sink_id(&el, &id)
                    .await
                    .map_err(|e| ApiError::new(ovsp::codes::Code::TRACK_INVALID, e.to_string()))?;
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Shares the screen as an additional device.
    #[wasm_bindgen(js_name = startScreenShare)]
    pub fn start_screen_share(&self, p: JsValue) -> js_sys::Promise {
        let video = opt_js(get(&p, "video")).unwrap_or(JsValue::TRUE);
        promise(
            self.inner
                .clone()
                .add_device("screen", JsValue::FALSE, video),
        )
    }

    /// Deprecated alias of `startScreenShare`.
    #[wasm_bindgen(js_name = createScreenShareObject)]
    pub fn create_screen_share_object(&self, p: JsValue) -> js_sys::Promise {
        self.start_screen_share(p)
    }

    /// Sends the tracks of `stream` in place of the microphone and camera.
    #[wasm_bindgen(js_name = setLocalStream)]
    pub fn set_local_stream(&self, stream: JsValue) -> js_sys::Promise {
        let Ok(stream) = stream.dyn_into::<MediaStream>() else {
            return reject(ApiError::invalid("stream", "must be a MediaStream"));
        };
        let inner = self.inner.clone();
        promise(async move {
            for t in stream.get_tracks().iter() {
                let t: MediaStreamTrack = t.unchecked_into();
                let (cid, src, ms) = if t.kind() == "audio" {
                    (MIC, Source::Microphone, MediaSource::Microphone)
                } else {
                    (CAM, Source::Camera, MediaSource::Camera)
                };
                inner.put_main(cid, t, src, ms).await?;
            }
            inner.relayout();
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Attaches a listener.
    pub fn on(&self, event: &str, f: JsValue) -> Result<RoomSession, JsValue> {
        self.inner
            .listeners
            .add(event, &f, false)
            .map_err(|e| e.to_js())?;
        Ok(RoomSession {
            inner: self.inner.clone(),
        })
    }

    /// Attaches a listener for the next event only.
    pub fn once(&self, event: &str, f: JsValue) -> Result<RoomSession, JsValue> {
        self.inner
            .listeners
            .add(event, &f, true)
            .map_err(|e| e.to_js())?;
        Ok(RoomSession {
            inner: self.inner.clone(),
        })
    }

    /// Removes a listener (or all listeners of `event`).
    pub fn off(&self, event: &str, f: JsValue) -> RoomSession {
        self.inner.listeners.off(event, &f);
        RoomSession {
            inner: self.inner.clone(),
        }
    }

    /// Removes every listener of `event` (or of every event).
    #[wasm_bindgen(js_name = removeAllListeners)]
    pub fn remove_all_listeners(&self, event: Option<String>) -> RoomSession {
        self.inner.listeners.remove_all(event);
        RoomSession {
            inner: self.inner.clone(),
        }
    }

    // ---- properties ----

    /// Whether the session is connected.
    #[wasm_bindgen(getter)]
    pub fn active(&self) -> bool {
        self.inner
            .state(|s| matches!(s.connection, convene_core::ConnectionState::Connected))
    }
    /// The local member id.
    #[wasm_bindgen(getter, js_name = memberId)]
    pub fn member_id(&self) -> JsValue {
        JsValue::from(self.inner.self_id())
    }
    /// The room id.
    #[wasm_bindgen(getter, js_name = roomId)]
    pub fn room_id(&self) -> JsValue {
        JsValue::from(self.inner.ids().0)
    }
    /// The room session id.
    #[wasm_bindgen(getter, js_name = roomSessionId)]
    pub fn room_session_id(&self) -> JsValue {
        JsValue::from(self.inner.ids().1)
    }
    /// The room session id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> JsValue {
        JsValue::from(self.inner.ids().1)
    }
    #[inline(never)]
    fn room_field(&self, key: &str) -> JsValue {
        self.inner
            .room()
            .map(|r| get(&to_js(&self.inner.room_value(&r, None)), key))
            .unwrap_or(JsValue::UNDEFINED)
    }
    /// Room name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> JsValue {
        self.room_field("name")
    }
    /// Display name.
    #[wasm_bindgen(getter, js_name = displayName)]
    pub fn display_name(&self) -> JsValue {
        self.room_field("displayName")
    }
    /// Whether video-muted members are hidden.
    #[wasm_bindgen(getter, js_name = hideVideoMuted)]
    pub fn hide_video_muted(&self) -> bool {
        self.inner.room().is_some_and(|r| r.hide_video_muted)
    }
    /// Current layout name.
    #[wasm_bindgen(getter, js_name = layoutName)]
    pub fn layout_name(&self) -> JsValue {
        self.room_field("layoutName")
    }
    /// Room metadata.
    #[wasm_bindgen(getter)]
    pub fn meta(&self) -> JsValue {
        let m = self.room_field("meta");
        if m.is_undefined() {
            obj()
        } else {
            m
        }
    }
    /// Whether a recording is active.
    #[wasm_bindgen(getter)]
    pub fn recording(&self) -> bool {
        self.inner.room().is_some_and(|r| r.recording)
    }
    /// Active recordings.
    #[wasm_bindgen(getter)]
    pub fn recordings(&self) -> JsValue {
        let l = self
            .inner
            .state(|s| s.recordings.values().map(ovsp::json::encode).collect());
        self.inner.egress_list("recording", l)
    }
    /// The local member's permissions.
    #[wasm_bindgen(getter)]
    pub fn permissions(&self) -> JsValue {
        to_js(&self.inner.state(|s| {
            s.self_member
                .as_ref()
                .map(|m| m.permissions.clone())
                .unwrap_or_default()
        }))
    }
    /// `member` or `audience`.
    #[wasm_bindgen(getter, js_name = interactivityMode)]
    pub fn interactivity_mode(&self) -> JsValue {
        JsValue::from({
            let audience = self.inner.state(|s| {
                s.self_member
                    .as_ref()
                    .is_some_and(|m| m.role == Role::Audience)
            });
            if audience { "audience" } else { "member" }.to_owned()
        })
    }
    /// Room preview URL (none on this server).
    #[wasm_bindgen(getter, js_name = previewUrl)]
    pub fn preview_url(&self) -> JsValue {
        JsValue::UNDEFINED
    }
    /// The local video overlay (none: the SDK draws the local video as a tile).
    #[wasm_bindgen(getter, js_name = localOverlay)]
    pub fn local_overlay(&self) -> JsValue {
        JsValue::UNDEFINED
    }
    /// The local media stream.
    #[wasm_bindgen(getter, js_name = localStream)]
    pub fn local_stream(&self) -> Option<MediaStream> {
        self.inner.local_stream()
    }
    /// The local audio track.
    #[wasm_bindgen(getter, js_name = localAudioTrack)]
    pub fn local_audio_track(&self) -> Option<MediaStreamTrack> {
        self.inner.handle.local_track(MIC)
    }
    /// The local video track.
    #[wasm_bindgen(getter, js_name = localVideoTrack)]
    pub fn local_video_track(&self) -> Option<MediaStreamTrack> {
        self.inner.handle.local_track(CAM)
    }
    /// The camera device id.
    #[wasm_bindgen(getter, js_name = cameraId)]
    pub fn camera_id(&self) -> JsValue {
        self.inner.track_setting(CAM, false)
    }
    /// The camera label.
    #[wasm_bindgen(getter, js_name = cameraLabel)]
    pub fn camera_label(&self) -> JsValue {
        self.inner.track_setting(CAM, true)
    }
    /// The microphone device id.
    #[wasm_bindgen(getter, js_name = microphoneId)]
    pub fn microphone_id(&self) -> JsValue {
        self.inner.track_setting(MIC, false)
    }
    /// The microphone label.
    #[wasm_bindgen(getter, js_name = microphoneLabel)]
    pub fn microphone_label(&self) -> JsValue {
        self.inner.track_setting(MIC, true)
    }
    /// Every received remote track in one stream.
    #[wasm_bindgen(getter, js_name = remoteStream)]
    pub fn remote_stream(&self) -> Option<MediaStream> {
        let ids: Vec<String> = self.inner.state(|s| {
            s.members
                .values()
                .flat_map(|m| m.tracks.iter().map(|t| t.id.clone()))
                .collect()
        });
        let s = MediaStream::new().ok()?;
        for id in ids {
            if let Some(t) = self.inner.handle.remote_track(&id) {
                s.add_track(&t);
            }
        }
        Some(s)
    }
    /// Additional devices.
    #[wasm_bindgen(getter, js_name = deviceList)]
    pub fn device_list(&self) -> js_sys::Array {
        self.inner
            .devices
            .borrow()
            .iter()
            .filter(|(k, _)| k != "screen")
            .map(|(_, d)| d.clone())
            .collect()
    }
    /// Screen shares.
    #[wasm_bindgen(getter, js_name = screenShareList)]
    pub fn screen_share_list(&self) -> js_sys::Array {
        self.inner
            .devices
            .borrow()
            .iter()
            .filter(|(k, _)| k == "screen")
            .map(|(_, d)| d.clone())
            .collect()
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

impl RoomSessionDevice {
    #[inline(never)]
    fn mute(&self, audio: bool, muted: bool) -> js_sys::Promise {
        let Some(rs) = self.rs.upgrade() else {
            return reject(ApiError::from(convene_core::CoreError::Misuse(
                convene_core::MisuseError::Closed,
            )));
        };
        let cids: Vec<String> = self
            .cids
            .iter()
            .filter(|c| c.ends_with(":audio") == audio)
            .cloned()
            .collect();
        promise(async move {
            for c in cids {
                common::op(rs.handle.mute_track(&c, muted)).await?;
            }
            Ok(JsValue::UNDEFINED)
        })
    }
}

#[wasm_bindgen]
impl RoomSessionDevice {
    /// Device id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> JsValue {
        JsValue::from_str(&self.id)
    }
    /// `camera`, `microphone`, `device` or `screen`.
    #[wasm_bindgen(getter)]
    pub fn kind(&self) -> JsValue {
        JsValue::from_str(self.kind)
    }
    /// The owning member id.
    #[wasm_bindgen(getter, js_name = memberId)]
    pub fn member_id(&self) -> JsValue {
        JsValue::from(self.rs.upgrade().map(|r| r.self_id()))
    }
    /// The device's stream.
    #[wasm_bindgen(getter, js_name = localStream)]
    pub fn local_stream(&self) -> Option<MediaStream> {
        self.stream.clone()
    }
    /// Mutes the device's audio.
    #[wasm_bindgen(js_name = audioMute)]
    pub fn audio_mute(&self) -> js_sys::Promise {
        self.mute(true, true)
    }
    /// Unmutes the device's audio.
    #[wasm_bindgen(js_name = audioUnmute)]
    pub fn audio_unmute(&self) -> js_sys::Promise {
        self.mute(true, false)
    }
    /// Mutes the device's video.
    #[wasm_bindgen(js_name = videoMute)]
    pub fn video_mute(&self) -> js_sys::Promise {
        self.mute(false, true)
    }
    /// Unmutes the device's video.
    #[wasm_bindgen(js_name = videoUnmute)]
    pub fn video_unmute(&self) -> js_sys::Promise {
        self.mute(false, false)
    }
    /// Stops and unpublishes the device.
    pub fn leave(&self) -> js_sys::Promise {
        let Some(rs) = self.rs.upgrade() else {
            return js_sys::Promise::resolve(&JsValue::UNDEFINED);
        };
        let (cids, id) = (self.cids.clone(), self.id.clone());
        promise(async move {
            for c in &cids {
                common::op(rs.handle.unpublish(c)).await?;
            }
            rs.devices
                .borrow_mut()
                .retain(|(_, d)| get(d, "id").as_string().as_deref() != Some(&id));
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// A recording, playback or RTMP stream of the room, with its controls.
#[wasm_bindgen(skip_typescript)]
pub struct Egress {
    handle: SessionHandle,
    kind: &'static str,
    room_id: String,
    data: Value,
}

impl Egress {
    #[inline(never)]
    fn field(&self, k: &str) -> JsValue {
        self.data.get(k).map(to_js).unwrap_or(JsValue::UNDEFINED)
    }
    #[inline(never)]
    fn control(&self, js: &str, a: &JsValue) -> js_sys::Promise {
        let id = self
            .data
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let args = match common::args(&[a]) {
            Ok(v) => v,
            Err(e) => return reject(e),
        };
        let req = match wire::egress(self.kind, &id, js, &args) {
            Ok(r) => r,
            Err(e) => return reject(e),
        };
        let handle = self.handle.clone();
        promise(async move {
            common::op(handle.call(Command::Rpc {
                method: req.method.to_owned(),
                params: req.params,
            }))
            .await?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

#[wasm_bindgen]
impl Egress {
    /// Id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> JsValue {
        self.field("id")
    }
    /// The room session id.
    #[wasm_bindgen(getter, js_name = roomSessionId)]
    pub fn room_session_id(&self) -> JsValue {
        JsValue::from_str(&self.room_id)
    }
    /// State.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> JsValue {
        self.field("state")
    }
    /// URL (playbacks and streams).
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> JsValue {
        self.field("url")
    }
    /// Volume (playbacks).
    #[wasm_bindgen(getter)]
    pub fn volume(&self) -> JsValue {
        self.field("volume")
    }
    /// Position in ms (playbacks).
    #[wasm_bindgen(getter)]
    pub fn position(&self) -> JsValue {
        self.field("position_ms")
    }
    /// Duration in ms (recordings).
    #[wasm_bindgen(getter)]
    pub fn duration(&self) -> JsValue {
        self.field("duration_ms")
    }
    /// Start time.
    #[wasm_bindgen(getter, js_name = startedAt)]
    pub fn started_at(&self) -> JsValue {
        self.field("started_at")
    }
    /// End time.
    #[wasm_bindgen(getter, js_name = endedAt)]
    pub fn ended_at(&self) -> JsValue {
        self.field("ended_at")
    }
    /// Pause.
    pub fn pause(&self) -> js_sys::Promise {
        self.control("pause", &JsValue::UNDEFINED)
    }
    /// Resume.
    pub fn resume(&self) -> js_sys::Promise {
        self.control("resume", &JsValue::UNDEFINED)
    }
    /// Stop.
    pub fn stop(&self) -> js_sys::Promise {
        self.control("stop", &JsValue::UNDEFINED)
    }
    /// Set the playback volume.
    #[wasm_bindgen(js_name = setVolume)]
    pub fn set_volume(&self, v: JsValue) -> js_sys::Promise {
        self.control("setVolume", &v)
    }
    /// Seek to an absolute position (ms).
    pub fn seek(&self, v: JsValue) -> js_sys::Promise {
        self.control("seek", &v)
    }
    /// Seek forward (default 5000 ms).
    pub fn forward(&self, v: JsValue) -> js_sys::Promise {
        self.control("forward", &v)
    }
    /// Seek backward (default 5000 ms).
    pub fn rewind(&self, v: JsValue) -> js_sys::Promise {
        self.control("rewind", &v)
    }
}
