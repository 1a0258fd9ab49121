//! Browser tests of the SDK's web adapters, without a server: RAII listeners and timers,
//! fake camera and microphone capture, media error mapping, two peer connections of the real
//! adapter carrying media and data to each other, element attachment, and the leak count.
#![cfg(target_arch = "wasm32")]

use convene::web::element::{Attachment, PlayOutcome};
use convene::web::error::MediaError;
use convene::web::listener::{live_callbacks, sleep, Listener, Timer};
use convene::web::media::{self, DeviceKind, LocalTrack, MediaRequest, Source};
use convene::web::peer::{Direction, IceServer, PcRole, Peer, SdpKind, StatsTotals};
use convene_core::PeerEvent;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn listener_is_removed_on_drop() {
    let base = live_callbacks();
    let target = web_sys::EventTarget::new().expect("EventTarget");
    let hits = Rc::new(Cell::new(0));
    let h = hits.clone();
    let l = Listener::new(&target, "ping", move |_| h.set(h.get() + 1));
    assert_eq!(live_callbacks(), base + 1);
    let ev = web_sys::Event::new("ping").expect("Event");
    target.dispatch_event(&ev).expect("dispatch");
    assert_eq!(hits.get(), 1);
    drop(l);
    target.dispatch_event(&ev).expect("dispatch");
    assert_eq!(hits.get(), 1, "a dropped listener must not fire");
    assert_eq!(live_callbacks(), base);
}

#[wasm_bindgen_test]
async fn timer_fires_and_is_cancelled_on_drop() {
    let base = live_callbacks();
    let fired = Rc::new(Cell::new(0));
    let (f1, f2) = (fired.clone(), fired.clone());
    let keep = Timer::new(10, move || f1.set(f1.get() + 1));
    let cancelled = Timer::new(10, move || f2.set(f2.get() + 100));
    drop(cancelled);
    sleep(60).await;
    assert_eq!(fired.get(), 1);
    drop(keep);
    assert_eq!(live_callbacks(), base);
}

#[wasm_bindgen_test]
async fn fake_camera_and_microphone_are_captured_and_stopped() {
    let tracks = media::user_media(&MediaRequest {
        audio: JsValue::TRUE,
        video: JsValue::TRUE,
    })
    .await
    .expect("getUserMedia with fake devices");
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0].kind(), "audio");
    assert_eq!(tracks[1].kind(), "video");
    let raw = Clone::clone(&tracks[1]);
    let ended = Rc::new(Cell::new(false));
    let e = ended.clone();
    let lt = LocalTrack::new(Clone::clone(&raw), Source::Camera, move || e.set(true));
    assert!(lt.is_live());
    assert!(lt.device_id().is_some());
    // What the browser fires when the device goes away.
    raw.dispatch_event(&web_sys::Event::new("ended").expect("Event"))
        .expect("dispatch");
    assert!(ended.get(), "the ended callback runs");
    drop(lt);
    assert_eq!(raw.ready_state(), web_sys::MediaStreamTrackState::Ended);
    tracks[0].stop();
    let devs = media::devices().await.expect("enumerateDevices");
    assert!(devs.iter().any(|d| d.kind == DeviceKind::VideoInput));
    assert!(devs.iter().any(|d| d.kind == DeviceKind::AudioInput));
}

#[wasm_bindgen_test]
async fn unknown_device_is_a_typed_media_error() {
    let err = media::user_media(&MediaRequest::camera(Some("no-such-device")))
        .await
        .expect_err("an exact unknown deviceId must fail");
    assert!(
        matches!(
            err,
            MediaError::Overconstrained(_) | MediaError::NotFound(_)
        ),
        "got {err:?}"
    );
}

type Signals = Rc<RefCell<Vec<PeerEvent>>>;

/// A peer's events, collected (the tracks that come with them are not needed here).
fn collector() -> (Signals, convene::web::peer::Sink) {
    let v: Signals = Rc::new(RefCell::new(Vec::new()));
    let w = v.clone();
    (v, Rc::new(move |ev, _track| w.borrow_mut().push(ev)))
}

fn take(v: &Signals) -> Vec<PeerEvent> {
    std::mem::take(&mut *v.borrow_mut())
}

/// Hands the candidates gathered by one side to the other.
async fn trickle(from: &Signals, to: &Peer, keep: &Signals) {
    for ev in take(from) {
        match ev {
            PeerEvent::IceCandidate { candidate, .. } => {
                let _ = to.add_candidate(candidate.as_ref()).await;
            }
            other => keep.borrow_mut().push(other),
        }
    }
}

