//! A small, re-entrancy-safe event emitter (`on`, `once`, `off`, `removeAllListeners`).
//!
//! The emitter stores listeners of any cloneable type `L` (in the browser binding a JS
//! function handle, in tests an `Rc<dyn Fn>`). Dispatch is *snapshot-then-dispatch* and
//! happens in two phases so that no borrow of the emitter is held while a listener runs:
//!
//! 1. [`Emitter::begin_emit`] takes a snapshot of the listeners registered for the event
//!    (and retires `once` listeners at that moment, so a nested emit never calls them twice);
//! 2. the caller repeatedly asks [`Dispatch::next`] for the next listener, releases its borrow
//!    of the emitter, and calls the listener.
//!
//! Rules that follow from this design:
//! - a listener added while an event is being dispatched is not called for that event;
//! - a listener removed while an event is being dispatched is not called afterwards, even if it
//!   was in the snapshot (the DOM `removeEventListener` rule);
//! - a listener may call `on`, `off`, `remove_all_listeners` or emit again re-entrantly;
//! - a listener that fails does not stop the others: [`Emitter::emit`] collects every failure
//!   and returns them after all listeners have run.

use crate::prelude::*;
use alloc::collections::VecDeque;

use crate::map::VecMap;

/// Identifies one registration made with [`Emitter::on`] or [`Emitter::once`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(pub u64);

#[derive(Debug, Clone)]
struct Entry<L> {
    id: ListenerId,
    listener: L,
    once: bool,
}

/// Listeners keyed by event name. See the module docs for the dispatch rules.
#[derive(Debug, Clone)]
pub struct Emitter<L> {
    next_id: u64,
    by_event: VecMap<String, Vec<Entry<L>>>,
    /// `once` listeners taken out of `by_event` by a snapshot but not yet called.
    retired: Vec<(String, Entry<L>)>,
}

impl<L> Default for Emitter<L> {
    fn default() -> Self {
        Self {
            next_id: 1,
            by_event: VecMap::new(),
            retired: Vec::new(),
        }
    }
}

/// One ongoing dispatch of an event: the snapshot of listener ids taken by
/// [`Emitter::begin_emit`]. It does not borrow the emitter.
#[derive(Debug, Clone)]
pub struct Dispatch {
    event: String,
    pending: VecDeque<ListenerId>,
}

impl<L: Clone> Emitter<L> {
    /// An emitter without listeners.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `listener` for `event`; returns its id.
    pub fn on(&mut self, event: &str, listener: L) -> ListenerId {
        self.add(event, listener, false)
    }

    /// Registers `listener` for the next `event` only.
    pub fn once(&mut self, event: &str, listener: L) -> ListenerId {
        self.add(event, listener, true)
    }

    fn add(&mut self, event: &str, listener: L, once: bool) -> ListenerId {
        let id = ListenerId(self.next_id);
        self.next_id += 1;
        self.by_event
            .get_or_insert_with(event.to_owned(), Vec::new)
            .push(Entry { id, listener, once });
        id
    }

    /// Removes the registration `id`. Returns whether it was registered.
    pub fn off_id(&mut self, id: ListenerId) -> bool {
        let mut found = false;
        for list in self.by_event.values_mut() {
            let before = list.len();
            list.retain(|e| e.id != id);
            found |= list.len() != before;
        }
        self.by_event.retain(|_, l| !l.is_empty());
        let before = self.retired.len();
        self.retired.retain(|(_, e)| e.id != id);
        found || before != self.retired.len()
    }

    /// Removes listeners of `event`: all of them when `listener` is `None`, otherwise every
    /// registration equal to `listener` (JS `off(event, fn)` semantics). Returns how many
    /// registrations were removed.
    pub fn off(&mut self, event: &str, listener: Option<&L>) -> usize
    where
        L: PartialEq,
    {
        let keep = |e: &Entry<L>| listener.is_some_and(|l| &e.listener != l);
        let mut removed = 0;
        if let Some(list) = self.by_event.get_mut(event) {
            let before = list.len();
            list.retain(keep);
            removed += before - list.len();
            if list.is_empty() {
                self.by_event.remove(event);
            }
        }
        let before = self.retired.len();
        self.retired.retain(|(ev, e)| ev != event || keep(e));
        removed + before - self.retired.len()
    }

