//! wasmtime's `Config` settings for backtraces, debugging, memory layout
//! and code generation.
//!
//! Each does what wasmtime's does where Kiln has the mechanism behind it:
//! the backtrace settings change the [`WasmBacktrace`](crate::WasmBacktrace)
//! attached to traps, and the Cranelift verifier setting reaches Cranelift.
//! Settings about mechanisms Kiln does not have — guard pages, address-space
//! reservations, signal handlers, unwind tables — are accepted and have no
//! effect, because Kiln behaves the same whatever their value (it checks
//! every bound explicitly and installs no handlers). A setting that asks
//! for behaviour Kiln cannot give (DWARF for debuggers, memories that never
//! move, canonical NaNs) makes [`Engine::new`](crate::Engine::new) fail
//! when it is turned on.

use super::Config;
use anyhow::{Result, bail};
use std::num::NonZeroUsize;

/// The default of [`Config::wasm_backtrace_max_frames`], as in wasmtime.
pub(crate) const DEFAULT_BACKTRACE_MAX_FRAMES: NonZeroUsize = NonZeroUsize::new(20).unwrap();

/// Whether backtraces resolve frames to source files and lines from the
/// module's DWARF (see [`Config::wasm_backtrace_details`]).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum WasmBacktraceDetails {
    /// Resolve them.
    Enable,
    /// Do not resolve them.
    Disable,
    /// Resolve them if the `WASMTIME_BACKTRACE_DETAILS` environment
    /// variable is `1` (wasmtime's default).
    #[default]
    Environment,
}

/// The settings of this file, part of [`Config`].
#[derive(Clone, Debug)]
pub(crate) struct Knobs {
    pub(crate) backtrace_max_frames: Option<NonZeroUsize>,
    pub(crate) generate_address_map: bool,
    pub(crate) debug_info: bool,
    pub(crate) memory_may_move: bool,
    pub(crate) nan_canonicalization: bool,
    /// `None`: Kiln's default, the verifier on in debug builds.
    pub(crate) debug_verifier: Option<bool>,
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs {
            backtrace_max_frames: Some(DEFAULT_BACKTRACE_MAX_FRAMES),
            generate_address_map: true,
            debug_info: false,
            memory_may_move: true,
            nan_canonicalization: false,
            debug_verifier: None,
        }
    }
}

impl Knobs {
    /// Fails for a setting that asks for behaviour Kiln cannot give.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.debug_info {
            bail!(
                "Config::debug_info(true) is not supported by Kiln: it emits no DWARF \
                 debug information for native debuggers"
            );
        }
        if !self.memory_may_move {
            bail!(
                "Config::memory_may_move(false) is not supported by Kiln: it reserves no \
                 address space for memories, so a memory may move when it grows"
            );
        }
        if self.nan_canonicalization {
            bail!(
                "Config::cranelift_nan_canonicalization(true) is not supported by Kiln yet: \
                 its tiers return the NaN bits the hardware produces"
            );
        }
        Ok(())
    }
}

impl Config {
    /// The most WebAssembly frames a [`WasmBacktrace`](crate::WasmBacktrace)
    /// keeps, innermost first; `None` attaches no backtrace to traps at
    /// all. Default: 20 frames, as in wasmtime. Applies to every tier.
    pub fn wasm_backtrace_max_frames(&mut self, limit: Option<NonZeroUsize>) -> &mut Self {
        self.knobs.backtrace_max_frames = limit;
        self
    }

    /// Whether traps carry a [`WasmBacktrace`](crate::WasmBacktrace): `false`
    /// is `wasm_backtrace_max_frames(None)`; `true` restores the default
    /// limit if backtraces were off and keeps the current one otherwise.
    #[deprecated = "use `wasm_backtrace_max_frames` instead"]
    pub fn wasm_backtrace(&mut self, enable: bool) -> &mut Self {
        match (enable, self.knobs.backtrace_max_frames) {
            (false, _) => self.knobs.backtrace_max_frames = None,
            (true, None) => self.knobs.backtrace_max_frames = Some(DEFAULT_BACKTRACE_MAX_FRAMES),
            (true, Some(_)) => {}
        }
        self
    }

    /// Whether backtrace frames are resolved to source files and lines
    /// from the module's DWARF. Kiln does not read DWARF, so frames never
    /// have file or line information whatever this says; accepted so that
    /// configurations port unchanged.
    pub fn wasm_backtrace_details(&mut self, enable: WasmBacktraceDetails) -> &mut Self {
        let _ = enable;
        self
    }

