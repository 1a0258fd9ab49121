//! `Call`: a call channel with named tracks and per-user send/receive permissions.
//!
//! Users are identities (the token's `sub`); tracks are published under their names (the
//! name is also the client track id).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use convene_core::catalogue::call_names;
use convene_core::{Command, ConnectionState, CoreEvent, PublishOptions};
use js_sys::Promise;
use ovsp::codes::Code;
use ovsp::json::{json, Value};
use ovsp::model::{Member, TrackKind};
use wasm_bindgen::prelude::*;
use web_sys::MediaStreamTrack;

use super::common::{self, get, promise, reject, to_js, Listeners};
use super::error::ApiError;
use super::{token, wire};
use crate::web::session::{SessionEvent, SessionHandle, Subscription};

struct Inner {
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

impl Inner {
    fn identity_of(&self, member_id: &str) -> String {
        self.handle.with_machine(|m| {
            let s = m.state();
            s.members
                .get(member_id)
                .map(|m| m.identity.clone())
                .or_else(|| {
                    s.self_member
                        .as_ref()
                        .filter(|m| m.id == member_id)
                        .map(|m| m.identity.clone())
                })
                .unwrap_or_else(|| member_id.to_owned())
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
        let name = t
            .name
            .clone()
            .or_else(|| t.cid.clone())
            .unwrap_or_else(|| t.id.clone());
        let o = to_js(&json!({
            "userId": self.identity_of(&t.member_id),
            "trackName": name,
            "kind": match t.kind { TrackKind::Audio => "audio", TrackKind::Video => "video", _ => "data" },
            "muted": t.muted || t.blocked,
        }));
        let track = if local {
            t.cid.as_deref().and_then(|c| self.handle.local_track(c))
        } else {
            self.handle.remote_track(&t.id)
        };
        if let Some(track) = track {
            common::set(&o, "track", &track);
        }
        o
    }

    fn payload(&self, ev: &CoreEvent) -> JsValue {
        match ev {
            CoreEvent::MemberJoined { member } => to_js(&json!({ "userId": member.identity })),
            CoreEvent::MemberLeft { member, reason, .. } => {
                to_js(&json!({ "userId": member.identity, "reason": reason }))
            }
            CoreEvent::AclUpdated { identities, .. } => to_js(
                &json!({ "userId": identities.first().cloned().unwrap_or_default(), "users": identities }),
            ),
            CoreEvent::TrackPublished { track, local }
            | CoreEvent::TrackUpdated { track, local, .. } => self.track_event(track, *local),
            CoreEvent::TrackUnpublished {
                track,
                reason,
                local,
            } => {
                let o = self.track_event(track, *local);
                common::set(&o, "reason", &to_js(reason));
                o
            }
            CoreEvent::RoomUpdated { room, .. } => to_js(&json!({
                "channel": *self.channel.borrow(),
                "config": { "maxUsers": room.max_members, "hideVideoMuted": room.hide_video_muted,
                            "prioritizeHandraise": room.prioritize_handraise, "defaultLayout": room.layout_name },
            })),
            CoreEvent::SessionClosing { error, .. } => to_js(&json!({
                "channel": *self.channel.borrow(),
                "reason": error.as_ref().map(|e| e.message()),
            })),
            _ => JsValue::UNDEFINED,
        }
    }

    fn on_event(&self, ev: &SessionEvent) {
        let SessionEvent::Core(ce) = ev else { return };
        if let CoreEvent::ConnectionStateChanged { state } = ce {
            let o = to_js(&json!({ "status": self.status() }));
            if let ConnectionState::Disconnected { error: Some(e) } = state {
                common::set(&o, "error", &ApiError::from(e).to_js());
            }
            self.listeners.emit("status", &[o]);
        }
        for name in call_names(ce) {
            if self.listeners.has(name) {
                self.listeners.emit(name, &[self.payload(ce)]);
            }
        }
    }

    async fn rpc(&self, req: wire::Req) -> Result<Value, ApiError> {
        common::op(self.handle.call(Command::Rpc {
            method: req.method.to_owned(),
            params: req.params,
        }))
        .await
    }

    fn ok(&self) -> JsValue {
        to_js(&json!({ "ok": true, "channel": *self.channel.borrow() }))
    }

    fn add_tracks<'a>(&'a self, tracks: &'a JsValue) -> common::Op<'a, ()> {
        Box::pin(async move {
            if tracks.is_undefined() || tracks.is_null() {
                return Ok(());
            }
            if !tracks.is_object() {
                return Err(ApiError::invalid(
                    "tracks",
                    "must be an object of name → MediaStreamTrack",
                ));
            }
            let names = js_sys::Reflect::own_keys(tracks)
                .map_err(|_| ApiError::invalid("tracks", "must be an object"))?;
            let mut list: Vec<(String, MediaStreamTrack)> = Vec::new();
            for n in names.iter() {
                let name = n.as_string().unwrap_or_default();
                list.push((
                    name.clone(),
                    common::track_arg(&get(tracks, &name), &format!("tracks.{name}"))?,
                ));
            }
            for (name, t) in list {
                let audio = t.kind() == "audio";
                let (source, ms, kind) = common::media_kind(audio);
                let opts = PublishOptions {
                    cid: name.clone(),
                    kind,
                    source: ms,
                    stream_key: Some(name.clone()),
                    name: Some(name),
                    muted: false,
                    extra: Default::default(),
                };
                common::op(self.handle.publish(t, source, opts)).await?;
            }
            Ok(())
        })
    }

    fn join(&self, channel: String, tracks: JsValue, config: JsValue) -> common::Op<'_, JsValue> {
        Box::pin(async move {
            if let Some(room) = &self.token_room {
                if *room != channel {
                    return Err(ApiError::new(
                        Code::TOKEN_GRANTS_INVALID,
                        format!("the token grants channel {room:?}, not {channel:?}"),
                    ));
                }
            }
            *self.channel.borrow_mut() = channel;
            common::op(self.handle.call(Command::Join)).await?;
            if !config.is_undefined() && !config.is_null() {
                let req = wire::call_configure(&common::args(&[&config])?)?;
                self.rpc(req).await?;
            }
            self.add_tracks(&tracks).await?;
            Ok(self.ok())
        })
    }
}

#[wasm_bindgen]
impl Call {
    /// `new Call({token, host})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Call, JsValue> {
        let tok = common::get_str(&options, "token")
            .ok_or_else(|| ApiError::invalid("token", "is required").to_js())?;
        let token_room = token::inspect(&tok).map_err(|e| e.to_js())?.room;
        let opts = super::opts::read(&options).map_err(|e| e.to_js())?;
        let handle = common::session(&tok, common::get_str(&options, "host"), |_| {})
            .map_err(|e| e.to_js())?;
        let listeners = opts.apply(&handle);
        let inner = Rc::new(Inner {
            handle,
            listeners,
            sub: RefCell::new(None),
            channel: RefCell::new(String::new()),
            token_room,
        });
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        *inner.sub.borrow_mut() = Some(inner.handle.subscribe(move |ev| {
            if let Some(i) = weak.upgrade() {
                i.on_event(ev);
            }
        }));
        Ok(Call { inner })
    }

