//! `Call`: a call channel with named tracks and per-user send/receive permissions.
//!
//! Users are identities (the token's `sub`); tracks are published under their names (the
//! name is also the client track id).
//!
//! Every method that returns a promise checks its arguments at once and hands a list of
//! `Step`s with a `Then` to `run_steps`, the one asynchronous path of the class, which `Room`,
//! `RoomSession` and `connect()` use as well (the `RoomSession`'s device steps included). This
//! file also holds the small JS value builders the `Room` and `connect()` facades share
//! (`jobj`, `opt_str`, `kind_str`).

use crate::cell::RefCell;
use crate::prelude::*;
use alloc::rc::Rc;

use convene_core::catalogue::call_names;
use convene_core::{Command, ConnectionState, CoreEvent, PublishOptions};
use js_sys::{Array, Promise};
use ovsp::codes::Code;
use ovsp::json::Value;
use ovsp::model::TrackKind;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MediaStreamTrack;

use super::common::{self, get, obj, one, reject, set, Listeners};
use super::error::ApiError;
use super::{token, wire};
use crate::web::media::Source;
use crate::web::session::{SessionEvent, SessionHandle, Subscription};

/// A plain JS object with `keys[i] = vals[i]` (one shared body for every payload object).
#[inline(never)]
pub(super) fn jobj(keys: &[&str], vals: &[JsValue]) -> JsValue {
    let o = obj();
    for (k, v) in keys.iter().zip(vals) {
        set(&o, k, v);
    }
    o
}

/// A string, or `null`.
#[inline(never)]
pub(super) fn opt_str(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

/// `audio`, `video` or `data` (an unknown kind counts as data).
pub(super) fn kind_str(k: TrackKind) -> &'static str {
    match k {
        TrackKind::Audio => "audio",
        TrackKind::Video => "video",
        _ => "data",
    }
}

/// `"<a><b>"`, built without the formatting machinery.
#[inline(never)]
pub(super) fn cat(a: &str, b: &str) -> String {
    super::error::concat(&[a, b])
}

/// `"<a>\"<b>\"<c>"`: a message quoting `b`.
#[inline(never)]
pub(super) fn quoted(a: &str, b: &str, c: &str) -> String {
    super::error::concat(&[a, "\"", b, "\"", c])
}

/// The room's id (or, with `name`, its name); `""` before the room is joined.
#[inline(never)]
pub(super) fn room_str(h: &SessionHandle, name: bool) -> JsValue {
    h.with_machine(|m| {
        let r = m.state().room.as_ref();
        JsValue::from_str(r.map_or("", |r| if name { &r.name } else { &r.id }))
    })
}

/// The server's id of local track `cid`, once published.
#[inline(never)]
pub(super) fn local_sid(h: &SessionHandle, cid: &str) -> Option<String> {
    h.with_machine(|m| {
        m.state()
            .local_tracks
            .get(cid)
            .and_then(|t| t.track_id.clone())
    })
}

/// A facade's session for `token` (else `name` is invalid: `why`) with the `options` every
/// facade reads (`host`, `logLevel`, `iceServers`); `auto` subscribes to every track. The
/// session and the facade's listener registry.
#[inline(never)]
pub(super) fn open(
    token: Option<String>,
    name: &str,
    why: &str,
    options: &JsValue,
    auto: bool,
) -> Result<(SessionHandle, Listeners), ApiError> {
    let token = token.ok_or_else(|| ApiError::invalid(name, why))?;
    let opts = super::opts::read(options)?;
    let handle = common::session(&token, common::get_str(options, "host"), |c| {
        c.join.auto_subscribe = auto
    })?;
    let listeners = opts.apply(&handle);
    Ok((handle, listeners))
}

/// `on(event, f)` of a `Room` or `Call`: adds `f` as a listener of `event`. The error (an
/// `Error` object) or `undefined`: the package's JS throws the error, so the classes' `_c`
/// never throw.
#[inline(never)]
pub(super) fn listen(l: &Listeners, event: &JsValue, f: &JsValue) -> JsValue {
    match l.listen(0, event, f) {
        Ok(()) => JsValue::UNDEFINED,
        Err(e) => e.to_js(),
    }
}

