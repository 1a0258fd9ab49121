//! `connect(token, options)`: a room of participants, track publications and tracks, with the
//! events of each object, plus local media and data tracks (`createLocalTracks`,
//! `createLocalDataTrack`, `new LocalDataTrack`).
//!
//! A data track is a real OVSP data track (`track.publish {kind: "data"}`): `send` puts a data
//! frame on the publishing connection's `ovsp-reliable` channel (ordered without limits) or
//! `ovsp-lossy` channel, and the server forwards it to the track's subscribers. So that a string
//! arrives as a string and binary data as an `ArrayBuffer`, the SDK starts each payload with a
//! tag byte ([`wire::DATA_TEXT`] or [`wire::DATA_BINARY`]); a payload with another first byte
//! (a different sender) is delivered whole as an `ArrayBuffer`.
//!
//! The participant, publication and remote-track objects are plain JS objects; their methods
//! (`on`, `attach`, `publishTrack`, …) are one closure owned by the room, bound per object and
//! method with `Function.prototype.bind`, so no closure outlives the room.

use crate::cell::RefCell;
use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use convene_core::map::VecSet;
use core::cell::Cell;

use convene_core::catalogue::{twilio_names, TwilioObject as T};
use convene_core::{Command, ConnectionState, CoreEvent, PublishOptions};
use core::sync::atomic::{AtomicU32, Ordering};
use js_sys::{Array, Function, Map, Promise};
use ovsp::json::Value;
use ovsp::model::{MediaSource, MemberState, Track, TrackKind};
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlMediaElement, MediaStreamTrack};

use super::call::{fire, jobj, kind_str, local_sid, open, room_str, run, run_steps, Step, Then};
use super::common::{self, get, invoke, reject, set, Listeners};
use super::error::ApiError;
use super::wire::{self, DataTrackOptions};
use crate::web::element;
use crate::web::media::Source;
use crate::web::session::{SessionEvent, SessionHandle, Subscription};

/// The number of the last local track made (its id is `local-<kind>-<n>`).
static NEXT_LOCAL: AtomicU32 = AtomicU32::new(0);

/// The initial properties of a participant object (its track maps are set by `new_obj`).
#[inline(never)]
fn participant_props(sid: &str, identity: &str) -> JsValue {
    jobj(
        &["identity", "networkQualityLevel", "sid", "state"],
        &[
            identity.into(),
            JsValue::NULL,
            sid.into(),
            "connected".into(),
        ],
    )
}

/// The methods of the room's plain objects, by the index their bound function passes.
const OPS: [&str; 9] = [
    "on",
    "once",
    "off",
    "removeAllListeners",
    "attach",
    "detach",
    "publishTrack",
    "unpublishTrack",
    "unpublish",
];

/// The `new_obj` bits of the listener methods (ops 0 to 3), which every object has.
const LISTEN: u16 = 0b1111;
/// The `new_obj` bit of the participants' track maps.
const WITH_MAPS: u16 = 1 << 15;

/// The object id of the local participant (the room's first object).
const LOCAL: u32 = 1;

/// The track maps of a participant.
const MAPS: [&str; 4] = ["tracks", "audioTracks", "videoTracks", "dataTracks"];

// =============================================================================================
// Local tracks
// =============================================================================================

pub(super) struct LocalInner {
    id: String,
    name: String,
    kind: &'static str,
    track: RefCell<Option<MediaStreamTrack>>,
    listeners: Listeners,
    stopped: Cell<bool>,
    elements: RefCell<Vec<HtmlMediaElement>>,
    /// The room that publishes this track.
    room: RefCell<Weak<Inner>>,
    /// Delivery options (data tracks).
    data: DataTrackOptions,
    /// `trackPublished` was emitted on the local participant for the current publication.
    announced: Cell<bool>,
}

impl LocalInner {
    fn new(
        name: Option<String>,
        kind: &'static str,
        track: Option<MediaStreamTrack>,
        data: DataTrackOptions,
    ) -> Rc<LocalInner> {
        let n = NEXT_LOCAL.fetch_add(1, Ordering::Relaxed) + 1;
        let mut id = super::error::concat(&["local-", kind, "-"]);
        ovsp::json::push_u64(&mut id, n.into());
        Rc::new(LocalInner {
            name: name.unwrap_or_else(|| id.clone()),
            id,
            kind,
            track: RefCell::new(track),
            listeners: Listeners::default(),
            stopped: Cell::new(false),
            elements: RefCell::new(Vec::new()),
            room: RefCell::new(Weak::new()),
            data,
            announced: Cell::new(false),
        })
    }

    /// The track of a `LocalTrack` object. Its `_share()` (a method of LocalTrack's prototype
    /// only) hands out a second JS handle on the same track, whose Rust side is taken back
    /// here; the caller's handle stays as it was.
    fn find(v: &JsValue) -> Option<Rc<LocalInner>> {
        let second = common::invoke(v, "_share", &[]).ok()?;
        LocalTrack::try_from_js_value(second).ok().map(|t| t.inner)
    }

    fn set_enabled(self: &Rc<Self>, on: bool) {
        if let Some(t) = self.track.borrow().as_ref() {
            if enabled(t) == on {
                return;
            }
            set(t, "enabled", &on.into());
        }
        let js = wrap_local(self.clone());
        self.listeners
            .emit(if on { "enabled" } else { "disabled" }, &[js]);
        if let Some(room) = self.room.borrow().upgrade() {
            fire(&room.handle, Step::Mute(self.id.clone(), !on), None);
        }
    }
}

/// A local audio, video or data track.
#[wasm_bindgen(skip_typescript)]
pub struct LocalTrack {
    inner: Rc<LocalInner>,
}

