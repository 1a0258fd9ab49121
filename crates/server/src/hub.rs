//! The directory task: maps room names to room actors and session ids to session actors.
//!
//! It owns no room state. Joins are forwarded through it so that it can tell, when a room
//! reports itself idle, whether a join is still on its way (the room's count of joins seen is
//! compared with the count forwarded); only then is the room retired.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::config::ServerConfig;
use crate::room::{self, JoinRequest, RoomCmd, RoomHandle, RoomInit};
use crate::session::{SessionHandle, SessionMsg};

pub(crate) enum HubCmd {
    Join {
        init: RoomInit,
        join: Box<JoinRequest>,
    },
    RoomIdle {
        name: String,
        room_id: String,
        joins_seen: u64,
    },
    RegisterSession {
        id: String,
        handle: SessionHandle,
    },
    UnregisterSession {
        id: String,
    },
    FindSession {
        id: String,
        reply: oneshot::Sender<Option<SessionHandle>>,
    },
    /// Ends every session with `session.closing{server_shutdown}`.
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// Cloneable handle to the directory task.
#[derive(Clone)]
pub(crate) struct HubHandle {
    tx: mpsc::UnboundedSender<HubCmd>,
}

impl HubHandle {
    pub(crate) fn send(&self, cmd: HubCmd) {
        let _ = self.tx.send(cmd);
    }

    /// Asks every session to close with `server_shutdown`.
    pub(crate) async fn shutdown(&self) {
        let (done, rx) = oneshot::channel();
        self.send(HubCmd::Shutdown { done });
        let _ = rx.await;
    }

    pub(crate) async fn find_session(&self, id: &str) -> Option<SessionHandle> {
        let (reply, rx) = oneshot::channel();
        self.send(HubCmd::FindSession {
            id: id.to_string(),
            reply,
        });
        rx.await.ok().flatten()
    }
}

struct RoomEntry {
    handle: RoomHandle,
    joins_forwarded: u64,
}

pub(crate) fn spawn(
    config: Arc<ServerConfig>,
    media: Option<crate::media::MediaHandle>,
) -> HubHandle {
    let (tx, mut rx) = mpsc::unbounded_channel::<HubCmd>();
    let handle = HubHandle { tx };
    let me = handle.clone();
    tokio::spawn(async move {
        let mut rooms: HashMap<String, RoomEntry> = HashMap::new();
        let mut sessions: HashMap<String, SessionHandle> = HashMap::new();
        while let Some(cmd) = rx.recv().await {
            match cmd {
                HubCmd::Join { init, mut join } => {
                    let entry = match rooms.get_mut(&init.name) {
                        Some(e) => e,
                        None => {
                            if !init.auto_create {
                                let _ = join.tx.send(SessionMsg::Reply {
                                    id: join.req_id.clone(),
                                    outcome: Err(crate::wire::err(
                                        ovsp::codes::Code::ROOM_NOT_FOUND,
                                        "room not found and auto_create is false",
                                    )),
                                    effect: None,
                                });
                                continue;
                            }
                            let name = init.name.clone();
                            let handle =
                                room::spawn(init, me.clone(), config.clone(), media.clone());
                            rooms.entry(name).or_insert(RoomEntry {
                                handle,
                                joins_forwarded: 0,
                            })
                        }
                    };
                    entry.joins_forwarded += 1;
                    join.room = Some(entry.handle.clone());
                    entry.handle.send(RoomCmd::Join(join));
                }
                HubCmd::RoomIdle {
                    name,
                    room_id,
                    joins_seen,
                } => {
                    let retire = rooms
                        .get(&name)
                        .is_some_and(|e| e.handle.id == room_id && e.joins_forwarded == joins_seen);
                    if retire {
                        if let Some(e) = rooms.remove(&name) {
                            e.handle.send(RoomCmd::Shutdown);
                        }
                    }
                }
                HubCmd::RegisterSession { id, handle } => {
                    sessions.insert(id, handle);
                }
                HubCmd::UnregisterSession { id } => {
                    sessions.remove(&id);
                }
                HubCmd::FindSession { id, reply } => {
                    let _ = reply.send(sessions.get(&id).cloned());
                }
                HubCmd::Shutdown { done } => {
                    for s in sessions.values() {
                        s.shutdown();
                    }
                    let _ = done.send(());
                }
            }
        }
    });
    handle
}
