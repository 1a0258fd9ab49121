//! The state store and its pure reducer.
//!
//! [`State`] is plain, serialisable data (what `getState()` returns). It changes only through
//! [`reduce`], which is deterministic, does no IO and returns the [`CoreEvent`]s the change
//! implies. The session machine is its only caller in the SDK; tests call it directly.

use crate::prelude::*;
use ovsp::events::{Event, StreamEvent};
use ovsp::json::Value;
use ovsp::json::{encode, ToWire};
use ovsp::model::{
    Layout, LeaveReason, MediaKind, MediaSource, Member, Playback, Recording, Room, SelfMember,
    Snapshot, Stream, SubState, SubscriptionState, Track, TrackKind, UnpublishReason,
};
use serde::Serialize;

use crate::event::{AclChange, ConnectionState, CoreEvent, Speaker};
use crate::map::VecMap;
use crate::CoreError;

/// A local track the SDK publishes, keyed by its client id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalTrack {
    /// Client track id.
    pub cid: String,
    /// Kind.
    pub kind: TrackKind,
    /// Source.
    pub source: MediaSource,
    /// Stream key.
    pub stream_key: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Muted by the local user.
    pub muted: bool,
    /// The server's track id once `track.publish` answered.
    pub track_id: Option<String>,
    /// The pub-PC mid once negotiated.
    pub mid: Option<String>,
    /// Extra publish params (re-sent on a full rejoin).
    pub extra: ovsp::json::Map<String, Value>,
}

/// A Telnyx-style stream: the tracks of one member sharing a stream key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamGroup {
    /// Owner.
    pub member_id: String,
    /// Stream key.
    pub stream_key: String,
    /// Track ids in publication order.
    pub track_ids: Vec<String>,
}

/// The whole client-side view of a session. Plain data: clone it or serialise it freely.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    /// Connection state.
    pub connection: ConnectionState,
    /// The room, once joined.
    pub room: Option<Room>,
    /// The local member, once joined (with permissions and media_allowed).
    #[serde(rename = "self")]
    pub self_member: Option<SelfMember>,
    /// Other visible members by id, each with its tracks.
    pub members: VecMap<String, Member>,
    /// Streams keyed by `"<member_id>/<stream_key>"`.
    pub streams: VecMap<String, StreamGroup>,
    /// Subscriptions by track id.
    pub subscriptions: VecMap<String, SubscriptionState>,
    /// The layout.
    pub layout: Option<Layout>,
    /// Recordings by id.
    pub recordings: VecMap<String, Recording>,
    /// Playbacks by id.
    pub playbacks: VecMap<String, Playback>,
    /// Outbound RTMP streams by id.
    pub rtmp_streams: VecMap<String, Stream>,
    /// Audience members.
    pub audience_count: u32,
    /// Current dominant speaker.
    pub dominant_speaker: Option<String>,
    /// Network quality level by member id.
    pub network_quality: VecMap<String, u8>,
    /// Local tracks by cid.
    pub local_tracks: VecMap<String, LocalTrack>,
    /// Identities known to be on the room's access list.
    pub acl: Vec<String>,
    /// Highest durable seq applied.
    pub seq: u64,
}

impl State {
    /// The empty state: a constant, so making one copies it instead of building it field by
    /// field.
    const EMPTY: State = State {
        connection: ConnectionState::New,
        room: None,
        self_member: None,
        members: VecMap::new(),
        streams: VecMap::new(),
        subscriptions: VecMap::new(),
        layout: None,
        recordings: VecMap::new(),
        playbacks: VecMap::new(),
        rtmp_streams: VecMap::new(),
        audience_count: 0,
        dominant_speaker: None,
        network_quality: VecMap::new(),
        local_tracks: VecMap::new(),
        acl: Vec::new(),
        seq: 0,
    };
}

impl Default for State {
    fn default() -> Self {
        State::EMPTY
    }
}

/// Phase of an egress entity event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `*.started`
    Started,
    /// `*.updated`
    Updated,
    /// `*.ended`
    Ended,
}

/// Everything that can change the [`State`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A join snapshot. `reconcile: false` replaces the state silently (first join);
    /// `reconcile: true` diffs it against the current state by version and emits synthetic
    /// events (resume with snapshot, full rejoin).
    Snapshot {
        /// The snapshot.
        snapshot: Box<Snapshot>,
        /// Diff and emit events.
        reconcile: bool,
    },
    /// The connection state changed.
    Connection(ConnectionState),
    /// A server event about the room (`room.*`, `layout.changed`, `member.*`, `self.*`,
    /// `track.*`, `sub.updated`, `recording.*`, `playback.*`, `stream.*`,
    /// `message.received`). Events that concern only the session (`sub.offer`,
    /// `ice.candidate`, `session.*`, …) change nothing here.
    Event(Event),
    /// `sub.updated` or a `sub.update` result.
    Subscriptions(Vec<SubscriptionState>),
    /// Subscriptions removed by a `sub.update{remove}` result.
    SubscriptionsRemoved(Vec<String>),
    /// A local track was declared or changed.
    LocalTrackSet(LocalTrack),
    /// A local track was removed.
    LocalTrackRemoved(String),
    /// `room.acl.update` succeeded (or `room.acl.get` with `replace`).
    Acl {
        /// Identities upserted.
        upsert: Vec<String>,
        /// Identities removed.
        remove: Vec<String>,
    },
    /// The session ended: everything but the connection state is cleared.
    Cleared,
}