impl LocalTrack {
    /// The server id once published.
    fn sid(&self) -> JsValue {
        let Some(room) = self.inner.room.borrow().upgrade() else {
            return JsValue::NULL;
        };
        local_sid(&room.handle, &self.inner.id).map_or(JsValue::NULL, JsValue::from)
    }
    /// The browser track.
    fn media_stream_track(&self) -> Option<MediaStreamTrack> {
        self.inner.track.borrow().clone()
    }
    /// Whether the track is enabled.
    fn is_enabled(&self) -> bool {
        self.inner.track.borrow().as_ref().is_none_or(enabled)
    }
    /// Data tracks: the retransmission time limit in ms (`time`) or count limit, or `null`.
    fn limit(&self, time: bool) -> JsValue {
        let d = &self.inner.data;
        let n = if time {
            d.max_packet_life_time
        } else {
            d.max_retransmits
        };
        n.map_or(JsValue::NULL, JsValue::from)
    }
    /// Stops the track.
    fn stop(&self) {
        if let Some(t) = self.inner.track.borrow().as_ref() {
            t.stop();
        }
        if !self.inner.stopped.replace(true) {
            self.inner
                .listeners
                .emit("stopped", &[wrap_local(self.inner.clone())]);
        }
    }
    /// Re-acquires the device with new constraints and sends the new track.
    fn restart(&self, constraints: &JsValue) -> Promise {
        common::promise_of(task(Job::Restart(self.inner.clone()), constraints.clone()))
    }
    /// Shows the track in `element` (or a new `<audio>`/`<video>` element), returned.
    fn attach(&self, element: &JsValue) -> Result<HtmlMediaElement, JsValue> {
        let track =
            self.inner.track.borrow().clone().ok_or_else(|| {
                ApiError::invalid("track", "a data track cannot be attached").to_js()
            })?;
        let el = media_element(element, self.inner.kind)?;
        show(&el, &track);
        el.set_autoplay(true);
        set(&el, "muted", &JsValue::TRUE);
        let _ = element::play_promise(&el);
        self.inner.elements.borrow_mut().push(el.clone());
        Ok(el)
    }
    /// Detaches the track from `element` (or from every element); returns the elements.
    fn detach(&self, element: &JsValue) -> Array {
        let target = media_element_opt(element);
        let out = Array::new();
        self.inner.elements.borrow_mut().retain(|e| {
            let gone = target.as_ref().is_none_or(|t| t == e);
            if gone {
                set(e, "srcObject", &JsValue::NULL);
                out.push(e);
            }
            !gone
        });
        out
    }
    /// Data tracks: sends a message (a string, `ArrayBuffer` or `ArrayBufferView` of at most
    /// 65535 bytes) to every subscriber of the track, over the data channel.
    fn send(&self, data: &JsValue) -> Result<(), ApiError> {
        let room = self
            .inner
            .room
            .borrow()
            .upgrade()
            .filter(|_| self.inner.kind == "data")
            .ok_or_else(|| {
                ApiError::new(
                    ovsp::codes::Code::TRACK_INVALID,
                    "the data track is not published in a connected room",
                )
            })?;
        let text = data.as_string();
        let bytes = if let Some(s) = text.as_ref() {
            s.as_bytes().to_vec()
        } else {
            // An `ArrayBuffer` whole, or the bytes an `ArrayBufferView` sees of its buffer.
            let view = js_sys::ArrayBuffer::is_view(data);
            if !view && !data.is_instance_of::<js_sys::ArrayBuffer>() {
                return Err(ApiError::invalid(
                    "data",
                    "must be a string, ArrayBuffer or ArrayBufferView",
                ));
            }
            let n = |k| get(data, k).as_f64().unwrap_or(0.0) as u32;
            let buffer = if view {
                get(data, "buffer")
            } else {
                data.clone()
            };
            let bytes = js_sys::Uint8Array::new_with_byte_offset_and_length(
                &buffer,
                n("byteOffset"),
                n("byteLength"),
            );
            bytes.to_vec()
        };
        let payload = wire::encode_data_message(text.is_some(), &bytes);
        if payload.len() > wire::MAX_DATA_MESSAGE + 1 {
            return Err(ApiError::invalid("data", "must be at most 65535 bytes"));
        }
        let cmd = Command::SendData {
            cid: self.inner.id.clone(),
            payload,
            to: None,
        };
        fire(
            &room.handle,
            Step::Cmd(cmd),
            Some("convene: data track message not sent"),
        );
        Ok(())
    }
}

/// A local track as a JS object.
fn wrap_local(inner: Rc<LocalInner>) -> JsValue {
    LocalTrack { inner }.into()
}

#[wasm_bindgen]
impl LocalTrack {
    /// The member of [`crate::api::wire::LOCAL_TRACK_API`] at index `i`, with its arguments (the public methods
    /// and getters are installed on the prototype as calls of this one).
    /// An error is returned, not thrown (the package's JS throws what is an `Error`, and the
    /// string an attach without a document throws).
    pub fn _c(&self, i: u32, a: &JsValue, b: &JsValue) -> JsValue {
        self.call(i, a, b).unwrap_or_else(|e| e)
    }
}

impl LocalTrack {
    /// The body of [`LocalTrack::_c`].
    fn call(&self, i: u32, a: &JsValue, b: &JsValue) -> Result<JsValue, JsValue> {
        let v = |b: bool| JsValue::from(b);
        Ok(match i {
            // The id, the name, the kind (`audio`, `video` or `data`).
            0..=2 => {
                let l = &self.inner;
                JsValue::from_str([&*l.id, &*l.name, l.kind][i as usize])
            }
            3 => self.sid(),
            4 => self
                .media_stream_track()
                .map_or(JsValue::UNDEFINED, JsValue::from),
            5 => v(self.is_enabled()),
            6 => v(!self.inner.stopped.get()),
            7 => v(self.inner.stopped.get()),
            // 8, `dimensions`, is read by the package's JS from the track's settings.
            9 => v(self.inner.data.ordered),
            10 => v(self.inner.data.reliable()),
            11 | 12 => self.limit(i == 11),
            // `enable(enabled = true)`, `disable()`.
            13 | 14 => {
                self.inner
                    .set_enabled(i == 13 && a.as_bool() != Some(false));
                JsValue::UNDEFINED
            }
            15 => {
                self.stop();
                JsValue::UNDEFINED
            }
            16 => self.restart(a).into(),
            17 => self.attach(a)?.into(),
            18 => self.detach(a).into(),
            19 => {
                self.send(a).map_err(|e| e.to_js())?;
                JsValue::UNDEFINED
            }
            // Past the public names: `_share()`, a second handle on this track (see
            // `LocalInner::find`).
            24 => wrap_local(self.inner.clone()),
            _ => {
                self.inner
                    .listeners
                    .listen(i.wrapping_sub(20), a, b)
                    .map_err(|e| e.to_js())?;
                JsValue::UNDEFINED
            }
        })
    }
}

/// Plays `t` in `el`.
#[inline(never)]
fn show(el: &HtmlMediaElement, t: &MediaStreamTrack) {
    if let Ok(s) = element::stream_of(t) {
        set(el, "srcObject", &s);
    }
}

/// Whether track `t` is enabled (its `enabled`, read by name like its other members).
fn enabled(t: &MediaStreamTrack) -> bool {
    get(t, "enabled") == JsValue::TRUE
}

