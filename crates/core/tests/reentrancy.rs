//! A driver in the style the browser actor uses: drain the machine, release every borrow,
//! then dispatch events through the emitter. Listeners call `on`, `off` and `leave`
//! re-entrantly, and a failing listener does not stop the others.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{FakeServer, Harness};
use convene_core::catalogue::room_session_names;
use convene_core::emitter::Emitter;
use convene_core::{Command, ConnectionState, CoreEvent};

type Callback = dyn Fn(&CoreEvent) -> Result<(), String>;

#[derive(Clone)]
struct Listener(Rc<Callback>);

impl PartialEq for Listener {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

struct Driver {
    h: RefCell<Harness>,
    em: RefCell<Emitter<Listener>>,
    dispatched: RefCell<usize>,
    errors: RefCell<Vec<String>>,
    calls: RefCell<Vec<String>>,
}

impl Driver {
    /// Dispatches every event logged since the last call, by RoomSession name, with no
    /// borrow of the harness or emitter held while a listener runs.
    fn dispatch(self: &Rc<Self>) {
        loop {
            let (events, end) = {
                let h = self.h.borrow();
                let from = *self.dispatched.borrow();
                (h.events_since(from), h.mark())
            };
            if events.is_empty() {
                break;
            }
            *self.dispatched.borrow_mut() = end;
            for ev in events {
                for name in room_session_names(&ev) {
                    let mut d = self.em.borrow_mut().begin_emit(&name);
                    loop {
                        let next = d.next(&mut self.em.borrow_mut());
                        let Some(l) = next else { break };
                        if let Err(e) = (l.0)(&ev) {
                            self.errors.borrow_mut().push(e);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn listeners_may_leave_and_change_listeners_reentrantly() {
    let mut server = FakeServer::new();
    server.seed_member("mem_b");
    let d = Rc::new(Driver {
        h: RefCell::new(Harness::new(server)),
        em: RefCell::new(Emitter::new()),
        dispatched: RefCell::new(0),
        errors: RefCell::new(Vec::new()),
        calls: RefCell::new(Vec::new()),
    });
    // 1: fails.
    d.em.borrow_mut().on(
        "member.joined",
        Listener(Rc::new(|_| Err("listener bug".to_owned()))),
    );
    // 2: leaves the room from inside the listener, and removes listener 3.
    let d2 = Rc::downgrade(&d);
    let third: Rc<RefCell<Option<Listener>>> = Rc::default();
    let third2 = third.clone();
    d.em.borrow_mut().on(
        "member.joined",
        Listener(Rc::new(move |ev| {
            let Some(d) = d2.upgrade() else { return Ok(()) };
            d.calls.borrow_mut().push(format!("leave on {}", ev.kind()));
            if let Some(l) = third2.borrow().as_ref() {
                d.em.borrow_mut().off("member.joined", Some(l));
            }
            d.em.borrow_mut().once(
                "room.left",
                Listener(Rc::new({
                    let d = Rc::downgrade(&d);
                    move |_| {
                        if let Some(d) = d.upgrade() {
                            d.calls.borrow_mut().push("room.left".into());
                        }
                        Ok(())
                    }
                })),
            );
            d.h.borrow_mut().command(Command::Leave { reason: None });
            Ok(())
        })),
    );
    // 3: removed by 2 before it runs.
    let l3 = Listener(Rc::new({
        let d = Rc::downgrade(&d);
        move |_| {
            if let Some(d) = d.upgrade() {
                d.calls.borrow_mut().push("third".into());
            }
            Ok(())
        }
    }));
    *third.borrow_mut() = Some(l3.clone());
    d.em.borrow_mut().on("member.joined", l3);

    d.h.borrow_mut().join();
    d.dispatch();
    let outs = {
        let mut h = d.h.borrow_mut();
        h.server.member_joins("mem_c")
    };
    d.h.borrow_mut().deliver(outs);
    d.dispatch();

    assert_eq!(*d.errors.borrow(), ["listener bug"]);
    assert_eq!(*d.calls.borrow(), ["leave on member_joined", "room.left"]);
    let h = d.h.borrow();
    assert_eq!(
        h.m.connection_state(),
        &ConnectionState::Disconnected { error: None }
    );
    assert_eq!(
        d.em.borrow().listener_count("room.left"),
        0,
        "once listener gone"
    );
    assert_eq!(d.em.borrow().listener_count("member.joined"), 2);
}