/// The name a track is known by in a call: its name, else its client id, else its id.
fn track_name(t: &ovsp::model::Track) -> &str {
    t.name.as_deref().or(t.cid.as_deref()).unwrap_or(&t.id)
}

pub(super) struct Inner {
    handle: SessionHandle,
    listeners: Listeners,
    sub: RefCell<Option<Subscription>>,
    channel: RefCell<String>,
    token_room: Option<String>,
}

/// A call on a channel.
#[wasm_bindgen(skip_typescript)]
pub struct Call {
    inner: Rc<Inner>,
}

/// One operation of a facade method, run in order by [`run_steps`]: a session operation, or
/// one of the `RoomSession`'s operations over a current track (the track the last
/// `Acquire` or `Use` gave).
pub(super) enum Step {
    /// A command (its reply's result is the step's value).
    Cmd(Command),
    /// Publish a device track.
    Publish(MediaStreamTrack, Source, PublishOptions),
    /// Unpublish (and stop) a local track.
    Unpublish(String),
    /// Mute (`true`) or unmute a local track.
    Mute(String, bool),
    /// Send another device track in place of a local track.
    Replace(String, MediaStreamTrack),
    /// Leave the room and end the session.
    Leave,
    /// Acquire a device track (source, constraints): the current track.
    Acquire(Source, JsValue),
    /// Make a given track the current track.
    Use(MediaStreamTrack),
    /// Publish the current track as (client id, stream key).
    PublishAs(String, String),
    /// Send the current track as the default track `mic`/`cam`: in place of the one
    /// published, or published.
    Put(&'static str),
    /// Send the current track in place of a local track.
    Swap(&'static str),
    /// Stop a local track's device (`stop*WhileMuted`).
    Stop(&'static str),
    /// Route all remote audio to an output device (its outcome ignored).
    Speaker(String),
    /// Route the `RoomSession`'s attached remote audio elements to an output device.
    Sink(String),
    /// After a `RoomSession` join: publish the default tracks (with these `join` params) if
    /// a member (always the last step: the default steps replace the rest).
    Defaults(JsValue),
}

/// What a method resolves with, given the outcome of its steps (the last step's value): one
/// enum rather than a closure per method, so the ends of all methods share one body.
pub(super) enum Then {
    /// `undefined`.
    Undef,
    /// The call's `{channel, ok: true}`.
    CallOk(Rc<Inner>),
    /// A `Room` left: no longer disconnecting; `undefined`.
    RoomLeft(Rc<super::room::Inner>),
    /// A `Room` connected or given a new token: its expiry timer armed for the session's token
    /// (the new one, once its update succeeded); `undefined`.
    Arm(Rc<super::room::Inner>),
    /// A local track published in a `connect()` room: its publication object.
    Published(Rc<super::video::Inner>, Rc<super::video::LocalInner>),
    /// A `RoomSession` method: what its completion says.
    Rs(Rc<super::room_session::Rs>, super::room_session::Done),
}

impl Then {
    /// The method's result for the outcome `r` of its steps.
    #[inline(never)]
    fn finish(self, r: Result<Value, ApiError>) -> common::JsResult {
        if let Then::RoomLeft(room) = &self {
            room.disconnecting.set(false);
        }
        match self {
            Then::Published(room, local) => room.published(local, r),
            Then::Rs(rs, done) => rs.finish(done, r),
            then => {
                r?;
                Ok(match then {
                    Then::CallOk(inner) => inner.ok(),
                    Then::Arm(room) => {
                        room.arm_expiry();
                        JsValue::UNDEFINED
                    }
                    _ => JsValue::UNDEFINED,
                })
            }
        }
    }
}

/// The promise of running `steps` in order (stopping at the first error), then `then`: the
/// one asynchronous path of the `Call`, `Room` and `connect()` methods.
#[inline(never)]
pub(super) fn run(h: &SessionHandle, steps: Vec<Step>, then: Then) -> Promise {
    common::promise_of(run_steps(h.clone(), steps, then))
}

/// [`run`] with the arguments' error, if any.
#[inline(never)]
pub(super) fn run_or(h: &SessionHandle, steps: Result<Vec<Step>, ApiError>, then: Then) -> Promise {
    match steps {
        Ok(s) => run(h, s, then),
        Err(e) => reject(e),
    }
}

/// The future of [`run`], boxed: its state machine exists once, however many methods await
/// it (every facade's asynchronous methods run here).
#[inline(never)]
pub(super) fn run_steps(
    h: SessionHandle,
    steps: Vec<Step>,
    then: Then,
) -> common::Op<'static, JsValue> {
    Box::pin(async move {
        let mut steps = steps.into_iter();
        let mut track: Option<MediaStreamTrack> = None;
        let mut r = Ok(Value::Null);
        while let Some(s) = steps.next() {
            let reply = match s {
                Step::Acquire(source, c) => match common::acquire(source, &c).await {
                    Ok(t) => {
                        if let Then::Rs(_, super::room_session::Done::Device(.., Some(s))) = &then {
                            s.add_track(&t);
                        }
                        track = Some(t);
                        continue;
                    }
                    Err(e) => {
                        r = Err(e);
                        break;
                    }
                },
                Step::Use(t) => {
                    track = Some(t);
                    continue;
                }
                Step::Speaker(id) => {
                    let _ = h.set_speaker(&id).await;
                    continue;
                }
                Step::Sink(id) => {
                    let Then::Rs(rs, _) = &then else { continue };
                    let p = match rs.sink(&id) {
                        Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
                            .await
                            .map_err(crate::web::error::WebError::from),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = p {
                        r = Err(ApiError::new(Code::TRACK_INVALID, e.text()));
                        break;
                    }
                    continue;
                }
                Step::Stop(cid) => {
                    // track.stop() fires no `ended` event, so no device fallback starts.
                    if let Some(t) = h.local_track(cid) {
                        t.stop();
                    }
                    continue;
                }
                Step::Defaults(params) => {
                    // The last step of a join: the default steps follow it.
                    if let Then::Rs(rs, _) = &then {
                        if let Some(more) = rs.defaults(&params) {
                            steps = more.into_iter();
                        }
                    }
                    continue;
                }
                Step::PublishAs(cid, key) => {
                    let Some(t) = track.take() else { continue };
                    super::room_session::publish(&h, &cid, t, &key)
                }
                Step::Put(cid) => {
                    let Some(t) = track.take() else { continue };
                    if h.local_track(cid).is_some() {
                        h.replace_track(cid, t)
                    } else {
                        super::room_session::publish(&h, cid, t, "main")
                    }
                }
                Step::Swap(cid) => {
                    let Some(t) = track.take() else { continue };
                    h.replace_track(cid, t)
                }
                s => start(&h, s),
            };
            r = reply.await.map_err(ApiError::from);
            if r.is_err() {
                break;
            }
        }
        then.finish(r)
    })
}

/// Runs `s` in the background (submitted at once); a failure is logged as a warning with
/// `warn`, when given. The one background path of the facades.
#[inline(never)]
pub(super) fn fire(h: &SessionHandle, s: Step, warn: Option<&'static str>) {
    let reply = start(h, s);
    let h = h.clone();
    common::spawn(async move {
        if let (Err(e), Some(w)) = (reply.await, warn) {
            let e = ApiError::from(e);
            h.log(crate::web::log::Level::Warn, w, &e.message.as_str().into());
        }
    });
}

/// Submits the command of `s`; its reply.
#[inline(never)]
pub(super) fn start(h: &SessionHandle, s: Step) -> crate::web::session::Reply {
    match s {
        Step::Cmd(c) => h.call(c),
        Step::Publish(t, source, opts) => h.publish(t, source, opts),
        Step::Unpublish(cid) => h.unpublish(&cid),
        Step::Mute(cid, m) => h.mute_track(&cid, m),
        Step::Replace(cid, t) => h.replace_track(&cid, t),
        // `Leave` (the `RoomSession`'s own steps run in [`run_steps`] only, never here).
        _ => h.leave(),
    }
}

/// Appends the publish steps of the `tracks` argument (`{name: MediaStreamTrack}`, or
/// nothing), checked; a track is published under its name.
#[inline(never)]
fn publish_steps(steps: &mut Vec<Step>, tracks: &JsValue) -> Result<(), ApiError> {
    if tracks.is_undefined() || tracks.is_null() {
        return Ok(());
    }
    let names: Array = common::invoke(&get(&js_sys::global(), "Reflect"), "ownKeys", &[tracks])
        .map_err(|_| ApiError::invalid("tracks", "must be an object of name → MediaStreamTrack"))?
        .unchecked_into();
    for n in names.iter() {
        let name = n.as_string().unwrap_or_default();
        let t = common::track_arg(&get(tracks, &name), &cat("tracks.", &name))?;
        let (source, ms, kind) = common::media_kind(t.kind() == "audio");
        let opts = PublishOptions {
            cid: name.clone(),
            kind,
            source: ms,
            stream_key: Some(name.clone()),
            name: Some(name),
            muted: false,
            extra: Default::default(),
        };
        steps.push(Step::Publish(t, source, opts));
    }
    Ok(())
}

/// The steps unpublishing (`mute` absent) or muting or unmuting the local tracks `cids`.
#[inline(never)]
fn track_steps(cids: Vec<String>, mute: Option<bool>) -> Vec<Step> {
    let mut out = Vec::with_capacity(cids.len());
    for c in cids {
        out.push(match mute {
            Some(m) => Step::Mute(c, m),
            None => Step::Unpublish(c),
        });
    }
    out
}

/// The step of a plain request.
pub(super) fn rpc(req: wire::Req) -> Step {
    Step::Cmd(Command::Rpc {
        method: req.method.to_owned(),
        params: req.params,
    })
}

/// A non-empty channel id.
fn channel_arg(v: &JsValue) -> Result<String, ApiError> {
    v.as_string()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::invalid("channelId", "must be a non-empty string"))
}

/// A list of track names (or one name).
fn names_arg(v: &JsValue, name: &str) -> Result<Vec<String>, ApiError> {
    common::args(&[v]).and_then(|a| wire::arg_str_list(&a, 0, name, true))
}

impl Inner {
    fn identity_of(&self, member_id: &str) -> String {
        self.handle.with_machine(|m| {
            let s = m.state();
            let m = s.members.get(member_id).or(s
                .self_member
                .as_ref()
                .map(|m| &m.member)
                .filter(|m| m.id == member_id));
            m.map_or(member_id, |m| &m.identity).to_owned()
        })
    }

    fn status(&self) -> &'static str {
        self.handle.with_machine(|m| match m.state().connection {
            ConnectionState::Connected => "connected",
            ConnectionState::Connecting => "connecting",
            ConnectionState::Reconnecting { .. } => "checking",
            _ => "disconnected",
        })
    }

    fn track_event(&self, t: &ovsp::model::Track, local: bool) -> JsValue {
        let o = jobj(
            &["userId", "trackName", "kind", "muted"],
            &[
                self.identity_of(&t.member_id).into(),
                track_name(t).into(),
                kind_str(t.kind).into(),
                (t.muted || t.blocked).into(),
            ],
        );
        let track = if local {
            t.cid.as_deref().and_then(|c| self.handle.local_track(c))
        } else {
            self.handle.remote_track(&t.id)
        };
        if let Some(track) = track {
            set(&o, "track", &track);
        }
        o
    }

    fn payload(&self, ev: &CoreEvent) -> JsValue {
        let ch = || JsValue::from_str(&self.channel.borrow());
        match ev {
            CoreEvent::MemberJoined { member } => {
                jobj(&["userId"], &[member.identity.as_str().into()])
            }
            CoreEvent::MemberLeft { member, reason, .. } => jobj(
                &["userId", "reason"],
                &[member.identity.as_str().into(), reason.as_str().into()],
            ),
            CoreEvent::AclUpdated { identities, .. } => jobj(
                &["userId", "users"],
                &[
                    identities.first().map_or("", |s| s).into(),
                    common::to_js(identities),
                ],
            ),
            CoreEvent::TrackPublished { track, local }
            | CoreEvent::TrackUpdated { track, local, .. } => self.track_event(track, *local),
            CoreEvent::TrackUnpublished {
                track,
                reason,
                local,
            } => {
                let o = self.track_event(track, *local);
                set(&o, "reason", &reason.as_str().into());
                o
            }
            CoreEvent::RoomUpdated { room, .. } => {
                let config = jobj(
                    &[
                        "defaultLayout",
                        "hideVideoMuted",
                        "maxUsers",
                        "prioritizeHandraise",
                    ],
                    &[
                        opt_str(room.layout_name.as_deref()),
                        room.hide_video_muted.into(),
                        room.max_members.map_or(JsValue::NULL, JsValue::from),
                        room.prioritize_handraise.into(),
                    ],
                );
                jobj(&["channel", "config"], &[ch(), config])
            }
            CoreEvent::SessionClosing { error, .. } => jobj(
                &["channel", "reason"],
                &[
                    ch(),
                    opt_str(error.as_ref().map(|e| e.message()).as_deref()),
                ],
            ),
            _ => JsValue::UNDEFINED,
        }
    }

    fn on_event(&self, ev: &SessionEvent) {
        let SessionEvent::Core(ce) = ev else { return };
        if let CoreEvent::ConnectionStateChanged { state } = ce {
            let o = jobj(&["status"], &[self.status().into()]);
            if let ConnectionState::Disconnected { error: Some(e) } = state {
                set(&o, "error", &ApiError::from(e).to_js());
            }
            self.listeners.emit("status", &[o]);
        }
        for name in call_names(ce) {
            if self.listeners.has(name) {
                self.listeners.emit(name, &[self.payload(ce)]);
            }
        }
    }

    fn ok(&self) -> JsValue {
        jobj(
            &["channel", "ok"],
            &[JsValue::from_str(&self.channel.borrow()), JsValue::TRUE],
        )
    }
}

#[wasm_bindgen]
impl Call {
    /// `new Call({token, host})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Call, JsValue> {
        let c = Self::build(&options).map_err(|e| e.to_js())?;
        Ok(c)
    }