    /// The current call channel.
    #[wasm_bindgen(getter)]
    pub fn channel(&self) -> JsValue {
        JsValue::from_str(&self.inner.channel.borrow())
    }

    /// `connected`, `connecting`, `disconnected` or `checking`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> JsValue {
        JsValue::from_str(self.inner.status())
    }

    /// Creates the call channel (the token must allow creating it) and joins it.
    pub fn create(&self, channel_id: JsValue, tracks: JsValue, config: JsValue) -> Promise {
        let Some(ch) = channel_id.as_string().filter(|c| !c.is_empty()) else {
            return reject(ApiError::invalid("channelId", "must be a non-empty string"));
        };
        let inner = self.inner.clone();
        promise(async move { inner.join(ch, tracks, config).await })
    }

    /// Joins an existing call.
    pub fn join(&self, channel_id: JsValue, tracks: JsValue) -> Promise {
        let Some(ch) = channel_id.as_string().filter(|c| !c.is_empty()) else {
            return reject(ApiError::invalid("channelId", "must be a non-empty string"));
        };
        let inner = self.inner.clone();
        promise(async move { inner.join(ch, tracks, JsValue::UNDEFINED).await })
    }

    /// Ends the call for everyone (owner only).
    pub fn delete(&self, reason: JsValue) -> Promise {
        let mut params = json!({});
        if let Some(r) = reason.as_string() {
            params["reason"] = json!(r);
        } else if !reason.is_undefined() && !reason.is_null() {
            return reject(ApiError::invalid("reason", "must be a string"));
        }
        let inner = self.inner.clone();
        promise(async move {
            inner
                .rpc(wire::Req {
                    method: "room.end",
                    params,
                })
                .await?;
            Ok(inner.ok())
        })
    }

