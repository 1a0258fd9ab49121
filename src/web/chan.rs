//! Tiny single-threaded channels: the actor's inbox and one-shot replies.
//!
//! Browser callbacks push into an [`Inbox`] through a [`Sender`]; the actor is the only reader.
//! Senders hold a `Weak` reference, so a closure that outlives the actor simply drops what it
//! sends instead of keeping the actor's state alive.

use super::listener::{Handler, Hook};
use super::session::Msg;
use crate::cell::RefCell;
use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

struct Shared<T> {
    /// Oldest first (a few messages at most: the actor takes them as they come).
    queue: RefCell<Vec<T>>,
    waker: Cell<Option<Waker>>,
}

/// The receiving end, owned by exactly one task.
pub struct Inbox<T> {
    shared: Rc<Shared<T>>,
}

/// A cheap, cloneable, non-owning sender into an [`Inbox`].
pub struct Sender<T> {
    shared: Weak<Shared<T>>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Inbox<T> {
    /// A new, empty inbox.
    pub fn new() -> Self {
        Inbox {
            shared: Rc::new(Shared {
                queue: RefCell::new(Vec::new()),
                waker: Cell::new(None),
            }),
        }
    }

    /// A sender feeding this inbox.
    pub fn sender(&self) -> Sender<T> {
        Sender {
            shared: Rc::downgrade(&self.shared),
        }
    }

    /// Takes the next message without waiting.
    pub fn try_recv(&self) -> Option<T> {
        pop(&self.shared.queue)
    }

    /// Waits for the next message.
    pub fn recv(&self) -> Recv<'_, T> {
        Recv { inbox: self }
    }
}

impl<T> Default for Inbox<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Future returned by [`Inbox::recv`].
pub struct Recv<'a, T> {
    inbox: &'a Inbox<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let shared = &self.inbox.shared;
        // The borrow ends before anything else runs: senders never hold it across calls.
        let next = pop(&shared.queue);
        match next {
            Some(v) => Poll::Ready(v),
            None => {
                shared.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        }
    }
}

/// The oldest message of `q`.
fn pop<T>(q: &RefCell<Vec<T>>) -> Option<T> {
    let mut q = q.borrow_mut();
    if q.is_empty() {
        None
    } else {
        Some(q.remove(0))
    }
}

impl<T> Shared<T> {
    fn push(&self, msg: T) {
        self.queue.borrow_mut().push(msg);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

impl<T> Sender<T> {
    /// Queues a message; returns false when the inbox is gone.
    pub fn send(&self, msg: T) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        shared.push(msg);
        true
    }
}

/// The session's inbox takes every hook's event as a message.
impl Handler for Shared<Msg> {
    fn on(&self, tag: u32, value: wasm_bindgen::JsValue) {
        self.push(Msg::Js(tag, value));
    }
}

impl Sender<Msg> {
    /// A [`Hook`] handler that queues each event as a message.
    pub fn hook(&self) -> Hook {
        self.shared.clone()
    }
}

/// The state both halves share: `Cell`s, each read by taking its value out, so no borrow
/// is ever checked.
struct OneshotState<T> {
    value: Cell<Option<T>>,
    waker: Cell<Option<Waker>>,
    closed: Cell<bool>,
}

/// Sending half of a one-shot reply.
pub struct OneshotTx<T> {
    state: Rc<OneshotState<T>>,
}

/// Receiving half of a one-shot reply; resolves to `None` when the sender was dropped unused.
pub struct OneshotRx<T> {
    state: Rc<OneshotState<T>>,
}

/// A connected one-shot pair.
pub fn oneshot<T>() -> (OneshotTx<T>, OneshotRx<T>) {
    let state = Rc::new(OneshotState {
        value: Cell::new(None),
        waker: Cell::new(None),
        closed: Cell::new(false),
    });
    (
        OneshotTx {
            state: state.clone(),
        },
        OneshotRx { state },
    )
}

impl<T> OneshotTx<T> {
    /// Completes the reply.
    pub fn send(self, v: T) {
        self.state.value.set(Some(v));
        if let Some(w) = self.state.waker.take() {
            w.wake();
        }
    }
}

impl<T> Drop for OneshotTx<T> {
    fn drop(&mut self) {
        self.state.closed.set(true);
        if let Some(w) = self.state.waker.take() {
            w.wake();
        }
    }
}

impl<T> Future for OneshotRx<T> {
    type Output = Option<T>;
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let s = &self.state;
        if let Some(v) = s.value.take() {
            return Poll::Ready(Some(v));
        }
        if s.closed.get() {
            return Poll::Ready(None);
        }
        s.waker.set(Some(cx.waker().clone()));
        Poll::Pending
    }
}