/// The stream key used for Telnyx grouping when a track has none.
pub fn default_stream_key(source: MediaSource) -> &'static str {
    match source {
        MediaSource::Screen | MediaSource::ScreenAudio => "screen",
        MediaSource::Data => "data",
        _ => "default",
    }
}

/// The Telnyx stream a track belongs to: its own `stream_key`, else the default for its source.
pub fn stream_key(key: Option<&str>, source: MediaSource) -> String {
    key.unwrap_or_else(|| default_stream_key(source)).to_owned()
}

/// `"<member_id>/<stream_key>"`, the key of [`State::streams`].
fn stream_id(member_id: &str, key: &str) -> String {
    let mut s = String::with_capacity(member_id.len() + 1 + key.len());
    s.push_str(member_id);
    s.push('/');
    s.push_str(key);
    s
}

fn stream_key_of(t: &Track) -> String {
    stream_key(t.stream_key.as_deref(), t.source)
}

/// Removes every copy of `s` from `list` (order is kept): one removal body for the store's
/// and the session's lists of ids.
pub(crate) fn remove_all(list: &mut Vec<String>, s: &str) {
    list.retain(|c| c != s);
}

/// Keys whose values differ between two encoded entities (JSON objects), skipping `skip`.
/// Anything but two objects has no differing fields. Not generic: callers encode the entities
/// (`ovsp::json::encode`), so one body serves every type.
#[inline(never)]
pub fn diff_fields(a: &Value, b: &Value, skip: &[&str]) -> Vec<String> {
    let (Value::Object(a), Value::Object(b)) = (a, b) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for (k, v) in b {
        if !skip.contains(&k.as_str()) && a.get(k) != Some(v) {
            out.push(k.clone());
        }
    }
    for k in a.keys() {
        if !skip.contains(&k.as_str()) && !b.contains_key(k) {
            out.push(k.clone());
        }
    }
    out
}

impl State {
    /// The local member id, once joined.
    pub fn self_id(&self) -> Option<&str> {
        self.self_member.as_ref().map(|s| s.member.id.as_str())
    }

    /// A track by server id (local or remote), with whether it is local: the members' track
    /// lists are searched, the local member's first (a session has few members, so no index
    /// of track owners is kept beside them).
    pub fn track(&self, track_id: &str) -> Option<(&Track, bool)> {
        let local = self.self_member.as_ref().map(|s| (&s.member, true));
        for (m, local) in local
            .into_iter()
            .chain(self.members.values().map(|m| (m, false)))
        {
            for t in &m.tracks {
                if t.id == track_id {
                    return Some((t, local));
                }
            }
        }
        None
    }

    /// The member holding the track `track_id`, mutably, with whether it is the local member
    /// (searched as [`State::track`] does).
    fn holder_mut(&mut self, track_id: &str) -> Option<(&mut Member, bool)> {
        let holds = |m: &Member| m.tracks.iter().any(|t| t.id == track_id);
        if let Some(s) = self.self_member.as_mut() {
            if holds(&s.member) {
                return Some((&mut s.member, true));
            }
        }
        for m in self.members.values_mut() {
            if holds(m) {
                return Some((m, false));
            }
        }
        None
    }

    /// The local track with server id `track_id`.
    #[allow(clippy::manual_find)] // the loop compiles to less code than `find`
    pub fn local_track_by_id(&self, track_id: &str) -> Option<&LocalTrack> {
        for l in self.local_tracks.values() {
            if l.track_id.as_deref() == Some(track_id) {
                return Some(l);
            }
        }
        None
    }

    /// The local track `cid`, to update its bookkeeping (mute, server id, mid): no event
    /// follows from these fields.
    pub(crate) fn local_mut(&mut self, cid: &str) -> Option<&mut LocalTrack> {
        self.local_tracks.get_mut(cid)
    }

    fn member_mut(&mut self, id: &str) -> Option<(&mut Member, bool)> {
        if self.self_id() == Some(id) {
            self.self_member.as_mut().map(|s| (&mut s.member, true))
        } else {
            self.members.get_mut(id).map(|m| (m, false))
        }
    }

    /// Adds a track to the stream map; returns whether it opened a new stream.
    fn index_track(&mut self, t: &Track) -> bool {
        let key = stream_key_of(t);
        let skey = stream_id(&t.member_id, &key);
        let group = self.streams.get_or_insert_with(skey, || StreamGroup {
            member_id: t.member_id.clone(),
            stream_key: key,
            track_ids: Vec::new(),
        });
        let opened = group.track_ids.is_empty();
        if !group.track_ids.contains(&t.id) {
            group.track_ids.push(t.id.clone());
        }
        opened
    }

    /// Removes a track from the stream map; returns whether its stream closed.
    fn unindex_track(&mut self, t: &Track) -> bool {
        let skey = stream_id(&t.member_id, &stream_key_of(t));
        let mut closed = false;
        if let Some(g) = self.streams.get_mut(&skey) {
            remove_all(&mut g.track_ids, &t.id);
            if g.track_ids.is_empty() {
                self.streams.discard(&skey);
                closed = true;
            }
        }
        closed
    }
}