/// The page's document (`undefined` without one).
fn document() -> JsValue {
    get(&js_sys::global(), "document")
}

fn media_element_opt(v: &JsValue) -> Option<HtmlMediaElement> {
    let el = match v.as_string() {
        Some(sel) => invoke(&document(), "querySelector", &[&sel.into()]).ok()?,
        None => v.clone(),
    };
    common::is_a(&el, "HTMLMediaElement").then(|| el.unchecked_into())
}

fn media_element(v: &JsValue, kind: &str) -> Result<HtmlMediaElement, JsValue> {
    if !v.is_undefined() && !v.is_null() {
        return media_element_opt(v).ok_or_else(|| {
            ApiError::invalid("element", "must be a media element or a selector").to_js()
        });
    }
    let doc = document();
    if !doc.is_object() {
        return Err(JsValue::from_str("no document"));
    }
    Ok(element::create(&doc, if kind == "audio" { "audio" } else { "video" })?.unchecked_into())
}

/// Creates a local data track (`{name, ordered, maxPacketLifeTime, maxRetransmits}`, as
/// Twilio's `LocalDataTrack`); bad options throw a typed error. The package also exports it as
/// `LocalDataTrack` (pkg-template/append/convene.js): a plain function, so
/// `new LocalDataTrack(options)` returns the track it builds.
#[wasm_bindgen(js_name = createLocalDataTrack, skip_typescript)]
pub fn create_local_data_track(options: JsValue) -> Result<JsValue, JsValue> {
    let o = common::from_js(&options, "options")
        .and_then(|v| wire::data_track_options(&v))
        .map_err(|e| e.to_js())?;
    Ok(wrap_local(LocalInner::new(o.name.clone(), "data", None, o)))
}

/// Acquires local audio and video tracks.
#[wasm_bindgen(js_name = createLocalTracks, skip_typescript)]
pub fn create_local_tracks(options: JsValue) -> Promise {
    common::promise_of(task(Job::Tracks, options))
}

/// What [`task`] does.
enum Job {
    /// Joins the room, then publishes `options.tracks` (or the local tracks of `options`);
    /// resolves with the room.
    Connect(Rc<Inner>),
    /// The local tracks of `options.audio` and `options.video`: an `Array`.
    Tracks,
    /// Re-acquires the track's device with the constraints `options` and sends the new track
    /// in place of the old one.
    Restart(Rc<LocalInner>),
}

/// The one asynchronous body of this module's promises (one state machine for all of them).
fn task(job: Job, options: JsValue) -> common::Op<'static, JsValue> {
    Box::pin(async move {
        let out = Array::new();
        // `connect()` joins first; then come the tracks (acquired unless `options.tracks`),
        // each published (`connect()`) or sent in place of the old one (a restart; when the
        // track is not published, the old one is stopped).
        let mut joined = !matches!(job, Job::Connect(_));
        let mut tracks: Option<Array> = None;
        let mut i = 0;
        loop {
            if joined && tracks.is_none() {
                // Only `connect()` reads `options.tracks`.
                let given = match &job {
                    Job::Connect(_) => get(&options, "tracks"),
                    _ => JsValue::UNDEFINED,
                };
                if Array::is_array(&given) {
                    tracks = Some(given.unchecked_into());
                } else {
                    for (k, source) in [("audio", Source::Microphone), ("video", Source::Camera)] {
                        let c = match &job {
                            // A restart asks for the track's own device (a camera unless
                            // audio).
                            Job::Restart(l) if (l.kind == "audio") == (k == "audio") => {
                                options.clone()
                            }
                            Job::Restart(_) => continue,
                            _ => {
                                let c = get(&options, k);
                                if c == JsValue::FALSE {
                                    continue;
                                }
                                if c.is_undefined() || c.is_null() {
                                    JsValue::TRUE
                                } else {
                                    c
                                }
                            }
                        };
                        let t = common::acquire(source, &c).await?;
                        out.push(&match &job {
                            Job::Restart(_) => t.into(),
                            _ => wrap_local(LocalInner::new(
                                None,
                                k,
                                Some(t),
                                DataTrackOptions::default(),
                            )),
                        });
                    }
                    tracks = Some(out.clone());
                }
            }
            let (room, steps, then) = match &job {
                Job::Connect(room) if !joined => {
                    joined = true;
                    (
                        room.clone(),
                        common::one(Step::Cmd(Command::Join)),
                        Then::Undef,
                    )
                }
                _ => {
                    let Some(t) = tracks
                        .as_ref()
                        .filter(|ts| i < ts.length())
                        .map(|ts| ts.get(i))
                    else {
                        break;
                    };
                    i += 1;
                    match &job {
                        Job::Connect(room) => {
                            let (steps, then) = room.publish_plan(&t, &JsValue::UNDEFINED)?;
                            (room.clone(), steps, then)
                        }
                        Job::Restart(l) => {
                            let room = l.room.borrow().upgrade();
                            let Some(room) = room else {
                                if let Some(old) = l.track.borrow().as_ref() {
                                    old.stop();
                                }
                                continue;
                            };
                            let step = Step::Replace(l.id.clone(), t.unchecked_into());
                            (room, common::one(step), Then::Undef)
                        }
                        _ => break,
                    }
                }
            };
            run_steps(room.handle.clone(), steps, then).await?;
        }
        let tracks = tracks.unwrap_or(out);
        match &job {
            Job::Connect(room) => Ok(room.room_obj()),
            Job::Restart(l) => {
                let t: MediaStreamTrack = tracks.get(0).unchecked_into();
                for el in l.elements.borrow().iter() {
                    show(el, &t);
                }
                *l.track.borrow_mut() = Some(t);
                Ok(JsValue::UNDEFINED)
            }
            _ => Ok(tracks.into()),
        }
    })
}

// =============================================================================================
// The room
// =============================================================================================

struct Obj {
    js: JsValue,
    /// Shared, so an emit holds no borrow of the table while its listeners run.
    listeners: Rc<Listeners>,
    /// The local track of a local publication.
    local: Option<Rc<LocalInner>>,
    /// What the object is filed as ([`PART`], [`PUB`], [`TRACK`], [`LOCAL_PUB`]; 0 once
    /// forgotten or for the local participant) and under which key.
    tag: u8,
    key: String,
}

/// The room's plain objects, slot `id - 1` for object `id` (`None` once forgotten): a plain
/// vector, as ids only grow.
struct Objs(Vec<Option<Obj>>);