    /// Removes every listener of `event`, or of every event when `event` is `None`.
    pub fn remove_all_listeners(&mut self, event: Option<&str>) {
        match event {
            Some(ev) => {
                self.by_event.remove(ev);
                self.retired.retain(|(e, _)| e != ev);
            }
            None => {
                self.by_event.clear();
                self.retired.clear();
            }
        }
    }

    /// Number of listeners registered for `event`.
    pub fn listener_count(&self, event: &str) -> usize {
        self.by_event.get(event).map_or(0, Vec::len)
    }

    /// Total number of registrations over all events.
    pub fn total_listeners(&self) -> usize {
        self.by_event.values().map(Vec::len).sum()
    }

    /// Names of the events that have at least one listener, sorted.
    pub fn event_names(&self) -> Vec<String> {
        self.by_event.keys().cloned().collect()
    }

    /// Phase one of a dispatch: snapshots the listeners of `event` and retires its `once`
    /// listeners (they stay callable by this dispatch only).
    pub fn begin_emit(&mut self, event: &str) -> Dispatch {
        let mut pending = VecDeque::new();
        if let Some(list) = self.by_event.get_mut(event) {
            pending.extend(list.iter().map(|e| e.id));
            let mut i = 0;
            while i < list.len() {
                if list[i].once {
                    let entry = list.remove(i);
                    self.retired.push((event.to_owned(), entry));
                } else {
                    i += 1;
                }
            }
            if list.is_empty() {
                self.by_event.remove(event);
            }
        }
        Dispatch {
            event: event.to_owned(),
            pending,
        }
    }

    /// Emits `event` to every listener through `call`, which receives each listener in
    /// registration order. Every listener runs even if an earlier one failed; the failures are
    /// returned in call order. Use [`Emitter::begin_emit`] and [`Dispatch::next`] directly
    /// when listeners must be able to reach the emitter re-entrantly.
    pub fn emit<E>(&mut self, event: &str, mut call: impl FnMut(&L) -> Result<(), E>) -> Vec<E> {
        let mut dispatch = self.begin_emit(event);
        let mut errors = Vec::new();
        while let Some(l) = dispatch.next(self) {
            if let Err(e) = call(&l) {
                errors.push(e);
            }
        }
        errors
    }
}

impl Dispatch {
    /// The event being dispatched.
    pub fn event(&self) -> &str {
        &self.event
    }

    /// Phase two: the next listener of the snapshot that is still registered, cloned out of
    /// the emitter so the caller can release its borrow before calling it. `None` when done.
    pub fn next<L: Clone>(&mut self, emitter: &mut Emitter<L>) -> Option<L> {
        while let Some(id) = self.pending.pop_front() {
            if let Some(pos) = emitter.retired.iter().position(|(_, e)| e.id == id) {
                let (_, entry) = emitter.retired.remove(pos);
                return Some(entry.listener);
            }
            if let Some(e) = emitter
                .by_event
                .get(&self.event)
                .and_then(|l| l.iter().find(|e| e.id == id))
            {
                return Some(e.listener.clone());
            }
        }
        None
    }

