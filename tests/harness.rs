//! Browser harness check: proves that the headless browsers used by the test command can capture
//! fake media and carry it over WebRTC.
//!
//! getUserMedia returns one fake audio and one fake video track; two RTCPeerConnections in the
//! same page negotiate (offer/answer, trickled ICE candidates handed over in-page), and the
//! receiver's `getStats()` must report inbound RTP bytes for both kinds within a bounded wait.
//! This checks the test machinery, not the SDK.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{
    MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcIceCandidate, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcSessionDescriptionInit,
};

wasm_bindgen_test_configure!(run_in_browser);

/// How long the receiver may take to report media bytes.
const MEDIA_DEADLINE_MS: u32 = 20_000;
/// Pause between two `getStats()` polls.
const POLL_MS: u32 = 200;

/// Candidates gathered by one peer, waiting to be handed to the other.
type CandidateQueue = Rc<RefCell<Vec<RtcIceCandidate>>>;

/// Owns an `onicecandidate` listener and removes it when dropped.
struct IceListener {
    pc: RtcPeerConnection,
    _callback: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
}

impl IceListener {
    fn new(pc: &RtcPeerConnection, queue: CandidateQueue) -> Self {
        let callback = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
            move |event: RtcPeerConnectionIceEvent| {
                // A `null` candidate marks the end of gathering; nothing to forward.
                if let Some(candidate) = event.candidate() {
                    queue.borrow_mut().push(candidate);
                }
            },
        );
        pc.set_onicecandidate(Some(callback.as_ref().unchecked_ref()));
        Self {
            pc: pc.clone(),
            _callback: callback,
        }
    }
}

impl Drop for IceListener {
    fn drop(&mut self) {
        self.pc.set_onicecandidate(None);
    }
}

/// Bytes received so far, per media kind, from the receiver's inbound-rtp reports.
#[derive(Debug, Default)]
struct Inbound {
    audio: f64,
    video: f64,
}

async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

async fn await_promise(promise: js_sys::Promise, what: &str) -> JsValue {
    match JsFuture::from(promise).await {
        Ok(value) => value,
        Err(err) => panic!("{what} failed: {err:?}"),
    }
}

fn get_number(obj: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_f64())
}

fn get_string(obj: &JsValue, key: &str) -> Option<String> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
}

/// Moves every queued candidate into `to`.
async fn hand_over(queue: &CandidateQueue, to: &RtcPeerConnection) {
    let pending: Vec<RtcIceCandidate> = queue.borrow_mut().drain(..).collect();
    for candidate in pending {
        await_promise(
            to.add_ice_candidate_with_opt_rtc_ice_candidate(Some(&candidate)),
            "addIceCandidate",
        )
        .await;
    }
}

async fn inbound_bytes(pc: &RtcPeerConnection) -> Inbound {
    let report = await_promise(pc.get_stats(), "getStats").await;
    let mut inbound = Inbound::default();
    let entries = js_sys::try_iter(&report)
        .ok()
        .flatten()
        .expect("RTCStatsReport is iterable");
    for entry in entries {
        let entry = entry.expect("stats entry");
        let stats = Array::from(&entry).get(1);
        if get_string(&stats, "type").as_deref() != Some("inbound-rtp") {
            continue;
        }
        let bytes = get_number(&stats, "bytesReceived").unwrap_or(0.0);
        match get_string(&stats, "kind").as_deref() {
            Some("audio") => inbound.audio += bytes,
            Some("video") => inbound.video += bytes,
            _ => {}
        }
    }
    inbound
}

fn description(value: JsValue) -> RtcSessionDescriptionInit {
    value.unchecked_into()
}

#[wasm_bindgen_test]
async fn fake_media_flows_between_two_peer_connections() {
    let window = web_sys::window().expect("a window");
    let user_agent = window.navigator().user_agent().unwrap_or_default();
    console_log!("harness browser: {user_agent}");

    // Fake camera and microphone.
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    constraints.set_video(&JsValue::TRUE);
    let devices = window.navigator().media_devices().expect("mediaDevices");
    let stream: MediaStream = await_promise(
        devices
            .get_user_media_with_constraints(&constraints)
            .expect("getUserMedia call"),
        "getUserMedia",
    )
    .await
    .unchecked_into();
    assert_eq!(stream.get_audio_tracks().length(), 1, "one audio track");
    assert_eq!(stream.get_video_tracks().length(), 1, "one video track");
    let tracks: Vec<MediaStreamTrack> = stream
        .get_tracks()
        .iter()
        .map(|t| t.unchecked_into())
        .collect();

    let sender = RtcPeerConnection::new().expect("sender RTCPeerConnection");
    let receiver = RtcPeerConnection::new().expect("receiver RTCPeerConnection");
    let to_receiver: CandidateQueue = Rc::default();
    let to_sender: CandidateQueue = Rc::default();
    let sender_ice = IceListener::new(&sender, to_receiver.clone());
    let receiver_ice = IceListener::new(&receiver, to_sender.clone());

    for track in &tracks {
        sender.add_track_0(track, &stream);
    }

    // Offer/answer entirely inside the page.
    let offer = description(await_promise(sender.create_offer(), "createOffer").await);
    await_promise(sender.set_local_description(&offer), "sender setLocal").await;
    await_promise(
        receiver.set_remote_description(&offer),
        "receiver setRemote",
    )
    .await;
    let answer = description(await_promise(receiver.create_answer(), "createAnswer").await);
    await_promise(receiver.set_local_description(&answer), "receiver setLocal").await;
    await_promise(sender.set_remote_description(&answer), "sender setRemote").await;

    // Trickle candidates both ways while polling the receiver's stats.
    let mut waited = 0;
    let inbound = loop {
        hand_over(&to_receiver, &receiver).await;
        hand_over(&to_sender, &sender).await;
        let inbound = inbound_bytes(&receiver).await;
        if (inbound.audio > 0.0 && inbound.video > 0.0) || waited >= MEDIA_DEADLINE_MS {
            break inbound;
        }
        sleep(POLL_MS).await;
        waited += POLL_MS;
    };
    console_log!(
        "harness inbound-rtp after {waited} ms: audio {} bytes, video {} bytes",
        inbound.audio,
        inbound.video
    );

    // Release everything before asserting, so a failure leaves no live media behind.
    drop(sender_ice);
    drop(receiver_ice);
    for track in &tracks {
        track.stop();
    }
    sender.close();
    receiver.close();

    assert!(inbound.audio > 0.0, "no inbound audio bytes: {inbound:?}");
    assert!(inbound.video > 0.0, "no inbound video bytes: {inbound:?}");
}
