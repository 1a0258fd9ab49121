//! `Room`: participants publishing and subscribing to streams (a stream is the set of a
//! participant's tracks sharing a stream key), messages, network metrics, and the client
//! token's expiry.

use crate::cell::RefCell;
use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use convene_core::map::VecSet;
use core::cell::Cell;

use convene_core::catalogue::room_names;
use convene_core::store::stream_key;
use convene_core::{Command, ConnectionState, CoreEvent, PublishOptions, SubTarget};
use js_sys::{Map, Promise};
use ovsp::json::Value;
use ovsp::model::{MediaKind, MediaSource, TrackKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MediaStreamTrack;

use super::call::{
    cat, jobj, kind_str, listen, open, quoted, room_str, rpc, run_or, run_steps, Step, Then,
};
use super::common::{self, get, obj, one, promise, set, to_js, Listeners};
use super::error::ApiError;
use super::token;
use super::wire;
use crate::web::listener::Timer;
use crate::web::media::Source;
use crate::web::session::{SessionEvent, SessionHandle, Subscription};

pub(super) struct Inner {
    pub(super) handle: SessionHandle,
    listeners: Listeners,
    sub: RefCell<Option<Subscription>>,
    context: JsValue,
    started: Cell<bool>,
    pub(super) disconnecting: Cell<bool>,
    metrics_for: RefCell<Option<VecSet<String>>>,
    expiry: RefCell<Option<Timer>>,
}

/// A room of participants publishing and subscribing to streams.
#[wasm_bindgen(skip_typescript)]
pub struct Room {
    inner: Rc<Inner>,
}

/// One stream of the state, before its tracks are looked up.
struct StreamRow {
    id: String,
    key: String,
    participant: String,
    local: bool,
    audio: Option<(String, bool, bool)>, // (track key, enabled, censored)
    video: Option<(String, bool, bool)>,
}

impl Inner {
    fn status(&self) -> &'static str {
        if self.disconnecting.get() {
            return "disconnecting";
        }
        self.handle.with_machine(|m| match m.state().connection {
            ConnectionState::New if !self.started.get() => "initialized",
            ConnectionState::New | ConnectionState::Connecting => "connecting",
            ConnectionState::Connected | ConnectionState::Reconnecting { .. } => "connected",
            ConnectionState::Disconnected { .. } => "disconnected",
        })
    }

    fn rows(&self) -> (String, Vec<(String, JsValue)>, Vec<StreamRow>) {
        self.handle.with_machine(|m| {
            let s = m.state();
            let me = s.self_id().unwrap_or_default().to_owned();
            let mut participants = Vec::new();
            let mut rows = Vec::new();
            // The local participant and its streams (from the local tracks).
            if s.self_member.is_some() {
                for t in s.local_tracks.values() {
                    let blocked = t
                        .track_id
                        .as_deref()
                        .and_then(|id| s.track(id))
                        .is_some_and(|(tr, _)| tr.blocked);
                    let key = stream_key(t.stream_key.as_deref(), t.source);
                    let r = row(&mut rows, &me, key, true);
                    r.put(t.kind, &t.cid, !t.muted, blocked);
                }
                participants.push((me.clone(), participant(&me, &rows, "local")));
            }
            for m in s.members.values() {
                for g in s.streams.values() {
                    if g.member_id != m.id {
                        continue;
                    }
                    let r = row(&mut rows, &m.id, g.stream_key.clone(), false);
                    for t in &m.tracks {
                        if g.track_ids.contains(&t.id) {
                            r.put(t.kind, &t.id, !t.muted, t.blocked);
                        }
                    }
                }
                let p = participant(&m.id, &rows, "remote");
                if let Some(c) = m.meta.get("context") {
                    set(&p, "context", &to_js(c));
                }
                participants.push((m.id.clone(), p));
            }
            (me, participants, rows)
        })
    }

    fn stream_js(&self, r: &StreamRow) -> JsValue {
        let on = |t: &Option<(String, bool, bool)>, i: bool| {
            JsValue::from(t.as_ref().is_some_and(|a| if i { a.1 } else { a.2 }))
        };
        let o = jobj(
            &[
                "id",
                "key",
                "participantId",
                "origin",
                "isAudioEnabled",
                "isVideoEnabled",
                "isAudioCensored",
                "isVideoCensored",
                "isConfigured",
            ],
            &[
                r.id.as_str().into(),
                r.key.as_str().into(),
                r.participant.as_str().into(),
                (if r.local { "local" } else { "remote" }).into(),
                on(&r.audio, true),
                on(&r.video, true),
                on(&r.audio, false),
                on(&r.video, false),
                JsValue::TRUE,
            ],
        );
        for (name, t) in [("audioTrack", &r.audio), ("videoTrack", &r.video)] {
            if let Some((key, _, _)) = t {
                let track = if r.local {
                    self.handle.local_track(key)
                } else {
                    self.handle.remote_track(key)
                };
                if let Some(track) = track {
                    set(&o, name, &track);
                }
            }
        }
        o
    }

    fn state_js(&self) -> JsValue {
        let (me, participants, rows) = self.rows();
        let ps = obj();
        for (id, p) in &participants {
            let pj = p;
            if id == &me && !self.context.is_undefined() {
                set(pj, "context", &self.context);
            }
            set(&ps, id, pj);
        }
        let ss = obj();
        for r in &rows {
            set(&ss, &r.id, &self.stream_js(r));
        }
        let o = obj();
        set(&o, "status", &self.status().into());
        set(&o, "localParticipantId", &me.into());
        set(&o, "participants", &ps);
        set(&o, "streams", &ss);
        o
    }

    #[inline(never)]
    fn key_of(&self, track: &ovsp::model::Track) -> String {
        stream_key(track.stream_key.as_deref(), track.source)
    }

    /// The listener arguments of `name` for `ev` (the state last, except for the metrics).
    fn args(&self, name: &str, ev: &CoreEvent) -> Option<Vec<JsValue>> {
        let s = |x: &str| JsValue::from_str(x);
        let mut v: Vec<JsValue> = Vec::new();
        match ev {
            CoreEvent::ConnectionStateChanged { .. }
            | CoreEvent::RoomJoined { .. }
            | CoreEvent::RoomLeft { .. } => {}
            CoreEvent::MemberJoined { member } => v.push(s(&member.id)),
            CoreEvent::MemberLeft { member, .. } => {
                v.push(s(&member.id));
                match name {
                    "participant_leaving" => v.push(s("kicked")),
                    "participant_left" => {}
                    _ => return None,
                }
            }
            CoreEvent::SessionClosing { .. } => {
                let me = self
                    .handle
                    .with_machine(|m| m.state().self_id().unwrap_or_default().to_owned());
                v.push(s(&me));
                v.push(s("kicked"));
            }
            CoreEvent::StreamPublished {
                member_id,
                stream_key,
                ..
            }
            | CoreEvent::StreamUnpublished {
                member_id,
                stream_key,
                ..
            } => {
                v.push(s(member_id));
                v.push(s(stream_key));
            }
            CoreEvent::TrackUpdated { track: t, .. }
            | CoreEvent::SubscriptionStarted { track: Some(t), .. }
            | CoreEvent::SubscriptionReconfigured { track: Some(t), .. }
            | CoreEvent::SubscriptionEnded { track: Some(t), .. } => {
                v.push(s(&t.member_id));
                v.push(s(&self.key_of(t)));
                if matches!(ev, CoreEvent::TrackUpdated { .. }) {
                    v.push(s(kind_str(t.kind)));
                }
            }
            CoreEvent::MemberTalking { member_id, .. } => {
                v.push(s(member_id));
                v.push(JsValue::NULL);
            }
            CoreEvent::MessageReceived {
                from_member_id,
                to,
                payload,
                ..
            } => {
                let p = to_js(payload);
                v.push(s(from_member_id));
                v.push(if payload.is_object() {
                    p
                } else {
                    jobj(&["payload", "type"], &[p, s("text")])
                });
                v.push(to.as_ref().map_or(JsValue::NULL, to_js));
            }
            CoreEvent::NetworkQuality {
                member_id, level, ..
            } => {
                let wanted = self
                    .metrics_for
                    .borrow()
                    .as_ref()
                    .is_some_and(|set| set.is_empty() || set.contains(member_id));
                if !wanted {
                    return None;
                }
                let q = ["unknown", "bad", "poor", "fair", "good", "excellent"]
                    .get(*level as usize)
                    .copied()
                    .unwrap_or("unknown");
                let o = obj();
                set(
                    &o,
                    member_id,
                    &jobj(&["connectionQuality", "level"], &[s(q), (*level).into()]),
                );
                return Some(vec![o]);
            }
            _ => return None,
        }
        v.push(self.state_js());
        Some(v)
    }

    fn on_event(self: &Rc<Self>, ev: &SessionEvent) {
        let SessionEvent::Core(ce) = ev else { return };
        if let CoreEvent::RoomLeft { error: Some(e), .. } = ce {
            self.listeners.emit("error", &[ApiError::from(e).to_js()]);
        }
        if matches!(ce, CoreEvent::RoomLeft { .. }) {
            self.expiry.borrow_mut().take();
            self.disconnecting.set(false);
        }
        for name in room_names(ce) {
            if !self.listeners.has(name) {
                continue;
            }
            if let Some(args) = self.args(name, ce) {
                self.listeners.emit(name, &args);
            }
        }
    }

    /// Arms the expiry timer of the session's token: when it fires before `updateClientToken`,
    /// the room disconnects with 20104 `AccessTokenExpiredError`.
    pub(super) fn arm_expiry(self: &Rc<Self>) {
        let Ok(info) = self.handle.with_machine(|m| token::inspect(m.token())) else {
            return;
        };
        let Some(exp) = info.expires_at_ms else {
            self.expiry.borrow_mut().take();
            return;
        };
        let left = exp as f64 - js_sys::Date::now();
        if left > i32::MAX as f64 {
            self.expiry.borrow_mut().take();
            return;
        }
        let weak = Rc::downgrade(self);
        let timer = Timer::new(left.max(0.0) as i32, move || {
            if let Some(inner) = weak.upgrade() {
                inner
                    .listeners
                    .emit("error", &[token::expired_error().to_js()]);
                inner.disconnecting.set(true);
                let left = run_steps(
                    inner.handle.clone(),
                    one(Step::Leave),
                    Then::RoomLeft(inner),
                );
                common::spawn(async move {
                    let _ = left.await;
                });
            }
        });
        *self.expiry.borrow_mut() = Some(timer);
    }

    /// The steps that publish or replace the audio and video of stream `key` from `tracks`.
    fn put_stream(
        &self,
        key: &JsValue,
        tracks: &JsValue,
        update: bool,
    ) -> Result<Vec<Step>, ApiError> {
        let key = key
            .as_string()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::invalid("key", "must be a non-empty string"))?;
        let mut steps = Vec::new();
        for kind in ["audio", "video"] {
            let present = common::has(tracks, kind);
            let mut v = get(tracks, kind);
            let mut simulcast = false;
            if v.is_object() && !v.is_instance_of::<MediaStreamTrack>() {
                simulcast = get(&get(&v, "options"), "enableSimulcast") == JsValue::TRUE;
                v = get(&v, "track");
            }
            let cid = super::error::concat(&[&key, ":", kind]);
            let exists = self.handle.local_track(&cid).is_some();
            if v.is_undefined() || v.is_null() {
                if update && present && exists {
                    steps.push(Step::Mute(cid, true));
                }
                continue;
            }
            let field = cat("tracks.", kind);
            let track = common::track_arg(&v, &field)?;
            if track.kind() != kind {
                return Err(ApiError::invalid(&field, "is a track of the other kind"));
            }
            if exists {
                steps.push(Step::Replace(cid.clone(), track));
                steps.push(Step::Mute(cid, false));
                continue;
            }
            let audio = kind == "audio";
            let (source, ms, tk) = if key.as_bytes().windows(6).any(|w| w == b"screen") {
                if audio {
                    (
                        Source::ScreenAudio,
                        MediaSource::ScreenAudio,
                        TrackKind::Audio,
                    )
                } else {
                    (Source::Screen, MediaSource::Screen, TrackKind::Video)
                }
            } else {
                common::media_kind(audio)
            };
            let mut extra = ovsp::json::Map::new();
            if simulcast {
                wire::put(&mut extra, "simulcast", Value::Bool(true));
            }
            let opts = PublishOptions {
                cid,
                kind: tk,
                source: ms,
                stream_key: Some(key.clone()),
                name: None,
                muted: false,
                extra,
            };
            steps.push(Step::Publish(track, source, opts));
        }
        Ok(steps)
    }
}