    /// Abandons the dispatch: `once` listeners of the snapshot that were not reached are
    /// dropped (they were already retired).
    pub fn cancel<L: Clone>(mut self, emitter: &mut Emitter<L>) {
        while let Some(id) = self.pending.pop_front() {
            emitter.retired.retain(|(_, e)| e.id != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use core::cell::RefCell;

    type Log = Rc<RefCell<Vec<String>>>;
    /// A listener compared by identity, like a JS function.
    #[derive(Clone)]
    struct Listener(Rc<ListenerFn>);

    type ListenerFn = dyn Fn(&str) -> Result<(), String>;

    impl PartialEq for Listener {
        fn eq(&self, other: &Self) -> bool {
            Rc::ptr_eq(&self.0, &other.0)
        }
    }

    impl Listener {
        fn new(f: impl Fn(&str) -> Result<(), String> + 'static) -> Self {
            Listener(Rc::new(f))
        }
        fn call(&self, ev: &str) -> Result<(), String> {
            (self.0)(ev)
        }
    }
    type Shared = Rc<RefCell<Emitter<Listener>>>;

    fn emit(em: &Shared, event: &str) -> Vec<String> {
        let mut d = em.borrow_mut().begin_emit(event);
        let mut errs = Vec::new();
        loop {
            let next = d.next(&mut em.borrow_mut());
            let Some(l) = next else { break };
            if let Err(e) = l.call(event) {
                errs.push(e);
            }
        }
        errs
    }

    fn logger(log: &Log, tag: &str) -> Listener {
        let log = log.clone();
        let tag = tag.to_owned();
        Listener::new(move |ev: &str| {
            log.borrow_mut().push(format!("{tag}:{ev}"));
            Ok(())
        })
    }

    #[test]
    fn on_once_off_and_remove_all() {
        let log: Log = Rc::default();
        let em: Shared = Rc::default();
        let a = logger(&log, "a");
        em.borrow_mut().on("x", a.clone());
        em.borrow_mut().once("x", logger(&log, "b"));
        emit(&em, "x");
        emit(&em, "x");
        assert_eq!(*log.borrow(), ["a:x", "b:x", "a:x"]);
        assert_eq!(em.borrow_mut().off("x", Some(&a)), 1);
        emit(&em, "x");
        assert_eq!(log.borrow().len(), 3);
        em.borrow_mut().on("x", a.clone());
        em.borrow_mut().on("y", a);
        em.borrow_mut().remove_all_listeners(Some("x"));
        assert_eq!(em.borrow().event_names(), ["y"]);
        em.borrow_mut().remove_all_listeners(None);
        assert_eq!(em.borrow().total_listeners(), 0);
    }

    #[test]
    fn failing_listener_does_not_stop_the_others() {
        let log: Log = Rc::default();
        let mut em: Emitter<Listener> = Emitter::new();
        em.on("x", Listener::new(|_| Err("boom".to_owned())));
        em.on("x", logger(&log, "after"));
        let errs = em.emit("x", |l| l.call("x"));
        assert_eq!(errs, ["boom"]);
        assert_eq!(*log.borrow(), ["after:x"]);
    }

    #[test]
    fn reentrant_on_off_and_nested_emit() {
        let log: Log = Rc::default();
        let em: Shared = Rc::default();
        // Listener 1 adds a listener (not called now), removes listener 3 (not called now)
        // and emits "y" re-entrantly.
        let em2 = em.clone();
        let log2 = log.clone();
        let third: Rc<RefCell<Option<ListenerId>>> = Rc::default();
        let third2 = third.clone();
        em.borrow_mut().on(
            "x",
            Listener::new(move |_| {
                log2.borrow_mut().push("first".into());
                let late = logger(&log2, "late");
                em2.borrow_mut().on("x", late);
                if let Some(id) = *third2.borrow() {
                    em2.borrow_mut().off_id(id);
                }
                emit(&em2, "y");
                Ok(())
            }),
        );
        em.borrow_mut().once("x", logger(&log, "once"));
        let id = em.borrow_mut().on("x", logger(&log, "third"));
        *third.borrow_mut() = Some(id);
        em.borrow_mut().on("y", logger(&log, "y"));
        emit(&em, "x");
        assert_eq!(*log.borrow(), ["first", "y:y", "once:x"]);
        log.borrow_mut().clear();
        emit(&em, "x");
        // The first listener adds another "late" listener during this dispatch.
        assert_eq!(*log.borrow(), ["first", "y:y", "late:x"]);
    }

    #[test]
    fn once_is_not_called_twice_by_a_nested_emit() {
        let log: Log = Rc::default();
        let em: Shared = Rc::default();
        let em2 = em.clone();
        let log2 = log.clone();
        em.borrow_mut().once(
            "x",
            Listener::new(move |_| {
                log2.borrow_mut().push("once".into());
                emit(&em2, "x");
                Ok(())
            }),
        );
        emit(&em, "x");
        assert_eq!(*log.borrow(), ["once"]);
        assert_eq!(em.borrow().total_listeners(), 0);
    }

    #[test]
    fn off_during_dispatch_of_a_retired_once_listener() {
        let log: Log = Rc::default();
        let em: Shared = Rc::default();
        let em2 = em.clone();
        let target = logger(&log, "target");
        let target2 = target.clone();
        em.borrow_mut().on(
            "x",
            Listener::new(move |_| {
                em2.borrow_mut().off("x", Some(&target2));
                Ok(())
            }),
        );
        em.borrow_mut().once("x", target);
        emit(&em, "x");
        assert!(log.borrow().is_empty());
    }
}