#[wasm_bindgen_test]
async fn two_adapter_peers_carry_media_and_data() {
    let base = live_callbacks();
    let heap = wasm_bindgen::externref_heap_live_count();
    {
        let tracks = media::user_media(&MediaRequest {
            audio: JsValue::TRUE,
            video: JsValue::TRUE,
        })
        .await
        .expect("fake media");
        let (sa, fa) = collector();
        let (sb, fb) = collector();
        let mut a = Peer::create(PcRole::Pub, &[], fa).expect("pc a");
        let b = Peer::create(PcRole::Sub, &[], fb).expect("pc b");
        a.open_data_channels();
        // Sent while the channel is still connecting: kept and sent, first, once it opens.
        a.send_data("ovsp-reliable", b"early")
            .expect("kept until the channel opens");
        for t in &tracks {
            a.add_transceiver(Some(t), &t.kind(), Direction::SendOnly, None);
        }
        let offer = a.create_offer(false).await.expect("offer");
        a.set_local(SdpKind::Offer, &offer)
            .await
            .expect("local offer");
        b.set_remote(SdpKind::Offer, &offer)
            .await
            .expect("remote offer");
        let answer = b.create_answer().await.expect("answer");
        b.set_local(SdpKind::Answer, &answer)
            .await
            .expect("local answer");
        a.set_remote(SdpKind::Answer, &answer)
            .await
            .expect("remote answer");
        assert!(a.transceivers().iter().all(|t| t.mid().is_some()));

        let (ka, kb) = (
            Rc::new(RefCell::new(Vec::new())),
            Rc::new(RefCell::new(Vec::new())),
        );
        let mut totals = StatsTotals::default();
        for _ in 0..100 {
            trickle(&sa, &b, &ka).await;
            trickle(&sb, &a, &kb).await;
            // The receiving side adopted the channels the other side opened by itself.
            let _ = a.send_data("ovsp-reliable", b"hello");
            totals = StatsTotals::default();
            totals.add_report(&b.stats().await.expect("stats"));
            let got_data = kb
                .borrow()
                .iter()
                .any(|ev| matches!(ev, PeerEvent::DataMessage { data, .. } if data == b"hello"));
            if totals.frames_decoded > 0.0 && totals.audio_bytes_received > 0.0 && got_data {
                break;
            }
            sleep(100).await;
        }
        assert!(totals.video_bytes_received > 0.0, "{totals:?}");
        assert!(totals.frames_decoded > 0.0, "{totals:?}");
        assert!(totals.audio_bytes_received > 0.0, "{totals:?}");
        let kb = kb.borrow();
        assert!(
            kb.iter()
                .filter(|ev| matches!(ev, PeerEvent::RemoteTrack { mid } if !mid.is_empty()))
                .count()
                == 2,
            "both remote tracks arrive with their mids"
        );
        assert!(kb
            .iter()
            .any(|ev| matches!(ev, PeerEvent::DataMessage { data, .. } if data == b"hello")));
        let first = kb.iter().find_map(|ev| match ev {
            PeerEvent::DataMessage { data, .. } => Some(data.clone()),
            _ => None,
        });
        assert_eq!(
            first.as_deref(),
            Some(&b"early"[..]),
            "the early message comes first"
        );
        for t in &tracks {
            t.stop();
        }
    }
    sleep(50).await;
    assert_eq!(
        live_callbacks(),
        base,
        "every listener of both peers is removed"
    );
    assert!(
        wasm_bindgen::externref_heap_live_count() <= heap + 2,
        "JS handles return to baseline"
    );
}

#[wasm_bindgen_test]
async fn attachment_plays_and_detaches() {
    let tracks = media::user_media(&MediaRequest::camera(None))
        .await
        .expect("fake camera");
    let track = Clone::clone(&tracks[0]);
    let doc = web_sys::window().unwrap().document().unwrap();
    let att = Attachment::new(&track, None).expect("attach");
    att.element().set_muted(true);
    doc.body().unwrap().append_child(att.element()).unwrap();
    let outcome = att.play().await;
    assert!(
        matches!(outcome, PlayOutcome::Playing | PlayOutcome::AutoplayBlocked),
        "{outcome:?}"
    );
    let el = att.element().clone();
    drop(att);
    assert!(el.src_object().is_none());
    assert!(
        el.parent_node().is_none(),
        "an element the SDK created is removed"
    );
    track.stop();
}