/// A participant of `getState()`: `{id, streams, canReceiveMessages: true, origin}`, its
/// streams (key → stream id) from `rows`.
#[inline(never)]
fn participant(id: &str, rows: &[StreamRow], origin: &str) -> JsValue {
    let streams = obj();
    for r in rows {
        if r.participant == id {
            set(&streams, &r.key, &JsValue::from_str(&r.id));
        }
    }
    jobj(
        &["canReceiveMessages", "id", "origin", "streams"],
        &[JsValue::TRUE, id.into(), origin.into(), streams],
    )
}

/// The row of `participant`'s stream `key` in `rows`, added when new.
#[inline(never)]
fn row<'a>(
    rows: &'a mut Vec<StreamRow>,
    participant: &str,
    key: String,
    local: bool,
) -> &'a mut StreamRow {
    let mut found = None;
    for (i, r) in rows.iter().enumerate() {
        if r.participant == participant && r.key == key {
            found = Some(i);
            break;
        }
    }
    let i = match found {
        Some(i) => i,
        None => {
            rows.push(StreamRow {
                id: super::error::concat(&[participant, "/", &key]),
                key,
                participant: participant.to_owned(),
                local,
                audio: None,
                video: None,
            });
            rows.len() - 1
        }
    };
    &mut rows[i]
}