/// Applies `action` to `state` and returns the events it implies, in order.
pub fn reduce(state: &mut State, action: Action) -> Vec<CoreEvent> {
    let mut out = Vec::new();
    match action {
        Action::Snapshot {
            snapshot,
            reconcile,
        } => {
            if reconcile && state.room.is_some() {
                reconcile_snapshot(state, *snapshot, &mut out);
            } else {
                install_snapshot(state, *snapshot);
            }
        }
        Action::Connection(c) => {
            if !state.connection.same(&c) {
                state.connection = c.clone();
                out.push(CoreEvent::ConnectionStateChanged { state: c });
            }
        }
        Action::Event(ev) => event(state, ev, &mut out),
        Action::Subscriptions(list) => subscriptions(state, list, &mut out),
        Action::SubscriptionsRemoved(ids) => {
            for id in ids {
                if let Some(sub) = state.subscriptions.remove(&id) {
                    let track = state.track(&id).map(|(t, _)| t.clone());
                    out.push(CoreEvent::SubscriptionEnded {
                        subscription: sub,
                        track,
                    });
                }
            }
        }
        Action::LocalTrackSet(l) => {
            state.local_tracks.set(l.cid.clone(), l);
        }
        Action::LocalTrackRemoved(cid) => {
            state.local_tracks.discard(&cid);
        }
        Action::Acl { upsert, remove } => {
            // Known or not is decided against the list as it was before this change.
            let known = state.acl.len();
            let (mut added, mut modified) = (Vec::new(), Vec::new());
            for i in upsert {
                if state.acl[..known].contains(&i) {
                    modified.push(i);
                } else {
                    state.acl.push(i.clone());
                    added.push(i);
                }
            }
            for r in &remove {
                remove_all(&mut state.acl, r);
            }
            acl_event(&mut out, AclChange::Added, added);
            acl_event(&mut out, AclChange::Modified, modified);
            acl_event(&mut out, AclChange::Removed, remove);
        }
        Action::Cleared => clear(state, false),
    }
    out
}

/// [`CoreEvent::AclUpdated`] for `identities`, unless there are none.
#[inline(never)]
fn acl_event(out: &mut Vec<CoreEvent>, change: AclChange, identities: Vec<String>) {
    if !identities.is_empty() {
        out.push(CoreEvent::AclUpdated { change, identities });
    }
}

/// The store's part of a server event.
fn event(state: &mut State, ev: Event, out: &mut Vec<CoreEvent>) {
    // The phase of an egress event (`*.started`, `*.updated`, `*.ended`).
    let phase = match ev {
        Event::RecordingStarted(_) | Event::PlaybackStarted(_) | Event::StreamStarted(_) => {
            Phase::Started
        }
        Event::RecordingUpdated(_) | Event::PlaybackUpdated(_) => Phase::Updated,
        _ => Phase::Ended,
    };
    match ev {
        Event::RoomUpdated(e) => {
            if let Some(r) = state.room.as_mut() {
                if r.apply(&e.room) {
                    if let Some(n) = e.room.audience_count {
                        state.audience_count = n;
                    }
                    out.push(CoreEvent::RoomUpdated {
                        room: r.clone(),
                        updated: e.updated,
                    });
                }
            }
        }
        Event::RoomAudienceCount(e) => {
            let total = e.total;
            state.audience_count = total;
            if let Some(r) = state.room.as_mut() {
                r.audience_count = total;
            }
            out.push(CoreEvent::AudienceCount { total });
        }
        Event::LayoutChanged(e) => {
            let layout = e.layout;
            if let Some(r) = state.room.as_mut() {
                r.layout_name = Some(layout.name.clone());
            }
            state.layout = Some(layout.clone());
            out.push(CoreEvent::LayoutChanged { layout });
        }
        Event::MemberJoined(e) => member_joined(state, e.member, out),
        Event::MemberUpdated(e) => {
            if let Some((m, local)) = state.member_mut(&e.member.id) {
                if m.apply(&e.member) {
                    out.push(CoreEvent::MemberUpdated {
                        member: m.clone(),
                        updated: e.updated,
                        by: e.by,
                        local,
                    });
                }
            }
        }
        Event::MemberLeft(e) => member_left(state, &e.member_id, e.reason, e.by, out),
        Event::MemberTalking(e) => {
            if let Some((m, _)) = state.member_mut(&e.member_id) {
                m.talking = e.talking;
            }
            out.push(CoreEvent::MemberTalking {
                member_id: e.member_id,
                talking: e.talking,
            });
        }
        Event::RoomSpeakers(e) => {
            // The dominant speaker: the first active one of the highest level.
            let speakers = e.speakers;
            let mut best: Option<&Speaker> = None;
            for s in &speakers {
                if s.active && !best.is_some_and(|b| b.level >= s.level) {
                    best = Some(s);
                }
            }
            let dominant = best.map(|s| s.member_id.clone());
            out.push(CoreEvent::SpeakersChanged { speakers });
            if dominant != state.dominant_speaker {
                state.dominant_speaker = dominant.clone();
                out.push(CoreEvent::DominantSpeakerChanged {
                    member_id: dominant,
                });
            }
        }
        Event::MemberNetworkQuality(e) => {
            let (member_id, level) = (e.member_id, e.level);
            let local = state.self_id() == Some(member_id.as_str());
            if state.network_quality.get(&member_id) != Some(&level) {
                state.network_quality.set(member_id.clone(), level);
                out.push(CoreEvent::NetworkQuality {
                    member_id,
                    level,
                    local,
                });
            }
        }
        Event::SelfPermissionsChanged(e) => {
            if let Some(s) = state.self_member.as_mut() {
                s.member.role = e.role;
                s.permissions = e.permissions.clone();
                s.media_allowed = e.media_allowed.clone();
            }
            out.push(CoreEvent::PermissionsChanged {
                role: e.role,
                permissions: e.permissions,
                media_allowed: e.media_allowed,
            });
        }
        Event::SelfUnmuteRequested(e) => out.push(CoreEvent::UnmuteRequested {
            kind: match e.kind {
                MediaKind::Audio => TrackKind::Audio,
                MediaKind::Video => TrackKind::Video,
                MediaKind::Data => TrackKind::Data,
                MediaKind::Unknown => TrackKind::Unknown,
            },
            by: Some(e.by),
        }),
        Event::TrackPublished(e) => track_published(state, e.track, out),
        Event::TrackUpdated(e) => {
            let track = e.track;
            if let Some((m, local)) = state.holder_mut(&track.id) {
                if let Some(t) = m.tracks.iter_mut().find(|t| t.id == track.id) {
                    if t.apply(&track) {
                        let t = t.clone();
                        if local {
                            for l in state.local_tracks.values_mut() {
                                if l.track_id.as_deref() == Some(t.id.as_str()) {
                                    l.muted = t.muted;
                                    break;
                                }
                            }
                        }
                        out.push(CoreEvent::TrackUpdated {
                            track: t,
                            updated: e.updated,
                            by: e.by,
                            local,
                        });
                    }
                }
            }
        }
        Event::TrackUnpublished(e) => track_unpublished(state, &e.track_id, e.reason, out),
        Event::TrackLayersRequested(e) => {
            let cid = state.local_track_by_id(&e.track_id).map(|l| l.cid.clone());
            out.push(CoreEvent::LayersRequested {
                layers: e.layers.to_wire(),
                track_id: e.track_id,
                cid,
            });
        }
        Event::TrackSubscribed(e) => out.push(CoreEvent::SubscriberCountChanged {
            track_id: e.track_id,
            subscriber_count: e.subscriber_count,
        }),
        Event::TrackStreamState(e) => out.push(CoreEvent::TrackSwitched {
            track_id: e.track_id,
            state: e.state,
            reason: e.reason,
        }),
        Event::SubUpdated(e) => subscriptions(state, e.subscriptions, out),
        Event::RecordingStarted(e) | Event::RecordingUpdated(e) | Event::RecordingEnded(e) => {
            recording(state, phase, e.recording, out)
        }
        Event::PlaybackStarted(e) | Event::PlaybackUpdated(e) | Event::PlaybackEnded(e) => {
            playback(state, phase, e.playback, out)
        }
        Event::StreamStarted(e) | Event::StreamEnded(e) => rtmp_stream(state, phase, e, out),
        Event::MessageReceived(e) => out.push(CoreEvent::MessageReceived {
            message_id: e.message_id,
            from_member_id: e.from_member_id,
            to: e.to,
            topic: e.topic,
            payload: e.payload,
            ts: e.ts,
        }),
        _ => {}
    }
}

