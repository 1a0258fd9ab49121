//! Integration tests of the media engine with real str0m clients over loopback UDP.
//!
//! Every client PeerConnection is a str0m `Rtc` with its own UDP socket, so the engine sees
//! exactly what it would see from browsers: STUN, DTLS, SRTP, SCTP on one shared server port.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use convene_server::media::{
    DataFrame, LayerLimits, MediaConfig, MediaEngine, MediaError, MediaEvent, MediaHandle, PcKind,
    PubMid, PubOffer, SessionEvents, SessionSpec, StreamReason, SubOffer, TrackKind,
};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::channel::ChannelId;
use str0m::format::Codec;
use str0m::media::{
    Direction, Frequency, KeyframeRequestKind, MediaKind, MediaTime, Mid, Rid, Simulcast,
    SimulcastLayer,
};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;

/// One client PeerConnection: a str0m `Rtc` on its own loopback socket.
struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    addr: SocketAddr,
    connected: bool,
    /// Frames received per mid.
    frames: HashMap<Mid, usize>,
    channels: HashMap<String, ChannelId>,
    data: Vec<Vec<u8>>,
    /// Every video frame received: (its last byte, keyframe).
    video: Vec<(u8, bool)>,
    /// Keyframe requests received (by rid).
    kf_requests: Vec<Option<Rid>>,
}

impl Peer {
    async fn new() -> Peer {
        Peer::with(Rtc::builder()).await
    }

    async fn with(config: str0m::RtcConfig) -> Peer {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let addr = socket.local_addr().expect("addr");
        let mut rtc = config.build(Instant::now());
        rtc.add_local_candidate(Candidate::host(addr, "udp").expect("candidate"));
        Peer {
            rtc,
            socket,
            addr,
            connected: false,
            frames: HashMap::new(),
            channels: HashMap::new(),
            data: Vec::new(),
            video: Vec::new(),
            kf_requests: Vec::new(),
        }
    }

    fn candidate(&self) -> String {
        Candidate::host(self.addr, "udp")
            .expect("candidate")
            .to_sdp_string()
    }

    fn drain(&mut self) {
        loop {
            match self.rtc.poll_output().expect("client poll") {
                Output::Timeout(_) => break,
                Output::Transmit(t) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Output::Event(e) => match e {
                    Event::Connected => self.connected = true,
                    Event::MediaData(d) => {
                        *self.frames.entry(d.mid).or_default() += 1;
                        if self.rtc.media(d.mid).map(|m| m.kind()) == Some(MediaKind::Video) {
                            let last = d.data.last().copied().unwrap_or(0);
                            self.video.push((last, d.is_keyframe()));
                        }
                    }
                    Event::KeyframeRequest(r) => self.kf_requests.push(r.rid),
                    Event::ChannelOpen(id, label) => {
                        self.channels.insert(label, id);
                    }
                    Event::ChannelData(d) => self.data.push(d.data),
                    _ => {}
                },
            }
        }
    }

    fn pump(&mut self) {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, source)) = self.socket.try_recv_from(&mut buf) {
            if let Ok(r) = Receive::new(Protocol::Udp, source, self.addr, &buf[..n]) {
                let _ = self.rtc.handle_input(Input::Receive(Instant::now(), r));
                self.drain();
            }
        }
        let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
        self.drain();
    }

    fn frames_of(&self, kind: MediaKind) -> usize {
        self.frames
            .iter()
            .filter(|(mid, _)| self.rtc.media(**mid).map(|m| m.kind()) == Some(kind))
            .map(|(_, n)| *n)
            .sum()
    }
}

/// A test client: one engine session with a pub and a sub PeerConnection.
struct Client {
    sid: String,
    publ: Peer,
    sub: Peer,
    events: SessionEvents,
    seen: Vec<MediaEvent>,
    audio_mid: Option<Mid>,
    video_mid: Option<Mid>,
    ts: u64,
}

impl Client {
    async fn join(media: &MediaHandle, sid: &str, member: &str) -> Client {
        let events = media
            .create_session(SessionSpec::new(sid, member, "rm_test"))
            .await
            .expect("create session");
        let mut c = Client {
            sid: sid.to_owned(),
            publ: Peer::new().await,
            sub: Peer::new().await,
            events,
            seen: Vec::new(),
            audio_mid: None,
            video_mid: None,
            ts: 0,
        };
        let offer = answer_pending(media, &mut c)
            .await
            .expect("the first sub offer follows the join");
        assert_eq!(offer.offer_id, 1);
        assert!(
            offer.mids.is_empty(),
            "first offer holds only data channels"
        );
        c
    }

    fn poll_events(&mut self) {
        while let Ok(ev) = self.events.try_recv() {
            self.seen.push(ev);
        }
    }

    /// Takes the oldest unhandled sub offer.
    fn next_offer(&mut self) -> Option<SubOffer> {
        self.poll_events();
        let pos = self
            .seen
            .iter()
            .position(|e| matches!(e, MediaEvent::SubOffer(_)))?;
        match self.seen.remove(pos) {
            MediaEvent::SubOffer(o) => Some(o),
            _ => None,
        }
    }

    async fn answer(&mut self, media: &MediaHandle, offer: SubOffer) {
        let parsed = SdpOffer::from_sdp_string(&offer.sdp).expect("engine offer parses");
        let answer = self
            .sub
            .rtc
            .sdp_api()
            .accept_offer(parsed)
            .expect("engine offer accepted");
        self.sub.drain();
        media
            .sub_answer(&self.sid, offer.offer_id, answer.to_sdp_string())
            .await
            .expect("answer applied");
        media
            .remote_candidate(&self.sid, PcKind::Sub, Some(self.sub.candidate()))
            .await
            .expect("candidate");
    }

    /// Publishes one audio and one video track (and the data channels).
    async fn publish(&mut self, media: &MediaHandle, audio: &str, video: &str) {
        let mut api = self.publ.rtc.sdp_api();
        let am = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let vm = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        api.add_channel("ovsp-reliable".into());
        let (offer, pending) = api.apply().expect("offer");
        self.audio_mid = Some(am);
        self.video_mid = Some(vm);
        let mut mids = BTreeMap::new();
        mids.insert(am.to_string(), pub_mid(audio, TrackKind::Audio));
        mids.insert(vm.to_string(), pub_mid(video, TrackKind::Video));
        let answer = media
            .pub_offer(
                &self.sid,
                PubOffer {
                    offer_id: 1,
                    sdp: offer.to_sdp_string(),
                    mids,
                    ice_restart: false,
                },
            )
            .await
            .expect("pub offer answered");
        self.accept_pub_answer(pending, &answer);
        media
            .remote_candidate(&self.sid, PcKind::Pub, Some(self.publ.candidate()))
            .await
            .expect("candidate");
    }

