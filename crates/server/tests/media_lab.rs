//! A manual lab: the media engine behind a minimal subset of OVSP over WebSocket, to try the
//! engine against real browsers without the rest of the server.
//!
//! ```text
//! MEDIA_LAB_PORT=9777 cargo test -p convene-server --test media_lab -- --ignored --nocapture
//! OVSP_LAB_WS=ws://127.0.0.1:9777/ovsp node tests/media/run.mjs
//! ```
//!
//! Supported: `session.connect` (any token; the token is the identity), `room.join` (one room,
//! auto-subscribe), `track.publish`, `pub.offer`, `sub.answer`, `ice.candidate`,
//! `member.audio_mute` / `member.audio_unmute` (block / unblock the member's microphone),
//! `room.leave`, `ping`, `session.ack`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use convene_server::media::{
    MediaConfig, MediaEngine, MediaEvent, MediaHandle, PcKind, PubMid, PubOffer, SessionSpec,
    TrackKind,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone)]
struct Member {
    id: String,
    session: String,
    out: mpsc::UnboundedSender<String>,
    /// track id → (kind, cid)
    tracks: BTreeMap<String, (TrackKind, String)>,
    live: Vec<String>,
}

#[derive(Default)]
struct Lab {
    members: HashMap<String, Member>,
    next: u64,
}

type Shared = Arc<Mutex<Lab>>;

fn event(kind: &str, data: Value) -> String {
    json!({"jsonrpc":"2.0","method":"event","params":{"type":kind,"ts":0,"data":data}}).to_string()
}

fn lock(lab: &Shared) -> std::sync::MutexGuard<'_, Lab> {
    match lab.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn broadcast(lab: &Shared, except: &str, msg: &str) {
    for m in lock(lab).members.values() {
        if m.id != except {
            let _ = m.out.send(msg.to_owned());
        }
    }
}

fn track_json(member: &str, tid: &str, kind: TrackKind, cid: &str) -> Value {
    json!({"id": tid, "member_id": member, "kind": kind.as_str(), "cid": cid,
           "source": if kind == TrackKind::Audio {"microphone"} else {"camera"},
           "muted": false, "blocked": false, "version": 1})
}

async fn pump_media(
    lab: Shared,
    media: MediaHandle,
    member: String,
    mut events: mpsc::UnboundedReceiver<MediaEvent>,
    out: mpsc::UnboundedSender<String>,
) {
    let mut seq = 0u64;
    while let Some(ev) = events.recv().await {
        match ev {
            MediaEvent::SubOffer(o) => {
                seq += 1;
                let mids: serde_json::Map<String, Value> = o
                    .mids
                    .iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Some(m) => json!({"track_id": m.track_id, "member_id": m.member_id, "kind": m.kind.as_str()}),
                            None => Value::Null,
                        };
                        (k.clone(), v)
                    })
                    .collect();
                let _ = out.send(
                    json!({"jsonrpc":"2.0","method":"event","params":{"type":"sub.offer","ts":0,"seq":seq,
                    "data":{"offer_id":o.offer_id,"sdp":o.sdp,"ice_restart":o.ice_restart,"reset":o.reset,"mids":mids}}})
                    .to_string(),
                );
            }
            MediaEvent::LocalCandidate(c) => {
                let _ = out.send(event(
                    "ice.candidate",
                    json!({"pc": c.pc.as_str(), "candidate": c.candidate, "sdp_mid": c.sdp_mid,
                           "sdp_m_line_index": c.sdp_m_line_index, "username_fragment": c.username_fragment}),
                ));
            }
            MediaEvent::TrackLive { track_id } => {
                let (info, others) = {
                    let mut g = lock(&lab);
                    let info = g.members.get_mut(&member).and_then(|m| {
                        m.live.push(track_id.clone());
                        m.tracks.get(&track_id).cloned()
                    });
                    let others: Vec<String> = g
                        .members
                        .values()
                        .filter(|m| m.id != member)
                        .map(|m| m.session.clone())
                        .collect();
                    (info, others)
                };
                if let Some((kind, cid)) = info {
                    let msg = event(
                        "track.published",
                        json!({"track": track_json(&member, &track_id, kind, &cid)}),
                    );
                    let _ = out.send(msg.clone());
                    broadcast(&lab, &member, &msg);
                    for s in others {
                        let _ = media.subscribe(&s, &track_id).await;
                    }
                }
            }
            MediaEvent::Talking { member_id, talking } => {
                let _ = out.send(event(
                    "member.talking",
                    json!({"member_id": member_id, "talking": talking}),
                ));
            }
            _ => {}
        }
    }
}