impl StreamRow {
    /// Sets the audio or video track of the row (other kinds are ignored).
    #[inline(never)]
    fn put(&mut self, kind: TrackKind, key: &str, enabled: bool, censored: bool) {
        let v = Some((key.to_owned(), enabled, censored));
        match kind {
            TrackKind::Audio => self.audio = v,
            TrackKind::Video => self.video = v,
            _ => {}
        }
    }
}

#[wasm_bindgen]
impl Room {
    /// `new Room({clientToken, host, context})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Room, JsValue> {
        let token = common::get_str(&options, "clientToken");
        let (handle, listeners) =
            open(token, "clientToken", "is required", &options, false).map_err(|e| e.to_js())?;
        let inner = Rc::new(Inner {
            handle,
            listeners,
            sub: RefCell::new(None),
            context: get(&options, "context"),
            started: Cell::new(false),
            disconnecting: Cell::new(false),
            metrics_for: RefCell::new(None),
            expiry: RefCell::new(None),
        });
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        *inner.sub.borrow_mut() = Some(inner.handle.subscribe(move |ev| {
            if let Some(i) = weak.upgrade() {
                i.on_event(ev);
            }
        }));
        Ok(Room { inner })
    }

    /// The member of [`crate::api::wire::ROOM_API`] at index `i`, with its arguments (the public methods and
    /// getters are installed on the prototype as calls of this one); index 20 is the removal of
    /// a listener (the function `on` returns). `on` (1) returns its error, which the package's
    /// JS throws. Every method that returns a promise checks its arguments into the steps it
    /// runs, and all of them end in one `run_or`.
    pub fn _c(&self, i: u32, a: &JsValue, b: &JsValue, c: &JsValue) -> JsValue {
        let inner = &self.inner;
        let steps = match i {
            0 => return room_str(&inner.handle, false),
            1 => return listen(&inner.listeners, a, b),
            2 => {
                inner.started.set(true);
                Ok(one(Step::Cmd(Command::Join)))
            }
            3 => {
                inner.disconnecting.set(true);
                inner.expiry.borrow_mut().take();
                Ok(one(Step::Leave))
            }
            4 => a
                .as_string()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::invalid("clientToken", "must be a non-empty string"))
                .and_then(|t| token::inspect(&t).map(|_| t))
                .map(|token| one(Step::Cmd(Command::UpdateToken { token }))),
            5 => return inner.state_js(),
            6 => {
                let st = inner.state_js();
                return get(
                    &get(&st, "participants"),
                    &common::get_str(&st, "localParticipantId").unwrap_or_default(),
                );
            }
            7 => return self.streams(None),
            8 | 9 => inner.put_stream(a, b, i == 9),
            10 => self.remove_stream(a),
            11..=13 => self.subscription(i - 11, &[a, b, c][..if i == 13 { 2 } else { 3 }]),
            14 => return self.streams(Some(a.as_string().unwrap_or_default())),
            15 => return self.get_participant_stream(a, b),
            16 => return self.get_webrtc_stats_for_stream(a, b).into(),
            17 => common::args(&[a, b])
                .and_then(|a| wire::room_message(&a))
                .map(|r| one(rpc(r))),
            18 | 19 => self.metrics(a, i == 18).map(|_| Vec::new()),
            _ => {
                if let Some(ev) = a.as_string() {
                    inner.listeners.off(&ev, b);
                }
                return JsValue::UNDEFINED;
            }
        };
        let then = match i {
            2 | 4 => Then::Arm(inner.clone()),
            3 => Then::RoomLeft(inner.clone()),
            _ => Then::Undef,
        };
        run_or(&inner.handle, steps, then).into()
    }
}

