//! Rooms as actors: one task per room is the only owner of that room's state.
//!
//! Sessions send [`RoomCmd`]s; the room answers on the session's own channel (the one that also
//! carries the room's events), so every durable event a request causes is queued before its
//! reply. Events are serialised once and shared by all recipients.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ovsp::codes::{CloseCode, Code};
use ovsp::envelope::RpcError;
use ovsp::methods::{self as m, MethodInfo, PermRule};
use ovsp::model::{
    ErrorInfo, Layout, MediaAllowed, MediaKind, MediaSource, Member, MemberState, Meta, Role, Room,
    SelfMember, Snapshot, SubState, SubscriptionState, Track, TrackKind,
};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tracing::{debug, info};

use crate::config::ServerConfig;
use crate::hub::{HubCmd, HubHandle};
use crate::media::{self as media, MediaEvent, MediaHandle};
use crate::session::{CloseInfo, Effect, Grants, SessionMsg};
use crate::util::{new_id, now_ms};
use crate::wire::{bad_params, err, params, EventMsg};

/// Methods the room implements (everything in B8 except egress and debug).
pub(crate) fn implemented(method: &str) -> bool {
    !(method.starts_with("recording.")
        || method.starts_with("playback.")
        || method.starts_with("stream.")
        || method == "debug.simulate")
}

/// How long membership-driven layout changes are coalesced before `layout.changed` goes out.
const LAYOUT_COALESCE: Duration = Duration::from_millis(200);
/// `room.audience_count` is sent at most once per second.
const AUDIENCE_COUNT_INTERVAL: Duration = Duration::from_millis(1000);
/// Maximum tracks one member may publish.
const MAX_TRACKS_PER_MEMBER: usize = 16;

/// What a room is created with (from the first joiner's token).
#[derive(Debug, Clone)]
pub(crate) struct RoomInit {
    pub name: String,
    pub auto_create: bool,
    pub max_members: Option<u32>,
    pub acl: bool,
    pub default_layout: Option<String>,
    pub meta: Meta,
}

impl RoomInit {
    pub fn from_grants(g: &Grants) -> Self {
        let cfg = g.grant.room_config.clone().unwrap_or_default();
        RoomInit {
            name: g.grant.room.clone(),
            auto_create: g.grant.auto_create,
            max_members: cfg.max_members,
            acl: cfg.acl,
            default_layout: cfg.default_layout,
            meta: g.grant.room_meta.clone().unwrap_or_default(),
        }
    }
}

/// A join, forwarded by the hub.
pub(crate) struct JoinRequest {
    pub session_id: String,
    pub grants: Grants,
    pub params: Value,
    pub tx: mpsc::UnboundedSender<SessionMsg>,
    pub req_id: String,
    pub room: Option<RoomHandle>,
}

/// Commands a room accepts.
pub(crate) enum RoomCmd {
    Join(Box<JoinRequest>),
    Request {
        member_id: String,
        req_id: String,
        method: String,
        params: Value,
    },
    UpdateGrants {
        member_id: String,
        req_id: String,
        grants: Box<Grants>,
    },
    Presence {
        member_id: String,
        connected: bool,
    },
    Leave {
        member_id: String,
        reason: &'static str,
    },
    Snapshot {
        member_id: String,
    },
    Notify {
        member_id: String,
        method: String,
        params: Value,
    },
    /// An event of a member's media session that changes room state.
    Media {
        member_id: String,
        event: MediaEvent,
    },
    Shutdown,
}

/// Cloneable handle to a room actor.
#[derive(Clone)]
pub(crate) struct RoomHandle {
    pub id: String,
    tx: mpsc::UnboundedSender<RoomCmd>,
}

impl RoomHandle {
    pub fn send(&self, cmd: RoomCmd) {
        let _ = self.tx.send(cmd);
    }
}

struct Entry {
    m: Member,
    tx: mpsc::UnboundedSender<SessionMsg>,
    permissions: Vec<String>,
    media_allowed: MediaAllowed,
    join_audio_muted: bool,
    join_video_muted: bool,
    audio_blocked: bool,
    video_blocked: bool,
    end_room_on_leave: bool,
    order: u64,
    session_id: String,
    auto_subscribe: bool,
    receive_audio: bool,
    receive_video: bool,
    /// Subscriptions of this member, by track id.
    subs: BTreeMap<String, SubscriptionState>,
    /// Tracks this member explicitly unsubscribed from (sticky with auto_subscribe).
    opt_out: HashSet<String>,
}

/// Runs media engine calls of one room strictly in order, off the room task.
struct MediaQueue {
    handle: MediaHandle,
    tx: mpsc::UnboundedSender<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
}

impl MediaQueue {
    fn new(handle: MediaHandle) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<
            std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
        >();
        tokio::spawn(async move {
            while let Some(op) = rx.recv().await {
                op.await;
            }
        });
        MediaQueue { handle, tx }
    }

    /// Queues `f(handle)`; its errors are logged.
    fn run<F, Fut>(&self, what: &'static str, f: F)
    where
        F: FnOnce(MediaHandle) -> Fut,
        Fut: std::future::Future<Output = Result<(), media::MediaError>> + Send + 'static,
    {
        let fut = f(self.handle.clone());
        let _ = self.tx.send(Box::pin(async move {
            if let Err(e) = fut.await {
                debug!(op = what, error = %e, "media call failed");
            }
        }));
    }

    /// Queues `f(handle)` whose outcome answers request `id` on `tx`.
    fn answer<F, Fut>(&self, tx: mpsc::UnboundedSender<SessionMsg>, id: String, f: F)
    where
        F: FnOnce(MediaHandle) -> Fut,
        Fut: std::future::Future<Output = Result<Value, media::MediaError>> + Send + 'static,
    {
        let fut = f(self.handle.clone());
        let _ = self.tx.send(Box::pin(async move {
            let outcome = fut.await.map_err(|e| err(Code(e.code), e.message));
            let _ = tx.send(SessionMsg::Reply {
                id,
                outcome,
                effect: None,
            });
        }));
    }
}

fn media_kind(k: TrackKind) -> Option<media::TrackKind> {
    match k {
        TrackKind::Audio => Some(media::TrackKind::Audio),
        TrackKind::Video => Some(media::TrackKind::Video),
        TrackKind::Data => Some(media::TrackKind::Data),
        TrackKind::Unknown => None,
    }
}

struct RoomActor {
    room: Room,
    members: HashMap<String, Entry>,
    next_order: u64,
    acl: Option<BTreeMap<String, m::AclEntry>>,
    live_tracks: HashSet<String>,
    next_data_handle: u16,
    layout: Layout,
    layout_deadline: Option<tokio::time::Instant>,
    audience_dirty: bool,
    audience_last: Option<tokio::time::Instant>,
    joins_seen: u64,
    ended: bool,
    hub: HubHandle,
    idle_reported: bool,
    media: Option<MediaQueue>,
}

pub(crate) fn spawn(
    init: RoomInit,
    hub: HubHandle,
    config: Arc<ServerConfig>,
    media: Option<MediaHandle>,
) -> RoomHandle {
    let _ = config;
    let (tx, rx) = mpsc::unbounded_channel();
    let id = new_id("rm_");
    let layout_name = init
        .default_layout
        .clone()
        .filter(|l| crate::layout::exists(l))
        .unwrap_or_else(|| crate::layout::DEFAULT.to_string());
    let room = Room {
        id: id.clone(),
        name: init.name.clone(),
        display_name: None,
        version: 1,
        locked: false,
        layout_name: Some(layout_name.clone()),
        hide_video_muted: false,
        prioritize_handraise: false,
        recording: false,
        streaming: false,
        meta: init.meta.clone(),
        max_members: init.max_members,
        member_count: 0,
        audience_count: 0,
        created_at: Some(now_ms()),
    };
    let actor = RoomActor {
        room,
        members: HashMap::new(),
        next_order: 0,
        acl: if init.acl {
            Some(BTreeMap::new())
        } else {
            None
        },
        live_tracks: HashSet::new(),
        next_data_handle: 1,
        layout: Layout {
            name: layout_name,
            layers: vec![],
        },
        layout_deadline: None,
        audience_dirty: false,
        audience_last: None,
        joins_seen: 0,
        ended: false,
        hub,
        idle_reported: false,
        media: media.map(MediaQueue::new),
    };
    info!(room = %init.name, id = %id, "room created");
    tokio::spawn(actor.run(rx));
    RoomHandle { id, tx }
}

