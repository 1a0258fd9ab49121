//! Signaling + media engine end to end: str0m peers negotiate through `/ovsp` (sub.offer →
//! sub.answer, track.publish → pub.offer, trickled candidates), the published track goes live,
//! the other member is auto-subscribed and receives the media.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{
    Direction, Frequency, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;

/// A client PeerConnection: a str0m `Rtc` on its own loopback UDP socket.
struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    addr: SocketAddr,
    connected: bool,
    media_frames: usize,
    audio_mid: Option<Mid>,
    ts: u64,
    /// A simulcast video mid sending layers `q`, `h`, `f` (see [`layer_frame`]).
    video_mid: Option<Mid>,
    /// Set when a keyframe was asked for; the next frame of every layer is one.
    keyframe_asked: bool,
    /// The mark byte of every video frame received.
    video: Vec<u8>,
}

impl Peer {
    async fn new() -> Peer {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        Peer {
            rtc,
            socket,
            addr,
            connected: false,
            media_frames: 0,
            audio_mid: None,
            ts: 0,
            video_mid: None,
            keyframe_asked: false,
            video: Vec::new(),
        }
    }

    fn candidate(&self) -> String {
        Candidate::host(self.addr, "udp").unwrap().to_sdp_string()
    }

    fn step(&mut self) {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, source)) = self.socket.try_recv_from(&mut buf) {
            if let Ok(r) = Receive::new(Protocol::Udp, source, self.addr, &buf[..n]) {
                let _ = self.rtc.handle_input(Input::Receive(Instant::now(), r));
            }
        }
        let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
        if let Some(mid) = self.audio_mid.filter(|_| self.connected) {
            self.ts += 1;
            let pt = self.rtc.writer(mid).and_then(|w| {
                w.payload_params()
                    .find(|p| p.spec().codec == Codec::Opus)
                    .map(|p| p.pt())
            });
            if let (Some(pt), Some(w)) = (pt, self.rtc.writer(mid)) {
                let t = MediaTime::new(self.ts * 960, Frequency::FORTY_EIGHT_KHZ);
                let _ = w.write(pt, Instant::now(), t, vec![0xfc, 0xff, 0xfe, 1, 2, 3]);
            }
        }
        // One frame of every layer each third step (~30 ms).
        if let Some(mid) = self.video_mid.filter(|_| self.connected) {
            self.ts += 1;
            if self.ts.is_multiple_of(3) {
                let n = self.ts / 3;
                let key = n == 1 || n.is_multiple_of(60) || self.keyframe_asked;
                self.keyframe_asked = false;
                for rid in ["q", "h", "f"] {
                    if let Some(w) = self.rtc.writer(mid) {
                        let pt = w
                            .payload_params()
                            .find(|p| p.spec().codec == Codec::Vp8)
                            .map(|p| p.pt());
                        if let Some(pt) = pt {
                            let t = MediaTime::new(n * 2700, Frequency::NINETY_KHZ);
                            let frame = layer_frame(rid, key);
                            let _ = w.rid(Rid::from(rid)).write(pt, Instant::now(), t, frame);
                        }
                    }
                }
            }
        }
        while let Ok(out) = self.rtc.poll_output() {
            match out {
                Output::Timeout(_) => break,
                Output::Transmit(t) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Output::Event(Event::Connected) => self.connected = true,
                Output::Event(Event::MediaData(d)) => {
                    self.media_frames += 1;
                    if self.rtc.media(d.mid).map(|m| m.kind()) == Some(MediaKind::Video) {
                        self.video.push(d.data.last().copied().unwrap_or(0));
                    }
                }
                Output::Event(Event::KeyframeRequest(_)) => self.keyframe_asked = true,
                Output::Event(_) => {}
            }
        }
    }
}

type Shared = Arc<Mutex<Peer>>;

/// A VP8 frame of a simulcast layer: a keyframe carries the layer's size (`q` 320x180, `h`
/// 640x360, `f` 1280x720) and every frame ends with the layer's mark byte.
fn layer_frame(rid: &str, key: bool) -> Vec<u8> {
    let (w, h, mark): (u16, u16, u8) = match rid {
        "q" => (320, 180, 0x51),
        "h" => (640, 360, 0x52),
        _ => (1280, 720, 0x53),
    };
    let mut frame = if key {
        let mut f = vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a];
        f.extend_from_slice(&w.to_le_bytes());
        f.extend_from_slice(&h.to_le_bytes());
        f
    } else {
        vec![0x11, 0x02, 0x00]
    };
    frame.extend_from_slice(&[0x44; 200]);
    frame.push(mark);
    frame
}