    fn accept_pub_answer(&mut self, pending: SdpPendingOffer, answer: &str) {
        let answer = SdpAnswer::from_sdp_string(answer).expect("answer parses");
        self.publ
            .rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("answer accepted");
        self.publ.drain();
    }

    /// Sends one 20 ms audio frame (loud) and, every other call, one video frame.
    fn send_media(&mut self) {
        self.ts += 1;
        let now = Instant::now();
        if let Some(am) = self.audio_mid {
            if let Some(w) = self.publ.rtc.writer(am) {
                let pt = w
                    .payload_params()
                    .find(|p| p.spec().codec == Codec::Opus)
                    .map(|p| p.pt());
                if let Some(pt) = pt {
                    let t = MediaTime::new(self.ts * 960, Frequency::FORTY_EIGHT_KHZ);
                    let _ =
                        w.audio_level(-10, true)
                            .write(pt, now, t, vec![0xfc, 0xff, 0xfe, 1, 2, 3]);
                }
            }
            self.publ.drain();
        }
        if let (Some(vm), true) = (self.video_mid, self.ts & 1 == 0) {
            if let Some(w) = self.publ.rtc.writer(vm) {
                let h264 = w
                    .payload_params()
                    .find(|p| p.spec().codec == Codec::H264)
                    .map(|p| p.pt());
                let vp8 = w
                    .payload_params()
                    .find(|p| p.spec().codec == Codec::Vp8)
                    .map(|p| p.pt());
                if let (Some(pt), None) = (h264, vp8) {
                    // An H.264 access unit (Annex B): SPS, PPS and an IDR slice.
                    let t = MediaTime::new(self.ts * 1800, Frequency::NINETY_KHZ);
                    let mut au = vec![0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0x8d, 0x68, 0x14];
                    au.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
                    au.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84]);
                    au.extend_from_slice(&[0x21; 400]);
                    let _ = w.write(pt, now, t, au);
                } else if let Some(pt) = vp8 {
                    let t = MediaTime::new(self.ts * 1800, Frequency::NINETY_KHZ);
                    // A VP8 keyframe header followed by filler.
                    let mut frame =
                        vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00];
                    frame.extend_from_slice(&[0x55; 300]);
                    let _ = w.write(pt, now, t, frame);
                }
            }
            self.publ.drain();
        }
    }

    fn pump(&mut self) {
        self.publ.pump();
        self.sub.pump();
        self.poll_events();
    }

    fn has(&self, f: impl Fn(&MediaEvent) -> bool) -> bool {
        self.seen.iter().any(f)
    }
}

fn pub_mid(track: &str, kind: TrackKind) -> PubMid {
    PubMid {
        track_id: track.to_owned(),
        kind,
    }
}