impl Objs {
    fn get(&self, id: &u32) -> Option<&Obj> {
        self.0.get((*id as usize).wrapping_sub(1))?.as_ref()
    }

    fn get_mut(&mut self, id: &u32) -> Option<&mut Obj> {
        self.0.get_mut((*id as usize).wrapping_sub(1))?.as_mut()
    }

    fn remove(&mut self, id: &u32) -> Option<Obj> {
        self.0.get_mut((*id as usize).wrapping_sub(1))?.take()
    }
}

/// A remote participant, filed under its member id.
const PART: u8 = 1;
/// A remote publication, filed under its track id.
const PUB: u8 = 2;
/// A remote track, filed under its track id.
const TRACK: u8 = 3;
/// A local publication, filed under its local track's id (cid); its `local` is the track.
const LOCAL_PUB: u8 = 4;

type Dispatch = Closure<dyn Fn(u32, u32, JsValue, JsValue) -> JsValue>;

pub(super) struct Inner {
    handle: SessionHandle,
    listeners: Listeners,
    /// Kept for its lifetime: the room's subscription to the session's events.
    _sub: Subscription,
    dispatch: Dispatch,
    /// The objects, each filed under its tag and key (see [`Obj`]).
    objs: RefCell<Objs>,
    participants: Map,
    /// Subscribed tracks whose media has not arrived yet.
    pending: RefCell<VecSet<String>>,
}

/// A connected room (what `connect()` resolves to).
#[wasm_bindgen(skip_typescript)]
pub struct VideoRoom {
    inner: Rc<Inner>,
}

impl Inner {
    /// A new object with `props`, the listener methods and `methods` (bound to the dispatch
    /// closure), and empty track maps when `maps`.
    fn new_obj(
        &self,
        js: JsValue,
        methods: u16,
        local: Option<Rc<LocalInner>>,
        tag: u8,
        key: &str,
    ) -> u32 {
        // Ids are handed out in order from 1: object `id` is slot `id - 1`.
        let id = self.objs.borrow().0.len() as u32 + 1;
        let f: &Function = self.dispatch.as_ref().unchecked_ref();
        for (op, m) in (0u32..).zip(OPS) {
            if (methods | LISTEN) & (1 << op) != 0 {
                let bound = invoke(
                    f,
                    "bind",
                    &[&JsValue::NULL, &JsValue::from(op), &JsValue::from(id)],
                )
                .unwrap_or_default();
                set(&js, m, &bound);
            }
        }
        if methods & WITH_MAPS != 0 {
            for m in MAPS {
                set(&js, m, &Map::new());
            }
        }
        let listeners = Rc::new(Listeners::default());
        listeners.set_level(self.listeners.level());
        self.objs.borrow_mut().0.push(Some(Obj {
            js,
            listeners,
            local,
            tag,
            key: key.into(),
        }));
        id
    }

    /// The object filed as `tag` under `key` (the newest such), taken out of the files when
    /// `take` (every such object).
    #[inline(never)]
    fn find(&self, tag: u8, key: &str, take: bool) -> Option<u32> {
        let mut found = None;
        for (i, o) in (1u32..).zip(self.objs.borrow_mut().0.iter_mut()) {
            let Some(o) = o else { continue };
            if o.tag == tag && o.key == key {
                if take {
                    o.tag = 0;
                }
                found = Some(i);
            }
        }
        found
    }

    /// The object filed as `tag` under `key`.
    #[inline(always)]
    fn id_in(&self, tag: u8, key: &str) -> Option<u32> {
        self.find(tag, key, false)
    }

    /// The object filed as `tag` under `key`, taken out of the files.
    #[inline(always)]
    fn id_out(&self, tag: u8, key: &str) -> Option<u32> {
        self.find(tag, key, true)
    }

    /// The local track of local publication `id`.
    fn local_of(&self, id: u32) -> Option<Rc<LocalInner>> {
        self.objs.borrow().get(&id)?.local.clone()
    }

    /// Publication `p`'s `track` (`null` once unsubscribed) and `isSubscribed`.
    #[inline(never)]
    fn subscribed(&self, p: u32, track: &JsValue) {
        let pj = self.js(p);
        set(&pj, "track", track);
        set(&pj, "isSubscribed", &JsValue::from(!track.is_null()));
    }

    /// Participant `id`'s `state`.
    #[inline(never)]
    fn set_state(&self, id: u32, state: &str) {
        self.set_on(id, "state", &JsValue::from_str(state));
    }

    /// `obj[key] = val` on object `id`.
    #[inline(never)]
    fn set_on(&self, id: u32, key: &str, val: &JsValue) {
        set(&self.js(id), key, val);
    }

    fn js(&self, id: u32) -> JsValue {
        self.objs
            .borrow()
            .get(&id)
            .map(|o| o.js.clone())
            .unwrap_or(JsValue::NULL)
    }

    fn emit_on(&self, id: u32, name: &str, args: &[JsValue]) {
        let l = self.objs.borrow().get(&id).map(|o| o.listeners.clone());
        if let Some(l) = l {
            l.emit(name, args);
        }
    }

    /// Files `val` of `kind` under `key` in participant `part`'s `tracks` and `<kind>Tracks`
    /// maps or, without `val`, takes `key` out of all four.
    #[inline(never)]
    fn map_put(&self, part: u32, key: &str, val: Option<(&str, &JsValue)>) {
        let p = self.js(part);
        let k = JsValue::from_str(key);
        for m in MAPS {
            let map = get(&p, m);
            let _ = match val {
                Some((kind, v)) if m == "tracks" || m.starts_with(kind) => {
                    invoke(&map, "set", &[&k, v])
                }
                Some(_) => continue,
                None => invoke(&map, "delete", &[&k]),
            };
        }
    }

    fn add_participant(&self, m: &ovsp::model::Member) -> u32 {
        if let Some(id) = self.id_in(PART, &m.id) {
            return id;
        }
        let id = self.new_obj(
            participant_props(&m.id, &m.identity),
            WITH_MAPS,
            None,
            PART,
            &m.id,
        );
        let _ = invoke(
            &self.participants,
            "set",
            &[&JsValue::from_str(&m.id), &self.js(id)],
        );
        for t in &m.tracks {
            self.add_publication(t);
        }
        id
    }

