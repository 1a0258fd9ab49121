//! Browser tests of the SDK session against the real server (`convene-server --dev`).
//!
//! Compiled only with the `server-tests` feature. `tests/tiers/65-sdk-browser.sh` starts the
//! server, mints dev tokens and passes them at compile time: `SDK_TEST_SIGNAL_URL`
//! (`ws://127.0.0.1:<port>/ovsp`) and `SDK_TEST_TOKENS` (`key=token,...`, keys like
//! `media.a`).
#![cfg(all(target_arch = "wasm32", feature = "server-tests"))]

use convene::web::listener::{live_callbacks, sleep};
use convene::web::media::Source;
use convene::web::{MediaEvent, SessionEvent, SessionHandle, Subscription};
use convene_core::ovsp::model::{MediaSource, TrackKind};
use convene_core::{Command, Config, ConnectionState, CoreEvent, PublishOptions};
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{MediaStreamTrack, MediaStreamTrackState};

wasm_bindgen_test_configure!(run_in_browser);

fn url() -> &'static str {
    match option_env!("SDK_TEST_SIGNAL_URL") {
        Some(u) => u,
        None => panic!("SDK_TEST_SIGNAL_URL must be set at build time (see the tier script)"),
    }
}

fn token(key: &str) -> String {
    let all = option_env!("SDK_TEST_TOKENS").unwrap_or("");
    all.split(',')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no token minted for {key}"))
        .to_owned()
}

type Log = Rc<RefCell<Vec<SessionEvent>>>;

/// A session plus everything it emitted.
struct Probe {
    s: SessionHandle,
    log: Log,
    member_id: String,
    _sub: Subscription,
}

impl Probe {
    async fn join(key: &str) -> Probe {
        let s = SessionHandle::new(Config::new(url(), token(key), 0));
        let log: Log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let sub = s.subscribe(move |e| l.borrow_mut().push(e.clone()));
        s.call(Command::Join)
            .await
            .unwrap_or_else(|e| panic!("{key} join failed: {e:?}"));
        let member_id = log
            .borrow()
            .iter()
            .find_map(|e| match e {
                SessionEvent::Core(CoreEvent::RoomJoined { member_id, .. }) => {
                    Some(member_id.clone())
                }
                _ => None,
            })
            .expect("room_joined before the join completes");
        Probe {
            s,
            log,
            member_id,
            _sub: sub,
        }
    }

    fn count(&self, f: impl Fn(&SessionEvent) -> bool) -> usize {
        self.log.borrow().iter().filter(|e| f(e)).count()
    }

    async fn wait(&self, what: &str, ms: u32, f: impl Fn(&SessionEvent) -> bool) {
        let mut waited = 0;
        while self.count(&f) == 0 {
            if waited >= ms {
                panic!(
                    "timed out waiting for {what}; events: {:#?}",
                    self.log.borrow()
                );
            }
            sleep(50).await;
            waited += 50;
        }
    }

    /// Acquires a fake device and publishes it under `cid`; returns a handle to the track.
    async fn publish(&self, cid: &str, source: Source) -> MediaStreamTrack {
        let track = SessionHandle::acquire(source, &JsValue::UNDEFINED)
            .await
            .expect("fake media");
        let handle = Clone::clone(&track);
        let (kind, src) = match source {
            Source::Microphone => (TrackKind::Audio, MediaSource::Microphone),
            _ => (TrackKind::Video, MediaSource::Camera),
        };
        let opts = PublishOptions {
            cid: cid.to_owned(),
            kind,
            source: src,
            stream_key: None,
            name: None,
            muted: false,
            extra: Default::default(),
        };
        self.s
            .publish(track, source, opts)
            .await
            .unwrap_or_else(|e| panic!("publish {cid}: {e:?}"));
        handle
    }