    /// The member of [`crate::api::wire::CALL_API`] at index `i`, with its arguments (the public methods and
    /// getters are installed on the prototype as calls of this one). `on` (14) returns its
    /// error, which the package's JS throws. Every method that returns a promise checks its
    /// arguments into the steps it runs, and all of them end in one `run_or`.
    pub fn _c(&self, i: u32, a: &JsValue, b: &JsValue, c: &JsValue, d: &JsValue) -> JsValue {
        let inner = &self.inner;
        let steps = match i {
            0 => return JsValue::from_str(&inner.channel.borrow()),
            1 => return JsValue::from_str(inner.status()),
            // `create` (with its `config`) and `join`.
            2 | 3 => self.join_with(a, b, (i == 2).then_some(c)),
            4 => req_steps(end_req(a)),
            5 => {
                let mut steps = Vec::new();
                publish_steps(&mut steps, a).map(|_| steps)
            }
            6 => names_arg(a, "name").map(|n| track_steps(n, None)),
            7 => names_arg(a, "trackName").and_then(|n| {
                let muted = b
                    .as_bool()
                    .ok_or_else(|| ApiError::invalid("newState", "must be a boolean"))?;
                Ok(track_steps(n, Some(muted)))
            }),
            // `addUsers`, `delUsers`, `modUsers` (`op` 0 to 2) and `configure` (4).
            8..=10 | 12 => req_steps(common::args(&[a]).and_then(|a| wire::call_users(i - 8, &a))),
            11 => req_steps(self.mute_user_req(&[a, b, c, d])),
            13 => return self.get_users().into(),
            14 => return listen(&inner.listeners, a, b),
            _ => Ok(one(Step::Leave)),
        };
        let then = match i {
            2..=4 | 8..=10 | 12 => Then::CallOk(inner.clone()),
            _ => Then::Undef,
        };
        run_or(&inner.handle, steps, then).into()
    }
}