    fn add_publication(&self, t: &Track) -> Option<u32> {
        if let Some(id) = self.id_in(PUB, &t.id) {
            return Some(id);
        }
        let part = self.id_in(PART, &t.member_id)?;
        let on = !t.muted && !t.blocked;
        let id = self.new_obj(
            jobj(
                &[
                    "trackSid",
                    "trackName",
                    "kind",
                    "isTrackEnabled",
                    "isSubscribed",
                    "track",
                ],
                &[
                    t.id.as_str().into(),
                    t.name.as_deref().unwrap_or(&t.id).into(),
                    kind_str(t.kind).into(),
                    on.into(),
                    JsValue::FALSE,
                    JsValue::NULL,
                ],
            ),
            0,
            None,
            PUB,
            &t.id,
        );
        self.map_put(part, &t.id, Some((kind_str(t.kind), &self.js(id))));
        Some(id)
    }

    fn add_remote_track(&self, t: &Track) -> Option<u32> {
        if let Some(id) = self.id_in(TRACK, &t.id) {
            return Some(id);
        }
        let data = t.kind == TrackKind::Data;
        // A data track has no media; its messages arrive as `DataReceived`.
        let media = if data {
            None
        } else {
            Some(self.handle.remote_track(&t.id)?)
        };
        let sid = JsValue::from_str(&t.id);
        let id = self.new_obj(
            jobj(
                &[
                    "sid",
                    "id",
                    "name",
                    "kind",
                    "isEnabled",
                    "isStarted",
                    "isSwitchedOff",
                    "isSubscribed",
                    "dimensions",
                    "reliable",
                ],
                &[
                    sid.clone(),
                    sid,
                    t.name.as_deref().unwrap_or(&t.id).into(),
                    kind_str(t.kind).into(),
                    (!t.muted && !t.blocked).into(),
                    JsValue::TRUE,
                    JsValue::FALSE,
                    JsValue::TRUE,
                    jobj(
                        &["height", "width"],
                        &[
                            t.height.map_or(JsValue::NULL, JsValue::from),
                            t.width.map_or(JsValue::NULL, JsValue::from),
                        ],
                    ),
                    t.reliable.map_or(JsValue::NULL, JsValue::from),
                ],
            ),
            if data { 0 } else { 0b11_0000 },
            None,
            TRACK,
            &t.id,
        );
        if let Some(media) = media {
            self.set_on(id, "mediaStreamTrack", &media);
        }
        if let Some(p) = self.id_in(PUB, &t.id) {
            self.subscribed(p, &self.js(id));
        }
        Some(id)
    }

    /// The room's track `id`, if any.
    #[inline(never)]
    fn track_of(&self, id: &str) -> Option<Track> {
        self.handle
            .with_machine(|m| m.state().track(id).map(|(t, _)| t.clone()))
    }

    fn build_from_state(&self) {
        // Only plain objects and maps are touched meanwhile: no listener, no handle method.
        let m = self.handle.machine();
        let s = m.state();
        for v in s.members.values() {
            self.add_participant(v);
        }
        if let Some(me) = &s.self_member {
            let l = self.js(LOCAL);
            set(&l, "sid", &JsValue::from_str(&me.id));
            set(&l, "identity", &JsValue::from_str(&me.identity));
        }
    }

    fn room_obj(self: &Rc<Self>) -> JsValue {
        VideoRoom {
            inner: self.clone(),
        }
        .into()
    }

    /// Runs a bound object method.
    fn dispatch(self: &Rc<Self>, op: u32, id: u32, a: JsValue, b: JsValue) -> JsValue {
        let this = self.js(id);
        match op {
            0..=3 => {
                if let Some(o) = self.objs.borrow().get(&id) {
                    let _ = o.listeners.listen(op, &a, &b);
                }
                this
            }
            // `attach(element?)`, `detach()` of a remote track.
            4 | 5 => {
                let sid = common::get_str(&this, "sid").unwrap_or_default();
                if op == 5 {
                    self.handle.detach(&sid);
                    return Array::new().into();
                }
                let el = media_element_opt(&a);
                match self.handle.attach(&sid, el) {
                    Ok(el) => el.into(),
                    Err(e) => ApiError::new(
                        ovsp::codes::Code::TRACK_NOT_FOUND,
                        super::error::concat(&[&e.name, ": ", &e.message]),
                    )
                    .to_js(),
                }
            }
            6 => match self.publish_plan(&a, &b) {
                Ok((steps, then)) => run(&self.handle, steps, then).into(),
                Err(e) => reject(e).into(),
            },
            7 | 8 => {
                // `unpublish()` of a publication, or `unpublishTrack(track)` of a local track
                // (its `id` is its key) or of its MediaStreamTrack (found by its `id`).
                let pid = if op == 8 {
                    Some(id)
                } else {
                    common::get_str(&a, "id").and_then(|k| {
                        let p = self.id_in(LOCAL_PUB, &k);
                        p.or_else(|| {
                            let objs = self.objs.borrow();
                            let i = objs.0.iter().position(|o| {
                                let l = o.as_ref().and_then(|o| o.local.as_ref());
                                l.is_some_and(|l| {
                                    l.track.borrow().as_ref().is_some_and(|x| {
                                        common::get_str(x, "id").is_some_and(|i| i == k)
                                    })
                                })
                            })?;
                            Some(i as u32 + 1)
                        })
                    })
                };
                let local = pid.and_then(|p| self.objs.borrow_mut().get_mut(&p)?.local.take());
                let (Some(pid), Some(local)) = (pid, local) else {
                    return JsValue::NULL;
                };
                let cid = local.id.clone();
                self.id_out(LOCAL_PUB, &cid);
                *local.room.borrow_mut() = Weak::new();
                local.announced.set(false);
                self.map_put(LOCAL, &cid, None);
                fire(&self.handle, Step::Unpublish(cid), None);
                self.js(pid)
            }
            _ => JsValue::UNDEFINED,
        }
    }