    /// Remote track ids attached so far, with their kinds.
    fn remote(&self) -> Vec<(String, TrackKind)> {
        self.log
            .borrow()
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Core(CoreEvent::RemoteTrackAttached { track_id, kind, .. }) => {
                    Some((track_id.clone(), *kind))
                }
                _ => None,
            })
            .collect()
    }

    /// Waits until `n` remote tracks arrived.
    async fn remote_tracks(&self, n: usize) {
        let mut waited = 0;
        while self.remote().len() < n {
            if waited > 20_000 {
                panic!(
                    "only {:?} remote tracks; events {:#?}",
                    self.remote(),
                    self.log.borrow()
                );
            }
            sleep(100).await;
            waited += 100;
        }
    }

    /// Waits until inbound audio and video bytes grow and frames are decoded; returns the
    /// totals seen.
    async fn media_flows(&self, ms: u32) -> (f64, f64, f64) {
        let mut waited = 0;
        let start = self.s.stats().await.subscribe;
        loop {
            let now = self.s.stats().await.subscribe;
            if now.video_bytes_received > start.video_bytes_received
                && now.audio_bytes_received > start.audio_bytes_received
                && now.frames_decoded > start.frames_decoded
            {
                return (
                    now.audio_bytes_received,
                    now.video_bytes_received,
                    now.frames_decoded,
                );
            }
            if waited >= ms {
                panic!("media does not flow: before {start:?}, now {now:?}");
            }
            sleep(200).await;
            waited += 200;
        }
    }
}

fn is_connected(e: &SessionEvent) -> bool {
    matches!(
        e,
        SessionEvent::Core(CoreEvent::ConnectionStateChanged {
            state: ConnectionState::Connected
        })
    )
}

fn is_left(e: &SessionEvent) -> bool {
    matches!(e, SessionEvent::Core(CoreEvent::RoomLeft { .. }))
}

fn messages(p: &Probe) -> Vec<serde_json::Value> {
    p.log
        .borrow()
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Core(CoreEvent::MessageReceived { payload, .. }) => {
                Some(payload.clone().into())
            }
            _ => None,
        })
        .collect()
}

#[wasm_bindgen_test]
async fn join_and_leave() {
    let base = live_callbacks();
    let a = Probe::join("join.a").await;
    assert_eq!(a.count(is_connected), 1);
    assert!(a.s.is_alive());
    assert!(live_callbacks() > base, "a joined session has listeners");
    a.s.leave().await.expect("leave");
    sleep(50).await;
    assert!(!a.s.is_alive());
    assert_eq!(a.count(is_left), 1);
    assert_eq!(live_callbacks(), base, "nothing of the session remains");
}