#[allow(clippy::result_large_err)] // the handshake callback signature is fixed by tungstenite
async fn session(lab: Shared, media: MediaHandle, stream: tokio::net::TcpStream) {
    let cb = |req: &Request, mut resp: Response| {
        if let Some(p) = req.headers().get("sec-websocket-protocol") {
            if p.to_str().map(|s| s.contains("ovsp.v1")).unwrap_or(false) {
                resp.headers_mut().insert(
                    "sec-websocket-protocol",
                    HeaderValue::from_static("ovsp.v1"),
                );
            }
        }
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, cb).await else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            if sink.send(Message::text(m)).await.is_err() {
                break;
            }
        }
    });
    let mut me: Option<Member> = None;
    let mut identity = String::new();
    while let Some(Ok(msg)) = source.next().await {
        let Message::Text(text) = msg else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        let method = v["method"].as_str().unwrap_or_default().to_owned();
        let params = v["params"].clone();
        let id = v.get("id").cloned();
        let reply = |result: Result<Value, (i32, String)>| {
            let Some(id) = id.clone() else {
                return;
            };
            let msg = match result {
                Ok(r) => json!({"jsonrpc":"2.0","id":id,"result":r}),
                Err((code, m)) => {
                    json!({"jsonrpc":"2.0","id":id,"error":{"code":code,"message":m}})
                }
            };
            let _ = out.send(msg.to_string());
        };
        match method.as_str() {
            "session.connect" => {
                identity = params["token"].as_str().unwrap_or("anon").to_owned();
                let n = {
                    let mut g = lock(&lab);
                    g.next += 1;
                    g.next
                };
                me = Some(Member {
                    id: format!("mem_{n}"),
                    session: format!("ses_{n}"),
                    out: out.clone(),
                    tracks: BTreeMap::new(),
                    live: Vec::new(),
                });
                let sid = me.as_ref().map(|m| m.session.clone());
                reply(Ok(json!({"session_id": sid, "identity": identity})));
            }
            "room.join" => {
                let Some(m) = me.clone() else {
                    reply(Err((54001, "not connected".into())));
                    continue;
                };
                let events = match media
                    .create_session(SessionSpec::new(&m.session, &m.id, "rm_lab"))
                    .await
                {
                    Ok(e) => e,
                    Err(e) => {
                        reply(Err((e.code, e.message)));
                        continue;
                    }
                };
                let existing: Vec<(Member, String)> = {
                    let mut g = lock(&lab);
                    let list = g
                        .members
                        .values()
                        .flat_map(|o| o.live.iter().map(move |t| (o.clone(), t.clone())))
                        .collect();
                    g.members.insert(m.id.clone(), m.clone());
                    list
                };
                let members: Vec<Value> = {
                    let g = lock(&lab);
                    g.members
                        .values()
                        .filter(|o| o.id != m.id)
                        .map(|o| json!({"id": o.id, "tracks": o.tracks.iter().map(|(t, (k, c))| track_json(&o.id, t, *k, c)).collect::<Vec<_>>()}))
                        .collect()
                };
                broadcast(
                    &lab,
                    &m.id,
                    &event(
                        "member.joined",
                        json!({"member": {"id": m.id, "identity": identity}}),
                    ),
                );
                tokio::spawn(pump_media(
                    lab.clone(),
                    media.clone(),
                    m.id.clone(),
                    events,
                    out.clone(),
                ));
                for (_, t) in existing {
                    let _ = media.subscribe(&m.session, &t).await;
                }
                reply(Ok(
                    json!({"seq":0,"self":{"id": m.id, "identity": identity},"members": members}),
                ));
            }
            "track.publish" => {
                let Some(m) = me.as_ref() else {
                    continue;
                };
                let kind = if params["kind"] == "audio" {
                    TrackKind::Audio
                } else {
                    TrackKind::Video
                };
                let cid = params["cid"].as_str().unwrap_or_default().to_owned();
                let tid = format!("tr_{}_{}", m.id, cid);
                if let Some(mm) = lock(&lab).members.get_mut(&m.id) {
                    mm.tracks.insert(tid.clone(), (kind, cid.clone()));
                }
                reply(Ok(json!({"track": track_json(&m.id, &tid, kind, &cid)})));
            }
            "pub.offer" => {
                let Some(m) = me.as_ref() else {
                    continue;
                };
                let tracks = lock(&lab)
                    .members
                    .get(&m.id)
                    .map(|x| x.tracks.clone())
                    .unwrap_or_default();
                let mut mids = BTreeMap::new();
                if let Some(map) = params["mids"].as_object() {
                    for (mid, cid) in map {
                        let cid = cid.as_str().unwrap_or_default();
                        if let Some((tid, (kind, _))) =
                            tracks.iter().find(|(t, (_, c))| c == cid || *t == cid)
                        {
                            mids.insert(
                                mid.clone(),
                                PubMid {
                                    track_id: tid.clone(),
                                    kind: *kind,
                                },
                            );
                        }
                    }
                }
                let offer_id = params["offer_id"].as_u64().unwrap_or(0) as u32;
                let r = media
                    .pub_offer(
                        &m.session,
                        PubOffer {
                            offer_id,
                            sdp: params["sdp"].as_str().unwrap_or_default().to_owned(),
                            mids,
                            ice_restart: params["ice_restart"].as_bool().unwrap_or(false),
                        },
                    )
                    .await;
                reply(
                    r.map(|sdp| json!({"offer_id": offer_id, "sdp": sdp}))
                        .map_err(|e| (e.code, e.message)),
                );
            }
            "sub.answer" => {
                let Some(m) = me.as_ref() else {
                    continue;
                };
                let r = media
                    .sub_answer(
                        &m.session,
                        params["offer_id"].as_u64().unwrap_or(0) as u32,
                        params["sdp"].as_str().unwrap_or_default().to_owned(),
                    )
                    .await;
                reply(r.map(|_| json!({})).map_err(|e| (e.code, e.message)));
            }
            "ice.candidate" => {
                let Some(m) = me.as_ref() else {
                    continue;
                };
                let pc = if params["pc"] == "pub" {
                    PcKind::Pub
                } else {
                    PcKind::Sub
                };
                let c = params["candidate"].as_str().map(str::to_owned);
                let _ = media.remote_candidate(&m.session, pc, c).await;
            }
            "member.audio_mute" | "member.audio_unmute" => {
                let target = params["member_id"].as_str().unwrap_or_default().to_owned();
                let tracks: Vec<String> = lock(&lab)
                    .members
                    .get(&target)
                    .map(|t| {
                        t.tracks
                            .iter()
                            .filter(|(_, (k, _))| *k == TrackKind::Audio)
                            .map(|(id, _)| id.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                for t in tracks {
                    let _ = media.set_blocked(&t, method == "member.audio_mute").await;
                }
                reply(Ok(json!({})));
            }
            "room.leave" => {
                reply(Ok(json!({})));
                break;
            }
            "ping" => reply(Ok(json!({"ts": params["ts"], "server_ts": 0}))),
            _ => {}
        }
    }
    if let Some(m) = me {
        let removed = lock(&lab).members.remove(&m.id);
        let _ = media.close_session(&m.session).await;
        if let Some(r) = removed {
            for t in r.tracks.keys() {
                broadcast(
                    &lab,
                    &m.id,
                    &event(
                        "track.unpublished",
                        json!({"track_id": t, "member_id": m.id, "reason": "left"}),
                    ),
                );
            }
        }
        broadcast(
            &lab,
            &m.id,
            &event("member.left", json!({"member_id": m.id, "reason": "left"})),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "manual lab: serves until killed (see the file's docs)"]
async fn media_lab() {
    let port: u16 = std::env::var("MEDIA_LAB_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(9777);
    let mut cfg = MediaConfig::dev();
    cfg.ice_lite = std::env::var("MEDIA_LAB_ICE_LITE").is_ok();
    let media = MediaEngine::start(cfg).await.expect("engine");
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    println!(
        "media lab on ws://127.0.0.1:{port}/ovsp, UDP {}",
        media.local_addr()
    );
    let lab: Shared = Arc::default();
    if std::env::var("MEDIA_LAB_STATS").is_ok() {
        let m = media.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                if let Ok(s) = m.stats().await {
                    println!("{s:?}");
                }
            }
        });
    }
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(session(lab.clone(), media.clone(), stream));
    }
}
