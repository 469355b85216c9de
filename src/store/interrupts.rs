//! Fuel and epoch deadlines: how an embedder bounds how long WebAssembly
//! runs.
//!
//! Both live in the store's `VMStoreContext`, where the interpreter reads
//! them without leaving its loop: fuel is a counter decremented once per
//! straight-line region of code, the epoch deadline is compared against the
//! engine's epoch counter at function entries and loop headers. The
//! translator only emits those checks when the engine's `Config` enables
//! them, so stores of other engines pay nothing.

use super::opaque::StoreOpaque;
use super::{Store, StoreContext, StoreContextMut};
use anyhow::{Result, bail};

impl StoreOpaque {
    fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        if !self.engine.config().consume_fuel {
            bail!("fuel is not configured in this store: enable it with `Config::consume_fuel`");
        }
        self.vm.fuel = i64::try_from(fuel).unwrap_or(i64::MAX);
        Ok(())
    }

    fn get_fuel(&self) -> Result<u64> {
        if !self.engine.config().consume_fuel {
            bail!("fuel is not configured in this store: enable it with `Config::consume_fuel`");
        }
        // Running out leaves the counter negative; no fuel is left then.
        Ok(self.vm.fuel.max(0) as u64)
    }

    fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        self.vm.epoch_deadline = self
            .engine
            .current_epoch()
            .saturating_add(ticks_beyond_current);
    }
}

macro_rules! interrupt_methods {
    ($opaque:ident, $opaque_mut:ident) => {
        /// Sets the fuel this store has left to `fuel` units (see
        /// [`Config::consume_fuel`](crate::Config::consume_fuel) for the cost
        /// model). Fails if the engine does not consume fuel.
        ///
        /// ```
        /// # fn main() -> kiln::Result<()> {
        /// let mut config = kiln::Config::new();
        /// config.consume_fuel(true);
        /// let engine = kiln::Engine::new(&config)?;
        /// let mut store = kiln::Store::new(&engine, ());
        /// store.set_fuel(500)?;
        /// assert_eq!(store.get_fuel()?, 500);
        /// # Ok(())
        /// # }
        /// ```
        pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
            self.$opaque_mut().set_fuel(fuel)
        }

        /// The fuel this store has left. Fails if the engine does not
        /// consume fuel.
        ///
        /// ```
        /// # fn main() -> kiln::Result<()> {
        /// let mut config = kiln::Config::new();
        /// config.consume_fuel(true);
        /// let engine = kiln::Engine::new(&config)?;
        /// let store = kiln::Store::new(&engine, ());
        /// assert_eq!(store.get_fuel()?, 0); // stores start without fuel
        /// # Ok(())
        /// # }
        /// ```
        pub fn get_fuel(&self) -> Result<u64> {
            self.$opaque().get_fuel()
        }

        /// Sets the epoch deadline to `ticks_beyond_current` increments of
        /// the engine's epoch from now (see
        /// [`Config::epoch_interruption`](crate::Config::epoch_interruption)).
        ///
        /// ```
        /// let mut config = kiln::Config::new();
        /// config.epoch_interruption(true);
        /// let engine = kiln::Engine::new(&config).unwrap();
        /// let mut store = kiln::Store::new(&engine, ());
        /// store.set_epoch_deadline(3);
        /// ```
        pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
            self.$opaque_mut().set_epoch_deadline(ticks_beyond_current)
        }

        /// Makes reaching the epoch deadline trap with
        /// [`Trap::Interrupt`](crate::Trap::Interrupt) (the default),
        /// removing any deadline callback
        /// ([`Store::epoch_deadline_callback`](crate::Store::epoch_deadline_callback)).
        ///
        /// ```
        /// let mut store = kiln::Store::new(&kiln::Engine::default(), ());
        /// store.epoch_deadline_trap();
        /// ```
        pub fn epoch_deadline_trap(&mut self) {
            self.$opaque_mut().epoch_hook = None;
        }
    };
}

impl<T: 'static> Store<T> {
    fn interrupts(&self) -> &StoreOpaque {
        &self.inner_ref().opaque
    }

    fn interrupts_mut(&mut self) -> &mut StoreOpaque {
        // SAFETY: `&mut self` gives exclusive access to the store's contents.
        unsafe { &mut (*self.inner.as_ptr()).opaque }
    }

    interrupt_methods!(interrupts, interrupts_mut);
}

impl<T: 'static> StoreContextMut<'_, T> {
    interrupt_methods!(opaque, opaque_mut);
}

impl<T: 'static> StoreContext<'_, T> {
    /// The fuel the store has left; fails if the engine does not consume
    /// fuel (see [`Store::get_fuel`]).
    pub fn get_fuel(&self) -> Result<u64> {
        self.opaque().get_fuel()
    }
}