/// The step of a checked request.
#[inline(never)]
fn req_steps(req: Result<wire::Req, ApiError>) -> Result<Vec<Step>, ApiError> {
    req.map(|r| one(rpc(r)))
}

/// The request of `delete(reason)`: ends the call for everyone (owner only).
fn end_req(reason: &JsValue) -> Result<wire::Req, ApiError> {
    let mut m = ovsp::json::Map::new();
    if let Some(r) = reason.as_string() {
        wire::put(&mut m, "reason", Value::String(r));
    } else if !reason.is_undefined() && !reason.is_null() {
        return Err(ApiError::invalid("reason", "must be a string"));
    }
    Ok(wire::Req {
        method: "room.end",
        params: Value::Object(m),
    })
}

impl Call {
    /// The active users with their tracks and muted states.
    fn get_users(&self) -> Promise {
        let out = Array::new();
        self.inner.handle.with_machine(|m| {
            let s = m.state();
            let add = |m: &ovsp::model::Member, tracks: &[&ovsp::model::Track]| {
                let ts = obj();
                for t in tracks {
                    let v = jobj(
                        &["kind", "muted"],
                        &[kind_str(t.kind).into(), (t.muted || t.blocked).into()],
                    );
                    set(&ts, track_name(t), &v);
                }
                out.push(&jobj(
                    &["audioMuted", "id", "tracks", "videoMuted"],
                    &[
                        m.audio_muted.into(),
                        m.identity.as_str().into(),
                        ts,
                        m.video_muted.into(),
                    ],
                ));
            };
            if let Some(me) = &s.self_member {
                let mut mine = Vec::new();
                for t in s.local_tracks.values() {
                    if let Some((t, _)) = t.track_id.as_deref().and_then(|id| s.track(id)) {
                        mine.push(t);
                    }
                }
                add(&me.member, &mine);
            }
            for m in s.members.values() {
                let mut theirs = Vec::new();
                for t in &m.tracks {
                    theirs.push(t);
                }
                add(m, &theirs);
            }
        });
        Promise::resolve(&JsValue::from(out))
    }