fn recording(state: &mut State, phase: Phase, rec: Recording, out: &mut Vec<CoreEvent>) {
    state.recordings.set(rec.id.clone(), rec.clone());
    if let Some(r) = state.room.as_mut() {
        r.recording = false;
        for rec in state.recordings.values() {
            if matches!(rec.state, ovsp::model::RecordingState::Recording) {
                r.recording = true;
            }
        }
    }
    out.push(recording_event(phase, rec));
}

fn recording_event(phase: Phase, recording: Recording) -> CoreEvent {
    match phase {
        Phase::Started => CoreEvent::RecordingStarted { recording },
        Phase::Updated => CoreEvent::RecordingUpdated { recording },
        Phase::Ended => CoreEvent::RecordingEnded { recording },
    }
}

fn playback(state: &mut State, phase: Phase, pb: Playback, out: &mut Vec<CoreEvent>) {
    state.playbacks.set(pb.id.clone(), pb.clone());
    out.push(playback_event(phase, pb));
}

fn playback_event(phase: Phase, playback: Playback) -> CoreEvent {
    match phase {
        Phase::Started => CoreEvent::PlaybackStarted { playback },
        Phase::Updated => CoreEvent::PlaybackUpdated { playback },
        Phase::Ended => CoreEvent::PlaybackEnded { playback },
    }
}

fn rtmp_stream(state: &mut State, phase: Phase, e: StreamEvent, out: &mut Vec<CoreEvent>) {
    let st = e.stream;
    state.rtmp_streams.set(st.id.clone(), st.clone());
    let mut ev = stream_event(phase, st);
    if let CoreEvent::RtmpStreamEnded { error, .. } = &mut ev {
        *error = e.error.as_ref().map(CoreError::from_info);
    }
    out.push(ev);
}

fn stream_event(phase: Phase, stream: Stream) -> CoreEvent {
    match phase {
        Phase::Started | Phase::Updated => CoreEvent::RtmpStreamStarted { stream },
        Phase::Ended => CoreEvent::RtmpStreamEnded {
            stream,
            error: None,
        },
    }
}

/// Replaces the room state by a snapshot, silently: the reconciliation against an empty
/// state (what the session keeps across joins stays: connection, local tracks, network
/// quality, access list), with its events dropped.
fn install_snapshot(state: &mut State, snap: Snapshot) {
    clear(state, true);
    reconcile_snapshot(state, snap, &mut Vec::new());
}

/// Empties `state` but for its connection state and, with `keep_session`, what the session
/// keeps across joins (network quality, local tracks, access list). The old contents are
/// dropped here, in one place.
#[inline(never)]
fn clear(state: &mut State, keep_session: bool) {
    let mut old = core::mem::take(state);
    core::mem::swap(&mut state.connection, &mut old.connection);
    if keep_session {
        core::mem::swap(&mut state.network_quality, &mut old.network_quality);
        core::mem::swap(&mut state.local_tracks, &mut old.local_tracks);
        core::mem::swap(&mut state.acl, &mut old.acl);
    }
}