    /// The step that publishes a local track (a `LocalTrack` or a `MediaStreamTrack`), and
    /// what follows it: the publication object on success, `trackPublicationFailed` on error.
    #[inline(never)]
    fn publish_plan(
        self: &Rc<Self>,
        track: &JsValue,
        options: &JsValue,
    ) -> Result<(Vec<Step>, Then), ApiError> {
        let local = match LocalInner::find(track) {
            Some(l) => l,
            None => {
                let t = common::track_arg(track, "track")?;
                let kind = if t.kind() == "audio" {
                    "audio"
                } else {
                    "video"
                };
                LocalInner::new(
                    common::get_str(options, "name"),
                    kind,
                    Some(t),
                    DataTrackOptions::default(),
                )
            }
        };
        if self.id_in(LOCAL_PUB, &local.id).is_some() {
            return Err(ApiError::new(
                ovsp::codes::Code::TRACK_NAME_DUPLICATED,
                "the track is already published",
            ));
        }
        let step = if local.kind == "data" {
            let mut extra = ovsp::json::Map::new();
            wire::put(&mut extra, "reliable", Value::Bool(local.data.reliable()));
            Step::Cmd(Command::Publish(PublishOptions {
                cid: local.id.clone(),
                kind: TrackKind::Data,
                source: MediaSource::Data,
                stream_key: None,
                name: Some(local.name.clone()),
                muted: false,
                extra,
            }))
        } else {
            let media = local
                .track
                .borrow()
                .clone()
                .ok_or_else(|| ApiError::invalid("track", "has no media"))?;
            let (source, ms, kind) = common::media_kind(local.kind == "audio");
            let opts = PublishOptions {
                cid: local.id.clone(),
                kind,
                source: ms,
                stream_key: None,
                name: Some(local.name.clone()),
                muted: !enabled(&media),
                extra: Default::default(),
            };
            Step::Publish(media, source, opts)
        };
        *local.room.borrow_mut() = Rc::downgrade(self);
        let this = self.clone();
        let then = Then::Published(this, local);
        Ok((common::one(step), then))
    }

    /// The end of a publish: the publication object, or `trackPublicationFailed`.
    #[inline(never)]
    pub(super) fn published(
        &self,
        local: Rc<LocalInner>,
        r: Result<Value, ApiError>,
    ) -> common::JsResult {
        let track_js = wrap_local(local.clone());
        if let Err(e) = r {
            *local.room.borrow_mut() = Weak::new();
            self.emit_on(LOCAL, "trackPublicationFailed", &[e.to_js(), track_js]);
            return Err(e);
        }
        let sid = local_sid(&self.handle, &local.id).unwrap_or_else(|| local.id.clone());
        let id = self.new_obj(
            jobj(
                &["trackSid", "trackName", "kind", "isTrackEnabled", "track"],
                &[
                    sid.into(),
                    local.name.as_str().into(),
                    local.kind.into(),
                    JsValue::TRUE,
                    track_js,
                ],
            ),
            1 << 8,
            Some(local.clone()),
            LOCAL_PUB,
            &local.id,
        );
        let pj = self.js(id);
        self.map_put(LOCAL, &local.id, Some((local.kind, &pj)));
        if !local.announced.replace(true) {
            self.emit_on(LOCAL, "trackPublished", alloc::slice::from_ref(&pj));
        }
        Ok(pj)
    }

    fn on_event(self: &Rc<Self>, ev: &SessionEvent) {
        let SessionEvent::Core(ce) = ev else { return };
        // Bring the object graph up to date first.
        match ce {
            CoreEvent::RoomJoined { .. } => self.build_from_state(),
            CoreEvent::MemberJoined { member } => {
                self.add_participant(member);
            }
            CoreEvent::MemberUpdated {
                member,
                updated,
                local: false,
                ..
            } if updated.iter().any(|f| f == "state") => {
                if let Some(p) = self.id_in(PART, &member.id) {
                    let s = if member.state == MemberState::Reconnecting {
                        "reconnecting"
                    } else {
                        "connected"
                    };
                    self.set_state(p, s);
                }
            }
            CoreEvent::TrackPublished {
                track,
                local: false,
            } => {
                self.add_publication(track);
            }
            CoreEvent::TrackUpdated {
                track,
                local: false,
                ..
            } => {
                let on = JsValue::from(!track.muted && !track.blocked);
                if let Some(p) = self.id_in(PUB, &track.id) {
                    self.set_on(p, "isTrackEnabled", &on);
                }
                if let Some(t) = self.id_in(TRACK, &track.id) {
                    self.set_on(t, "isEnabled", &on);
                }
            }
            CoreEvent::SubscriptionStarted { track: Some(t), .. }
                if self.add_remote_track(t).is_none() =>
            {
                self.pending.borrow_mut().insert(t.id.clone());
                return;
            }
            CoreEvent::RemoteTrackAttached { track_id, .. } => {
                if self.pending.borrow_mut().remove(track_id) {
                    let t = self.track_of(track_id);
                    if let Some(t) = t {
                        self.add_remote_track(&t);
                        let synthetic = CoreEvent::SubscriptionStarted {
                            subscription: ovsp::model::SubscriptionState {
                                track_id: t.id.clone(),
                                state: ovsp::model::SubState::Active,
                                mid: None,
                                paused: false,
                                max_width: None,
                                max_height: None,
                                max_fps: None,
                                priority: None,
                                error: None,
                            },
                            track: Some(t),
                        };
                        self.emit_all(&synthetic);
                    }
                }
                return;
            }
            CoreEvent::NetworkQuality {
                member_id,
                level,
                local,
            } => {
                let id = if *local {
                    Some(LOCAL)
                } else {
                    self.id_in(PART, member_id)
                };
                if let Some(id) = id {
                    self.set_on(id, "networkQualityLevel", &JsValue::from(*level));
                }
            }
            // A message is delivered with its track and participant only (one that arrives
            // after its sender left has neither); the first frame can come before the
            // subscription is reported.
            CoreEvent::DataReceived {
                track_id: Some(t),
                member_id: Some(m),
                ..
            } if self.id_in(PART, m).is_some()
                && (self.id_in(TRACK, t).is_some()
                    || self
                        .track_of(t)
                        .and_then(|t| self.add_remote_track(&t))
                        .is_some()) => {}
            CoreEvent::DataReceived { .. } => return,
            CoreEvent::RoomLeft { .. } => {
                self.set_state(LOCAL, "disconnected");
            }
            _ => {}
        }
        self.emit_all(ce);
        // Then forget what is gone.
        match ce {
            CoreEvent::MemberLeft { member, .. } => {
                if let Some(p) = self.id_out(PART, &member.id) {
                    self.set_state(p, "disconnected");
                }
                let _ = invoke(
                    &self.participants,
                    "delete",
                    &[&JsValue::from_str(&member.id)],
                );
            }
            CoreEvent::TrackUnpublished {
                track,
                local: false,
                ..
            } => {
                if let Some(p) = self.id_in(PART, &track.member_id) {
                    self.map_put(p, &track.id, None);
                }
                self.id_out(PUB, &track.id);
                self.id_out(TRACK, &track.id);
            }
            CoreEvent::SubscriptionEnded { track: Some(t), .. } => {
                if let Some(tid) = self.id_out(TRACK, &t.id) {
                    self.objs.borrow_mut().remove(&tid);
                }
                if let Some(p) = self.id_in(PUB, &t.id) {
                    self.subscribed(p, &JsValue::NULL);
                }
            }
            _ => {}
        }
    }