#[wasm_bindgen_test]
async fn publish_receive_mute_and_message() {
    let a = Probe::join("media.a").await;
    let cam = a.publish("cam", Source::Camera).await;
    let mic = a.publish("mic", Source::Microphone).await;
    let b = Probe::join("media.b").await;
    b.remote_tracks(2).await;

    let remote = b.remote();
    let video = remote
        .iter()
        .find(|(_, k)| *k == TrackKind::Video)
        .expect("remote video");
    assert!(b.s.remote_track(&video.0).is_some());
    let (ab, vb, frames) = b.media_flows(20_000).await;
    console_log!("b receives: audio {ab} B, video {vb} B, {frames} frames decoded");

    // Mute and unmute the microphone: both sides hear about it.
    let muted = |want: bool, local: bool| {
        move |e: &SessionEvent| {
            matches!(e, SessionEvent::Core(CoreEvent::TrackUpdated { track, local: l, updated, .. })
                if track.kind == TrackKind::Audio && track.muted == want && *l == local
                    && updated.iter().any(|u| u == "muted"))
        }
    };
    a.s.mute_track("mic", true).await.expect("mute");
    a.wait("local mute", 5_000, muted(true, true)).await;
    b.wait("remote mute", 5_000, muted(true, false)).await;
    a.s.mute_track("mic", false).await.expect("unmute");
    a.wait("local unmute", 5_000, muted(false, true)).await;
    b.wait("remote unmute", 5_000, muted(false, false)).await;

    // The camera is "unplugged": the SDK captures another camera and keeps sending.
    let ended = web_sys::Event::new("ended").expect("Event");
    cam.dispatch_event(&ended).expect("dispatch ended");
    a.wait("device fallback", 10_000, |e| {
        matches!(e, SessionEvent::Media(MediaEvent::DeviceFallback { cid, .. }) if cid == "cam")
    })
    .await;
    let fresh = a.s.local_track("cam").expect("a new camera track");
    assert_eq!(fresh.ready_state(), MediaStreamTrackState::Live);
    b.media_flows(20_000).await;

    // Attach the local camera to an element whose playback the autoplay policy refuses
    // (play() rejects with NotAllowedError, as a browser does without a user gesture): the SDK
    // reports it, and resume_playback() (called from a gesture) starts it.
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    let el: web_sys::HtmlMediaElement = doc
        .create_element("video")
        .expect("video element")
        .unchecked_into();
    let refuse = js_sys::Function::new_no_args(
        "return Promise.reject(new DOMException('autoplay refused', 'NotAllowedError'))",
    );
    js_sys::Reflect::set(&el, &"play".into(), &refuse).expect("override play");
    a.s.attach("cam", Some(el.clone())).expect("attach");
    a.wait(
        "autoplay blocked",
        5_000,
        |e| matches!(e, SessionEvent::Media(MediaEvent::AutoplayBlocked { key }) if key == "cam"),
    )
    .await;
    js_sys::Reflect::delete_property(&el, &"play".into()).expect("restore play");
    el.set_muted(true);
    a.s.resume_playback();
    a.wait(
        "playing after resume",
        5_000,
        |e| matches!(e, SessionEvent::Media(MediaEvent::Playing { key }) if key == "cam"),
    )
    .await;
    // An unknown output device is a typed error, not a panic (headless Chromium has no
    // audio outputs, so it may also abort).
    let err =
        a.s.set_speaker("no-such-output")
            .await
            .expect_err("unknown sink");
    assert!(
        matches!(err.name.as_str(), "NotFoundError" | "AbortError"),
        "{err:?}"
    );
    a.s.detach("cam");
    assert!(el.src_object().is_none(), "detach clears the element");

    // The device list changes: subscribers hear about it.
    a.s.watch_devices();
    sleep(50).await;
    let md = web_sys::window()
        .expect("window")
        .navigator()
        .media_devices()
        .expect("mediaDevices");
    md.dispatch_event(&web_sys::Event::new("devicechange").expect("Event"))
        .expect("dispatch devicechange");
    a.wait("devices changed", 5_000, |e| {
        matches!(e, SessionEvent::Media(MediaEvent::DevicesChanged))
    })
    .await;

    // A moderator (b) mutes a's microphone: the track is blocked on both sides; unmuting
    // only lifts the block and asks a to unmute.
    let blocked = |want: bool, local: bool| {
        move |e: &SessionEvent| {
            matches!(e, SessionEvent::Core(CoreEvent::TrackUpdated { track, local: l, updated, by, .. })
                if track.kind == TrackKind::Audio && track.blocked == want && *l == local
                    && updated.iter().any(|u| u == "blocked") && by.is_some())
        }
    };
    let target = json!({ "member_id": a.member_id });
    b.s.call(Command::Rpc {
        method: "member.audio_mute".into(),
        params: target.clone().into(),
    })
    .await
    .expect("moderator mute");
    a.wait("blocked at a", 5_000, blocked(true, true)).await;
    b.wait("blocked at b", 5_000, blocked(true, false)).await;
    b.s.call(Command::Rpc {
        method: "member.audio_unmute".into(),
        params: target.into(),
    })
    .await
    .expect("moderator unmute");
    a.wait("unblocked at a", 5_000, blocked(false, true)).await;
    a.wait("unmute requested", 5_000, |e| {
        matches!(
            e,
            SessionEvent::Core(CoreEvent::UnmuteRequested {
                kind: TrackKind::Audio,
                ..
            })
        )
    })
    .await;

    // Messages: one to b only, then one to everyone; c sees only the second.
    let c = Probe::join("media.c").await;
    a.s.call(Command::SendMessage {
        to: Some(vec![b.member_id.clone()]),
        topic: Some("t".into()),
        payload: json!({"n": 1}).into(),
    })
    .await
    .expect("message.send to b");
    a.s.call(Command::SendMessage {
        to: None,
        topic: None,
        payload: json!({"n": 2}).into(),
    })
    .await
    .expect("message.send to all");
    let two = |e: &SessionEvent| matches!(e, SessionEvent::Core(CoreEvent::MessageReceived { payload, .. }) if payload["n"] == 2);
    b.wait("message to all at b", 5_000, two).await;
    c.wait("message to all at c", 5_000, two).await;
    assert_eq!(messages(&b), vec![json!({"n": 1}), json!({"n": 2})]);
    assert_eq!(
        messages(&c),
        vec![json!({"n": 2})],
        "a private message reaches only b"
    );
    c.s.leave().await.expect("leave c");

    a.s.leave().await.expect("leave a");
    b.wait("a left", 10_000, |e| {
        matches!(e, SessionEvent::Core(CoreEvent::MemberLeft { .. }))
    })
    .await;
    let vid = video.0.clone();
    b.wait("a's video unpublished", 10_000, move |e| {
        matches!(e, SessionEvent::Core(CoreEvent::TrackUnpublished { track, .. }) if track.id == vid)
    })
    .await;
    assert!(
        b.s.remote_track(&video.0).is_none(),
        "an unpublished track is forgotten"
    );
    b.s.leave().await.expect("leave b");
    assert_eq!(fresh.ready_state(), MediaStreamTrackState::Ended);
    assert_eq!(cam.ready_state(), MediaStreamTrackState::Ended);
    assert_eq!(mic.ready_state(), MediaStreamTrackState::Ended);
}

