//! Host code the store runs at points of execution it chooses: the epoch
//! deadline callback (`Store::epoch_deadline_callback`) and the call hook
//! (`Store::call_hook`).
//!
//! Both are stored with the data type erased, like the resource limiter:
//! they receive the store's `StoreInner<T>` as the `VMStoreContext::store_data`
//! pointer and rebuild a `StoreContextMut<T>` from it. While one runs it is
//! taken out of the store, so the hook may itself replace or remove the
//! hooks through the context it gets.

use super::opaque::StoreOpaque;
use super::{Store, StoreContextMut, StoreInner};
use anyhow::{Result, anyhow};
use kiln_vm::{TrapCode, UnwindReason};
use std::ptr::NonNull;

/// What execution does after the epoch deadline callback returns.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateDeadline {
    /// Stop: the running call fails with [`Trap::Interrupt`](crate::Trap::Interrupt)
    /// and the deadline stays where it is.
    Interrupt,
    /// Go on, with the deadline moved to this many ticks after the engine's
    /// current epoch.
    Continue(u64),
    /// Yield to an async executor, then go on with the deadline this many
    /// ticks ahead. Kiln only runs WebAssembly synchronously, so returning
    /// this makes the running call fail with an error.
    Yield(u64),
}

/// Which transition between host and WebAssembly code a call hook
/// ([`Store::call_hook`]) is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallHook {
    /// The host is about to call into WebAssembly.
    CallingWasm,
    /// A call from the host into WebAssembly has returned (or failed).
    ReturningFromWasm,
    /// WebAssembly is about to call a host function.
    CallingHost,
    /// A host function called by WebAssembly has returned (or failed).
    ReturningFromHost,
}

impl CallHook {
    /// Whether control is passing into host code.
    pub fn entering_host(&self) -> bool {
        matches!(self, CallHook::ReturningFromWasm | CallHook::CallingHost)
    }

    /// Whether control is passing out of host code.
    pub fn exiting_host(&self) -> bool {
        matches!(self, CallHook::CallingWasm | CallHook::ReturningFromHost)
    }
}

/// The epoch deadline callback with the data type erased (see the module
/// docs).
pub(crate) type EpochHook = Box<dyn FnMut(*mut ()) -> Result<UpdateDeadline> + Send + Sync>;

/// The call hook with the data type erased.
pub(crate) type CallHookFn = Box<dyn FnMut(*mut (), CallHook) -> Result<()> + Send + Sync>;

impl<T: 'static> Store<T> {
    /// Runs `callback` each time running WebAssembly reaches the store's
    /// epoch deadline (see [`Store::set_epoch_deadline`]), instead of
    /// trapping. What it returns decides what happens next: go on with a
    /// new deadline, or stop with a trap; an error it returns becomes the
    /// running call's error.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Config, Engine, Instance, Module, Store, UpdateDeadline};
    /// let mut config = Config::new();
    /// config.epoch_interruption(true);
    /// let engine = Engine::new(&config)?;
    /// let mut store = Store::new(&engine, 0u32);
    /// store.epoch_deadline_callback(|mut cx| {
    ///     *cx.data_mut() += 1;
    ///     Ok(UpdateDeadline::Continue(1))
    /// });
    /// let module = Module::new(&engine, r#"(module (func (export "f")))"#)?;
    /// let instance = Instance::new(&mut store, &module, &[])?;
    /// // The deadline starts reached: the callback runs at the call's entry.
    /// instance.get_typed_func::<(), ()>(&mut store, "f")?.call(&mut store, ())?;
    /// assert_eq!(*store.data(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn epoch_deadline_callback(
        &mut self,
        mut callback: impl FnMut(StoreContextMut<'_, T>) -> Result<UpdateDeadline>
        + Send
        + Sync
        + 'static,
    ) {
        let hook: EpochHook = Box::new(move |store_data: *mut ()| {
            // SAFETY: the hook is only called with this store's
            // `store_data`, its live `StoreInner<T>`, while nothing else
            // holds a reference into the store (see `run_epoch_hook`).
            let cx = unsafe {
                StoreContextMut::from_raw(NonNull::new_unchecked(
                    store_data.cast::<StoreInner<T>>(),
                ))
            };
            callback(cx)
        });
        self.hooks_mut().epoch_hook = Some(hook);
    }

    /// Runs `hook` at every transition between the host and WebAssembly
    /// (see [`CallHook`]). An error it returns makes the call that was
    /// starting or ending fail with that error.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{CallHook, Engine, Func, Store};
    /// let engine = Engine::default();
    /// let mut store = Store::new(&engine, Vec::new());
    /// store.call_hook(|mut cx, hook| {
    ///     cx.data_mut().push(hook);
    ///     Ok(())
    /// });
    /// let f = Func::wrap(&mut store, || {});
    /// f.call(&mut store, &[], &mut [])?;
    /// assert_eq!(store.data()[0], CallHook::CallingWasm);
    /// assert_eq!(store.data().last(), Some(&CallHook::ReturningFromWasm));
    /// # Ok(())
    /// # }
    /// ```
    pub fn call_hook(
        &mut self,
        mut hook: impl FnMut(StoreContextMut<'_, T>, CallHook) -> Result<()> + Send + Sync + 'static,
    ) {
        let erased: CallHookFn = Box::new(move |store_data: *mut (), kind| {
            // SAFETY: as in `epoch_deadline_callback` (see `run_call_hook`).
            let cx = unsafe {
                StoreContextMut::from_raw(NonNull::new_unchecked(
                    store_data.cast::<StoreInner<T>>(),
                ))
            };
            hook(cx, kind)
        });
        self.hooks_mut().call_hook = Some(erased);
    }

    fn hooks_mut(&mut self) -> &mut StoreOpaque {
        // SAFETY: `&mut self` gives exclusive access to the store's contents.
        unsafe { &mut (*self.inner.as_ptr()).opaque }
    }
}