#[wasm_bindgen_test]
fn peer_connection_uses_the_given_ice_servers() {
    let servers = [
        IceServer {
            urls: vec!["stun:127.0.0.1:3479".into()],
            username: None,
            credential: None,
        },
        IceServer {
            urls: vec!["turn:127.0.0.1:3479".into(), "turns:127.0.0.1:5349".into()],
            username: Some("user".into()),
            credential: Some("secret".into()),
        },
    ];
    let p = Peer::create(PcRole::Pub, &[&servers], Rc::new(|_, _| {})).expect("pc");
    let cfg = p.raw().get_configuration();
    let list: js_sys::Array = js_sys::Reflect::get(&cfg, &"iceServers".into())
        .expect("iceServers")
        .into();
    let field = |v: &JsValue, k: &str| js_sys::Reflect::get(v, &k.into()).expect(k);
    let got: Vec<(Vec<String>, Option<String>)> = list
        .iter()
        .map(|s| {
            let urls = field(&s, "urls");
            let urls = if urls.is_string() {
                vec![urls.as_string().unwrap_or_default()]
            } else {
                js_sys::Array::from(&urls)
                    .iter()
                    .filter_map(|u| u.as_string())
                    .collect()
            };
            let user = field(&s, "username").as_string().filter(|u| !u.is_empty());
            (urls, user)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (vec!["stun:127.0.0.1:3479".to_owned()], None),
            (
                vec![
                    "turn:127.0.0.1:3479".to_owned(),
                    "turns:127.0.0.1:5349".to_owned()
                ],
                Some("user".to_owned())
            ),
        ]
    );
}

/// JSON text read and written by the browser's JSON: the same values as the protocol crate's
/// own parser reads from the same text, every nesting and escape included.
#[wasm_bindgen_test]
fn browser_json_reads_and_writes_what_the_protocol_parser_does() {
    use convene::web::js;
    use ovsp::json::{parse, Value};
    let texts = [
        r#"{"jsonrpc":"2.0","method":"event","params":{"type":"member.joined","ts":1700000000000,"seq":7,"data":{"member":{"id":"m1","name":"Zoë ✓ 😀","meta":{"a":[1,-2,0.5,true,false,null,"x\"y\\z\n"]}}}}}"#,
        r#"[1, 2.25, -9007199254740992, 9007199254740992, 1e300, "", {}]"#,
        r#""plain""#,
        "0",
    ];
    for t in texts {
        let ours = parse(t).expect("valid JSON");
        let theirs = js::parse_json(&JsValue::from_str(t)).expect("browser parse");
        assert_eq!(theirs, ours, "{t}");
        // Written by JSON.stringify and read back: the same value.
        let text = js::json_text(&ours).as_string().expect("text");
        assert_eq!(parse(&text).expect("reparse"), ours, "{text}");
    }
    // Integral doubles are integers, as the protocol's decoders expect of ids and counts.
    let v = js::parse_json(&JsValue::from_str("[5.0, 1e2, -3]")).expect("array");
    assert_eq!(v, ovsp::json::json!([5, 100, -3]));
    assert!(v[0].is_u64() && v[2].is_i64());
    // Not JSON, not a string, or over the frame limit: nothing.
    assert_eq!(js::parse_json(&JsValue::from_str("{not json")), None);
    assert_eq!(js::parse_json(&JsValue::from_f64(1.0)), None);
    let huge = format!("\"{}\"", "a".repeat(ovsp::limits::MAX_FRAME_BYTES));
    assert_eq!(js::parse_json(&JsValue::from_str(&huge)), None);
    // An API argument: what JSON.stringify keeps (undefined and function properties left
    // out, toJSON applied); a cycle is no plain value.
    let arg = js_sys::Function::new_no_args(
        "return {memberId: 'm1', skip: undefined, f() {}, when: new Date(0), list: [undefined]}",
    )
    .call0(&JsValue::NULL)
    .expect("object");
    assert_eq!(
        js::plain(&arg),
        Some(
            ovsp::json::json!({"memberId": "m1", "when": "1970-01-01T00:00:00.000Z", "list": [null]})
        )
    );
    let cyclic = js_sys::Function::new_no_args("const o = {}; o.o = o; return o")
        .call0(&JsValue::NULL)
        .expect("object");
    assert_eq!(js::plain(&cyclic), None);
    assert_eq!(js::to_value(&JsValue::UNDEFINED), None);
    // The nesting limit of the protocol's parser, to the level.
    let max = ovsp::json::MAX_DEPTH as usize;
    for depth in [max, max + 1] {
        let t = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(
            js::parse_json(&JsValue::from_str(&t)).is_some(),
            parse(&t).is_ok(),
            "{depth} levels"
        );
    }
    assert_eq!(js::from_value(&Value::Null), JsValue::NULL);
}