    /// Publishes local tracks by name.
    #[wasm_bindgen(js_name = addTracks)]
    pub fn add_tracks(&self, tracks: JsValue) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            inner.add_tracks(&tracks).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Unpublishes tracks by name.
    #[wasm_bindgen(js_name = removeTracks)]
    pub fn remove_tracks(&self, name: JsValue) -> Promise {
        let names =
            match common::args(&[&name]).and_then(|a| wire::arg_str_list(&a, 0, "name", true)) {
                Ok(v) => v,
                Err(e) => return reject(e),
            };
        let inner = self.inner.clone();
        promise(async move {
            for n in names {
                common::op(inner.handle.unpublish(&n)).await?;
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Mutes (`true`) or unmutes local tracks by name.
    #[wasm_bindgen(js_name = muteTracks)]
    pub fn mute_tracks(&self, track_name: JsValue, new_state: JsValue) -> Promise {
        let names = match common::args(&[&track_name])
            .and_then(|a| wire::arg_str_list(&a, 0, "trackName", true))
        {
            Ok(v) => v,
            Err(e) => return reject(e),
        };
        let Some(muted) = new_state.as_bool() else {
            return reject(ApiError::invalid("newState", "must be a boolean"));
        };
        let inner = self.inner.clone();
        promise(async move {
            for n in names {
                common::op(inner.handle.mute_track(&n, muted)).await?;
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    #[inline(never)]
    fn users(&self, js: &'static str, users: &JsValue) -> Promise {
        let req = match common::args(&[users]).and_then(|a| wire::call_users(js, &a)) {
            Ok(r) => r,
            Err(e) => return reject(e),
        };
        let inner = self.inner.clone();
        promise(async move {
            inner.rpc(req).await?;
            Ok(inner.ok())
        })
    }

    /// Adds users (identities) to the call's access list.
    #[wasm_bindgen(js_name = addUsers)]
    pub fn add_users(&self, users: JsValue) -> Promise {
        self.users("addUsers", &users)
    }

    /// Removes users from the call's access list (connected ones are disconnected).
    #[wasm_bindgen(js_name = delUsers)]
    pub fn del_users(&self, users: JsValue) -> Promise {
        self.users("delUsers", &users)
    }

    /// Changes users' send/receive permissions.
    #[wasm_bindgen(js_name = modUsers)]
    pub fn mod_users(&self, users: JsValue) -> Promise {
        self.users("modUsers", &users)
    }

    /// Mutes or unmutes another user's audio or video (admins only).
    #[wasm_bindgen(js_name = muteUser)]
    pub fn mute_user(
        &self,
        user_id: JsValue,
        kind: JsValue,
        new_state: JsValue,
        reason: JsValue,
    ) -> Promise {
        let args = match common::args(&[&user_id, &kind, &new_state, &reason]) {
            Ok(a) => a,
            Err(e) => return reject(e),
        };
        let user = match wire::arg_str(&args, 0, "userId") {
            Ok(u) => u,
            Err(e) => return reject(e),
        };
        let member = self.inner.handle.with_machine(|m| {
            let s = m.state();
            s.members
                .values()
                .find(|m| m.identity == user)
                .map(|m| m.id.clone())
                .or_else(|| {
                    s.self_member
                        .as_ref()
                        .filter(|m| m.identity == user)
                        .map(|m| m.id.clone())
                })
        });
        let Some(member) = member else {
            return reject(ApiError::new(
                Code::MEMBER_NOT_FOUND,
                format!("user {user:?} is not in the call"),
            ));
        };
        let req = match wire::call_mute_user(&member, &args) {
            Ok(r) => r,
            Err(e) => return reject(e),
        };
        let inner = self.inner.clone();
        promise(async move {
            inner.rpc(req).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Updates the channel configuration.
    pub fn configure(&self, config: JsValue) -> Promise {
        let req = match common::args(&[&config]).and_then(|a| wire::call_configure(&a)) {
            Ok(r) => r,
            Err(e) => return reject(e),
        };
        let inner = self.inner.clone();
        promise(async move {
            inner.rpc(req).await?;
            Ok(inner.ok())
        })
    }

    /// The active users with their tracks and muted states.
    #[wasm_bindgen(js_name = getUsers)]
    pub fn get_users(&self) -> Promise {
        let users: Vec<Value> = self.inner.handle.with_machine(|m| {
            let s = m.state();
            let me: Option<Member> = s.self_member.as_ref().map(|m| {
                let mut x = m.member.clone();
                x.tracks = s
                    .local_tracks
                    .values()
                    .filter_map(|t| {
                        t.track_id
                            .as_deref()
                            .and_then(|id| s.track(id))
                            .map(|(t, _)| t.clone())
                    })
                    .collect();
                x
            });
            me.iter()
                .chain(s.members.values())
                .map(|m| {
                    // Insert loops: collecting into a map would instantiate a sort.
                    let mut tracks = ovsp::json::Map::new();
                    for t in &m.tracks {
                        let name = t
                            .name
                            .clone()
                            .or_else(|| t.cid.clone())
                            .unwrap_or_else(|| t.id.clone());
                        let kind = match t.kind {
                            TrackKind::Audio => "audio",
                            TrackKind::Video => "video",
                            _ => "data",
                        };
                        tracks.insert(
                            name,
                            wire::two("kind", kind.into(), "muted", (t.muted || t.blocked).into()),
                        );
                    }
                    let mut u = ovsp::json::Map::new();
                    wire::put(&mut u, "audioMuted", m.audio_muted.into());
                    wire::put(&mut u, "id", m.identity.as_str().into());
                    wire::put(&mut u, "tracks", Value::Object(tracks));
                    wire::put(&mut u, "videoMuted", m.video_muted.into());
                    Value::Object(u)
                })
                .collect()
        });
        Promise::resolve(&to_js(&users))
    }

    /// Listens for call events.
    pub fn on(&self, event: &str, handler: JsValue) -> Result<(), JsValue> {
        self.inner
            .listeners
            .add(event, &handler, false)
            .map_err(|e| e.to_js())
    }

    /// Leaves the call: local tracks are stopped and the connection closed.
    pub fn leave(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            common::op(inner.handle.leave())
                .await
                .map(|_| JsValue::UNDEFINED)
        })
    }
}