/// The marks of the video frames `sub` receives during `ms`, runs of one mark collapsed.
async fn layers_received(sub: &Shared, ms: u64) -> (Vec<u8>, usize) {
    sub.lock().unwrap().video.clear();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    let video = std::mem::take(&mut sub.lock().unwrap().video);
    let mut runs: Vec<u8> = Vec::new();
    for m in &video {
        if runs.last() != Some(m) {
            runs.push(*m);
        }
    }
    (runs, video.len())
}

/// Waits (at most 5 s) until the last video frame `sub` received carries `mark`.
async fn wait_for_layer(sub: &Shared, mark: u8) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let last = sub.lock().unwrap().video.last().copied();
        if last == Some(mark) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "layer {mark:#x} never came: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Drives the peers every 10 ms until the test ends.
fn pump(peers: Vec<Shared>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            for p in &peers {
                p.lock().unwrap().step();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
}

/// Answers `sub.offer` events with the sub peer until one lists `track_id` (if given).
async fn answer_offers(c: &mut Client, sub: &Shared, until_track: Option<&str>) -> Value {
    loop {
        let ev = c.event("sub.offer").await;
        let offer =
            SdpOffer::from_sdp_string(ev.data["sdp"].as_str().unwrap()).expect("offer parses");
        let answer = sub
            .lock()
            .unwrap()
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .expect("offer accepted");
        c.call(
            "sub.answer",
            json!({"offer_id": ev.data["offer_id"], "sdp": answer.to_sdp_string()}),
        )
        .await
        .expect("sub.answer");
        let cand = sub.lock().unwrap().candidate();
        c.notify(
            "ice.candidate",
            json!({"pc": "sub", "candidate": cand, "sdp_mid": "0", "sdp_m_line_index": 0}),
        )
        .await;
        let mids = Value::from(ev.data["mids"].clone());
        match until_track {
            None => return mids,
            Some(t)
                if mids
                    .as_object()
                    .unwrap()
                    .values()
                    .any(|m| m["track_id"] == t) =>
            {
                return mids
            }
            Some(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_negotiate_go_live_and_auto_subscribe() {
    let env = start_with(|c| c.media_enabled = true).await;

    // A joins: its first durable event is the sub.offer (data channels only).
    let (mut a, _) = env.joined("alice", "media", ALL_PERMS).await;
    let a_sub = Arc::new(Mutex::new(Peer::new().await));
    let first = a.event("sub.offer").await;
    // Durable (normally seq 1; a coalesced layout.changed may come first on a slow machine).
    assert!(first.seq.is_some_and(|s| s <= 2));
    assert_eq!(first.data["offer_id"], 1);
    assert!(first.data["mids"].as_object().unwrap().is_empty());
    a.events.push_front(first);
    answer_offers(&mut a, &a_sub, None).await;
    // Bad SDP answers are refused with 53403 (stale offer ids with 54400); the session lives on.
    let r = a
        .call("sub.answer", json!({"offer_id": 1, "sdp": "v=0 garbage"}))
        .await;
    assert!(
        matches!(&r, Err(e) if e.code.0 == 53403 || e.code.0 == 54400),
        "{r:?}"
    );

    // Declare and negotiate a microphone track.
    let t = a
        .call(
            "track.publish",
            json!({"cid": "c-mic", "kind": "audio", "source": "microphone"}),
        )
        .await
        .unwrap();
    let track_id = t["track"]["id"].as_str().unwrap().to_string();
    assert_code(
        &a.call(
            "pub.offer",
            json!({"offer_id": 1, "sdp": "v=0", "mids": {"0": "c-nope"}}),
        )
        .await,
        54402,
    );
    let a_pub = Arc::new(Mutex::new(Peer::new().await));
    let (offer, pending) = {
        let mut p = a_pub.lock().unwrap();
        let mut api = p.rtc.sdp_api();
        let mid = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        api.add_channel("ovsp-reliable".into());
        let (offer, pending) = api.apply().expect("offer");
        p.audio_mid = Some(mid);
        (offer, pending)
    };
    let mid = a_pub.lock().unwrap().audio_mid.unwrap().to_string();
    let r = a
        .call(
            "pub.offer",
            json!({"offer_id": 1, "sdp": offer.to_sdp_string(), "mids": {mid.clone(): "c-mic"}}),
        )
        .await
        .expect("pub.offer answered");
    assert_eq!(r["offer_id"], 1);
    let answer = SdpAnswer::from_sdp_string(r["sdp"].as_str().unwrap()).expect("answer parses");
    a_pub
        .lock()
        .unwrap()
        .rtc
        .sdp_api()
        .accept_answer(pending, answer)
        .expect("answer accepted");
    let cand = a_pub.lock().unwrap().candidate();
    a.notify(
        "ice.candidate",
        json!({"pc": "pub", "candidate": cand, "sdp_mid": mid, "sdp_m_line_index": 0}),
    )
    .await;
    let pumper = pump(vec![a_pub.clone(), a_sub.clone()]);

    // The track goes live once negotiated and connected: the owner hears it with its cid.
    let live = a.event("track.published").await;
    assert_eq!(live.data["track"]["id"], track_id.as_str());
    assert_eq!(live.data["track"]["cid"], "c-mic");

    // B joins later, answers its offers, and is auto-subscribed to A's live track.
    let (mut b, snap) = env.joined("bob", "media", ALL_PERMS).await;
    assert_eq!(
        snap.members[0].tracks.len(),
        1,
        "the live track is in the snapshot"
    );
    let b_sub = Arc::new(Mutex::new(Peer::new().await));
    let pumper_b = pump(vec![b_sub.clone()]);
    let mids = answer_offers(&mut b, &b_sub, Some(&track_id)).await;
    let entry = mids
        .as_object()
        .unwrap()
        .values()
        .find(|m| m["track_id"] == track_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["member_id"], a.member_id.as_str());
    assert_eq!(entry["kind"], "audio");
    let upd = b.event("sub.updated").await;
    assert_eq!(upd.data["subscriptions"][0]["track_id"], track_id.as_str());
    assert_eq!(upd.data["subscriptions"][0]["state"], "active");

    let subscribed = a.event("track.subscribed").await;
    assert_eq!(subscribed.data["track_id"], track_id.as_str());
    assert_eq!(subscribed.data["subscriber_count"], 1);

    // Media actually flows to B.
    let deadline = Instant::now() + Duration::from_secs(10);
    while b_sub.lock().unwrap().media_frames == 0 {
        assert!(Instant::now() < deadline, "no media reached the subscriber");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // sub.update: pause and resume without renegotiation; remove makes a sticky opt-out.
    let r = b
        .call(
            "sub.update",
            json!({"settings": [{"track_id": track_id, "paused": true}]}),
        )
        .await
        .unwrap();
    assert_eq!(r["subscriptions"][0]["state"], "paused");
    let r = b
        .call("sub.update", json!({"remove": [{"track_id": track_id}]}))
        .await
        .unwrap();
    assert_eq!(r["subscriptions"][0]["track_id"], track_id.as_str());
    let gone = a.event("track.subscribed").await;
    assert_eq!(gone.data["subscriber_count"], 0);
    let r = b
        .call(
            "sub.update",
            json!({"add": [{"member_id": a.member_id, "kinds": ["audio"]}]}),
        )
        .await
        .unwrap();
    assert_eq!(r["subscriptions"][0]["state"], "pending");
    let r = b
        .call("sub.update", json!({"add": [{"track_id": "tr_nope"}]}))
        .await
        .unwrap();
    assert_eq!(r["subscriptions"][0]["state"], "failed");
    assert_eq!(r["subscriptions"][0]["error"]["code"], 54300);

    // ICE restart and rebuild of the sub PC come back as new sub offers.
    b.call("sub.ice_restart", json!({})).await.unwrap();
    loop {
        // Outstanding offers are answered first; the ICE-restart offer follows them.
        let ev = b.event("sub.offer").await;
        let restart = ev.data["ice_restart"] == true;
        let offer = SdpOffer::from_sdp_string(ev.data["sdp"].as_str().unwrap()).expect("offer");
        let answer = b_sub
            .lock()
            .unwrap()
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .expect("accepted");
        b.call(
            "sub.answer",
            json!({"offer_id": ev.data["offer_id"], "sdp": answer.to_sdp_string()}),
        )
        .await
        .expect("sub.answer");
        if restart {
            break;
        }
    }
    b.call("sub.reset", json!({})).await.unwrap();
    let mut ev = b.event("sub.offer").await;
    while ev.data["reset"] != true {
        ev = b.event("sub.offer").await;
    }
    a.call("pub.reset", json!({})).await.unwrap();

    // Audience cannot negotiate a pub PC.
    let mut aud = claims("viewer", "media", &[]);
    aud["ovsp"]["role"] = json!("audience");
    let (mut v, _) = env.joined_with(&aud).await;
    assert_code(
        &v.call(
            "pub.offer",
            json!({"offer_id": 1, "sdp": "v=0", "mids": {}}),
        )
        .await,
        54101,
    );
    pumper.abort();
    pumper_b.abort();
}

#[tokio::test]
async fn an_unanswered_sub_offer_is_sent_again_after_a_resume() {
    let env = start_with(|c| c.media_enabled = true).await;
    let (mut a, _) = env.joined("alice", "s6", ALL_PERMS).await;
    let offer = a.event("sub.offer").await;
    let offer_id = offer.data["offer_id"].clone();
    let (sid, token, last) = (a.session_id.clone(), a.resume_token.clone(), a.last_seq);
    a.drop_connection();
    let (mut a2, r) = env.resume(&sid, &token, last).await;
    assert_eq!(r.unwrap()["resumed"], true);
    let again = a2.event("sub.offer").await;
    assert_eq!(again.data["offer_id"], offer_id);
    assert!(again.seq.unwrap() > last);
    // Answering it clears it: a later resume does not repeat it.
    let sub = Arc::new(Mutex::new(Peer::new().await));
    let sdp = SdpOffer::from_sdp_string(again.data["sdp"].as_str().unwrap()).unwrap();
    let answer = sub.lock().unwrap().rtc.sdp_api().accept_offer(sdp).unwrap();
    a2.call(
        "sub.answer",
        json!({"offer_id": offer_id, "sdp": answer.to_sdp_string()}),
    )
    .await
    .unwrap();
    let (sid, token, last) = (a2.session_id.clone(), a2.resume_token.clone(), a2.last_seq);
    a2.drop_connection();
    let (mut a3, r) = env.resume_with_ids(&sid, &token, last, 5000).await;
    r.unwrap();
    a3.no_event("sub.offer", Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_update_max_width_picks_the_simulcast_layer() {
    let env = start_with(|c| c.media_enabled = true).await;
    let (mut a, _) = env.joined("alice", "sim", ALL_PERMS).await;
    let a_sub = Arc::new(Mutex::new(Peer::new().await));
    answer_offers(&mut a, &a_sub, None).await;

    // A declares a camera track with three layers and sends all three rids.
    let layer = |rid: &str, w: u32, h: u32| json!({"rid": rid, "width": w, "height": h});
    let t = a
        .call(
            "track.publish",
            json!({"cid": "c-cam", "kind": "video", "source": "camera", "width": 1280,
                   "height": 720, "layers": [layer("q", 320, 180), layer("h", 640, 360),
                   layer("f", 1280, 720)]}),
        )
        .await
        .expect("track.publish");
    let track_id = t["track"]["id"].as_str().unwrap().to_string();
    let a_pub = Arc::new(Mutex::new(Peer::new().await));
    let (offer, pending, mid) = {
        let mut p = a_pub.lock().unwrap();
        let mut api = p.rtc.sdp_api();
        let mut sim = Simulcast::new();
        for rid in ["q", "h", "f"] {
            sim.add_send_layer(SimulcastLayer::new(rid));
        }
        let mid = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, Some(sim));
        let (offer, pending) = api.apply().expect("offer");
        p.video_mid = Some(mid);
        (offer, pending, mid.to_string())
    };
    let r = a
        .call(
            "pub.offer",
            json!({"offer_id": 1, "sdp": offer.to_sdp_string(), "mids": {mid.clone(): "c-cam"}}),
        )
        .await
        .expect("pub.offer answered");
    let answer = SdpAnswer::from_sdp_string(r["sdp"].as_str().unwrap()).expect("answer parses");
    a_pub
        .lock()
        .unwrap()
        .rtc
        .sdp_api()
        .accept_answer(pending, answer)
        .expect("answer accepted");
    let cand = a_pub.lock().unwrap().candidate();
    a.notify(
        "ice.candidate",
        json!({"pc": "pub", "candidate": cand, "sdp_mid": mid, "sdp_m_line_index": 0}),
    )
    .await;
    let pumper = pump(vec![a_pub.clone(), a_sub.clone()]);
    let live = a.event("track.published").await;
    assert_eq!(live.data["track"]["id"], track_id.as_str());

    // B is auto-subscribed; with no limit it receives "f" only.
    let (mut b, _) = env.joined("bob", "sim", ALL_PERMS).await;
    let b_sub = Arc::new(Mutex::new(Peer::new().await));
    let pumper_b = pump(vec![b_sub.clone()]);
    answer_offers(&mut b, &b_sub, Some(&track_id)).await;
    wait_for_layer(&b_sub, 0x53).await;
    let (runs, n) = layers_received(&b_sub, 1000).await;
    assert!(n > 15, "b receives video: {n} frames");
    assert_eq!(runs, vec![0x53], "with no limit b gets only f");

    // At most 640 wide: B switches to "h" and then receives only "h".
    let r = b
        .call(
            "sub.update",
            json!({"settings": [{"track_id": track_id, "max_width": 640}]}),
        )
        .await
        .expect("sub.update");
    assert_eq!(r["subscriptions"][0]["state"], "active");
    wait_for_layer(&b_sub, 0x52).await;
    let (runs, n) = layers_received(&b_sub, 1000).await;
    assert!(n > 15, "b receives video: {n} frames");
    assert_eq!(runs, vec![0x52], "at most 640 wide b gets only h");
    pumper.abort();
    pumper_b.abort();
}