fn member_joined(state: &mut State, mut member: Member, out: &mut Vec<CoreEvent>) {
    if state.self_id() == Some(member.id.as_str()) {
        return;
    }
    if let Some(old) = state.members.get(&member.id) {
        if old.version >= member.version {
            return; // duplicate
        }
    }
    // A newer copy: treat as leave + join of the old tracks.
    if let Some(old) = state.members.remove(&member.id) {
        for t in &old.tracks {
            state.unindex_track(t);
        }
    }
    let joined = member.clone();
    let tracks = core::mem::take(&mut member.tracks);
    state.members.set(member.id.clone(), member);
    out.push(CoreEvent::MemberJoined { member: joined });
    for t in tracks {
        track_published(state, t, out);
    }
}

fn member_left(
    state: &mut State,
    member_id: &str,
    reason: LeaveReason,
    by: Option<String>,
    out: &mut Vec<CoreEvent>,
) {
    let Some(member) = state.members.get(member_id) else {
        return;
    };
    let mut ids = Vec::new();
    for t in &member.tracks {
        ids.push(t.id.clone());
    }
    for id in ids {
        track_unpublished(state, &id, UnpublishReason::Left, out);
    }
    // Unpublishing its tracks leaves the member in the map.
    let Some(member) = state.members.remove(member_id) else {
        return;
    };
    state.network_quality.discard(member_id);
    if state.dominant_speaker.as_deref() == Some(member_id) {
        state.dominant_speaker = None;
    }
    out.push(CoreEvent::MemberLeft { member, reason, by });
}

fn track_published(state: &mut State, track: Track, out: &mut Vec<CoreEvent>) {
    let owner = track.member_id.clone();
    let Some((m, local)) = state.member_mut(&owner) else {
        return;
    };
    if let Some(existing) = m.tracks.iter_mut().find(|t| t.id == track.id) {
        if existing.version >= track.version {
            return;
        }
        *existing = track.clone();
    } else {
        m.tracks.push(track.clone());
    }
    if local {
        if let Some(cid) = &track.cid {
            if let Some(l) = state.local_tracks.get_mut(cid) {
                l.track_id = Some(track.id.clone());
            }
        }
    }
    let opened = state.index_track(&track);
    let stream_key = stream_key_of(&track);
    out.push(CoreEvent::TrackPublished { track, local });
    if opened {
        out.push(CoreEvent::StreamPublished {
            member_id: owner,
            stream_key,
            local,
        });
    }
}

fn track_unpublished(
    state: &mut State,
    track_id: &str,
    reason: UnpublishReason,
    out: &mut Vec<CoreEvent>,
) {
    let Some((m, local)) = state.holder_mut(track_id) else {
        return;
    };
    let Some(pos) = m.tracks.iter().position(|t| t.id == track_id) else {
        return;
    };
    let owner = m.id.clone();
    let track = m.tracks.remove(pos);
    if let Some(sub) = state.subscriptions.remove(track_id) {
        out.push(CoreEvent::SubscriptionEnded {
            subscription: sub,
            track: Some(track.clone()),
        });
    }
    let closed = state.unindex_track(&track);
    let stream_key = stream_key_of(&track);
    out.push(CoreEvent::TrackUnpublished {
        track,
        reason,
        local,
    });
    if closed {
        out.push(CoreEvent::StreamUnpublished {
            member_id: owner,
            stream_key,
            local,
        });
    }
}

fn subscriptions(state: &mut State, list: Vec<SubscriptionState>, out: &mut Vec<CoreEvent>) {
    for sub in list {
        subscription(state, sub, out);
    }
}

fn subscription(state: &mut State, sub: SubscriptionState, out: &mut Vec<CoreEvent>) {
    // Whether it was active or paused before.
    let started = match state.subscriptions.get(&sub.track_id) {
        Some(prev) if *prev == sub => return,
        Some(prev) => matches!(prev.state, SubState::Active | SubState::Paused),
        None => false,
    };
    let track = state.track(&sub.track_id).map(|(t, _)| t.clone());
    match sub.state {
        SubState::Failed => {
            state.subscriptions.set(sub.track_id.clone(), sub.clone());
            out.push(CoreEvent::SubscriptionFailed {
                subscription: sub,
                track,
            });
        }
        SubState::Pending => {
            state.subscriptions.set(sub.track_id.clone(), sub);
        }
        SubState::Active | SubState::Paused => {
            state.subscriptions.set(sub.track_id.clone(), sub.clone());
            out.push(if started {
                CoreEvent::SubscriptionReconfigured {
                    subscription: sub,
                    track,
                }
            } else {
                CoreEvent::SubscriptionStarted {
                    subscription: sub,
                    track,
                }
            });
        }
        _ => {
            // Any state this client does not know (e.g. "ended") ends the subscription.
            if state.subscriptions.discard(&sub.track_id) {
                out.push(CoreEvent::SubscriptionEnded {
                    subscription: sub,
                    track,
                });
            }
        }
    }
}