    /// The listener arguments `spec` names: indexes into `slots` (see [`ArgTable`]), 7 for the
    /// room, 8 and 9 for the network quality level of the participant or local participant.
    #[inline(never)]
    fn pick(self: &Rc<Self>, spec: &[u8], slots: &[JsValue; 7]) -> Vec<JsValue> {
        let mut out = Vec::with_capacity(spec.len());
        for &i in spec {
            out.push(match i {
                7 => self.room_obj(),
                8 => get(&slots[1], "networkQualityLevel"),
                9 => get(&slots[4], "networkQualityLevel"),
                i => slots[usize::from(i)].clone(),
            });
        }
        out
    }

    /// Emits the named events of `ce` on each object.
    fn emit_all(self: &Rc<Self>, ce: &CoreEvent) {
        let switched = match ce {
            CoreEvent::TrackSwitched { track_id, .. } => self.track_of(track_id),
            _ => None,
        };
        let (member, track_id): (Option<&str>, Option<&str>) = match ce {
            CoreEvent::MemberJoined { member }
            | CoreEvent::MemberLeft { member, .. }
            | CoreEvent::MemberUpdated { member, .. } => (Some(&member.id), None),
            CoreEvent::TrackPublished { track: t, .. }
            | CoreEvent::TrackUpdated { track: t, .. }
            | CoreEvent::TrackUnpublished { track: t, .. }
            | CoreEvent::SubscriptionStarted { track: Some(t), .. }
            | CoreEvent::SubscriptionEnded { track: Some(t), .. }
            | CoreEvent::SubscriptionFailed { track: Some(t), .. } => {
                (Some(&t.member_id), Some(&t.id))
            }
            CoreEvent::DominantSpeakerChanged { member_id } => (member_id.as_deref(), None),
            CoreEvent::TrackSwitched { track_id, .. } => {
                (switched.as_ref().map(|t| &*t.member_id), Some(track_id))
            }
            CoreEvent::MediaChanged {
                track_id,
                member_id,
                ..
            }
            | CoreEvent::DataReceived {
                track_id,
                member_id,
                ..
            } => (member_id.as_deref(), track_id.as_deref()),
            _ => (None, None),
        };
        let local_cid: Option<&str> = match ce {
            CoreEvent::TrackPublished { track, local: true }
            | CoreEvent::TrackUpdated {
                track, local: true, ..
            }
            | CoreEvent::TrackUnpublished {
                track, local: true, ..
            } => track.cid.as_deref(),
            CoreEvent::TrackPublishFailed { cid, .. } => Some(cid),
            CoreEvent::MediaChanged {
                cid, local: true, ..
            } => cid.as_deref(),
            _ => None,
        };
        let part = member.and_then(|m| self.id_in(PART, m));
        let publ = track_id.and_then(|t| self.id_in(PUB, t));
        let track = track_id.and_then(|t| self.id_in(TRACK, t));
        let local_pub = local_cid.and_then(|c| {
            let p = self.id_in(LOCAL_PUB, c)?;
            Some((p, self.local_of(p)?))
        });
        let lp = LOCAL;
        let lpub = local_pub.as_ref().map(|(p, _)| *p);
        let slots = [
            first_arg(ce),
            self.js(part.unwrap_or(0)),
            self.js(publ.unwrap_or(0)),
            self.js(track.unwrap_or(0)),
            self.js(lp),
            self.js(lpub.unwrap_or(0)),
            local_pub
                .as_ref()
                .map_or(JsValue::NULL, |(_, l)| wrap_local(l.clone())),
        ];
        for (o, name) in twilio_names(ce) {
            // The object (0: the room), its listener arguments by name and for other names.
            let (target, table, dflt): (Option<u32>, ArgTable, &[u8]) = match o {
                T::Room => (Some(0), ROOM_ARGS, &[3, 1]),
                T::RemoteParticipant => (part, REMOTE_ARGS, &[3]),
                T::LocalParticipant => {
                    // `trackPublished` once per publication, with the publication object (the
                    // publish itself announces it when the server's event came first).
                    if name == "trackPublished" {
                        if local_pub
                            .as_ref()
                            .is_none_or(|(_, l)| l.announced.replace(true))
                        {
                            continue;
                        }
                        if let CoreEvent::TrackPublished { track, .. } = ce {
                            set(&slots[5], "trackSid", &JsValue::from_str(&track.id));
                        }
                    }
                    (Some(lp), LOCAL_ARGS, &[6])
                }
                T::RemoteTrack => (track, TRACK_ARGS, &[3]),
                T::RemoteTrackPublication => (publ, PUB_ARGS, &[3]),
                T::LocalTrackPublication => (lpub, &[], &[]),
                T::LocalTrack => {
                    if let Some((_, l)) = &local_pub {
                        l.listeners.emit(name, &slots[6..]);
                    }
                    continue;
                }
            };
            let Some(target) = target else { continue };
            let spec = table
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(dflt, |(_, s)| *s);
            let args = self.pick(spec, &slots);
            if target == 0 {
                self.listeners.emit(name, &args);
            } else {
                self.emit_on(target, name, &args);
            }
        }
    }
}

/// Slot 0 of the listener arguments of `ce`: its error, or a data-track message's data (text
/// as a string, binary as an `ArrayBuffer`).
fn first_arg(ce: &CoreEvent) -> JsValue {
    let e = match ce {
        CoreEvent::Reconnecting { error }
        | CoreEvent::TrackPublishFailed { error, .. }
        | CoreEvent::RoomLeft {
            error: Some(error), ..
        } => ApiError::from(error),
        CoreEvent::SubscriptionFailed { subscription, .. } => {
            let code = subscription
                .error
                .as_ref()
                .map(|e| e.code)
                .unwrap_or(ovsp::codes::Code::SUBSCRIPTION_NOT_ALLOWED);
            ApiError::new(code, code.message())
        }
        CoreEvent::DataReceived { payload, .. } => {
            return match wire::decode_data_text(payload) {
                Ok(text) => text.into(),
                Err(bytes) => get(&js_sys::Uint8Array::from(bytes).into(), "buffer"),
            }
        }
        _ => return JsValue::NULL,
    };
    e.to_js()
}