/// Pumps every client (sending media from the publishers) for `dur`.
async fn run(clients: &mut [&mut Client], senders: &[usize], dur: Duration) {
    let end = Instant::now() + dur;
    let mut next_media = Instant::now();
    while Instant::now() < end {
        if Instant::now() >= next_media {
            for &i in senders {
                clients[i].send_media();
            }
            next_media += Duration::from_millis(20);
        }
        for c in clients.iter_mut() {
            c.pump();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// How much longer than its stated limit a wait may run. Every wait is a liveness check that
/// ends as soon as its condition holds (about a second when media flows), so its limit only
/// bounds a failure, and a loaded machine running these debug-build exchanges in parallel must
/// not turn a slow pass into one.
const SLACK: u32 = 4;

/// Pumps until `cond` holds or `limit` (times [`SLACK`]) passes; returns whether it held.
async fn wait_for(
    clients: &mut [&mut Client],
    senders: &[usize],
    limit: Duration,
    cond: impl Fn(&[&mut Client]) -> bool,
) -> bool {
    let end = Instant::now() + limit * SLACK;
    while Instant::now() < end {
        run(clients, senders, Duration::from_millis(20)).await;
        if cond(clients) {
            return true;
        }
    }
    false
}

/// Waits (up to 1 s) for the next sub offer of `c` and answers it.
async fn answer_pending(media: &MediaHandle, c: &mut Client) -> Option<SubOffer> {
    let end = Instant::now() + Duration::from_secs(1);
    let offer = loop {
        c.pump();
        if let Some(o) = c.next_offer() {
            break o;
        }
        if Instant::now() > end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    c.answer(media, offer.clone()).await;
    Some(offer)
}

/// An engine with two sessions: `a` publishes `mic` and `cam` (both live; it sends media when
/// pumped as sender 0) and `b`'s sub PC is connected, with no subscription yet.
async fn publisher_and_subscriber(mic: &str, cam: &str) -> (MediaHandle, Client, Client) {
    let media = MediaEngine::start(MediaConfig::dev())
        .await
        .expect("engine");
    let mut a = Client::join(&media, "ses_a", "mem_a").await;
    let mut b = Client::join(&media, "ses_b", "mem_b").await;
    a.publish(&media, mic, cam).await;
    assert!(
        wait_for(&mut [&mut a, &mut b], &[], Duration::from_secs(5), |c| {
            [mic, cam].iter().all(|id| {
                c[0].has(|e| matches!(e, MediaEvent::TrackLive { track_id } if track_id == id))
            }) && c[1].sub.connected
        })
        .await,
        "the publisher's tracks go live and the subscriber connects"
    );
    (media, a, b)
}

/// Whether `offer` forwards `track` on one of its mids.
fn carries(offer: &SubOffer, track: &str) -> bool {
    offer.mids.values().flatten().any(|m| m.track_id == track)
}

/// Answers the sub offers of `c`, as a client does, until each of `tracks` is in one of
/// `offers` (which may already hold answered ones), and returns them all. The engine puts the
/// subscription changes of one housekeeping tick into one offer and makes the next offer only
/// once the last is answered, so a subscription made after a tick passed (on a loaded machine,
/// between two `subscribe` calls) comes in the following offer.
async fn answer_until(
    media: &MediaHandle,
    c: &mut Client,
    tracks: &[&str],
    mut offers: Vec<SubOffer>,
) -> Vec<SubOffer> {
    let end = Instant::now() + Duration::from_secs(5) * SLACK;
    while !tracks.iter().all(|t| offers.iter().any(|o| carries(o, t))) {
        let got: Vec<_> = offers.iter().map(|o| (o.offer_id, &o.mids)).collect();
        assert!(
            Instant::now() < end,
            "no offer for some of {tracks:?}: {got:?}"
        );
        if let Some(offer) = answer_pending(media, c).await {
            offers.push(offer);
        }
    }
    offers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_subscribe_forward_and_moderate() {
    // Live once negotiated and connected.
    let (media, mut a, mut b) = publisher_and_subscriber("tr_a_mic", "tr_a_cam").await;

    media
        .subscribe("ses_b", "tr_a_mic")
        .await
        .expect("subscribe");
    media
        .subscribe("ses_b", "tr_a_cam")
        .await
        .expect("subscribe");
    media
        .subscribe("ses_b", "tr_nope")
        .await
        .expect_err("unknown track");
    // The subscriptions share one offer when no housekeeping tick passed between them, else
    // the second follows once the first is answered: the offers are numbered on from 2 and an
    // offer lists every mid, so the last one carries both tracks.
    let offer = answer_pending(&media, &mut b).await.expect("sub offer");
    assert_eq!(offer.offer_id, 2);
    assert!(carries(&offer, "tr_a_mic"), "{:?}", offer.mids);
    let offers = answer_until(&media, &mut b, &["tr_a_mic", "tr_a_cam"], vec![offer]).await;
    let ids: Vec<u32> = offers.iter().map(|o| o.offer_id).collect();
    assert!(
        ids == [2] || ids == [2, 3],
        "one offer, or one per tick: {ids:?}"
    );
    let offer = offers.last().expect("an offer");
    let live: Vec<_> = offer.mids.values().flatten().collect();
    assert_eq!(live.len(), 2, "both tracks negotiated: {:?}", offer.mids);
    assert!(live.iter().all(|m| m.member_id == "mem_a"));
    let audio_mid = offer
        .mids
        .iter()
        .find(|(_, m)| m.as_ref().map(|m| m.kind) == Some(TrackKind::Audio))
        .map(|(k, _)| k.clone())
        .expect("audio mid");

    // Media flows to the subscriber.
    assert!(
        wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(5), |c| {
            c[1].sub.frames_of(MediaKind::Audio) > 10 && c[1].sub.frames_of(MediaKind::Video) > 5
        })
        .await,
        "audio and video reach the subscriber: {:?}",
        b.sub.frames
    );
    assert!(b.has(
        |e| matches!(e, MediaEvent::SubscriptionActive { track_id, .. } if track_id == "tr_a_cam")
    ));
    assert!(
        b.has(|e| matches!(e, MediaEvent::Talking { member_id, talking: true } if member_id == "mem_a")),
        "loud audio level makes mem_a talk"
    );
    assert!(b.has(|e| matches!(e, MediaEvent::Speakers(s) if s.iter().any(|s| s.member_id == "mem_a" && s.active))));

    // A moderator block drops the audio at the engine, video keeps flowing.
    media.set_blocked("tr_a_mic", true).await.expect("block");
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(200)).await;
    b.sub.frames.clear();
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(600)).await;
    assert_eq!(b.sub.frames_of(MediaKind::Audio), 0, "blocked audio stops");
    assert!(b.sub.frames_of(MediaKind::Video) > 5, "video continues");
    assert!(b.has(|e| matches!(e, MediaEvent::StreamState { track_id, active: false, reason: StreamReason::PublisherMuted } if track_id == "tr_a_mic")));
    assert!(b.has(
        |e| matches!(e, MediaEvent::Talking { member_id, talking: false } if member_id == "mem_a")
    ));
    let stats = media.stats().await.expect("stats");
    assert!(stats.frames_dropped_moderation > 0);

    media.set_blocked("tr_a_mic", false).await.expect("unblock");
    b.sub.frames.clear();
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(500)).await;
    assert!(
        b.sub.frames_of(MediaKind::Audio) > 5,
        "unblocked audio resumes"
    );

    // Deaf: no audio to b; owner mute stops it too.
    media.set_deaf("ses_b", true).await.expect("deaf");
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(100)).await;
    b.sub.frames.clear();
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(400)).await;
    assert_eq!(b.sub.frames_of(MediaKind::Audio), 0, "deaf gets no audio");
    assert!(b.sub.frames_of(MediaKind::Video) > 3);
    media.set_deaf("ses_b", false).await.expect("undeaf");
    media.set_muted("tr_a_cam", true).await.expect("mute");
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(100)).await;
    b.sub.frames.clear();
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(400)).await;
    assert_eq!(b.sub.frames_of(MediaKind::Video), 0, "muted video stops");
    assert!(b.sub.frames_of(MediaKind::Audio) > 5, "undeaf: audio again");
    media.set_muted("tr_a_cam", false).await.expect("unmute");

    // Pause one subscription without renegotiation.
    media
        .set_paused("ses_b", "tr_a_cam", true)
        .await
        .expect("pause");
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(100)).await;
    b.sub.frames.clear();
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(300)).await;
    assert_eq!(b.sub.frames_of(MediaKind::Video), 0, "paused video stops");
    assert!(b.has(|e| matches!(
        e,
        MediaEvent::StreamState {
            reason: StreamReason::SubscriberPaused,
            ..
        }
    )));
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(100)).await;
    assert!(b.next_offer().is_none(), "pausing needs no renegotiation");
    media
        .set_paused("ses_b", "tr_a_cam", false)
        .await
        .expect("resume");

    // Bad SDP: 53403, and the session keeps working.
    let e = media
        .pub_offer(
            "ses_a",
            PubOffer {
                offer_id: 2,
                sdp: "v=0\r\nthis is not sdp".into(),
                mids: BTreeMap::new(),
                ice_restart: false,
            },
        )
        .await
        .expect_err("bad sdp");
    assert_eq!(e.code, MediaError::BAD_REMOTE_SDP);
    let e = media
        .pub_offer(
            "ses_a",
            PubOffer {
                offer_id: 1,
                sdp: "v=0".into(),
                mids: BTreeMap::new(),
                ice_restart: false,
            },
        )
        .await
        .expect_err("stale");
    assert_eq!(e.code, MediaError::STALE_OFFER);
    let e = media
        .sub_answer("ses_b", 77, "garbage".into())
        .await
        .expect_err("no such offer");
    assert_eq!(e.code, MediaError::STALE_OFFER);
    let e = media
        .remote_candidate("ses_b", PcKind::Sub, Some("candidate:garbage".into()))
        .await
        .expect_err("bad candidate");
    assert_eq!(e.code, MediaError::INVALID_PARAMS);
    b.sub.frames.clear();
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(500)).await;
    assert!(
        b.sub.frames_of(MediaKind::Audio) > 5 && b.sub.frames_of(MediaKind::Video) > 3,
        "media survives bad input"
    );

    // Unsubscribe releases the m-line (inactive); re-subscribing reuses it.
    media
        .unsubscribe("ses_b", "tr_a_mic")
        .await
        .expect("unsubscribe");
    let offer = answer_pending(&media, &mut b).await.expect("offer");
    assert_eq!(offer.mids.get(&audio_mid), Some(&None), "{:?}", offer.mids);
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(100)).await;
    b.sub.frames.clear();
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(300)).await;
    assert_eq!(b.sub.frames_of(MediaKind::Audio), 0);
    media
        .subscribe("ses_b", "tr_a_mic")
        .await
        .expect("subscribe");
    let offer = answer_pending(&media, &mut b).await.expect("offer");
    assert_eq!(
        offer
            .mids
            .get(&audio_mid)
            .and_then(|m| m.as_ref())
            .map(|m| m.track_id.as_str()),
        Some("tr_a_mic"),
        "the inactive audio m-line is reused: {:?}",
        offer.mids
    );
    assert_eq!(offer.mids.len(), 2, "no new m-line");
    b.sub.frames.clear();
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(500)).await;
    assert!(
        b.sub.frames_of(MediaKind::Audio) > 5,
        "audio again on the reused mid"
    );

    // Closing the publisher stops everything at once and releases b's m-lines.
    media.close_session("ses_a").await.expect("close");
    let offer = answer_pending(&media, &mut b)
        .await
        .expect("offer after close");
    assert!(offer.mids.values().all(|m| m.is_none()), "{:?}", offer.mids);
    b.sub.frames.clear();
    run(&mut [&mut b], &[], Duration::from_millis(300)).await;
    assert_eq!(b.sub.frames.values().sum::<usize>(), 0);
    let stats = media.stats().await.expect("stats");
    assert_eq!(stats.sessions, 1);
    assert_eq!(stats.tracks, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyframe_requests_are_throttled_and_merged() {
    let media = MediaEngine::start(MediaConfig::dev())
        .await
        .expect("engine");
    let mut a = Client::join(&media, "ses_a", "mem_a").await;
    let mut b = Client::join(&media, "ses_b", "mem_b").await;
    a.publish(&media, "tr_mic", "tr_cam").await;
    assert!(
        wait_for(&mut [&mut a, &mut b], &[], Duration::from_secs(5), |c| {
            c[0].has(|e| matches!(e, MediaEvent::TrackLive { .. })) && c[1].sub.connected
        })
        .await
    );
    media.subscribe("ses_b", "tr_cam").await.expect("subscribe");
    answer_pending(&media, &mut b).await.expect("offer");
    assert!(
        wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(5), |c| {
            c[1].sub.frames_of(MediaKind::Video) > 3
        })
        .await
    );
    let before = media.stats().await.expect("stats");
    let video_mid = *b.sub.frames.keys().next().expect("video mid");
    // The subscriber asks for 30 keyframes within ~300 ms.
    for _ in 0..30 {
        if let Some(rx) = b.sub.rtc.direct_api().stream_rx_by_mid(video_mid, None) {
            rx.request_keyframe(KeyframeRequestKind::Pli);
        }
        b.sub.drain();
        run(&mut [&mut a, &mut b], &[0], Duration::from_millis(10)).await;
    }
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(700)).await;
    let after = media.stats().await.expect("stats");
    let wanted = after.keyframe_requests_wanted - before.keyframe_requests_wanted;
    let sent = after.keyframe_requests_sent - before.keyframe_requests_sent;
    assert!(wanted >= 10, "the engine saw the requests ({wanted})");
    assert!(
        (1..=3).contains(&sent),
        "requests merged: {sent} sent for {wanted} wanted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_tracks_follow_handles_and_destinations() {
    let media = MediaEngine::start(MediaConfig::dev())
        .await
        .expect("engine");
    let mut a = Client::join(&media, "ses_a", "mem_a").await;
    let mut b = Client::join(&media, "ses_b", "mem_b").await;
    let mut c = Client::join(&media, "ses_c", "mem_c").await;
    // A's pub PC with only the data channels.
    let mut api = a.publ.rtc.sdp_api();
    api.add_channel("ovsp-reliable".into());
    let (offer, pending) = api.apply().expect("offer");
    let answer = media
        .pub_offer(
            "ses_a",
            PubOffer {
                offer_id: 1,
                sdp: offer.to_sdp_string(),
                mids: BTreeMap::new(),
                ice_restart: false,
            },
        )
        .await
        .expect("answer");
    a.accept_pub_answer(pending, &answer);
    media
        .add_data_track("ses_a", "tr_data", 7, true)
        .await
        .expect("data track");
    assert_eq!(
        media
            .add_data_track("ses_b", "tr_other", 7, true)
            .await
            .map_err(|e| e.code),
        Err(MediaError::DATA_HANDLE)
    );
    media.subscribe("ses_b", "tr_data").await.expect("sub b");
    media.subscribe("ses_c", "tr_data").await.expect("sub c");
    assert!(
        b.has(|e| matches!(e, MediaEvent::SubscriptionActive { mid: None, .. })) || {
            b.poll_events();
            b.has(|e| matches!(e, MediaEvent::SubscriptionActive { mid: None, .. }))
        }
    );
    assert!(
        wait_for(
            &mut [&mut a, &mut b, &mut c],
            &[],
            Duration::from_secs(5),
            |cl| {
                cl[0].publ.channels.contains_key("ovsp-reliable")
                    && cl[1].sub.channels.contains_key("ovsp-reliable")
                    && cl[2].sub.channels.contains_key("ovsp-reliable")
            }
        )
        .await,
        "data channels open on both PCs"
    );
    let chan = a.publ.channels["ovsp-reliable"];
    let send = |a: &mut Client, frame: &DataFrame| {
        if let Some(mut ch) = a.publ.rtc.channel(chan) {
            ch.write(true, &frame.encode()).expect("write");
        }
        a.publ.drain();
    };
    let to_b = DataFrame {
        handle: 7,
        seq: 1,
        destinations: Some(vec!["mem_b".into()]),
        payload: b"only for b".to_vec(),
    };
    send(&mut a, &to_b);
    let to_all = DataFrame {
        handle: 7,
        seq: 2,
        destinations: None,
        payload: b"for everyone".to_vec(),
    };
    send(&mut a, &to_all);
    // Unknown handle and garbage are dropped.
    send(
        &mut a,
        &DataFrame {
            handle: 9,
            seq: 3,
            destinations: None,
            payload: b"nobody".to_vec(),
        },
    );
    if let Some(mut ch) = a.publ.rtc.channel(chan) {
        ch.write(true, &[0xff, 0, 1]).expect("write");
    }
    a.publ.drain();
    assert!(
        wait_for(
            &mut [&mut a, &mut b, &mut c],
            &[],
            Duration::from_secs(3),
            |cl| { cl[1].sub.data.len() >= 2 && !cl[2].sub.data.is_empty() }
        )
        .await
    );
    run(
        &mut [&mut a, &mut b, &mut c],
        &[],
        Duration::from_millis(200),
    )
    .await;
    let b_frames: Vec<DataFrame> = b
        .sub
        .data
        .iter()
        .filter_map(|d| DataFrame::decode(d))
        .collect();
    let c_frames: Vec<DataFrame> = c
        .sub
        .data
        .iter()
        .filter_map(|d| DataFrame::decode(d))
        .collect();
    assert_eq!(b_frames.len(), 2, "b gets its frame and the broadcast");
    assert_eq!(b_frames[0].payload, b"only for b");
    assert_eq!(
        b_frames[0].destinations, None,
        "downlink carries no destination list"
    );
    assert_eq!(b_frames[0].handle, 7);
    assert_eq!(c_frames.len(), 1, "c only gets the broadcast");
    assert_eq!(c_frames[0].payload, b"for everyone");
    assert_eq!(c_frames[0].seq, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_datagrams_and_bad_sdp_do_not_hurt_the_engine() {
    let media = MediaEngine::start(MediaConfig::dev())
        .await
        .expect("engine");
    let mut a = Client::join(&media, "ses_a", "mem_a").await;
    let junk = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let target = media.local_addr();
    let mut seed: u32 = 12345;
    for i in 0..2000u32 {
        let len = (i % 300) as usize + 1;
        let mut pkt = Vec::with_capacity(len);
        for _ in 0..len {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            pkt.push((seed >> 16) as u8);
        }
        // Make some look like STUN, DTLS and RTP so they get past the first demux.
        match i % 4 {
            0 if len > 20 => {
                pkt[0] = 0;
                pkt[1] = 1;
                pkt[4..8].copy_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
            }
            1 => pkt[0] = 22,
            2 => pkt[0] = 0x80,
            _ => {}
        }
        let _ = junk.send_to(&pkt, target).await;
    }
    for sdp in [
        "",
        "v=0",
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
        "v=0\r\na=fingerprint:sha-256 00\r\na=ice-ufrag:x\r\na=ice-pwd:y\r\nm=audio 9 RTP 1\r\na=mid:0\r\n",
    ] {
        let e = media
            .pub_offer(
                "ses_a",
                PubOffer {
                    offer_id: 100,
                    sdp: sdp.into(),
                    mids: BTreeMap::new(),
                    ice_restart: false,
                },
            )
            .await
            .expect_err("bad sdp rejected");
        assert_eq!(e.code, MediaError::BAD_REMOTE_SDP, "{sdp:?}: {e}");
    }
    // A mids map that does not match the SDP.
    let mut api = a.publ.rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, _pending) = api.apply().expect("offer");
    let mut mids = BTreeMap::new();
    mids.insert("nope".to_string(), pub_mid("tr_x", TrackKind::Audio));
    let e = media
        .pub_offer(
            "ses_a",
            PubOffer {
                offer_id: 101,
                sdp: offer.to_sdp_string(),
                mids,
                ice_restart: false,
            },
        )
        .await
        .expect_err("mids");
    assert_eq!(e.code, MediaError::MIDS_INCONSISTENT);
    // The engine still serves, and the session still publishes.
    let stats = media.stats().await.expect("engine alive");
    assert!(stats.unrouted_datagrams > 0);
    a.publish(&media, "tr_mic", "tr_cam").await;
    assert!(
        wait_for(&mut [&mut a], &[], Duration::from_secs(5), |c| {
            c[0].has(|e| matches!(e, MediaEvent::TrackLive { .. }))
        })
        .await,
        "the session publishes after the bad input"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_rtp_before_answer_then_ice_restarts_and_resets() {
    let (media, mut a, mut b) = publisher_and_subscriber("tr_mic", "tr_cam").await;
    media.subscribe("ses_b", "tr_mic").await.expect("subscribe");
    media.subscribe("ses_b", "tr_cam").await.expect("subscribe");
    // The client applies the offer but holds its answer back: nothing may arrive meanwhile.
    let offer = loop {
        run(&mut [&mut a, &mut b], &[0], Duration::from_millis(20)).await;
        if let Some(o) = b.next_offer() {
            break o;
        }
    };
    let parsed = SdpOffer::from_sdp_string(&offer.sdp).expect("offer");
    let answer = b.sub.rtc.sdp_api().accept_offer(parsed).expect("accept");
    b.sub.drain();
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(400)).await;
    assert_eq!(
        b.sub.frames.values().sum::<usize>(),
        0,
        "no RTP on a new mid before its answer is applied"
    );
    media
        .sub_answer("ses_b", offer.offer_id, answer.to_sdp_string())
        .await
        .expect("answer");
    answer_until(&media, &mut b, &["tr_mic", "tr_cam"], vec![offer]).await;
    assert!(
        wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(3), |c| {
            c[1].sub.frames_of(MediaKind::Video) > 3 && c[1].sub.frames_of(MediaKind::Audio) > 3
        })
        .await,
        "media flows once the answer is applied"
    );

    // Sub ICE restart.
    media.sub_ice_restart("ses_b").await.expect("ice restart");
    let offer = answer_pending(&media, &mut b).await.expect("restart offer");
    assert!(offer.ice_restart && !offer.reset);
    b.sub.frames.clear();
    assert!(
        wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(5), |c| {
            c[1].sub.frames_of(MediaKind::Video) > 3
        })
        .await,
        "media after the sub ICE restart"
    );

    // Pub ICE restart.
    let mut api = a.publ.rtc.sdp_api();
    api.ice_restart(true);
    let (offer, pending) = api.apply().expect("restart offer");
    let mut mids = BTreeMap::new();
    mids.insert(
        a.audio_mid.expect("mid").to_string(),
        pub_mid("tr_mic", TrackKind::Audio),
    );
    mids.insert(
        a.video_mid.expect("mid").to_string(),
        pub_mid("tr_cam", TrackKind::Video),
    );
    let answer = media
        .pub_offer(
            "ses_a",
            PubOffer {
                offer_id: 2,
                sdp: offer.to_sdp_string(),
                mids: mids.clone(),
                ice_restart: true,
            },
        )
        .await
        .expect("restart answer");
    a.accept_pub_answer(pending, &answer);
    a.poll_events();
    assert!(a.has(|e| matches!(e, MediaEvent::LocalCandidate(c) if c.pc == PcKind::Pub)));
    b.sub.frames.clear();
    assert!(
        wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(5), |c| {
            c[1].sub.frames_of(MediaKind::Video) > 3
        })
        .await,
        "media after the pub ICE restart"
    );

    // Sub reset: a brand new sub PC carrying the current subscriptions.
    media.sub_reset("ses_b").await.expect("sub reset");
    b.sub = Peer::new().await;
    let offer = answer_pending(&media, &mut b).await.expect("reset offer");
    assert!(offer.reset);
    assert_eq!(offer.mids.values().flatten().count(), 2, "{:?}", offer.mids);
    assert!(
        wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(5), |c| {
            c[1].sub.frames_of(MediaKind::Video) > 3 && c[1].sub.frames_of(MediaKind::Audio) > 3
        })
        .await,
        "media on the new sub PC"
    );

    // Pub reset: a new pub PC re-attaches the same track ids.
    media.pub_reset("ses_a").await.expect("pub reset");
    a.publ = Peer::new().await;
    a.publish(&media, "tr_mic", "tr_cam").await;
    b.sub.frames.clear();
    assert!(
        wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(5), |c| {
            c[1].sub.frames_of(MediaKind::Video) > 3 && c[1].sub.frames_of(MediaKind::Audio) > 3
        })
        .await,
        "media from the new pub PC reaches the old subscription"
    );
    assert!(
        b.next_offer().is_none(),
        "a pub reset needs no sub renegotiation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h264_constrained_baseline_is_negotiated_and_forwarded() {
    let media = MediaEngine::start(MediaConfig::dev())
        .await
        .expect("engine");
    let mut a = Client::join(&media, "ses_a", "mem_a").await;
    let mut b = Client::join(&media, "ses_b", "mem_b").await;
    // A publisher that offers only Opus and H.264.
    a.publ = Peer::with(
        Rtc::builder()
            .clear_codecs()
            .enable_opus(true, false)
            .enable_h264(true),
    )
    .await;
    let mut api = a.publ.rtc.sdp_api();
    let vm = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
    let (offer, pending) = api.apply().expect("offer");
    a.video_mid = Some(vm);
    let mut mids = BTreeMap::new();
    mids.insert(vm.to_string(), pub_mid("tr_h264", TrackKind::Video));
    let answer = media
        .pub_offer(
            "ses_a",
            PubOffer {
                offer_id: 1,
                sdp: offer.to_sdp_string(),
                mids,
                ice_restart: false,
            },
        )
        .await
        .expect("answer");
    assert!(answer.contains("H264/90000"), "H.264 negotiated");
    assert!(
        answer.contains("profile-level-id=42e01f") && answer.contains("packetization-mode=1"),
        "constrained baseline, packetization mode 1"
    );
    assert!(!answer.contains("VP8"), "only what was offered");
    a.accept_pub_answer(pending, &answer);
    assert!(
        wait_for(&mut [&mut a, &mut b], &[], Duration::from_secs(5), |c| {
            c[0].has(|e| matches!(e, MediaEvent::TrackLive { .. })) && c[1].sub.connected
        })
        .await
    );
    media
        .subscribe("ses_b", "tr_h264")
        .await
        .expect("subscribe");
    let offer = answer_pending(&media, &mut b).await.expect("offer");
    assert!(offer.sdp.contains("H264/90000"));
    assert!(
        wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(5), |c| {
            c[1].sub.frames_of(MediaKind::Video) > 5
        })
        .await,
        "H.264 frames reach the subscriber"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_peer_is_detected_by_ice() {
    let media = MediaEngine::start(MediaConfig::dev())
        .await
        .expect("engine");
    let mut a = Client::join(&media, "ses_a", "mem_a").await;
    assert!(
        wait_for(&mut [&mut a], &[], Duration::from_secs(5), |c| {
            c[0].has(|e| matches!(e, MediaEvent::Connected { pc: PcKind::Sub }))
        })
        .await,
        "the sub PC connects"
    );
    // The client vanishes without a word: no more STUN, DTLS or RTP from it.
    a.sub = Peer::new().await;
    let end = Instant::now() + Duration::from_secs(40);
    let mut failed = false;
    while Instant::now() < end && !failed {
        tokio::time::sleep(Duration::from_millis(200)).await;
        a.poll_events();
        failed = a.has(|e| matches!(e, MediaEvent::IceFailed { pc: PcKind::Sub }));
    }
    assert!(failed, "ICE consent loss is reported");
    // Detection does not remove the session: that is the signaling layer's call.
    assert_eq!(media.stats().await.expect("stats").sessions, 1);
    media.close_session("ses_a").await.expect("close");
    assert_eq!(media.stats().await.expect("stats").sessions, 0);
}

/// Junk shaped like RTP, RTCP, DTLS and STUN, sent from the addresses of connected peers so
/// that it reaches their PeerConnections.
async fn spray(socket: &UdpSocket, target: SocketAddr, count: u32, seed: &mut u32) {
    for i in 0..count {
        let len = (i % 200) as usize + 12;
        let mut pkt = Vec::with_capacity(len);
        for _ in 0..len {
            *seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            pkt.push((*seed >> 16) as u8);
        }
        match i % 5 {
            0 => pkt[0] = 0x80,
            1 => {
                pkt[0] = 0x81;
                pkt[1] = 200 + (i % 7) as u8;
            }
            2 => pkt[0] = 20 + (i % 4) as u8,
            3 => {
                pkt[0] = 0;
                pkt[1] = 1;
                pkt[4..8].copy_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
            }
            _ => {}
        }
        let _ = socket.send_to(&pkt, target).await;
        if i % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_made_while_an_offer_is_outstanding_comes_in_the_next() {
    let (media, mut a, mut b) = publisher_and_subscriber("tr_mic", "tr_cam").await;
    media.subscribe("ses_b", "tr_mic").await.expect("subscribe");
    let end = Instant::now() + Duration::from_secs(1) * SLACK;
    let first = loop {
        run(&mut [&mut a, &mut b], &[0], Duration::from_millis(20)).await;
        if let Some(o) = b.next_offer() {
            break o;
        }
        assert!(Instant::now() < end, "an offer follows the subscription");
    };
    assert_eq!(first.offer_id, 2);
    assert!(carries(&first, "tr_mic") && !carries(&first, "tr_cam"));
    // While that offer is unanswered, a second subscription waits: no offer may overtake it.
    media.subscribe("ses_b", "tr_cam").await.expect("subscribe");
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(300)).await;
    assert!(b.next_offer().is_none(), "one offer outstanding at a time");
    b.answer(&media, first).await;
    let next = answer_pending(&media, &mut b)
        .await
        .expect("the next offer follows the answer");
    assert_eq!(next.offer_id, 3);
    assert!(
        carries(&next, "tr_mic") && carries(&next, "tr_cam"),
        "{:?}",
        next.mids
    );
    assert!(
        wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(5), |c| {
            c[1].sub.frames_of(MediaKind::Video) > 3 && c[1].sub.frames_of(MediaKind::Audio) > 3
        })
        .await,
        "both tracks flow: {:?}",
        b.sub.frames
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_from_connected_peers_does_not_break_media() {
    let (media, mut a, mut b) = publisher_and_subscriber("tr_mic", "tr_cam").await;
    media.subscribe("ses_b", "tr_cam").await.expect("subscribe");
    media.subscribe("ses_b", "tr_mic").await.expect("subscribe");
    answer_until(&media, &mut b, &["tr_cam", "tr_mic"], Vec::new()).await;
    assert!(
        wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(5), |c| {
            c[1].sub.frames_of(MediaKind::Video) > 3
        })
        .await,
        "video reaches the subscriber before the junk: {:?}",
        b.sub.frames
    );
    let target = media.local_addr();
    let mut seed = 777;
    spray(&a.publ.socket, target, 3000, &mut seed).await;
    spray(&b.sub.socket, target, 3000, &mut seed).await;
    run(&mut [&mut a, &mut b], &[0], Duration::from_millis(200)).await;
    b.sub.frames.clear();
    let before = media.stats().await.expect("engine alive");
    let flowed = wait_for(&mut [&mut a, &mut b], &[0], Duration::from_secs(5), |c| {
        c[1].sub.frames_of(MediaKind::Video) > 5 && c[1].sub.frames_of(MediaKind::Audio) > 5
    })
    .await;
    let stats = media.stats().await.expect("engine alive");
    assert!(
        flowed,
        "media keeps flowing after the junk: received video {} audio {} (connected {}), \
         keyframe requests at the publisher {}; engine before the wait {before:?}, after {stats:?}",
        b.sub.frames_of(MediaKind::Video),
        b.sub.frames_of(MediaKind::Audio),
        b.sub.connected,
        a.publ.kf_requests.len(),
    );
    assert_eq!(stats.sessions, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulcast_forwards_one_layer_and_falls_back_when_it_stalls() {
    let media = MediaEngine::start(MediaConfig::dev())
        .await
        .expect("engine");
    let mut a = Client::join(&media, "ses_a", "mem_a").await;
    let mut b = Client::join(&media, "ses_b", "mem_b").await;
    let mut api = a.publ.rtc.sdp_api();
    let mut sim = Simulcast::new();
    for rid in ["q", "h", "f"] {
        sim.add_send_layer(SimulcastLayer::new(rid));
    }
    let vm = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, Some(sim));
    let (offer, pending) = api.apply().expect("offer");
    let mut mids = BTreeMap::new();
    mids.insert(vm.to_string(), pub_mid("tr_sim", TrackKind::Video));
    let answer = media
        .pub_offer(
            "ses_a",
            PubOffer {
                offer_id: 1,
                sdp: offer.to_sdp_string(),
                mids,
                ice_restart: false,
            },
        )
        .await
        .expect("answer");
    a.accept_pub_answer(pending, &answer);
    assert!(
        wait_for(&mut [&mut a, &mut b], &[], Duration::from_secs(5), |c| {
            c[0].has(|e| matches!(e, MediaEvent::TrackLive { .. })) && c[1].sub.connected
        })
        .await
    );
    media.subscribe("ses_b", "tr_sim").await.expect("subscribe");
    answer_pending(&media, &mut b).await.expect("offer");
    // Every 40 ms each active layer sends one (key)frame.
    let send = |a: &mut Client, layers: &[&str], n: u64| {
        for rid in layers {
            if let Some(w) = a.publ.rtc.writer(vm) {
                let pt = w
                    .payload_params()
                    .find(|p| p.spec().codec == Codec::Vp8)
                    .map(|p| p.pt());
                if let Some(pt) = pt {
                    let mut frame =
                        vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00];
                    frame.extend_from_slice(&[0x44; 200]);
                    let t = MediaTime::new(n * 3600, Frequency::NINETY_KHZ);
                    let _ = w.rid(Rid::from(*rid)).write(pt, Instant::now(), t, frame);
                }
            }
            a.publ.drain();
        }
    };
    let mut n = 0u64;
    // All three layers, then "f" stops: the engine falls back to "h" after a 1 s stall.
    for (layers, ms) in [(&["q", "h", "f"][..], 1500u64), (&["q", "h"][..], 2500u64)] {
        b.sub.frames.clear();
        let end = Instant::now() + Duration::from_millis(ms);
        let mut sent_per_layer = 0;
        while Instant::now() < end {
            n += 1;
            sent_per_layer += 1;
            send(&mut a, layers, n);
            for _ in 0..8 {
                a.pump();
                b.pump();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        run(&mut [&mut a, &mut b], &[], Duration::from_millis(100)).await;
        let got = b.sub.frames_of(MediaKind::Video);
        assert!(
            got > sent_per_layer / 3 && got <= sent_per_layer + 2,
            "one layer forwarded with {layers:?}: {got} frames for {sent_per_layer} per layer"
        );
    }
}

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

/// Sends a frame of every layer `q`, `h`, `f` of `vm` each 30 ms for `ms`, pumping every client:
/// a keyframe when one was asked for (for its rid or for all) and otherwise every 3 s. Returns
/// the keyframe requests the publisher received.
async fn pump_layers(
    a: &mut Client,
    vm: Mid,
    subs: &mut [&mut Client],
    n: &mut u64,
    ms: u64,
) -> Vec<Option<Rid>> {
    let end = Instant::now() + Duration::from_millis(ms);
    let mut out = Vec::new();
    while Instant::now() < end {
        *n += 1;
        let asked = std::mem::take(&mut a.publ.kf_requests);
        for rid in ["q", "h", "f"] {
            let key = *n == 1
                || (*n).is_multiple_of(100)
                || asked
                    .iter()
                    .any(|r| r.is_none() || *r == Some(Rid::from(rid)));
            if let Some(w) = a.publ.rtc.writer(vm) {
                let pt = w
                    .payload_params()
                    .find(|p| p.spec().codec == Codec::Vp8)
                    .map(|p| p.pt());
                if let Some(pt) = pt {
                    let t = MediaTime::new(*n * 2700, Frequency::NINETY_KHZ);
                    let frame = layer_frame(rid, key);
                    let _ = w.rid(Rid::from(rid)).write(pt, Instant::now(), t, frame);
                }
            }
            a.publ.drain();
        }
        out.extend(asked);
        let tick = Instant::now() + Duration::from_millis(30);
        while Instant::now() < tick {
            a.pump();
            for s in subs.iter_mut() {
                s.pump();
            }
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }
    out
}

/// Marks of the frames received `from`, with runs of one mark collapsed.
fn runs(video: &[(u8, bool)]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for (m, _) in video {
        if out.last() != Some(m) {
            out.push(*m);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulcast_layer_per_subscriber_follows_its_limits() {
    let mut cfg = MediaConfig::dev();
    cfg.keyframe_interval = Duration::from_millis(200);
    let media = MediaEngine::start(cfg).await.expect("engine");
    let mut a = Client::join(&media, "ses_a", "mem_a").await;
    let mut b = Client::join(&media, "ses_b", "mem_b").await;
    let mut c = Client::join(&media, "ses_c", "mem_c").await;
    let mut api = a.publ.rtc.sdp_api();
    let mut sim = Simulcast::new();
    for rid in ["q", "h", "f"] {
        sim.add_send_layer(SimulcastLayer::new(rid));
    }
    let vm = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, Some(sim));
    let (offer, pending) = api.apply().expect("offer");
    let mut mids = BTreeMap::new();
    mids.insert(vm.to_string(), pub_mid("tr_sim", TrackKind::Video));
    let answer = media
        .pub_offer(
            "ses_a",
            PubOffer {
                offer_id: 1,
                sdp: offer.to_sdp_string(),
                mids,
                ice_restart: false,
            },
        )
        .await
        .expect("answer");
    a.accept_pub_answer(pending, &answer);
    assert!(
        wait_for(
            &mut [&mut a, &mut b, &mut c],
            &[],
            Duration::from_secs(5),
            |c| {
                c[0].has(|e| matches!(e, MediaEvent::TrackLive { .. }))
                    && c[1].sub.connected
                    && c[2].sub.connected
            }
        )
        .await
    );
    for (sub, limits) in [
        (
            &mut b,
            LayerLimits {
                max_width: Some(640),
                ..LayerLimits::default()
            },
        ),
        (&mut c, LayerLimits::default()),
    ] {
        media
            .subscribe(&sub.sid, "tr_sim")
            .await
            .expect("subscribe");
        answer_pending(&media, sub).await.expect("offer");
        media
            .set_layer_limits(&sub.sid, "tr_sim", limits)
            .await
            .expect("limits");
    }
    assert_eq!(
        media
            .set_layer_limits("ses_a", "tr_sim", LayerLimits::default())
            .await
            .map_err(|e| e.code),
        Err(MediaError::TRACK_NOT_FOUND),
        "limits need a subscription"
    );
    let mut n = 0u64;
    // b (at most 640 wide) gets "h", c (no limit) gets "f", once both layers' keyframes passed.
    pump_layers(&mut a, vm, &mut [&mut b, &mut c], &mut n, 1500).await;
    b.sub.video.clear();
    c.sub.video.clear();
    pump_layers(&mut a, vm, &mut [&mut b, &mut c], &mut n, 1000).await;
    assert!(b.sub.video.len() > 20, "b receives: {}", b.sub.video.len());
    assert!(c.sub.video.len() > 20, "c receives: {}", c.sub.video.len());
    assert_eq!(runs(&b.sub.video), vec![0x52], "b gets only h");
    assert_eq!(runs(&c.sub.video), vec![0x53], "c gets only f");
    // New limits: b at most 320 wide gets "q", c at most 360 high gets "h". Each switches at
    // a keyframe of its new layer, asked for from the publisher for that rid, well before the
    // periodic one.
    b.sub.video.clear();
    c.sub.video.clear();
    let limit = |w: Option<u32>, h: Option<u32>| LayerLimits {
        max_width: w,
        max_height: h,
        max_fps: None,
    };
    media
        .set_layer_limits("ses_b", "tr_sim", limit(Some(320), None))
        .await
        .expect("limits");
    media
        .set_layer_limits("ses_c", "tr_sim", limit(None, Some(360)))
        .await
        .expect("limits");
    let asked = pump_layers(&mut a, vm, &mut [&mut b, &mut c], &mut n, 1200).await;
    assert!(
        asked.contains(&Some(Rid::from("q"))) && asked.contains(&Some(Rid::from("h"))),
        "keyframes of the new layers were asked for: {asked:?}"
    );
    for (name, sub, from, to) in [("b", &b, 0x52, 0x51), ("c", &c, 0x53, 0x52)] {
        let v = &sub.sub.video;
        assert_eq!(runs(v), vec![from, to], "{name} switches once: {v:?}");
        let first = v.iter().position(|(m, _)| *m == to).unwrap_or(0);
        assert!(
            v[first].1,
            "{name}'s first frame of the new layer is a keyframe"
        );
        assert!(
            v.len() - first > 15,
            "{name} switched late: only {} of {} frames after",
            v.len() - first,
            v.len()
        );
    }
    // No limit again: b goes back to "f" (and does not disturb c).
    media
        .set_layer_limits("ses_b", "tr_sim", LayerLimits::default())
        .await
        .expect("limits");
    b.sub.video.clear();
    c.sub.video.clear();
    pump_layers(&mut a, vm, &mut [&mut b, &mut c], &mut n, 800).await;
    assert_eq!(runs(&b.sub.video), vec![0x51, 0x53], "b back to f");
    assert_eq!(runs(&c.sub.video), vec![0x52], "c stays on h");
    // Frame rates come from the layers declared at publish: c at most 20 fps gets "q" (15 fps).
    let layer = |rid: &str, fps: f64| ovsp::model::TrackLayer {
        rid: rid.into(),
        width: None,
        height: None,
        max_bitrate: None,
        max_fps: Some(fps),
        active: None,
    };
    media
        .set_track_layers(
            "tr_sim",
            vec![layer("q", 15.0), layer("h", 30.0), layer("f", 30.0)],
        )
        .await
        .expect("layers");
    media
        .set_layer_limits(
            "ses_c",
            "tr_sim",
            LayerLimits {
                max_fps: Some(20.0),
                ..LayerLimits::default()
            },
        )
        .await
        .expect("limits");
    b.sub.video.clear();
    c.sub.video.clear();
    pump_layers(&mut a, vm, &mut [&mut b, &mut c], &mut n, 800).await;
    assert_eq!(runs(&b.sub.video), vec![0x53], "b stays on f");
    assert_eq!(
        runs(&c.sub.video),
        vec![0x52, 0x51],
        "c at 20 fps goes to q"
    );
}