fn reconcile_snapshot(state: &mut State, snap: Snapshot, out: &mut Vec<CoreEvent>) {
    state.seq = snap.seq;
    // Room.
    match &state.room {
        Some(old) if old.version == snap.room.version && old.id == snap.room.id => {}
        Some(old) => {
            let updated = diff_fields(&encode(old), &encode(&snap.room), &["version"]);
            state.room = Some(snap.room.clone());
            if !updated.is_empty() {
                out.push(CoreEvent::RoomUpdated {
                    room: snap.room.clone(),
                    updated,
                });
            }
        }
        None => state.room = Some(snap.room.clone()),
    }
    if state.audience_count != snap.room.audience_count {
        state.audience_count = snap.room.audience_count;
        out.push(CoreEvent::AudienceCount {
            total: snap.room.audience_count,
        });
    }
    // Self: properties, permissions, then tracks.
    let new_self = snap.self_;
    match state.self_member.clone() {
        Some(old_self) if old_self.member.id == new_self.member.id => {
            if old_self.permissions != new_self.permissions
                || old_self.media_allowed != new_self.media_allowed
                || old_self.member.role != new_self.member.role
            {
                out.push(CoreEvent::PermissionsChanged {
                    role: new_self.member.role,
                    permissions: new_self.permissions.clone(),
                    media_allowed: new_self.media_allowed.clone(),
                });
            }
            reconcile_member(state, &old_self.member, new_self.member, true, out);
            if let Some(s) = state.self_member.as_mut() {
                s.permissions = new_self.permissions;
                s.media_allowed = new_self.media_allowed;
            }
        }
        old_self => {
            // A new session (full rejoin), or the first: the old local tracks are gone.
            if let Some(old_self) = &old_self {
                for t in &old_self.member.tracks {
                    track_unpublished(state, &t.id, UnpublishReason::Unpublished, out);
                }
            }
            let mut s = new_self;
            let tracks = core::mem::take(&mut s.member.tracks);
            state.self_member = Some(s);
            for t in tracks {
                track_published(state, t, out);
            }
        }
    }
    // Members that left.
    let mut gone: Vec<String> = Vec::new();
    'members: for id in state.members.keys() {
        for m in &snap.members {
            if &m.id == id {
                continue 'members;
            }
        }
        gone.push(id.clone());
    }
    for id in gone {
        member_left(state, &id, LeaveReason::Left, None, out);
    }
    // Members that joined or changed.
    for m in snap.members {
        match state.members.get(&m.id).cloned() {
            None => member_joined(state, m, out),
            Some(old) => reconcile_member(state, &old, m, false, out),
        }
    }
    // Compared in wire form, with the shared comparison of values.
    if encode(&state.layout) != encode(&snap.layout) {
        if let Some(l) = snap.layout.clone() {
            out.push(CoreEvent::LayoutChanged { layout: l });
        }
        state.layout = snap.layout;
    }
    reconcile_egress(&mut state.recordings, snap.recordings, out);
    reconcile_egress(&mut state.playbacks, snap.playbacks, out);
    reconcile_egress(&mut state.rtmp_streams, snap.streams, out);
}

fn reconcile_member(
    state: &mut State,
    old: &Member,
    mut new: Member,
    local: bool,
    out: &mut Vec<CoreEvent>,
) {
    // Tracks first (gone, then new or changed), then the member's own fields, so that
    // derived flags (audio_muted) arrive after the track facts, as they do live.
    for t in &old.tracks {
        if !new.tracks.iter().any(|n| n.id == t.id) {
            track_unpublished(state, &t.id, UnpublishReason::Unpublished, out);
        }
    }
    for t in &new.tracks {
        match old.tracks.iter().find(|o| o.id == t.id) {
            None => track_published(state, t.clone(), out),
            Some(o) if o.version != t.version => {
                let updated = diff_fields(&encode(o), &encode(t), &["version"]);
                if let Some((m, _)) = state.member_mut(&new.id) {
                    if let Some(slot) = m.tracks.iter_mut().find(|x| x.id == t.id) {
                        *slot = t.clone();
                    }
                }
                if !updated.is_empty() {
                    out.push(CoreEvent::TrackUpdated {
                        track: t.clone(),
                        updated,
                        by: None,
                        local,
                    });
                }
            }
            Some(_) => {}
        }
    }
    if old.version != new.version {
        let updated = diff_fields(&encode(old), &encode(&new), &["version", "tracks"]);
        if let Some((m, _)) = state.member_mut(&new.id) {
            // The stored member takes the new fields and keeps its reconciled tracks; the
            // event reports a copy of it.
            core::mem::swap(&mut m.tracks, &mut new.tracks);
            core::mem::swap(m, &mut new);
            if !updated.is_empty() {
                new = m.clone();
            }
        }
        if !updated.is_empty() {
            out.push(CoreEvent::MemberUpdated {
                member: new,
                updated,
                by: None,
                local,
            });
        }
    }
}

/// An egress entity (a recording, a playback or an outbound stream): its id and its events.
trait Egress: Clone + ToWire {
    /// The entity's id, its key in the store.
    fn id(&self) -> &String;
    /// The event for `self` in `phase`.
    fn event(self, phase: Phase) -> CoreEvent;
}

impl Egress for Recording {
    fn id(&self) -> &String {
        &self.id
    }
    fn event(self, phase: Phase) -> CoreEvent {
        recording_event(phase, self)
    }
}

impl Egress for Playback {
    fn id(&self) -> &String {
        &self.id
    }
    fn event(self, phase: Phase) -> CoreEvent {
        playback_event(phase, self)
    }
}

impl Egress for Stream {
    fn id(&self) -> &String {
        &self.id
    }
    fn event(self, phase: Phase) -> CoreEvent {
        stream_event(phase, self)
    }
}