    fn build(options: &JsValue) -> Result<Call, ApiError> {
        let tok = common::get_str(options, "token");
        let token_room = match &tok {
            Some(t) => token::inspect(t)?.room,
            None => None,
        };
        let (handle, listeners) = open(tok, "token", "is required", options, true)?;
        let inner = Rc::new(Inner {
            handle,
            listeners,
            sub: RefCell::new(None),
            channel: RefCell::new(String::new()),
            token_room,
        });
        let weak = Rc::downgrade(&inner);
        *inner.sub.borrow_mut() = Some(inner.handle.subscribe(move |ev| {
            if let Some(i) = weak.upgrade() {
                i.on_event(ev);
            }
        }));
        Ok(Call { inner })
    }

    /// `create`/`join`: the token must grant the channel; then join, configure (`config`) and
    /// publish `tracks`.
    fn join_with(
        &self,
        channel_id: &JsValue,
        tracks: &JsValue,
        config: Option<&JsValue>,
    ) -> Result<Vec<Step>, ApiError> {
        {
            let channel = channel_arg(channel_id)?;
            let mut steps = one(Step::Cmd(Command::Join));
            if let Some(config) = config.filter(|c| !c.is_undefined() && !c.is_null()) {
                steps.push(rpc(wire::call_configure(&common::args(&[config])?)?));
            }
            publish_steps(&mut steps, tracks)?;
            if let Some(room) = self.inner.token_room.as_deref().filter(|r| **r != *channel) {
                let mut m = quoted("the token grants channel ", room, ", not ");
                m.push_str(&quoted("", &channel, ""));
                return Err(ApiError::new(Code::TOKEN_GRANTS_INVALID, m));
            }
            *self.inner.channel.borrow_mut() = channel;
            Ok(steps)
        }
    }

    fn mute_user_req(&self, a: &[&JsValue]) -> Result<wire::Req, ApiError> {
        let args = common::args(a)?;
        let user = wire::arg_str(&args, 0, "userId")?;
        let member = self.inner.handle.with_machine(|m| {
            let s = m.state();
            s.members
                .values()
                .chain(s.self_member.as_ref().map(|m| &m.member))
                .find(|m| m.identity == user)
                .map(|m| m.id.clone())
        });
        let member = member.ok_or_else(|| {
            ApiError::new(
                Code::MEMBER_NOT_FOUND,
                quoted("user ", &user, " is not in the call"),
            )
        })?;
        wire::call_mute_user(&member, &args)
    }
}