/// Runs the store's call hook, if any, for `kind`.
///
/// # Safety
/// `store` is a live store made by `Store::new` into which no reference is
/// held during the call (the hook gets exclusive access to the store).
#[inline(always)]
pub(crate) unsafe fn run_call_hook(store: *mut StoreOpaque, kind: CallHook) -> Result<()> {
    // SAFETY: per the contract. Without a hook (the usual case) every
    // crossing pays one test, inline; the call is out of line.
    unsafe {
        if (*store).call_hook.is_none() {
            return Ok(());
        }
        call_the_hook(store, kind)
    }
}

/// [`run_call_hook`]'s work when a hook is set.
///
/// # Safety
/// As for [`run_call_hook`].
#[cold]
#[inline(never)]
unsafe fn call_the_hook(store: *mut StoreOpaque, kind: CallHook) -> Result<()> {
    // SAFETY: per the contract; the hook is taken out of the store while it
    // runs, so the store it is given does not contain it.
    unsafe {
        let data = (*store).vm.store_data;
        let Some(mut hook) = (*store).call_hook.take() else {
            return Ok(());
        };
        let result = if data.is_null() {
            Ok(())
        } else {
            hook(data, kind)
        };
        // The hook may have installed another one meanwhile; that wins.
        if (*store).call_hook.is_none() {
            (*store).call_hook = Some(hook);
        }
        result
    }
}

/// Runs the store's epoch deadline callback, if any, and applies its
/// answer: `Ok(())` if execution goes on (the deadline moved), or why the
/// running call stops. Without a callback the deadline traps with
/// `Interrupt`.
///
/// # Safety
/// As for [`run_call_hook`].
pub(crate) unsafe fn run_epoch_hook(store: *mut StoreOpaque) -> Result<(), UnwindReason> {
    // SAFETY: as in `run_call_hook`.
    unsafe {
        let data = (*store).vm.store_data;
        let hook = if data.is_null() {
            None
        } else {
            (*store).epoch_hook.take()
        };
        let Some(mut hook) = hook else {
            return Err(UnwindReason::Trap(TrapCode::Interrupt));
        };
        let answer = hook(data);
        if (*store).epoch_hook.is_none() {
            (*store).epoch_hook = Some(hook);
        }
        match answer.map_err(UnwindReason::Host)? {
            UpdateDeadline::Continue(delta) => {
                let current = (*store).engine.current_epoch();
                (*store).vm.epoch_deadline = current.saturating_add(delta);
                Ok(())
            }
            UpdateDeadline::Interrupt => Err(UnwindReason::Trap(TrapCode::Interrupt)),
            UpdateDeadline::Yield(_) => Err(UnwindReason::Host(anyhow!(
                "the epoch deadline callback returned `UpdateDeadline::Yield`, which needs async \
                 execution; Kiln runs WebAssembly synchronously"
            ))),
        }
    }
}