async fn sleep_until_opt(t: Option<tokio::time::Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

fn reply(
    tx: &mpsc::UnboundedSender<SessionMsg>,
    id: String,
    outcome: Result<Value, RpcError>,
    effect: Option<Effect>,
) {
    let _ = tx.send(SessionMsg::Reply {
        id,
        outcome,
        effect,
    });
}

fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn meta_size_ok(meta: &Meta) -> Result<(), RpcError> {
    let len = serde_json::to_string(meta)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    if len > ovsp::limits::MAX_META_BYTES {
        return Err(err(Code::META_INVALID, "meta exceeds 16 KiB").with_field("meta"));
    }
    Ok(())
}

/// The view of a member others get: only live tracks, no client ids.
fn public_member(m: &Member, live: &HashSet<String>) -> Member {
    let mut p = m.clone();
    p.tracks.retain(|t| live.contains(&t.id));
    for t in &mut p.tracks {
        t.cid = None;
    }
    p
}

fn public_track(t: &Track) -> Track {
    let mut t = t.clone();
    t.cid = None;
    t
}

/// Picks `fields` (plus `id`, `version`) out of a serialised entity.
fn partial(entity: &impl Serialize, fields: &[&str]) -> Value {
    let full = to_value(entity);
    let mut out = serde_json::Map::new();
    for f in ["id", "version"].iter().chain(fields.iter()) {
        if let Some(v) = full.get(*f) {
            out.insert((*f).to_string(), v.clone());
        } else {
            out.insert((*f).to_string(), Value::Null);
        }
    }
    Value::Object(out)
}

impl RoomActor {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<RoomCmd>) {
        loop {
            let audience_deadline = if self.audience_dirty {
                Some(
                    self.audience_last
                        .map(|t| t + AUDIENCE_COUNT_INTERVAL)
                        .unwrap_or_else(tokio::time::Instant::now),
                )
            } else {
                None
            };
            tokio::select! {
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else { break };
                    if let RoomCmd::Shutdown = cmd {
                        if self.members.is_empty() {
                            break;
                        }
                        continue;
                    }
                    self.on_cmd(cmd);
                }
                _ = sleep_until_opt(self.layout_deadline) => self.flush_layout(),
                _ = sleep_until_opt(audience_deadline) => self.flush_audience(),
            }
            if self.members.is_empty() && !self.idle_reported {
                self.idle_reported = true;
                self.hub.send(HubCmd::RoomIdle {
                    name: self.room.name.clone(),
                    room_id: self.room.id.clone(),
                    joins_seen: self.joins_seen,
                });
            }
        }
        info!(room = %self.room.name, "room closed");
    }

    fn on_cmd(&mut self, cmd: RoomCmd) {
        match cmd {
            RoomCmd::Join(j) => {
                self.joins_seen += 1;
                self.idle_reported = false;
                self.join(*j);
            }
            RoomCmd::Request {
                member_id,
                req_id,
                method,
                params,
            } => {
                let Some(tx) = self.members.get(&member_id).map(|e| e.tx.clone()) else {
                    // Not (or no longer) a member; nothing to answer through.
                    return;
                };
                let outcome = self.request(&member_id, &method, &params);
                match outcome {
                    Ok(Done::Reply(v)) => reply(&tx, req_id, Ok(v), None),
                    Ok(Done::Left) => reply(&tx, req_id, Ok(json!({})), Some(Effect::Left)),
                    Ok(Done::Media(run)) => match &self.media {
                        Some(q) => run(q, tx, req_id),
                        None => reply(
                            &tx,
                            req_id,
                            Err(err(
                                Code::METHOD_NOT_FOUND,
                                "media is not enabled on this server",
                            )),
                            None,
                        ),
                    },
                    Ok(Done::End(reason)) => {
                        reply(&tx, req_id, Ok(json!({})), None);
                        self.end_room(Some(member_id), reason);
                    }
                    Err(e) => reply(&tx, req_id, Err(e), None),
                }
            }
            RoomCmd::UpdateGrants {
                member_id,
                req_id,
                grants,
            } => {
                let Some(tx) = self.members.get(&member_id).map(|e| e.tx.clone()) else {
                    return;
                };
                let outcome = self.update_grants(&member_id, &grants);
                reply(&tx, req_id, outcome, None);
            }
            RoomCmd::Presence {
                member_id,
                connected,
            } => {
                let state = if connected {
                    MemberState::Active
                } else {
                    MemberState::Reconnecting
                };
                if let Some(e) = self.members.get_mut(&member_id) {
                    if e.m.state != state {
                        e.m.state = state;
                        self.member_updated(&member_id, &["state"], None);
                    }
                }
            }
            RoomCmd::Leave { member_id, reason } => {
                self.remove_member(&member_id, reason, None, None);
            }
            RoomCmd::Snapshot { member_id } => {
                if let Some(e) = self.members.get(&member_id) {
                    let snap = self.snapshot(&member_id);
                    let _ = e.tx.send(SessionMsg::Snapshot(Some(snap)));
                }
            }
            RoomCmd::Notify {
                member_id,
                method,
                params,
            } => self.notify(&member_id, &method, &params),
            RoomCmd::Media { member_id, event } => self.on_media(&member_id, event),
            RoomCmd::Shutdown => {}
        }
    }

    // ------------------------------------------------------------------ events

    fn send_to(&self, member_id: &str, ev: &Arc<EventMsg>) {
        if let Some(e) = self.members.get(member_id) {
            let _ = e.tx.send(SessionMsg::Event(ev.clone()));
        }
    }

    fn broadcast(&self, ev: &Arc<EventMsg>, except: Option<&str>) {
        for (id, e) in &self.members {
            if Some(id.as_str()) != except {
                let _ = e.tx.send(SessionMsg::Event(ev.clone()));
            }
        }
    }

    fn is_visible(&self, member_id: &str) -> bool {
        self.members
            .get(member_id)
            .is_some_and(|e| e.m.role == Role::Member)
    }

    /// Bumps the member's version and sends `member.updated` with the given fields
    /// (to everyone for a visible member, to the member alone for audience).
    fn member_updated(&mut self, member_id: &str, fields: &[&str], by: Option<&str>) {
        let Some(e) = self.members.get_mut(member_id) else {
            return;
        };
        e.m.version += 1;
        let mut data = json!({"member": partial(&e.m, fields), "updated": fields});
        if let Some(by) = by {
            data["by"] = Value::from(by);
        }
        let ev = EventMsg::new("member.updated", &data);
        if self.is_visible(member_id) {
            self.broadcast(&ev, None);
        } else {
            self.send_to(member_id, &ev);
        }
    }

    /// Bumps the track's version and sends `track.updated`.
    fn track_updated(
        &mut self,
        member_id: &str,
        track_id: &str,
        fields: &[&str],
        by: Option<&str>,
    ) {
        let Some(e) = self.members.get_mut(member_id) else {
            return;
        };
        let Some(t) = e.m.tracks.iter_mut().find(|t| t.id == track_id) else {
            return;
        };
        t.version += 1;
        let mut p = partial(t, fields);
        p["member_id"] = Value::from(member_id);
        let mut data = json!({"track": p, "updated": fields});
        if let Some(by) = by {
            data["by"] = Value::from(by);
        }
        let ev = EventMsg::new("track.updated", &data);
        if self.is_visible(member_id) && self.live_tracks.contains(track_id) {
            self.broadcast(&ev, None);
        } else {
            self.send_to(member_id, &ev);
        }
    }

    /// Recomputes `audio_muted` / `video_muted` from the tracks; sends `member.updated` on change.
    fn refresh_flags(&mut self, member_id: &str, by: Option<&str>) {
        let Some(e) = self.members.get_mut(member_id) else {
            return;
        };
        let on = |src: MediaSource| {
            e.m.tracks
                .iter()
                .any(|t| t.source == src && !t.muted && !t.blocked)
        };
        let audio_muted = !on(MediaSource::Microphone);
        let video_muted = !on(MediaSource::Camera);
        let mut changed = vec![];
        if e.m.audio_muted != audio_muted {
            e.m.audio_muted = audio_muted;
            changed.push("audio_muted");
        }
        if e.m.video_muted != video_muted {
            e.m.video_muted = video_muted;
            changed.push("video_muted");
            if self.room.hide_video_muted {
                self.layout_dirty();
            }
        }
        if !changed.is_empty() {
            self.member_updated(member_id, &changed, by);
        }
    }

    fn room_updated(&mut self, fields: &[&str], by: Option<&str>) {
        self.room.version += 1;
        let mut data = json!({"room": partial(&self.room, fields), "updated": fields});
        if let Some(by) = by {
            data["by"] = Value::from(by);
        }
        let ev = EventMsg::new("room.updated", &data);
        self.broadcast(&ev, None);
    }

    fn layout_dirty(&mut self) {
        if self.layout_deadline.is_none() {
            self.layout_deadline = Some(tokio::time::Instant::now() + LAYOUT_COALESCE);
        }
    }

    fn compute_layout(&self) -> Layout {
        let mut entries: Vec<&Entry> = self
            .members
            .values()
            .filter(|e| e.m.role == Role::Member)
            .collect();
        entries.sort_by_key(|e| e.order);
        let slots: Vec<crate::layout::Candidate> = entries
            .iter()
            .map(|e| crate::layout::Candidate {
                member_id: e.m.id.clone(),
                requested: e.m.requested_position.clone(),
                handraised: e.m.handraised,
                video_muted: e.m.video_muted,
            })
            .collect();
        crate::layout::compute(
            &self.layout.name,
            &slots,
            self.room.hide_video_muted,
            self.room.prioritize_handraise,
        )
    }

    /// Sends `layout.changed` if the layout differs from the last one sent.
    fn flush_layout(&mut self) {
        self.layout_deadline = None;
        let next = self.compute_layout();
        if next != self.layout {
            self.layout = next;
            let ev = EventMsg::new("layout.changed", &json!({"layout": self.layout}));
            self.broadcast(&ev, None);
        }
    }

    fn audience_count(&self) -> u32 {
        self.members
            .values()
            .filter(|e| e.m.role == Role::Audience)
            .count() as u32
    }

    fn flush_audience(&mut self) {
        self.audience_dirty = false;
        self.audience_last = Some(tokio::time::Instant::now());
        let ev = EventMsg::new(
            "room.audience_count",
            &json!({"total": self.audience_count()}),
        );
        self.broadcast(&ev, None);
    }

    fn room_view(&self) -> Room {
        let mut r = self.room.clone();
        r.member_count = self
            .members
            .values()
            .filter(|e| e.m.role == Role::Member)
            .count() as u32;
        r.audience_count = self.audience_count();
        r
    }

    fn snapshot(&self, member_id: &str) -> Value {
        let Some(me) = self.members.get(member_id) else {
            return Value::Null;
        };
        let mut others: Vec<&Entry> = self
            .members
            .values()
            .filter(|e| e.m.id != member_id && e.m.role == Role::Member)
            .collect();
        others.sort_by_key(|e| e.order);
        let snap = Snapshot {
            seq: 0,
            room: self.room_view(),
            self_: SelfMember {
                member: me.m.clone(),
                permissions: me.permissions.clone(),
                media_allowed: me.media_allowed.clone(),
            },
            members: others
                .iter()
                .map(|e| public_member(&e.m, &self.live_tracks))
                .collect(),
            layout: Some(self.compute_layout()),
            recordings: vec![],
            playbacks: vec![],
            streams: vec![],
        };
        to_value(&snap)
    }

    // ------------------------------------------------------------------ join / leave

    fn join(&mut self, j: JoinRequest) {
        let tx = j.tx.clone();
        let req_id = j.req_id.clone();
        match self.try_join(j) {
            Ok((snap, effect)) => reply(&tx, req_id, Ok(snap), Some(effect)),
            Err(e) => reply(&tx, req_id, Err(e), None),
        }
    }

    fn try_join(&mut self, j: JoinRequest) -> Result<(Value, Effect), RpcError> {
        if self.ended {
            return Err(err(Code::ROOM_COMPLETED, "room has ended"));
        }
        let p: m::RoomJoinParams = params(&j.params)?;
        let g = &j.grants;
        let acl_entry =
            match &self.acl {
                Some(acl) => Some(acl.get(&g.identity).cloned().ok_or_else(|| {
                    err(Code::NOT_ON_ACL, "identity not on the room's access list")
                })?),
                None => None,
            };
        let dup = self
            .members
            .values()
            .find(|e| e.m.identity == g.identity)
            .map(|e| e.m.id.clone());
        let mut role = g.role();
        if let Some(r) = acl_entry.as_ref().and_then(|a| a.role) {
            role = r;
        }
        if self.room.locked && dup.is_none() {
            return Err(err(Code::ROOM_LOCKED, "room is locked"));
        }
        if role == Role::Member {
            if let Some(max) = self.room.max_members {
                let count = self
                    .members
                    .values()
                    .filter(|e| e.m.role == Role::Member && Some(&e.m.id) != dup.as_ref())
                    .count();
                if count >= max as usize {
                    return Err(err(Code::ROOM_MAX_PARTICIPANTS_EXCEEDED, "room is full"));
                }
            }
        }
        let mut meta = g.grant.meta.clone().unwrap_or_default();
        if let Some(extra) = p.meta {
            meta.extend(extra);
        }
        meta_size_ok(&meta)?;
        let name = match p.name {
            Some(n) if g.grant.name_editable => Some(n),
            _ => g.grant.name.clone().or_else(|| Some(g.identity.clone())),
        };
        if name.as_ref().is_some_and(|n| n.len() > 256) {
            return Err(bad_params("name", "name too long"));
        }
        let mut permissions = g.grant.permissions.clone();
        let mut media_allowed = g.media_allowed();
        if let Some(a) = &acl_entry {
            if let Some(p) = &a.permissions {
                permissions = p.clone();
            }
            if let Some(s) = &a.send {
                media_allowed.send = s.clone();
            }
            if let Some(r) = &a.recv {
                media_allowed.recv = r.clone();
            }
        }

        if let Some(old) = dup {
            let info = CloseInfo {
                reason: "duplicate_identity",
                code: Code::DUPLICATE_IDENTITY,
                message: "the same identity joined from another session".into(),
                action: "disconnect",
                close_code: CloseCode::REMOVED,
                by: None,
            };
            self.remove_member(&old, "duplicate_identity", None, Some(info));
        }

        let id = new_id("mem_");
        let member = Member {
            id: id.clone(),
            identity: g.identity.clone(),
            name,
            role,
            state: MemberState::Active,
            version: 1,
            joined_at: Some(now_ms()),
            audio_muted: true,
            video_muted: true,
            deaf: false,
            visible: role == Role::Member,
            handraised: false,
            talking: false,
            input_volume: 0,
            output_volume: 0,
            input_sensitivity: Some(30),
            requested_position: Some("auto".into()),
            current_position: None,
            meta,
            capabilities: vec![],
            tracks: vec![],
        };
        self.next_order += 1;
        let entry = Entry {
            m: member,
            tx: j.tx.clone(),
            permissions,
            media_allowed,
            join_audio_muted: p.join_audio_muted.unwrap_or(g.grant.join_audio_muted),
            join_video_muted: p.join_video_muted.unwrap_or(g.grant.join_video_muted),
            audio_blocked: false,
            video_blocked: false,
            end_room_on_leave: g.grant.end_room_on_leave,
            order: self.next_order,
            session_id: j.session_id.clone(),
            auto_subscribe: p.auto_subscribe.unwrap_or(true),
            receive_audio: p.receive.as_ref().is_none_or(|r| r.audio),
            receive_video: p.receive.as_ref().is_none_or(|r| r.video),
            subs: BTreeMap::new(),
            opt_out: HashSet::new(),
        };
        let public = public_member(&entry.m, &self.live_tracks);
        self.members.insert(id.clone(), entry);
        if role == Role::Member {
            let ev = EventMsg::new("member.joined", &json!({"member": public}));
            self.broadcast(&ev, Some(&id));
            // Membership-driven layout changes are coalesced; the joiner's snapshot is fresh.
            self.layout_dirty();
        } else {
            self.audience_dirty = true;
        }
        debug!(room = %self.room.name, member = %id, identity = %g.identity, "joined");
        self.media_join(&id);
        let snap = self.snapshot(&id);
        let room = j
            .room
            .clone()
            .ok_or_else(|| err(Code::INTERNAL_ERROR, "room handle missing"))?;
        Ok((
            snap,
            Effect::Joined {
                room,
                member_id: id,
            },
        ))
    }

    /// Removes a member: its tracks are unpublished, others get `member.left`, and with
    /// `close` its session is told to close.
    fn remove_member(
        &mut self,
        member_id: &str,
        reason: &str,
        by: Option<&str>,
        close: Option<CloseInfo>,
    ) {
        let Some(entry) = self.members.remove(member_id) else {
            return;
        };
        let visible = entry.m.role == Role::Member;
        if visible {
            for t in &entry.m.tracks {
                if self.live_tracks.remove(&t.id) {
                    let ev = EventMsg::new(
                        "track.unpublished",
                        &json!({"track_id": t.id, "member_id": member_id, "reason": "left"}),
                    );
                    self.broadcast(&ev, None);
                }
            }
            let mut data = json!({"member_id": member_id, "reason": reason});
            if let Some(by) = by {
                data["by"] = Value::from(by);
            }
            let ev = EventMsg::new("member.left", &data);
            self.broadcast(&ev, None);
            self.layout_dirty();
        } else {
            self.audience_dirty = true;
        }
        for t in &entry.m.tracks {
            self.live_tracks.remove(&t.id);
            for e in self.members.values_mut() {
                e.subs.remove(&t.id);
            }
        }
        for tid in entry.subs.keys() {
            self.subscriber_count_changed(tid);
        }
        if let Some(q) = &self.media {
            // Closing the media session stops its tracks and subscriptions.
            let sid = entry.session_id.clone();
            q.run("close_session", move |h| async move {
                h.close_session(&sid).await
            });
        }
        if let Some(info) = close {
            let _ = entry.tx.send(SessionMsg::Close(info));
        }
        debug!(room = %self.room.name, member = %member_id, reason, "left");
        if entry.end_room_on_leave && reason == "left" {
            self.end_room(None, None);
        }
    }

    fn end_room(&mut self, by: Option<String>, reason: Option<String>) {
        self.ended = true;
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            if let Some(e) = self.members.remove(&id) {
                if let Some(q) = &self.media {
                    let sid = e.session_id.clone();
                    q.run("close_session", move |h| async move {
                        h.close_session(&sid).await
                    });
                }
                let _ = e.tx.send(SessionMsg::Close(CloseInfo {
                    reason: "room_ended",
                    code: Code::ROOM_COMPLETED,
                    message: reason
                        .clone()
                        .unwrap_or_else(|| "the room has ended".into()),
                    action: "disconnect",
                    close_code: CloseCode::ROOM_ENDED,
                    by: by.clone(),
                }));
            }
        }
        self.live_tracks.clear();
        info!(room = %self.room.name, "room ended");
    }

    fn update_grants(&mut self, member_id: &str, g: &Grants) -> Result<Value, RpcError> {
        let Some(e) = self.members.get_mut(member_id) else {
            return Err(err(Code::NOT_JOINED, "not joined"));
        };
        e.permissions = g.grant.permissions.clone();
        e.media_allowed = g.media_allowed();
        let role = e.m.role;
        let data =
            json!({"role": role, "permissions": e.permissions, "media_allowed": e.media_allowed});
        let ev = EventMsg::new("self.permissions_changed", &data);
        self.send_to(member_id, &ev);
        self.enforce_media_allowed(member_id, None);
        Ok(json!({
            "expires_at": g.expires_at_ms,
            "role": role,
            "permissions": g.grant.permissions,
            "media_allowed": g.media_allowed(),
        }))
    }

    /// Unpublishes tracks whose source is no longer allowed.
    fn enforce_media_allowed(&mut self, member_id: &str, by: Option<&str>) {
        let Some(e) = self.members.get_mut(member_id) else {
            return;
        };
        let allowed = e.media_allowed.clone();
        let revoked: Vec<String> =
            e.m.tracks
                .iter()
                .filter(|t| !allowed.can_send(t.source))
                .map(|t| t.id.clone())
                .collect();
        for tid in revoked {
            self.unpublish(member_id, &tid, "permission_revoked");
        }
        // Kinds no longer receivable are unsubscribed.
        let lost: Vec<String> = self
            .members
            .get(member_id)
            .map(|e| e.subs.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|tid| {
                self.find_track(tid)
                    .is_some_and(|t| !allowed.can_recv(t.kind.media_kind()))
            })
            .collect();
        let mut states = vec![];
        for tid in lost {
            self.unsubscribe(member_id, &tid);
            states.push(failed_sub(&tid, Code::SUBSCRIPTION_NOT_ALLOWED));
        }
        self.sub_updated(member_id, states);
        let _ = by;
    }

    fn unpublish(&mut self, member_id: &str, track_id: &str, reason: &str) {
        let Some(e) = self.members.get_mut(member_id) else {
            return;
        };
        e.m.tracks.retain(|t| t.id != track_id);
        let was_live = self.live_tracks.remove(track_id);
        self.drop_track_media(track_id);
        let ev = EventMsg::new(
            "track.unpublished",
            &json!({"track_id": track_id, "member_id": member_id, "reason": reason}),
        );
        if was_live && self.is_visible(member_id) {
            self.broadcast(&ev, None);
        } else {
            self.send_to(member_id, &ev);
        }
        self.refresh_flags(member_id, None);
    }

    // ------------------------------------------------------------------ media

    /// Stops a track at the engine and forgets every subscription to it.
    fn drop_track_media(&mut self, track_id: &str) {
        for e in self.members.values_mut() {
            e.subs.remove(track_id);
        }
        if let Some(q) = &self.media {
            let tid = track_id.to_string();
            q.run("unpublish_track", move |h| async move {
                h.unpublish_track(&tid).await
            });
        }
    }

    /// Creates the member's media session (its sub PC), hands the event stream to the session
    /// and subscribes it to what it may receive.
    fn media_join(&mut self, member_id: &str) {
        let Some(q) = &self.media else { return };
        let Some(e) = self.members.get(member_id) else {
            return;
        };
        let spec = media::SessionSpec::new(e.session_id.clone(), member_id, self.room.id.clone());
        let tx = e.tx.clone();
        q.run("create_session", move |h| async move {
            let events = h.create_session(spec).await?;
            let _ = tx.send(SessionMsg::MediaEvents(events));
            Ok(())
        });
        let live: Vec<(String, String)> = self
            .members
            .values()
            .filter(|o| o.m.id != member_id && o.m.role == Role::Member)
            .flat_map(|o| {
                o.m.tracks
                    .iter()
                    .map(move |t| (o.m.id.clone(), t.id.clone()))
            })
            .filter(|(_, tid)| self.live_tracks.contains(tid))
            .collect();
        for (_, tid) in live {
            self.auto_subscribe(member_id, &tid);
        }
    }

    /// Whether `member_id` may receive track `track_id` (kind allowed, not its own).
    fn may_receive(&self, member_id: &str, track: &Track) -> Result<(), Code> {
        let Some(e) = self.members.get(member_id) else {
            return Err(Code::MEMBER_NOT_FOUND);
        };
        if track.member_id == member_id {
            return Err(Code::SUBSCRIPTION_NOT_ALLOWED);
        }
        let kind = track.kind.media_kind();
        if !e.media_allowed.can_recv(kind)
            || (kind == MediaKind::Audio && !e.receive_audio)
            || (kind == MediaKind::Video && !e.receive_video)
        {
            return Err(Code::SUBSCRIPTION_NOT_ALLOWED);
        }
        Ok(())
    }

    fn find_track(&self, track_id: &str) -> Option<&Track> {
        self.members
            .values()
            .flat_map(|e| e.m.tracks.iter())
            .find(|t| t.id == track_id)
    }

    /// Subscribes when the member auto-subscribes, may receive and has not opted out.
    fn auto_subscribe(&mut self, member_id: &str, track_id: &str) {
        let Some(e) = self.members.get(member_id) else {
            return;
        };
        if !e.auto_subscribe || e.opt_out.contains(track_id) {
            return;
        }
        let Some(track) = self.find_track(track_id).cloned() else {
            return;
        };
        if self.may_receive(member_id, &track).is_err() {
            return;
        }
        self.subscribe(member_id, &track);
    }

    /// Starts a subscription (state `pending` until the engine reports it active).
    fn subscribe(&mut self, member_id: &str, track: &Track) -> SubscriptionState {
        let Some(e) = self.members.get_mut(member_id) else {
            return failed_sub(&track.id, Code::MEMBER_NOT_FOUND);
        };
        if let Some(st) = e.subs.get(&track.id) {
            return st.clone();
        }
        let st = SubscriptionState {
            track_id: track.id.clone(),
            state: SubState::Pending,
            mid: None,
            paused: false,
            max_width: None,
            max_height: None,
            max_fps: None,
            priority: None,
            error: None,
        };
        e.subs.insert(track.id.clone(), st.clone());
        let sid = e.session_id.clone();
        let tid = track.id.clone();
        let tx = e.tx.clone();
        self.subscriber_count_changed(&track.id);
        if let Some(q) = &self.media {
            q.run("subscribe", move |h| async move {
                if let Err(err) = h.subscribe(&sid, &tid).await {
                    let st = failed_sub(&tid, Code(err.code));
                    let ev = EventMsg::new("sub.updated", &json!({"subscriptions": [st]}));
                    let _ = tx.send(SessionMsg::Event(ev));
                    return Err(err);
                }
                Ok(())
            });
        }
        st
    }

    fn unsubscribe(&mut self, member_id: &str, track_id: &str) {
        let Some(e) = self.members.get_mut(member_id) else {
            return;
        };
        if e.subs.remove(track_id).is_some() {
            let sid = e.session_id.clone();
            let tid = track_id.to_string();
            if let Some(q) = &self.media {
                q.run("unsubscribe", move |h| async move {
                    h.unsubscribe(&sid, &tid).await
                });
            }
            self.subscriber_count_changed(track_id);
        }
    }

    /// Sends `track.subscribed` to the track's owner when its subscriber count moves between
    /// 0 and 1.
    fn subscriber_count_changed(&self, track_id: &str) {
        let count = self
            .members
            .values()
            .filter(|e| e.subs.contains_key(track_id))
            .count();
        if count > 1 {
            return;
        }
        let Some(owner) = self.find_track(track_id).map(|t| t.member_id.clone()) else {
            return;
        };
        let ev = EventMsg::new(
            "track.subscribed",
            &json!({"track_id": track_id, "subscriber_count": count}),
        );
        self.send_to(&owner, &ev);
    }

    fn sub_updated(&self, member_id: &str, subs: Vec<SubscriptionState>) {
        if subs.is_empty() {
            return;
        }
        let ev = EventMsg::new("sub.updated", &json!({"subscriptions": subs}));
        self.send_to(member_id, &ev);
    }

    /// Media events that change room state.
    fn on_media(&mut self, member_id: &str, event: MediaEvent) {
        match event {
            MediaEvent::TrackLive { track_id } => {
                let owned = self
                    .members
                    .get(member_id)
                    .is_some_and(|e| e.m.tracks.iter().any(|t| t.id == track_id));
                if owned {
                    self.go_live(member_id, &track_id);
                }
            }
            MediaEvent::SubscriptionActive { track_id, mid } => {
                let Some(e) = self.members.get_mut(member_id) else {
                    return;
                };
                let Some(st) = e.subs.get_mut(&track_id) else {
                    return;
                };
                st.state = if st.paused {
                    SubState::Paused
                } else {
                    SubState::Active
                };
                st.mid = mid;
                st.error = None;
                let st = st.clone();
                self.sub_updated(member_id, vec![st]);
            }
            MediaEvent::SubscriptionFailed { track_id, code } => {
                let Some(e) = self.members.get_mut(member_id) else {
                    return;
                };
                let st = failed_sub(&track_id, Code(code));
                e.subs.insert(track_id, st.clone());
                self.sub_updated(member_id, vec![st]);
            }
            MediaEvent::Talking {
                member_id: talker,
                talking,
            } if talker == member_id => {
                if let Some(e) = self.members.get_mut(member_id) {
                    // Volatile state: member.talking carries it; no version bump.
                    e.m.talking = talking;
                }
            }
            _ => {}
        }
    }

    /// Client notifications (`ice.candidate`).
    fn notify(&mut self, member_id: &str, method: &str, p: &Value) {
        if method != "ice.candidate" {
            return;
        }
        let (Some(q), Some(e)) = (&self.media, self.members.get(member_id)) else {
            return;
        };
        let Ok(c) = serde_json::from_value::<m::IceCandidate>(p.clone()) else {
            debug!(member = %member_id, "ignoring malformed ice.candidate");
            return;
        };
        let pc = match c.pc {
            ovsp::model::PcKind::Pub => media::PcKind::Pub,
            ovsp::model::PcKind::Sub => media::PcKind::Sub,
            _ => return,
        };
        let sid = e.session_id.clone();
        q.run("remote_candidate", move |h| async move {
            h.remote_candidate(&sid, pc, c.candidate).await
        });
    }

    /// Sets a track's owner mute (`muted`) or moderator block (`blocked`); on a change, emits
    /// `track.updated` and applies it to the media. The one path for both flags.
    fn set_track_flag(
        &mut self,
        owner: &str,
        track_id: &str,
        flag: TrackFlag,
        value: bool,
        by: Option<&str>,
    ) {
        let Some(t) = self
            .members
            .get_mut(owner)
            .and_then(|e| e.m.tracks.iter_mut().find(|t| t.id == track_id))
        else {
            return;
        };
        let (slot, field) = match flag {
            TrackFlag::Muted => (&mut t.muted, "muted"),
            TrackFlag::Blocked => (&mut t.blocked, "blocked"),
        };
        if *slot == value {
            return;
        }
        *slot = value;
        self.track_updated(owner, track_id, &[field], by);
        match flag {
            TrackFlag::Muted => self.media_set_muted(track_id, value),
            TrackFlag::Blocked => self.media_set_blocked(track_id, value),
        }
    }

    fn media_set_muted(&self, track_id: &str, muted: bool) {
        if let Some(q) = &self.media {
            let tid = track_id.to_string();
            q.run("set_muted", move |h| async move {
                h.set_muted(&tid, muted).await
            });
        }
    }

    fn media_set_blocked(&self, track_id: &str, blocked: bool) {
        if let Some(q) = &self.media {
            let tid = track_id.to_string();
            q.run("set_blocked", move |h| async move {
                h.set_blocked(&tid, blocked).await
            });
        }
    }

    fn media_session_call<F, Fut>(&self, member_id: &str, what: &'static str, f: F)
    where
        F: FnOnce(MediaHandle, String) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), media::MediaError>> + Send + 'static,
    {
        let (Some(q), Some(e)) = (&self.media, self.members.get(member_id)) else {
            return;
        };
        let sid = e.session_id.clone();
        q.run(what, move |h| f(h, sid));
    }

    /// `pub.offer`, `pub.reset`, `sub.answer`, `sub.ice_restart`, `sub.reset`.
    fn negotiation(&mut self, caller: &str, method: &str, p: &Value) -> Result<Done, RpcError> {
        let Some(e) = self.members.get(caller) else {
            return Err(err(Code::NOT_JOINED, "not joined"));
        };
        let sid = e.session_id.clone();
        match method {
            "pub.offer" => {
                let v: m::PubOfferParams = params(p)?;
                let mut mids = BTreeMap::new();
                for (mid, key) in &v.mids {
                    let t =
                        e.m.tracks
                            .iter()
                            .find(|t| &t.id == key || t.cid.as_deref() == Some(key.as_str()))
                            .ok_or_else(|| {
                                err(
                                    Code::MIDS_INCONSISTENT,
                                    format!("mid {mid}: unknown track {key}"),
                                )
                                .with_field("mids")
                            })?;
                    let kind = media_kind(t.kind)
                        .filter(|k| *k != media::TrackKind::Data)
                        .ok_or_else(|| {
                            err(
                                Code::MIDS_INCONSISTENT,
                                format!("mid {mid}: not a media track"),
                            )
                            .with_field("mids")
                        })?;
                    mids.insert(
                        mid.clone(),
                        media::PubMid {
                            track_id: t.id.clone(),
                            kind,
                        },
                    );
                }
                let offer = media::PubOffer {
                    offer_id: v.offer_id,
                    sdp: v.sdp,
                    mids,
                    ice_restart: v.ice_restart.unwrap_or(false),
                };
                let offer_id = v.offer_id;
                Ok(Done::Media(Box::new(move |q, tx, id| {
                    q.answer(tx, id, move |h| async move {
                        let sdp = h.pub_offer(&sid, offer).await?;
                        Ok(json!({"offer_id": offer_id, "sdp": sdp}))
                    })
                })))
            }
            "sub.answer" => {
                let v: m::SubAnswerParams = params(p)?;
                Ok(Done::Media(Box::new(move |q, tx, id| {
                    q.answer(tx, id, move |h| async move {
                        h.sub_answer(&sid, v.offer_id, v.sdp).await?;
                        Ok(json!({}))
                    })
                })))
            }
            "pub.reset" | "sub.ice_restart" | "sub.reset" => {
                let _: m::Empty = params(p)?;
                let method = method.to_string();
                Ok(Done::Media(Box::new(move |q, tx, id| {
                    q.answer(tx, id, move |h| async move {
                        match method.as_str() {
                            "pub.reset" => h.pub_reset(&sid).await?,
                            "sub.ice_restart" => h.sub_ice_restart(&sid).await?,
                            _ => h.sub_reset(&sid).await?,
                        }
                        Ok(json!({}))
                    })
                })))
            }
            _ => Err(err(Code::METHOD_NOT_FOUND, "method not found")),
        }
    }

    /// `sub.update`: add/remove subscriptions, change settings.
    fn sub_update(&mut self, caller: &str, p: &Value) -> Result<Done, RpcError> {
        let v: m::SubUpdateParams = params(p)?;
        if self.media.is_none() {
            return Err(err(
                Code::METHOD_NOT_FOUND,
                "media is not enabled on this server",
            ));
        }
        let mut out: Vec<SubscriptionState> = vec![];
        let resolve = |this: &Self, t: &m::SubTarget| -> Vec<Result<Track, (String, Code)>> {
            if let Some(tid) = &t.track_id {
                return vec![match this.find_track(tid) {
                    Some(tr) if this.live_tracks.contains(tid) => Ok(tr.clone()),
                    _ => Err((tid.clone(), Code::TRACK_NOT_FOUND)),
                }];
            }
            let Some(mid) = &t.member_id else {
                return vec![];
            };
            let Some(owner) = this.members.get(mid) else {
                return vec![Err((mid.clone(), Code::MEMBER_NOT_FOUND))];
            };
            owner
                .m
                .tracks
                .iter()
                .filter(|tr| this.live_tracks.contains(&tr.id))
                .filter(|tr| t.stream_key.is_none() || tr.stream_key == t.stream_key)
                .filter(|tr| {
                    t.kinds
                        .as_ref()
                        .is_none_or(|k| k.contains(&tr.kind.media_kind()))
                })
                .cloned()
                .map(Ok)
                .collect()
        };
        for t in &v.remove {
            for r in resolve(self, t) {
                let Ok(track) = r else { continue };
                self.unsubscribe(caller, &track.id);
                if let Some(e) = self.members.get_mut(caller) {
                    e.opt_out.insert(track.id.clone());
                }
                let mut st = failed_sub(&track.id, Code::TRACK_NOT_FOUND);
                st.state = SubState::Paused;
                st.paused = true;
                st.error = None;
                out.push(st);
            }
        }
        for t in &v.add {
            for r in resolve(self, t) {
                match r {
                    Ok(track) => {
                        if let Err(code) = self.may_receive(caller, &track) {
                            out.push(failed_sub(&track.id, code));
                            continue;
                        }
                        if let Some(e) = self.members.get_mut(caller) {
                            e.opt_out.remove(&track.id);
                        }
                        out.push(self.subscribe(caller, &track));
                    }
                    Err((id, code)) => out.push(failed_sub(&id, code)),
                }
            }
        }
        for s in &v.settings {
            let Some(e) = self.members.get_mut(caller) else {
                break;
            };
            let Some(st) = e.subs.get_mut(&s.track_id) else {
                out.push(failed_sub(&s.track_id, Code::TRACK_NOT_FOUND));
                continue;
            };
            if let Some(w) = s.max_width {
                st.max_width = Some(w);
            }
            if let Some(hh) = s.max_height {
                st.max_height = Some(hh);
            }
            if let Some(f) = s.max_fps {
                st.max_fps = Some(f);
            }
            if let Some(pr) = s.priority {
                st.priority = Some(pr);
            }
            if s.max_width.is_some() || s.max_height.is_some() || s.max_fps.is_some() {
                let limits = crate::media::LayerLimits {
                    max_width: st.max_width,
                    max_height: st.max_height,
                    max_fps: st.max_fps,
                };
                let (sid, tid) = (e.session_id.clone(), s.track_id.clone());
                if let Some(q) = &self.media {
                    q.run("set_layer_limits", move |h| async move {
                        h.set_layer_limits(&sid, &tid, limits).await
                    });
                }
            }
            if let Some(paused) = s.paused {
                if st.paused != paused {
                    st.paused = paused;
                    if st.state != SubState::Pending && st.state != SubState::Failed {
                        st.state = if paused {
                            SubState::Paused
                        } else {
                            SubState::Active
                        };
                    }
                    let (sid, tid) = (e.session_id.clone(), s.track_id.clone());
                    if let Some(q) = &self.media {
                        q.run("set_paused", move |h| async move {
                            h.set_paused(&sid, &tid, paused).await
                        });
                    }
                }
            }
            out.push(st.clone());
        }
        Ok(Done::Reply(json!({"subscriptions": out})))
    }

    // ------------------------------------------------------------------ requests

    fn check_permissions(
        &self,
        caller: &str,
        info: &MethodInfo,
        p: &Value,
    ) -> Result<(), RpcError> {
        let Some(e) = self.members.get(caller) else {
            return Err(err(Code::NOT_JOINED, "not joined"));
        };
        if info.permission == PermRule::MemberRole && e.m.role != Role::Member {
            return Err(err(
                Code::ROLE_NOT_ALLOWED,
                "audience members cannot publish",
            ));
        }
        if let PermRule::Toggle { field, .. } = info.permission {
            if !p.get(field).is_some_and(Value::is_boolean) {
                return Err(bad_params(field, format!("{field} must be a boolean")));
            }
        }
        for perm in ovsp::perm::required_permissions(info.name, caller, &p.clone().into()) {
            // `room.subscribe` is implied unless media_allowed.recv is empty.
            let implied = perm == "room.subscribe" && !e.media_allowed.recv.is_empty();
            if !implied && !ovsp::perm::has_permission(&e.permissions, &perm) {
                return Err(err(Code::PERMISSION_DENIED, "permission denied").with_permission(perm));
            }
        }
        Ok(())
    }

    fn target(&self, caller: &str, member_id: Option<&str>) -> Result<String, RpcError> {
        let id = member_id.unwrap_or(caller);
        if self.members.contains_key(id) {
            Ok(id.to_string())
        } else {
            Err(err(Code::MEMBER_NOT_FOUND, "member not found").with_field("member_id"))
        }
    }

    fn request(&mut self, caller: &str, method: &str, p: &Value) -> Result<Done, RpcError> {
        let info = m::method_info(method)
            .ok_or_else(|| err(Code::METHOD_NOT_FOUND, "method not found"))?;
        self.check_permissions(caller, info, p)?;
        let ok = |v: Value| Ok(Done::Reply(v));
        let empty = || Ok(Done::Reply(json!({})));
        match method {
            "room.leave" => {
                let _: m::ReasonParams = params(p)?;
                self.remove_member(caller, "left", None, None);
                Ok(Done::Left)
            }
            "room.get" => ok(self.snapshot(caller)),
            "room.lock" | "room.unlock" => {
                let locked = method == "room.lock";
                if self.room.locked != locked {
                    self.room.locked = locked;
                    self.room_updated(&["locked"], Some(caller));
                }
                empty()
            }
            "room.end" => {
                let r: m::ReasonParams = params(p)?;
                Ok(Done::End(r.reason))
            }
            "room.configure" => {
                let c: m::RoomConfigureParams = params(p)?;
                let mut fields = vec![];
                if let Some(layout) = &c.default_layout {
                    if !crate::layout::exists(layout) {
                        return Err(err(Code::LAYOUT_NOT_FOUND, "layout not found")
                            .with_field("default_layout"));
                    }
                }
                if let Some(max) = c.max_members {
                    self.room.max_members = if max == 0 { None } else { Some(max) };
                    fields.push("max_members");
                }
                if let Some(v) = c.hide_video_muted {
                    self.room.hide_video_muted = v;
                    fields.push("hide_video_muted");
                }
                if let Some(v) = c.prioritize_handraise {
                    self.room.prioritize_handraise = v;
                    fields.push("prioritize_handraise");
                }
                if let Some(layout) = c.default_layout {
                    self.room.layout_name = Some(layout.clone());
                    self.layout.name = layout;
                    fields.push("layout_name");
                }
                if !fields.is_empty() {
                    self.room_updated(&fields, Some(caller));
                    self.flush_layout();
                }
                ok(json!({"room": self.room_view()}))
            }
            "room.set_hide_video_muted" => {
                let v: m::RoomSetHideVideoMutedParams = params(p)?;
                if self.room.hide_video_muted != v.value {
                    self.room.hide_video_muted = v.value;
                    self.room_updated(&["hide_video_muted"], Some(caller));
                    self.flush_layout();
                }
                empty()
            }
            "room.set_prioritize_handraise" => {
                let v: m::RoomSetPrioritizeHandraiseParams = params(p)?;
                if self.room.prioritize_handraise != v.enable {
                    self.room.prioritize_handraise = v.enable;
                    self.room_updated(&["prioritize_handraise"], Some(caller));
                    self.flush_layout();
                }
                empty()
            }
            "room.set_meta" | "room.update_meta" => {
                let v: m::MetaParams = params(p)?;
                let mut meta = if method == "room.set_meta" {
                    Meta::new()
                } else {
                    self.room.meta.clone()
                };
                meta.extend(v.meta);
                meta_size_ok(&meta)?;
                self.room.meta = meta;
                self.room_updated(&["meta"], Some(caller));
                empty()
            }
            "room.delete_meta" => {
                let v: m::DeleteMetaParams = params(p)?;
                for k in &v.keys {
                    self.room.meta.remove(k);
                }
                self.room_updated(&["meta"], Some(caller));
                empty()
            }
            "room.get_meta" => ok(json!({"meta": self.room.meta})),
            "room.acl.update" => self.acl_update(caller, p),
            "room.acl.get" => {
                let entries: Vec<&m::AclEntry> = self.acl.iter().flat_map(|a| a.values()).collect();
                ok(json!({"enabled": self.acl.is_some(), "entries": entries}))
            }
            "member.list" => {
                let mut list: Vec<&Entry> = self
                    .members
                    .values()
                    .filter(|e| e.m.role == Role::Member)
                    .collect();
                list.sort_by_key(|e| e.order);
                let members: Vec<Member> = list
                    .iter()
                    .map(|e| {
                        if e.m.id == caller {
                            e.m.clone()
                        } else {
                            public_member(&e.m, &self.live_tracks)
                        }
                    })
                    .collect();
                ok(json!({"members": members}))
            }
            "member.audio_mute"
            | "member.audio_unmute"
            | "member.video_mute"
            | "member.video_unmute" => {
                let t: m::MemberTarget = params(p)?;
                let target = self.target(caller, t.member_id.as_deref())?;
                let audio = method.starts_with("member.audio");
                let mute = method.ends_with("_mute");
                self.mute(caller, &target, audio, mute);
                empty()
            }
            "member.deaf" | "member.undeaf" => {
                let t: m::MemberTarget = params(p)?;
                let target = self.target(caller, t.member_id.as_deref())?;
                let deaf = method == "member.deaf";
                if let Some(e) = self.members.get_mut(&target) {
                    if e.m.deaf != deaf {
                        e.m.deaf = deaf;
                        self.member_updated(&target, &["deaf"], Some(caller));
                        self.media_session_call(&target, "set_deaf", move |h, sid| async move {
                            h.set_deaf(&sid, deaf).await
                        });
                    }
                }
                // As in SignalWire, deaf also mutes the microphone and undeaf unmutes it.
                self.mute(caller, &target, true, deaf);
                empty()
            }
            "member.set_input_volume" | "member.set_output_volume" => {
                let v: m::MemberVolumeParams = params(p)?;
                if !(-50..=50).contains(&v.volume) {
                    return Err(bad_params("volume", "volume must be within -50..50"));
                }
                let target = self.target(caller, v.member_id.as_deref())?;
                let input = method == "member.set_input_volume";
                if let Some(e) = self.members.get_mut(&target) {
                    if input {
                        e.m.input_volume = v.volume;
                    } else {
                        e.m.output_volume = v.volume;
                    }
                }
                let field = if input {
                    "input_volume"
                } else {
                    "output_volume"
                };
                self.member_updated(&target, &[field], Some(caller));
                empty()
            }
            "member.set_input_sensitivity" => {
                let v: m::MemberSetInputSensitivityParams = params(p)?;
                if !(0..=100).contains(&v.value) {
                    return Err(bad_params("value", "sensitivity must be within 0..100"));
                }
                let target = self.target(caller, v.member_id.as_deref())?;
                if let Some(e) = self.members.get_mut(&target) {
                    e.m.input_sensitivity = Some(v.value);
                }
                self.member_updated(&target, &["input_sensitivity"], Some(caller));
                let value = v.value.clamp(0, 100) as u8;
                self.media_session_call(&target, "set_sensitivity", move |h, sid| async move {
                    h.set_sensitivity(&sid, value).await
                });
                empty()
            }
            "member.set_position" => {
                let v: m::MemberSetPositionParams = params(p)?;
                let target = self.target(caller, v.member_id.as_deref())?;
                self.set_positions(caller, &BTreeMap::from([(target, v.position)]))?;
                empty()
            }
            "member.remove" => {
                let v: m::MemberRemoveParams = params(p)?;
                let targets: Vec<String> = if v.member_id == m::REMOVE_ALL {
                    self.members
                        .keys()
                        .filter(|id| *id != caller)
                        .cloned()
                        .collect()
                } else {
                    vec![self.target(caller, Some(&v.member_id))?]
                };
                for t in targets {
                    let info = CloseInfo {
                        reason: "removed",
                        code: Code::REMOVED,
                        message: v
                            .reason
                            .clone()
                            .unwrap_or_else(|| "removed from the room".into()),
                        action: "disconnect",
                        close_code: CloseCode::REMOVED,
                        by: Some(caller.to_string()),
                    };
                    self.remove_member(&t, "removed", Some(caller), Some(info));
                }
                empty()
            }
            "member.promote" => self.promote(caller, p),
            "member.demote" => self.demote(caller, p),
            "member.raise_hand" | "member.lower_hand" => {
                let t: m::MemberTarget = params(p)?;
                let target = self.target(caller, t.member_id.as_deref())?;
                let raised = method == "member.raise_hand";
                if let Some(e) = self.members.get_mut(&target) {
                    if e.m.handraised != raised {
                        e.m.handraised = raised;
                        self.member_updated(&target, &["handraised"], Some(caller));
                        if self.room.prioritize_handraise {
                            self.flush_layout();
                        }
                    }
                }
                empty()
            }
            "member.set_meta" | "member.update_meta" => {
                let v: m::MemberMetaParams = params(p)?;
                let target = self.target(caller, v.member_id.as_deref())?;
                let Some(e) = self.members.get_mut(&target) else {
                    return Err(err(Code::MEMBER_NOT_FOUND, "member not found"));
                };
                let mut meta = if method == "member.set_meta" {
                    Meta::new()
                } else {
                    e.m.meta.clone()
                };
                meta.extend(v.meta);
                meta_size_ok(&meta)?;
                e.m.meta = meta;
                self.member_updated(&target, &["meta"], Some(caller));
                empty()
            }
            "member.delete_meta" => {
                let v: m::MemberDeleteMetaParams = params(p)?;
                let target = self.target(caller, v.member_id.as_deref())?;
                if let Some(e) = self.members.get_mut(&target) {
                    for k in &v.keys {
                        e.m.meta.remove(k);
                    }
                }
                self.member_updated(&target, &["meta"], Some(caller));
                empty()
            }
            "member.get_meta" => {
                let t: m::MemberTarget = params(p)?;
                let target = self.target(caller, t.member_id.as_deref())?;
                if target != caller && !self.is_visible(&target) {
                    return Err(err(Code::MEMBER_NOT_FOUND, "member not found"));
                }
                let meta = self
                    .members
                    .get(&target)
                    .map(|e| e.m.meta.clone())
                    .unwrap_or_default();
                ok(json!({"meta": meta}))
            }
            "member.set_permissions" => {
                let v: m::MemberSetPermissionsParams = params(p)?;
                let target = self.target(caller, Some(&v.member_id))?;
                let Some(e) = self.members.get_mut(&target) else {
                    return Err(err(Code::MEMBER_NOT_FOUND, "member not found"));
                };
                if let Some(perms) = v.permissions {
                    e.permissions = perms;
                }
                if let Some(ma) = v.media_allowed {
                    e.media_allowed = ma;
                }
                let data = json!({"role": e.m.role, "permissions": e.permissions, "media_allowed": e.media_allowed});
                let ev = EventMsg::new("self.permissions_changed", &data);
                self.send_to(&target, &ev);
                self.enforce_media_allowed(&target, Some(caller));
                empty()
            }
            "track.publish" => self.publish(caller, p),
            "track.unpublish" => {
                let v: m::TrackIdParams = params(p)?;
                self.owned_track(caller, &v.track_id)?;
                self.unpublish(caller, &v.track_id, "unpublished");
                empty()
            }
            "track.mute" => self.track_mute(caller, p),
            "track.update" => self.track_update(caller, p),
            "layout.list" => ok(json!({"layouts": crate::layout::list()})),
            "layout.set" => {
                let v: m::LayoutSetParams = params(p)?;
                if !crate::layout::exists(&v.name) {
                    return Err(err(Code::LAYOUT_NOT_FOUND, "layout not found").with_field("name"));
                }
                if let Some(pos) = &v.positions {
                    self.validate_positions(pos)?;
                }
                if self.layout.name != v.name {
                    self.layout.name = v.name.clone();
                    self.room.layout_name = Some(v.name);
                    self.room_updated(&["layout_name"], Some(caller));
                }
                if let Some(pos) = v.positions {
                    self.set_positions(caller, &pos)?;
                }
                self.flush_layout();
                empty()
            }
            "layout.set_positions" => {
                let v: m::LayoutSetPositionsParams = params(p)?;
                self.set_positions(caller, &v.positions)?;
                empty()
            }
            "message.send" => self.message_send(caller, p),
            "pub.offer" | "pub.reset" | "sub.answer" | "sub.ice_restart" | "sub.reset" => {
                self.negotiation(caller, method, p)
            }
            "sub.update" => self.sub_update(caller, p),
            _ => Err(err(
                Code::METHOD_NOT_FOUND,
                format!("method not enabled: {method}"),
            )),
        }
    }

    /// Mute/unmute with the B8.3 rules: self acts on `muted`, a moderator on `blocked`.
    fn mute(&mut self, caller: &str, target: &str, audio: bool, mute: bool) {
        let source = if audio {
            MediaSource::Microphone
        } else {
            MediaSource::Camera
        };
        let by = (caller != target).then_some(caller);
        let Some(e) = self.members.get_mut(target) else {
            return;
        };
        let ids: Vec<String> =
            e.m.tracks
                .iter()
                .filter(|t| t.source == source)
                .map(|t| t.id.clone())
                .collect();
        if caller == target {
            for tid in ids {
                self.set_track_flag(target, &tid, TrackFlag::Muted, mute, None);
            }
            if let Some(e) = self.members.get_mut(target) {
                if audio {
                    e.join_audio_muted = mute;
                } else {
                    e.join_video_muted = mute;
                }
            }
        } else {
            if audio {
                e.audio_blocked = mute;
            } else {
                e.video_blocked = mute;
            }
            for tid in ids {
                self.set_track_flag(target, &tid, TrackFlag::Blocked, mute, by);
            }
            if !mute {
                let kind = if audio { "audio" } else { "video" };
                let ev = EventMsg::new(
                    "self.unmute_requested",
                    &json!({"kind": kind, "by": caller}),
                );
                self.send_to(target, &ev);
            }
        }
        self.refresh_flags(target, by);
    }

    fn validate_positions(&self, pos: &BTreeMap<String, String>) -> Result<(), RpcError> {
        for (mid, position) in pos {
            if !self.is_visible(mid) {
                return Err(
                    err(Code::MEMBER_NOT_FOUND, format!("member not found: {mid}"))
                        .with_field("positions"),
                );
            }
            if !crate::layout::valid_position(position) {
                return Err(err(
                    Code::INVALID_POSITION,
                    format!("invalid position: {position}"),
                )
                .with_field("positions"));
            }
        }
        Ok(())
    }

    fn set_positions(
        &mut self,
        caller: &str,
        pos: &BTreeMap<String, String>,
    ) -> Result<(), RpcError> {
        self.validate_positions(pos)?;
        for (mid, position) in pos {
            if let Some(e) = self.members.get_mut(mid) {
                if e.m.requested_position.as_deref() != Some(position.as_str()) {
                    e.m.requested_position = Some(position.clone());
                    self.member_updated(mid, &["requested_position"], Some(caller));
                }
            }
        }
        self.flush_layout();
        Ok(())
    }

    fn acl_update(&mut self, caller: &str, p: &Value) -> Result<Done, RpcError> {
        let v: m::RoomAclUpdateParams = params(p)?;
        for e in &v.upsert {
            let bad = e.identity.is_empty()
                || e.identity.len() > ovsp::limits::MAX_ID_LEN
                || e.role == Some(Role::Unknown)
                || e.send
                    .as_ref()
                    .is_some_and(|s| s.contains(&MediaSource::Unknown))
                || e.recv
                    .as_ref()
                    .is_some_and(|r| r.contains(&ovsp::model::MediaKind::Unknown));
            if bad {
                return Err(err(
                    Code::INVALID_ACL_ENTRY,
                    format!("invalid ACL entry: {}", e.identity),
                )
                .with_field("upsert"));
            }
        }
        let acl = self.acl.get_or_insert_with(BTreeMap::new);
        let mut changed: Vec<String> = vec![];
        for e in v.upsert {
            changed.push(e.identity.clone());
            acl.insert(e.identity.clone(), e);
        }
        let mut removed: Vec<String> = vec![];
        for id in v.remove {
            acl.remove(&id);
            removed.push(id);
        }
        let entries: Vec<m::AclEntry> = acl.values().cloned().collect();
        let acl_snapshot = acl.clone();
        // Removing a connected identity kicks it.
        for identity in removed {
            let ids: Vec<String> = self
                .members
                .values()
                .filter(|e| e.m.identity == identity)
                .map(|e| e.m.id.clone())
                .collect();
            for mid in ids {
                let info = CloseInfo {
                    reason: "permission_revoked",
                    code: Code::NOT_ON_ACL,
                    message: "removed from the room's access list".into(),
                    action: "disconnect",
                    close_code: CloseCode::REMOVED,
                    by: Some(caller.to_string()),
                };
                self.remove_member(&mid, "permission_revoked", Some(caller), Some(info));
            }
        }
        // Changed send/recv/permissions take effect at once for connected members.
        for identity in changed {
            let Some(entry) = acl_snapshot.get(&identity) else {
                continue;
            };
            let ids: Vec<String> = self
                .members
                .values()
                .filter(|e| e.m.identity == identity)
                .map(|e| e.m.id.clone())
                .collect();
            for mid in ids {
                let Some(e) = self.members.get_mut(&mid) else {
                    continue;
                };
                let mut touched = false;
                if let Some(s) = &entry.send {
                    touched |= e.media_allowed.send != *s;
                    e.media_allowed.send = s.clone();
                }
                if let Some(r) = &entry.recv {
                    touched |= e.media_allowed.recv != *r;
                    e.media_allowed.recv = r.clone();
                }
                if let Some(perms) = &entry.permissions {
                    touched |= e.permissions != *perms;
                    e.permissions = perms.clone();
                }
                if touched {
                    let data = json!({"role": e.m.role, "permissions": e.permissions, "media_allowed": e.media_allowed});
                    let ev = EventMsg::new("self.permissions_changed", &data);
                    self.send_to(&mid, &ev);
                    self.enforce_media_allowed(&mid, Some(caller));
                }
            }
        }
        Ok(Done::Reply(json!({"entries": entries})))
    }

    fn promote(&mut self, caller: &str, p: &Value) -> Result<Done, RpcError> {
        let v: m::MemberPromoteParams = params(p)?;
        let target = self.target(caller, Some(&v.member_id))?;
        let Some(e) = self.members.get_mut(&target) else {
            return Err(err(Code::MEMBER_NOT_FOUND, "member not found"));
        };
        if e.m.role != Role::Audience {
            return Err(err(
                Code::INVALID_ROLE_TRANSITION,
                "only audience members can be promoted",
            ));
        }
        if let Some(meta) = &v.meta {
            let mut merged = e.m.meta.clone();
            merged.extend(meta.clone());
            meta_size_ok(&merged)?;
            e.m.meta = merged;
        }
        e.m.role = Role::Member;
        e.m.visible = true;
        e.m.version += 1;
        if let Some(perms) = v.permissions {
            e.permissions = perms;
        }
        e.media_allowed = v.media_allowed.unwrap_or_else(MediaAllowed::all);
        if let Some(a) = v.join_audio_muted {
            e.join_audio_muted = a;
        }
        if let Some(vm) = v.join_video_muted {
            e.join_video_muted = vm;
        }
        let data = json!({
            "role": "member",
            "permissions": e.permissions,
            "media_allowed": e.media_allowed,
            "join_audio_muted": e.join_audio_muted,
            "join_video_muted": e.join_video_muted,
        });
        let public = public_member(&e.m, &self.live_tracks);
        let ev = EventMsg::new("member.joined", &json!({"member": public}));
        self.broadcast(&ev, Some(&target));
        let ev = EventMsg::new("self.permissions_changed", &data);
        self.send_to(&target, &ev);
        self.member_updated(&target, &["role", "visible"], Some(caller));
        self.audience_dirty = true;
        self.flush_layout();
        Ok(Done::Reply(json!({})))
    }

    fn demote(&mut self, caller: &str, p: &Value) -> Result<Done, RpcError> {
        let v: m::MemberDemoteParams = params(p)?;
        let target = self.target(caller, Some(&v.member_id))?;
        let Some(e) = self.members.get(&target) else {
            return Err(err(Code::MEMBER_NOT_FOUND, "member not found"));
        };
        if e.m.role != Role::Member {
            return Err(err(
                Code::INVALID_ROLE_TRANSITION,
                "only members can be demoted",
            ));
        }
        let tracks: Vec<String> = e.m.tracks.iter().map(|t| t.id.clone()).collect();
        for tid in tracks {
            self.unpublish(&target, &tid, "demoted");
        }
        // An audience member has no pub PC.
        self.media_session_call(&target, "pub_reset", |h, sid| async move {
            h.pub_reset(&sid).await
        });
        let Some(e) = self.members.get_mut(&target) else {
            return Err(err(Code::MEMBER_NOT_FOUND, "member not found"));
        };
        e.m.role = Role::Audience;
        e.m.visible = false;
        e.m.handraised = false;
        e.media_allowed = v.media_allowed.unwrap_or(MediaAllowed {
            send: vec![],
            recv: e.media_allowed.recv.clone(),
        });
        let data = json!({"role": "audience", "permissions": e.permissions, "media_allowed": e.media_allowed});
        let ev = EventMsg::new(
            "member.left",
            &json!({"member_id": target, "reason": "demoted", "by": caller}),
        );
        self.broadcast(&ev, Some(&target));
        let ev = EventMsg::new("self.permissions_changed", &data);
        self.send_to(&target, &ev);
        self.member_updated(&target, &["role", "visible", "handraised"], Some(caller));
        self.audience_dirty = true;
        self.flush_layout();
        Ok(Done::Reply(json!({})))
    }

    fn owned_track(&self, caller: &str, track_id: &str) -> Result<(), RpcError> {
        if self
            .members
            .get(caller)
            .is_some_and(|e| e.m.tracks.iter().any(|t| t.id == track_id))
        {
            return Ok(());
        }
        let exists = self
            .members
            .values()
            .any(|e| e.m.tracks.iter().any(|t| t.id == track_id));
        if exists {
            Err(err(Code::TRACK_NOT_OWNED, "track not owned by caller").with_field("track_id"))
        } else {
            Err(err(Code::TRACK_NOT_FOUND, "track not found").with_field("track_id"))
        }
    }

    fn publish(&mut self, caller: &str, p: &Value) -> Result<Done, RpcError> {
        let v: m::TrackPublishParams = params(p)?;
        let Some(e) = self.members.get(caller) else {
            return Err(err(Code::NOT_JOINED, "not joined"));
        };
        if e.m.role != Role::Member {
            return Err(err(
                Code::ROLE_NOT_ALLOWED,
                "audience members cannot publish",
            ));
        }
        if v.source == MediaSource::Unknown {
            return Err(bad_params("source", "unknown source"));
        }
        if v.kind == TrackKind::Unknown {
            return Err(bad_params("kind", "unknown kind"));
        }
        let kind_ok = match v.source {
            MediaSource::Custom => v.kind != TrackKind::Data,
            s => s.kind() == v.kind,
        };
        if !kind_ok {
            return Err(err(Code::TRACK_INVALID, "kind does not match source").with_field("kind"));
        }
        if !e.media_allowed.can_send(v.source) {
            return Err(err(
                Code::MEDIA_NOT_ALLOWED,
                format!("source {} not allowed", v.source.as_str()),
            ));
        }
        if e.permissions.iter().any(|p| p.starts_with("room.publish.")) {
            let perm = format!("room.publish.{}", v.source.as_str());
            if !ovsp::perm::has_permission(&e.permissions, &perm) {
                return Err(err(Code::PERMISSION_DENIED, "permission denied").with_permission(perm));
            }
        }
        if v.cid.is_empty() || v.cid.len() > ovsp::limits::MAX_ID_LEN {
            return Err(bad_params("cid", "cid must be 1..64 characters"));
        }
        if e.m
            .tracks
            .iter()
            .any(|t| t.cid.as_deref() == Some(v.cid.as_str()))
        {
            return Err(err(Code::TRACK_INVALID, "cid already published").with_field("cid"));
        }
        if e.m.tracks.len() >= MAX_TRACKS_PER_MEMBER {
            return Err(err(Code::MAX_TRACKS_EXCEEDED, "too many tracks"));
        }
        if let Some(name) = &v.name {
            if e.m.tracks.iter().any(|t| t.name.as_ref() == Some(name)) {
                return Err(
                    err(Code::TRACK_NAME_DUPLICATED, "track name duplicated").with_field("name")
                );
            }
        }
        let blocked = match v.source {
            MediaSource::Microphone => e.audio_blocked,
            MediaSource::Camera => e.video_blocked,
            _ => false,
        };
        let muted = v.muted.unwrap_or(match v.source {
            MediaSource::Microphone => e.join_audio_muted,
            MediaSource::Camera => e.join_video_muted,
            _ => false,
        });
        let data_handle = if v.kind == TrackKind::Data {
            Some(self.alloc_data_handle()?)
        } else {
            None
        };
        let track = Track {
            id: new_id("tr_"),
            member_id: caller.to_string(),
            cid: Some(v.cid),
            version: 1,
            kind: v.kind,
            source: v.source,
            name: v.name,
            stream_key: v.stream_key,
            muted,
            blocked,
            mime_type: None,
            width: v.width,
            height: v.height,
            layers: v.layers.unwrap_or_default(),
            scalability_mode: v.scalability_mode,
            data_handle,
            reliable: if v.kind == TrackKind::Data {
                Some(v.reliable.unwrap_or(true))
            } else {
                None
            },
        };
        let tid = track.id.clone();
        if let Some(e) = self.members.get_mut(caller) {
            e.m.tracks.push(track.clone());
        }
        match (&self.media, track.kind) {
            // Without a media engine a declared track is live at once.
            (None, _) => self.go_live(caller, &tid),
            // Data tracks have no m-section: live once registered with the engine.
            (Some(q), TrackKind::Data) => {
                let sid = self
                    .members
                    .get(caller)
                    .map(|e| e.session_id.clone())
                    .unwrap_or_default();
                let (t2, handle, reliable) = (
                    tid.clone(),
                    track.data_handle.unwrap_or(0),
                    track.reliable.unwrap_or(true),
                );
                q.run("add_data_track", move |h| async move {
                    h.add_data_track(&sid, &t2, handle, reliable).await
                });
                self.go_live(caller, &tid);
            }
            // Media tracks go live when the engine reports them negotiated and connected.
            (Some(q), _) => {
                if !track.layers.is_empty() {
                    let (t2, layers) = (tid.clone(), track.layers.clone());
                    q.run("set_track_layers", move |h| async move {
                        h.set_track_layers(&t2, layers).await
                    });
                }
                if muted {
                    self.media_set_muted(&tid, true);
                }
                if blocked {
                    self.media_set_blocked(&tid, true);
                }
            }
        }
        self.refresh_flags(caller, None);
        Ok(Done::Reply(json!({"track": track})))
    }

    /// Marks a track live and announces it (`track.published`; the owner's copy has its cid).
    fn go_live(&mut self, member_id: &str, track_id: &str) {
        let Some(t) = self
            .members
            .get(member_id)
            .and_then(|e| e.m.tracks.iter().find(|t| t.id == track_id))
            .cloned()
        else {
            return;
        };
        if !self.live_tracks.insert(track_id.to_string()) {
            return;
        }
        let own = EventMsg::new("track.published", &json!({"track": t}));
        self.send_to(member_id, &own);
        if self.is_visible(member_id) {
            let others = EventMsg::new("track.published", &json!({"track": public_track(&t)}));
            self.broadcast(&others, Some(member_id));
            if self.media.is_some() {
                let ids: Vec<String> = self
                    .members
                    .keys()
                    .filter(|id| *id != member_id)
                    .cloned()
                    .collect();
                for id in ids {
                    self.auto_subscribe(&id, track_id);
                }
            }
        }
    }

    fn alloc_data_handle(&mut self) -> Result<u16, RpcError> {
        let used: HashSet<u16> = self
            .members
            .values()
            .flat_map(|e| e.m.tracks.iter().filter_map(|t| t.data_handle))
            .collect();
        for _ in 0..u16::MAX {
            let h = self.next_data_handle;
            self.next_data_handle = self.next_data_handle.checked_add(1).unwrap_or(1);
            if h != 0 && !used.contains(&h) {
                return Ok(h);
            }
        }
        Err(err(Code::DATA_HANDLES_EXHAUSTED, "data handles exhausted"))
    }

    fn track_mute(&mut self, caller: &str, p: &Value) -> Result<Done, RpcError> {
        let v: m::TrackMuteParams = params(p)?;
        let Some(e) = self.members.get(caller) else {
            return Err(err(Code::NOT_JOINED, "not joined"));
        };
        // Validate everything first: the batch is all or nothing.
        for entry in &v.tracks {
            self.owned_track(caller, &entry.track_id)?;
            let Some(t) = e.m.tracks.iter().find(|t| t.id == entry.track_id) else {
                continue;
            };
            let kind = match t.kind {
                TrackKind::Audio => "audio",
                TrackKind::Video => "video",
                _ => continue,
            };
            let action = if entry.muted { "mute" } else { "unmute" };
            let perm = format!("room.self.{kind}_{action}");
            if !ovsp::perm::has_permission(&e.permissions, &perm) {
                return Err(err(Code::PERMISSION_DENIED, "permission denied").with_permission(perm));
            }
        }
        for entry in v.tracks {
            self.set_track_flag(caller, &entry.track_id, TrackFlag::Muted, entry.muted, None);
        }
        self.refresh_flags(caller, None);
        Ok(Done::Reply(json!({})))
    }

    fn track_update(&mut self, caller: &str, p: &Value) -> Result<Done, RpcError> {
        let v: m::TrackUpdateParams = params(p)?;
        self.owned_track(caller, &v.track_id)?;
        let Some(t) = self
            .members
            .get_mut(caller)
            .and_then(|e| e.m.tracks.iter_mut().find(|t| t.id == v.track_id))
        else {
            return Err(err(Code::TRACK_NOT_FOUND, "track not found"));
        };
        let mut fields = vec![];
        if let Some(n) = v.name {
            t.name = Some(n);
            fields.push("name");
        }
        if let Some(k) = v.stream_key {
            t.stream_key = Some(k);
            fields.push("stream_key");
        }
        if let Some(w) = v.width {
            t.width = Some(w);
            fields.push("width");
        }
        if let Some(h) = v.height {
            t.height = Some(h);
            fields.push("height");
        }
        if let Some(l) = v.layers {
            if let Some(q) = &self.media {
                let (t2, layers) = (v.track_id.clone(), l.clone());
                q.run("set_track_layers", move |h| async move {
                    h.set_track_layers(&t2, layers).await
                });
            }
            t.layers = l;
            fields.push("layers");
        }
        if !fields.is_empty() {
            self.track_updated(caller, &v.track_id, &fields, None);
        }
        let track = self
            .members
            .get(caller)
            .and_then(|e| e.m.tracks.iter().find(|t| t.id == v.track_id))
            .cloned();
        Ok(Done::Reply(json!({"track": track})))
    }

    fn message_send(&mut self, caller: &str, p: &Value) -> Result<Done, RpcError> {
        let v: m::MessageSendParams = params(p)?;
        let size = serde_json::to_string(&v.payload)
            .map(|s| s.len())
            .unwrap_or(usize::MAX);
        if size > ovsp::limits::MAX_PAYLOAD_BYTES {
            return Err(
                err(Code::PAYLOAD_TOO_LARGE, "payload exceeds 64 KiB").with_field("payload")
            );
        }
        if let Some(to) = &v.to {
            if to.is_empty() {
                return Err(bad_params(
                    "to",
                    "to must list at least one member (omit it for everyone)",
                ));
            }
            for id in to {
                if !self.members.contains_key(id) {
                    return Err(err(
                        Code::RECIPIENT_NOT_FOUND,
                        format!("recipient not found: {id}"),
                    )
                    .with_field("to"));
                }
            }
        }
        let message_id = new_id("msg_");
        let ts = now_ms();
        let mut data = json!({
            "message_id": message_id,
            "from_member_id": caller,
            "payload": v.payload,
            "ts": ts,
        });
        if let Some(to) = &v.to {
            data["to"] = to.clone().into();
        }
        if let Some(topic) = &v.topic {
            data["topic"] = topic.clone().into();
        }
        if let Some(c) = &v.client_msg_id {
            data["client_msg_id"] = c.clone().into();
        }
        let ev = EventMsg::new("message.received", &data);
        match &v.to {
            Some(to) => {
                let unique: HashSet<&String> = to.iter().collect();
                for id in unique {
                    self.send_to(id, &ev);
                }
            }
            None => self.broadcast(&ev, Some(caller)),
        }
        Ok(Done::Reply(json!({"message_id": message_id, "ts": ts})))
    }
}

/// A media call that answers a request once the engine has replied.
type MediaCall = Box<dyn FnOnce(&MediaQueue, mpsc::UnboundedSender<SessionMsg>, String) + Send>;

/// What a handled request leads to.
enum Done {
    Reply(Value),
    Left,
    End(Option<String>),
    Media(MediaCall),
}

fn failed_sub(track_id: &str, code: Code) -> SubscriptionState {
    SubscriptionState {
        track_id: track_id.to_string(),
        state: SubState::Failed,
        mid: None,
        paused: false,
        max_width: None,
        max_height: None,
        max_fps: None,
        priority: None,
        error: Some(ErrorInfo::from_code(code)),
    }
}

/// Which of a track's two off switches [`RoomActor::set_track_flag`] sets.
#[derive(Clone, Copy)]
enum TrackFlag {
    /// The owner's own mute (`track.muted`).
    Muted,
    /// A moderator's block (`track.blocked`): the SFU drops the media.
    Blocked,
}