    /// Whether backtrace frames carry the position of their code in the
    /// module binary ([`FrameInfo::module_offset`](crate::FrameInfo::module_offset)).
    /// Default true; with `false` every frame's offsets are `None`, as in
    /// wasmtime without its address map.
    pub fn generate_address_map(&mut self, generate: bool) -> &mut Self {
        self.knobs.generate_address_map = generate;
        self
    }

    /// Whether native code comes with DWARF debug information for a native
    /// debugger. Kiln emits none: `true` makes
    /// [`Engine::new`](crate::Engine::new) fail. Default false, as in
    /// wasmtime.
    pub fn debug_info(&mut self, enable: bool) -> &mut Self {
        self.knobs.debug_info = enable;
        self
    }

    /// Whether native code is registered with the system unwinder. Kiln's
    /// native code has no unwind tables (its frames are left by ordinary
    /// returns, and Kiln's own backtraces do not need them), so this is
    /// accepted and has no effect.
    pub fn native_unwind_info(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Whether out-of-bounds accesses may be caught by signal handlers
    /// instead of explicit checks. Kiln always checks bounds explicitly and
    /// installs no signal handlers, so this is accepted and has no effect.
    pub fn signals_based_traps(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// How much address space to reserve up front for each linear memory.
    /// Kiln reserves none (a memory's mapping grows, and may move, when the
    /// memory grows), so this is accepted and has no effect.
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Self {
        let _ = bytes;
        self
    }

    /// How much extra address space to reserve when a memory moves on
    /// growth. Kiln reserves none, so this is accepted and has no effect.
    pub fn memory_reservation_for_growth(&mut self, bytes: u64) -> &mut Self {
        let _ = bytes;
        self
    }

    /// The size of the inaccessible guard region after each linear memory.
    /// Kiln checks every access explicitly and maps no guard pages, so this
    /// is accepted and has no effect.
    pub fn memory_guard_size(&mut self, bytes: u64) -> &mut Self {
        let _ = bytes;
        self
    }

    /// Whether a guard region also precedes each linear memory. Kiln maps
    /// no guard pages, so this is accepted and has no effect.
    pub fn guard_before_linear_memory(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Whether a linear memory's base address may change when it grows.
    /// Kiln's memories may always move (default true, as in wasmtime);
    /// `false` makes [`Engine::new`](crate::Engine::new) fail.
    pub fn memory_may_move(&mut self, enable: bool) -> &mut Self {
        self.knobs.memory_may_move = enable;
        self
    }

    /// Whether memories are initialised from copy-on-write mappings of the
    /// module's data. Kiln has no such images (it writes data segments at
    /// instantiation), so this is accepted and has no effect.
    pub fn memory_init_cow(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Whether floating-point results that are NaN are replaced by one
    /// canonical NaN. Kiln does not do that yet: `true` makes
    /// [`Engine::new`](crate::Engine::new) fail. Default false, as in
    /// wasmtime.
    pub fn cranelift_nan_canonicalization(&mut self, enable: bool) -> &mut Self {
        self.knobs.nan_canonicalization = enable;
        self
    }

    /// Whether Cranelift checks the IR of every function it compiles with
    /// its verifier (slower compilation; for debugging the native tier).
    /// Kiln's default is on in debug builds of Kiln and off in release
    /// builds (wasmtime: off).
    pub fn cranelift_debug_verifier(&mut self, enable: bool) -> &mut Self {
        self.knobs.debug_verifier = Some(enable);
        self
    }

    /// Whether Cranelift's verifier is on for this configuration.
    pub(crate) fn cranelift_verifier(&self) -> bool {
        self.knobs.debug_verifier.unwrap_or(cfg!(debug_assertions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasm_backtrace_keeps_or_restores_the_limit() {
        let mut config = Config::new();
        let three = NonZeroUsize::new(3);
        config.wasm_backtrace_max_frames(three);
        #[allow(deprecated)]
        config.wasm_backtrace(true);
        assert_eq!(config.knobs.backtrace_max_frames, three);
        #[allow(deprecated)]
        config.wasm_backtrace(false);
        assert_eq!(config.knobs.backtrace_max_frames, None);
        #[allow(deprecated)]
        config.wasm_backtrace(true);
        assert_eq!(
            config.knobs.backtrace_max_frames,
            Some(DEFAULT_BACKTRACE_MAX_FRAMES)
        );
    }

    #[test]
    fn the_verifier_default_follows_the_build() {
        let mut config = Config::new();
        assert_eq!(config.cranelift_verifier(), cfg!(debug_assertions));
        config.cranelift_debug_verifier(true);
        assert!(config.cranelift_verifier());
        config.cranelift_debug_verifier(false);
        assert!(!config.cranelift_verifier());
    }
}