impl Room {
    /// The steps that unpublish stream `key`.
    fn remove_stream(&self, key: &JsValue) -> Result<Vec<Step>, ApiError> {
        let key = key
            .as_string()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::invalid("key", "must be a non-empty string"))?;
        let prefix = cat(&key, ":");
        let mut steps = Vec::new();
        for c in self.inner.handle.local_cids() {
            if c.starts_with(&prefix) {
                steps.push(Step::Unpublish(c));
            }
        }
        if steps.is_empty() {
            return Err(ApiError::new(
                ovsp::codes::Code::TRACK_NOT_FOUND,
                quoted("no local stream ", &key, ""),
            ));
        }
        Ok(steps)
    }

    /// The step of `addSubscription`, `updateSubscription` or `removeSubscription` (`op` 0 to
    /// 2).
    fn subscription(&self, op: u32, a: &[&JsValue]) -> Result<Vec<Step>, ApiError> {
        {
            let args = common::args(a)?;
            let member = wire::arg_str(&args, 0, "participantId")?;
            wire::check_id(&member, "participantId")?;
            let key = wire::arg_str(&args, 1, "key")?;
            let target = |kinds: Option<Vec<MediaKind>>| SubTarget {
                track_id: None,
                member_id: Some(member.clone()),
                stream_key: Some(key.clone()),
                kinds,
            };
            let (mut add, mut remove) = (Vec::new(), Vec::new());
            if op == 2 {
                remove.push(target(None));
            } else {
                let [on, off] = wire::subscription_kinds(args.get(2))?;
                if op == 0 || !on.is_empty() {
                    add.push(target(Some(on)));
                }
                if op == 1 && !off.is_empty() {
                    remove.push(target(Some(off)));
                }
            }
            Ok(one(Step::Cmd(Command::UpdateSubscriptions {
                add,
                remove,
                settings: Vec::new(),
            })))
        }
    }

    /// The streams of participant `pid` as a `Map` by key, or without `pid` the local
    /// participant's as an object by key (`getLocalStreams`).
    #[inline(never)]
    fn streams(&self, pid: Option<String>) -> JsValue {
        let (_, _, rows) = self.inner.rows();
        let m: JsValue = if pid.is_some() {
            Map::new().into()
        } else {
            obj()
        };
        for r in &rows {
            if pid.as_ref().map_or(r.local, |p| *p == r.participant) {
                let s = self.inner.stream_js(r);
                if pid.is_some() {
                    let _ = common::invoke(&m, "set", &[&JsValue::from_str(&r.key), &s]);
                } else {
                    set(&m, &r.key, &s);
                }
            }
        }
        m
    }

    /// One stream of a participant.
    fn get_participant_stream(&self, participant_id: &JsValue, key: &JsValue) -> JsValue {
        let pid = participant_id.as_string().unwrap_or_default();
        common::invoke(&self.streams(Some(pid)), "get", &[key]).unwrap_or_default()
    }

    /// WebRTC statistics of a stream (inbound for remote streams, outbound for local ones).
    fn get_webrtc_stats_for_stream(&self, participant_id: &JsValue, key: &JsValue) -> Promise {
        let inner = self.inner.clone();
        let stream = self.get_participant_stream(participant_id, key);
        promise(async move {
            if stream.is_undefined() {
                return Err(ApiError::new(
                    ovsp::codes::Code::TRACK_NOT_FOUND,
                    "no such stream",
                ));
            }
            let local = get(&stream, "origin").as_string().as_deref() == Some("local");
            let st = inner.handle.stats().await;
            let (p, s) = (&st.publish, &st.subscribe);
            let o = |k: &str, v: JsValue| jobj(&[k], &[v]);
            let two = |a: &str, x: JsValue, b: &str, y: JsValue| jobj(&[a, b], &[x, y]);
            let v = if local {
                let out = o(
                    "outbound",
                    two(
                        "bytesSent",
                        p.bytes_sent.into(),
                        "roundTripTime",
                        p.rtt_s.into(),
                    ),
                );
                two("audio", out.clone(), "video", out)
            } else {
                two(
                    "audio",
                    o(
                        "inbound",
                        two(
                            "bytesReceived",
                            s.audio_bytes_received.into(),
                            "roundTripTime",
                            s.rtt_s.into(),
                        ),
                    ),
                    "video",
                    o(
                        "inbound",
                        two(
                            "bytesReceived",
                            s.video_bytes_received.into(),
                            "framesDecoded",
                            s.frames_decoded.into(),
                        ),
                    ),
                )
            };
            Ok(v)
        })
    }

    /// `enableNetworkMetricsReport` (`on`) / `disableNetworkMetricsReport`: starts or stops
    /// `network_metrics_report` events for these participants (stopping without a list stops
    /// them all).
    fn metrics(&self, ids: &JsValue, on: bool) -> Result<(), ApiError> {
        let ids = if !on && (ids.is_undefined() || ids.is_null()) {
            None
        } else {
            Some(
                common::args(&[ids])
                    .and_then(|a| wire::arg_str_list(&a, 0, "participantIds", false))?,
            )
        };
        let mut m = self.inner.metrics_for.borrow_mut();
        match ids {
            None => *m = None,
            Some(ids) if on => {
                let set = m.get_or_insert_with(VecSet::new);
                for id in ids {
                    set.insert(id);
                }
            }
            Some(ids) => {
                if let Some(set) = m.as_mut() {
                    for id in &ids {
                        set.remove(id);
                    }
                    if set.is_empty() {
                        *m = None;
                    }
                }
            }
        }
        Ok(())
    }
}