/// The listener arguments of an object's events by name, as indexes into the slots
/// 0 error (or message data), 1 participant, 2 publication, 3 track, 4 local participant,
/// 5 local publication, 6 local track, 7 room, 8 and 9 the network quality level of the
/// participant and of the local participant.
type ArgTable = &'static [(&'static str, &'static [u8])];

const ROOM_ARGS: ArgTable = &[
    ("disconnected", &[7, 0]),
    ("reconnecting", &[0]),
    ("reconnected", &[]),
    ("recordingStarted", &[]),
    ("recordingStopped", &[]),
    ("dominantSpeakerChanged", &[1]),
    ("participantConnected", &[1]),
    ("participantDisconnected", &[1]),
    ("participantReconnecting", &[1]),
    ("participantReconnected", &[1]),
    ("trackPublished", &[2, 1]),
    ("trackUnpublished", &[2, 1]),
    ("trackSubscribed", &[3, 2, 1]),
    ("trackUnsubscribed", &[3, 2, 1]),
    ("trackSwitchedOff", &[3, 2, 1]),
    ("trackSwitchedOn", &[3, 2, 1]),
    ("trackSubscriptionFailed", &[0, 2, 1]),
    ("trackMessage", &[0, 3, 1]),
];

const REMOTE_ARGS: ArgTable = &[
    ("disconnected", &[1]),
    ("reconnecting", &[1]),
    ("reconnected", &[1]),
    ("networkQualityLevelChanged", &[8]),
    ("trackPublished", &[2]),
    ("trackUnpublished", &[2]),
    ("trackSubscribed", &[3, 2]),
    ("trackUnsubscribed", &[3, 2]),
    ("trackSwitchedOff", &[3, 2]),
    ("trackSwitchedOn", &[3, 2]),
    ("trackSubscriptionFailed", &[0, 2]),
    ("trackMessage", &[0, 3]),
];

const LOCAL_ARGS: ArgTable = &[
    ("disconnected", &[4]),
    ("networkQualityLevelChanged", &[9]),
    ("trackPublished", &[5]),
    ("trackPublicationFailed", &[0, 6]),
];

const TRACK_ARGS: ArgTable = &[("message", &[0, 3])];

const PUB_ARGS: ArgTable = &[
    ("subscriptionFailed", &[0]),
    ("trackEnabled", &[]),
    ("trackDisabled", &[]),
];

impl VideoRoom {
    /// Room id.
    fn sid(&self) -> JsValue {
        room_str(&self.inner.handle, false)
    }
    /// Room name.
    fn name(&self) -> JsValue {
        room_str(&self.inner.handle, true)
    }
    /// `connected`, `reconnecting` or `disconnected`.
    fn state(&self) -> JsValue {
        JsValue::from_str(
            self.inner
                .handle
                .with_machine(|m| match m.state().connection {
                    ConnectionState::Connected => "connected",
                    ConnectionState::Reconnecting { .. } | ConnectionState::Connecting => {
                        "reconnecting"
                    }
                    _ => "disconnected",
                }),
        )
    }
    /// Whether the room is being recorded.
    fn is_recording(&self) -> bool {
        self.inner
            .handle
            .with_machine(|m| m.state().room.as_ref().is_some_and(|r| r.recording))
    }
    /// The local participant.
    fn local_participant(&self) -> JsValue {
        self.inner.js(LOCAL)
    }
    /// The dominant speaker, if any.
    fn dominant_speaker(&self) -> JsValue {
        let m = self.inner.handle.machine();
        let id = m.state().dominant_speaker.as_ref();
        let p = id.and_then(|id| self.inner.id_in(PART, id));
        self.inner.js(p.unwrap_or(0))
    }
    /// Leaves the room.
    fn disconnect(&self) {
        fire(&self.inner.handle, Step::Leave, None);
    }
    /// The stats requests of the publishing and subscribing connections: a promise of both
    /// reports, `undefined` for a connection that does not exist (the package's JS keeps the
    /// reports, as `getStats`).
    fn stats(&self) -> Promise {
        self.inner.handle.stats_promise()
    }
}

#[wasm_bindgen]
impl VideoRoom {
    /// The member of [`crate::api::wire::VIDEO_ROOM_API`] at index `i`, with its arguments (the public methods
    /// and getters are installed on the prototype as calls of this one).
    /// An error is returned, not thrown (the package's JS throws what is an `Error`).
    pub fn _c(&self, i: u32, a: &JsValue, b: &JsValue) -> JsValue {
        match i {
            0 => self.sid(),
            1 => self.name(),
            2 => self.state(),
            3 => self.is_recording().into(),
            4 => self.local_participant(),
            5 => self.inner.participants.clone().into(),
            6 => self.dominant_speaker(),
            7 => {
                self.disconnect();
                JsValue::UNDEFINED
            }
            8 => self.stats().into(),
            _ => match self.inner.listeners.listen(i.wrapping_sub(9), a, b) {
                Err(e) => e.to_js(),
                _ => JsValue::UNDEFINED,
            },
        }
    }
}

/// Connects to the room of `token` and publishes local tracks.
#[wasm_bindgen(skip_typescript)]
pub fn connect(token: JsValue, options: JsValue) -> Promise {
    let auto = get(&options, "automaticSubscription") != JsValue::FALSE;
    let (handle, listeners) = match open(
        token.as_string(),
        "token",
        "must be a string",
        &options,
        auto,
    ) {
        Ok(o) => o,
        Err(e) => return reject(e),
    };
    let inner = Rc::new_cyclic(|weak: &Weak<Inner>| {
        let w = weak.clone();
        let sub = handle.subscribe(move |ev| {
            if let Some(i) = w.upgrade() {
                i.on_event(ev);
            }
        });
        let w = weak.clone();
        let dispatch = Closure::new(move |op: u32, id: u32, a: JsValue, b: JsValue| {
            let Some(inner) = w.upgrade() else {
                return JsValue::UNDEFINED;
            };
            inner.dispatch(op, id, a, b)
        });
        Inner {
            handle,
            listeners,
            _sub: sub,
            dispatch,
            objs: RefCell::new(Objs(Vec::new())),
            participants: Map::new(),
            pending: RefCell::new(VecSet::new()),
        }
    });
    // The local participant is the first object: [`LOCAL`].
    inner.new_obj(
        participant_props("", ""),
        WITH_MAPS | 0b1100_0000,
        None,
        0,
        "",
    );
    common::promise_of(task(Job::Connect(inner), options))
}