#[wasm_bindgen_test]
async fn token_refresh() {
    let a = Probe::join("token.a").await;
    a.s.call(Command::UpdateToken {
        token: token("token.a2"),
    })
    .await
    .expect("session.update_token with a fresh token");
    a.s.call(Command::Rpc {
        method: "room.get".into(),
        params: json!({}).into(),
    })
    .await
    .expect("the session works after the refresh");
    let bad =
        a.s.call(Command::UpdateToken {
            token: "not.a.jwt".into(),
        })
        .await;
    let err = bad.expect_err("a malformed token is refused");
    assert!((20101..=20107).contains(&err.code().0), "{err:?}");
    a.s.leave().await.expect("leave");
}

#[wasm_bindgen_test]
async fn websocket_drop_resumes_without_lost_or_duplicated_events() {
    let a = Probe::join("drop.a").await;
    a.publish("cam", Source::Camera).await;
    a.publish("mic", Source::Microphone).await;
    let b = Probe::join("drop.b").await;
    b.remote_tracks(2).await;
    b.media_flows(20_000).await;
    let send = |n: u32| {
        a.s.call(Command::SendMessage {
            to: None,
            topic: None,
            payload: json!({ "n": n }).into(),
        })
    };
    for n in 0..5 {
        send(n).await.expect("send");
    }
    b.s.debug_drop_socket();
    // Sent while b's socket is down: the server buffers them for the resume.
    for n in 5..10 {
        send(n).await.expect("send while b is away");
    }
    // A state change while b is away arrives exactly once, too.
    a.s.mute_track("mic", true)
        .await
        .expect("mute while b is away");
    b.wait("reconnecting", 10_000, |e| {
        matches!(e, SessionEvent::Core(CoreEvent::Reconnecting { .. }))
    })
    .await;
    b.wait("reconnected", 20_000, |e| {
        matches!(e, SessionEvent::Core(CoreEvent::Reconnected))
    })
    .await;
    for n in 10..12 {
        send(n).await.expect("send after resume");
    }
    let mut waited = 0;
    while messages(&b).len() < 12 && waited < 10_000 {
        sleep(100).await;
        waited += 100;
    }
    let want: Vec<_> = (0..12).map(|n| json!({ "n": n })).collect();
    assert_eq!(messages(&b), want, "every message exactly once, in order");
    let mic_muted = |e: &SessionEvent| {
        matches!(e, SessionEvent::Core(CoreEvent::TrackUpdated { track, updated, .. })
            if track.kind == TrackKind::Audio && track.muted && updated.iter().any(|u| u == "muted"))
    };
    b.wait("the mute made while away", 5_000, mic_muted).await;
    assert_eq!(b.count(mic_muted), 1, "the mute is delivered exactly once");
    a.s.mute_track("mic", false).await.expect("unmute");
    b.media_flows(20_000).await;
    assert_eq!(b.count(is_left), 0);
    a.s.leave().await.expect("leave a");
    b.s.leave().await.expect("leave b");
}

