//! [`RefCell`]: the standard `RefCell` whose borrow methods carry no caller location.
//!
//! `core::cell::RefCell::borrow` and `borrow_mut` are `#[track_caller]`: every call site puts a
//! panic location (file, line, column) into the bundle's data and a call with it into the code,
//! for a panic that only a bug can cause. This wrapper checks the borrow the same way and
//! panics from one place, with one message.

use core::cell;
pub use core::cell::{Ref, RefMut};

/// A mutable memory location with dynamically checked borrows (see the module docs).
#[derive(Default)]
pub struct RefCell<T>(cell::RefCell<T>);

impl<T> RefCell<T> {
    /// A new cell holding `v`.
    pub const fn new(v: T) -> RefCell<T> {
        RefCell(cell::RefCell::new(v))
    }

    /// Borrows the value immutably; panics while it is mutably borrowed.
    #[inline]
    pub fn borrow(&self) -> Ref<'_, T> {
        match self.0.try_borrow() {
            Ok(r) => r,
            Err(_) => conflict(),
        }
    }

    /// Borrows the value mutably; panics while it is borrowed.
    #[inline]
    pub fn borrow_mut(&self) -> RefMut<'_, T> {
        match self.0.try_borrow_mut() {
            Ok(r) => r,
            Err(_) => conflict(),
        }
    }
}

#[cold]
#[inline(never)]
fn conflict() -> ! {
    panic!("a RefCell was borrowed while already mutably borrowed (or mutably while borrowed)")
}