/// Replaces an egress map by the snapshot's list (for equal ids the last wins), with an event
/// for each entity that ended, started or changed.
#[inline(never)]
fn reconcile_egress<T: Egress>(map: &mut VecMap<String, T>, new: Vec<T>, out: &mut Vec<CoreEvent>) {
    let mut new_map = VecMap::new();
    for x in new {
        new_map.set(x.id().clone(), x);
    }
    // Each entity is keyed by its id, so the values name their keys.
    for old in map.values() {
        if !new_map.contains_key(old.id()) {
            out.push(old.clone().event(Phase::Ended));
        }
    }
    for v in new_map.values() {
        let phase = match map.get(v.id()) {
            None => Phase::Started,
            // Compared in wire form: one shared comparison instead of one per type.
            Some(o) if encode(o) != encode(v) => Phase::Updated,
            Some(_) => continue,
        };
        out.push(v.clone().event(phase));
    }
    *map = new_map;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovsp::events;
    use serde_json::json;

    fn joined(member: Member) -> Action {
        Action::Event(Event::MemberJoined(events::MemberJoined { member }))
    }

    fn published(track: Track) -> Action {
        Action::Event(Event::TrackPublished(events::TrackPublished { track }))
    }

    fn speakers(speakers: Vec<Speaker>) -> Action {
        Action::Event(Event::RoomSpeakers(events::RoomSpeakers { speakers }))
    }

    fn snap() -> Box<Snapshot> {
        Box::new(
            serde_json::from_value(json!({
                "seq": 0,
                "room": {"id": "rm", "name": "r", "version": 5},
                "self": {"id": "me", "identity": "me", "version": 1, "permissions": ["a"]},
                "members": [{"id": "b", "identity": "b", "version": 3, "tracks": [
                    {"id": "t1", "member_id": "b", "version": 1, "kind": "audio",
                     "source": "microphone", "stream_key": "main"}]}],
            }))
            .expect("snapshot"),
        )
    }

    fn base() -> State {
        let mut s = State::default();
        let evs = reduce(
            &mut s,
            Action::Snapshot {
                snapshot: snap(),
                reconcile: false,
            },
        );
        assert!(evs.is_empty(), "the first snapshot is installed silently");
        s
    }

    fn track(id: &str, member: &str, key: &str, version: u64) -> Track {
        serde_json::from_value(json!({"id": id, "member_id": member, "version": version,
            "kind": "video", "source": "camera", "stream_key": key}))
        .expect("track")
    }

    fn kinds(evs: &[CoreEvent]) -> Vec<&'static str> {
        evs.iter().map(CoreEvent::kind).collect()
    }

    fn partial_member(id: &str, version: u64, field: &str, v: serde_json::Value) -> Action {
        Action::Event(Event::MemberUpdated(events::MemberUpdated {
            member: serde_json::from_value(json!({"id": id, "version": version, field: v}))
                .expect("partial"),
            updated: vec![field.to_owned()],
            by: None,
        }))
    }

    fn sub(track: &str, state: &str) -> SubscriptionState {
        serde_json::from_value(json!({"track_id": track, "state": state})).expect("sub")
    }

    /// (name, action, expected event kinds)
    #[test]
    fn table() {
        let cases: Vec<(&str, Vec<Action>, Vec<&str>)> = vec![
            (
                "member update applies",
                vec![partial_member("b", 4, "deaf", json!(true))],
                vec!["member_updated"],
            ),
            (
                "stale member update ignored",
                vec![partial_member("b", 2, "deaf", json!(true))],
                vec![],
            ),
            (
                "update of the local member is local",
                vec![partial_member("me", 2, "handraised", json!(true))],
                vec!["member_updated"],
            ),
            (
                "stale room update ignored",
                vec![Action::Event(Event::RoomUpdated(events::RoomUpdated {
                    room: serde_json::from_value(json!({"id": "rm", "version": 4, "locked": true}))
                        .expect("room"),
                    updated: vec!["locked".into()],
                    by: None,
                }))],
                vec![],
            ),
            (
                "duplicate join ignored, self join ignored",
                vec![
                    joined(
                        serde_json::from_value(json!({"id": "b", "identity": "b", "version": 3}))
                            .expect("m"),
                    ),
                    joined(
                        serde_json::from_value(json!({"id": "me", "identity": "me", "version": 9}))
                            .expect("m"),
                    ),
                ],
                vec![],
            ),
            (
                "leave synthesises unpublish of remaining tracks",
                vec![Action::Event(Event::MemberLeft(events::MemberLeft {
                    member_id: "b".into(),
                    reason: LeaveReason::Left,
                    by: None,
                }))],
                vec!["track_unpublished", "stream_unpublished", "member_left"],
            ),
            (
                "unknown member leaving is ignored",
                vec![Action::Event(Event::MemberLeft(events::MemberLeft {
                    member_id: "zz".into(),
                    reason: LeaveReason::Left,
                    by: None,
                }))],
                vec![],
            ),
            (
                "a second track in a stream does not open a new stream",
                vec![
                    published(track("t2", "b", "main", 1)),
                    published(track("t3", "b", "screen", 1)),
                    published(track("t3", "b", "screen", 1)),
                ],
                vec!["track_published", "track_published", "stream_published"],
            ),
            (
                "subscription life cycle",
                vec![
                    Action::Subscriptions(vec![sub("t1", "pending")]),
                    Action::Subscriptions(vec![sub("t1", "active")]),
                    Action::Subscriptions(vec![sub("t1", "active")]),
                    Action::Subscriptions(vec![sub("t1", "paused")]),
                    Action::Subscriptions(vec![sub("t1", "ended")]),
                    Action::Subscriptions(vec![sub("t9", "failed")]),
                ],
                vec![
                    "subscription_started",
                    "subscription_reconfigured",
                    "subscription_ended",
                    "subscription_failed",
                ],
            ),
            (
                "unpublishing a subscribed track ends the subscription first",
                vec![
                    Action::Subscriptions(vec![sub("t1", "active")]),
                    Action::Event(Event::TrackUnpublished(events::TrackUnpublished {
                        track_id: "t1".into(),
                        member_id: "b".into(),
                        reason: UnpublishReason::Unpublished,
                    })),
                ],
                vec![
                    "subscription_started",
                    "subscription_ended",
                    "track_unpublished",
                    "stream_unpublished",
                ],
            ),
            (
                "dominant speaker",
                vec![
                    speakers(vec![
                        Speaker {
                            member_id: "b".into(),
                            level: 0.4,
                            active: true,
                        },
                        Speaker {
                            member_id: "c".into(),
                            level: 0.9,
                            active: false,
                        },
                    ]),
                    speakers(vec![Speaker {
                        member_id: "b".into(),
                        level: 0.2,
                        active: true,
                    }]),
                ],
                vec![
                    "speakers_changed",
                    "dominant_speaker_changed",
                    "speakers_changed",
                ],
            ),
            (
                "acl add, modify, remove",
                vec![
                    Action::Acl {
                        upsert: vec!["x".into()],
                        remove: vec![],
                    },
                    Action::Acl {
                        upsert: vec!["x".into(), "y".into()],
                        remove: vec!["x".into()],
                    },
                ],
                vec!["acl_updated", "acl_updated", "acl_updated", "acl_updated"],
            ),
        ];
        for (name, actions, expected) in cases {
            let mut s = base();
            let mut evs = Vec::new();
            for a in actions {
                evs.extend(reduce(&mut s, a));
            }
            assert_eq!(kinds(&evs), expected, "{name}");
        }
    }

    #[test]
    fn reconcile_emits_synthetic_events_by_version() {
        let mut s = base();
        let newer: Box<Snapshot> = Box::new(
            serde_json::from_value(json!({
                "seq": 40,
                "room": {"id": "rm", "name": "r", "version": 6, "locked": true},
                "self": {"id": "me", "identity": "me", "version": 1, "permissions": ["a", "b"]},
                "members": [
                    {"id": "b", "identity": "b", "version": 3, "tracks": [
                        {"id": "t1", "member_id": "b", "version": 2, "kind": "audio",
                         "source": "microphone", "stream_key": "main", "muted": true}]},
                    {"id": "c", "identity": "c", "version": 1},
                ],
                "recordings": [{"id": "rec", "state": "recording"}],
            }))
            .expect("snapshot"),
        );
        let evs = reduce(
            &mut s,
            Action::Snapshot {
                snapshot: newer,
                reconcile: true,
            },
        );
        assert_eq!(
            kinds(&evs),
            [
                "room_updated",
                "permissions_changed",
                "track_updated",
                "member_joined",
                "recording_started"
            ]
        );
        match &evs[2] {
            CoreEvent::TrackUpdated { updated, track, .. } => {
                assert_eq!(updated, &["muted"]);
                assert!(track.muted);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.seq, 40);
        assert_eq!(s.self_member.as_ref().map(|m| m.permissions.len()), Some(2));
        // Reconciling the same snapshot again changes nothing.
        let again_json = json!({"seq": 40, "room": s.room, "self": s.self_member,
               "members": s.members.values().collect::<Vec<_>>(),
               "recordings": s.recordings.values().collect::<Vec<_>>()});
        let again: Box<Snapshot> = Box::new(serde_json::from_value(again_json).expect("snap"));
        let evs = reduce(
            &mut s,
            Action::Snapshot {
                snapshot: again,
                reconcile: true,
            },
        );
        assert_eq!(kinds(&evs), Vec::<&str>::new());
    }

    #[test]
    fn local_track_mute_follows_track_updated() {
        let mut s = base();
        let evs = reduce(
            &mut s,
            Action::LocalTrackSet(LocalTrack {
                cid: "c1".into(),
                kind: TrackKind::Audio,
                source: MediaSource::Microphone,
                stream_key: None,
                name: None,
                muted: false,
                track_id: None,
                mid: None,
                extra: Default::default(),
            }),
        );
        assert!(evs.is_empty());
        let mut t = track("t9", "me", "default", 1);
        t.cid = Some("c1".into());
        let evs = reduce(&mut s, published(t));
        assert_eq!(kinds(&evs), ["track_published", "stream_published"]);
        assert!(matches!(
            evs[0],
            CoreEvent::TrackPublished { local: true, .. }
        ));
        assert_eq!(s.local_tracks["c1"].track_id.as_deref(), Some("t9"));
        reduce(
            &mut s,
            Action::Event(Event::TrackUpdated(events::TrackUpdated {
                track: serde_json::from_value(json!({"id": "t9", "version": 2, "muted": true}))
                    .expect("p"),
                updated: vec!["muted".into()],
                by: None,
            })),
        );
        assert!(s.local_tracks["c1"].muted);
        assert_eq!(
            s.track("t9").map(|(t, local)| (t.muted, local)),
            Some((true, true))
        );
    }
}