#[wasm_bindgen_test]
async fn ten_join_leave_cycles_leave_nothing_behind() {
    // One warm-up cycle, so lazily created JS-side state does not count as a leak.
    let warm = Probe::join("cycle.a").await;
    warm.s.leave().await.expect("leave");
    drop(warm);
    sleep(100).await;
    let heap = wasm_bindgen::externref_heap_live_count();
    let base = live_callbacks();
    let mut tracks = Vec::new();
    let fired = Rc::new(RefCell::new(0u32));
    for _ in 0..10 {
        let p = Probe::join("cycle.a").await;
        tracks.push(p.publish("cam", Source::Camera).await);
        tracks.push(p.publish("mic", Source::Microphone).await);
        p.s.leave().await.expect("leave");
        let f = fired.clone();
        // A subscription made after leave must never be called.
        let late = p.s.subscribe(move |_| *f.borrow_mut() += 1);
        let left_at = p.log.borrow().len();
        sleep(100).await;
        assert_eq!(p.log.borrow().len(), left_at, "no event after leave");
        drop(late);
    }
    sleep(300).await;
    assert_eq!(*fired.borrow(), 0, "no listener fires after leave");
    assert_eq!(
        live_callbacks(),
        base,
        "every browser listener and timer is gone"
    );
    for t in &tracks {
        assert_eq!(
            t.ready_state(),
            MediaStreamTrackState::Ended,
            "local track stopped"
        );
    }
    drop(tracks);
    let now = wasm_bindgen::externref_heap_live_count();
    console_log!("externref heap: baseline {heap}, after 10 cycles {now}");
    assert!(
        now <= heap,
        "externref heap back at baseline ({heap}), now {now}"
    );
}

#[wasm_bindgen_test]
async fn a_refused_join_is_a_typed_error_and_leaves_nothing() {
    let base = live_callbacks();
    let s = SessionHandle::new(Config::new(url(), "not.a.jwt", 0));
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    let _sub = s.subscribe(move |e| l.borrow_mut().push(e.clone()));
    let err = s.call(Command::Join).await.expect_err("a malformed token");
    assert!((20101..=20107).contains(&err.code().0), "{err:?}");
    sleep(100).await;
    assert!(!s.is_alive(), "the session ended");
    assert!(
        log.borrow().iter().any(|e| matches!(
            e,
            SessionEvent::Core(CoreEvent::ConnectionStateChanged {
                state: ConnectionState::Disconnected { error: Some(_) }
            })
        )),
        "the state ends at disconnected, with the error"
    );
    assert_eq!(
        live_callbacks(),
        base,
        "no socket listener or timer remains"
    );
    let again = s.call(Command::Join).await.expect_err("a closed session");
    assert_eq!(again.name(), "MisuseError");
}
