//! `VMStoreContext`: the per-store state every tier reads and writes while
//! running: interpreter stack, limits, and the pending trap.

use super::{TrapCode, VMContext};

/// Why a call did not return normally.
#[derive(Debug)]
pub enum UnwindReason {
    /// A WebAssembly trap.
    Trap(TrapCode),
    /// An error returned (or a panic raised) by a host function, passed
    /// through WebAssembly frames unchanged.
    Host(anyhow::Error),
}

/// One WebAssembly frame of a backtrace, innermost first.
#[derive(Copy, Clone, Debug)]
pub struct FrameInfo {
    /// The instance the function belongs to.
    pub vmctx: *mut VMContext,
    /// Function index in the module's index space.
    pub func_index: u32,
    /// Index of the instruction that was executing, in Kiln bytecode.
    pub pc: u32,
}

/// Per-store runtime state, at a stable address for the store's lifetime.
///
/// `#[repr(C)]`: the fields before `store_data` are read by native code at
/// fixed offsets.
#[repr(C)]
#[derive(Debug)]
pub struct VMStoreContext {
    /// Fuel remaining (negative: out of fuel); used when fuel is enabled.
    pub fuel: i64,
    /// Epoch value at or past which execution is interrupted.
    pub epoch_deadline: u64,
    /// Pointer to the engine's current epoch counter.
    pub epoch_ptr: *const core::sync::atomic::AtomicU64,
    /// `Config::max_wasm_stack` in bytes: the interpreter's value and frame
    /// stacks together may not grow beyond it.
    pub max_wasm_stack: usize,
    /// Type-erased pointer to the embedding's store (`kiln`'s `StoreInner<T>`),
    /// for host-function trampolines.
    pub store_data: *mut (),
    /// How many host → wasm entries are live on the native stack.
    pub entry_depth: u32,
    /// The interpreter's stacks, shared by every interpreted call in the store.
    pub interp: crate::exec::InterpStack,
    /// Set by a callee before it returns `false` from an array call.
    pub pending: Option<UnwindReason>,
    /// WebAssembly frames live when `pending` was set, innermost first.
    pub backtrace: Vec<FrameInfo>,
}

impl VMStoreContext {
    /// Most nested host → wasm entries before calls trap with
    /// [`TrapCode::StackOverflow`]; each one uses native stack.
    pub const MAX_ENTRY_DEPTH: u32 = 1_000;

    /// A fresh context allowing `max_wasm_stack` bytes of WebAssembly stack.
    pub fn new(max_wasm_stack: usize) -> Self {
        VMStoreContext {
            fuel: 0,
            epoch_deadline: u64::MAX,
            epoch_ptr: core::ptr::null(),
            max_wasm_stack,
            store_data: core::ptr::null_mut(),
            entry_depth: 0,
            interp: crate::exec::InterpStack::new(max_wasm_stack),
            pending: None,
            backtrace: Vec::new(),
        }
    }

    /// Takes the reason the last failed array call left behind, with its backtrace.
    pub fn take_pending(&mut self) -> (UnwindReason, Vec<FrameInfo>) {
        let reason = self.pending.take().unwrap_or_else(|| {
            UnwindReason::Host(anyhow::anyhow!("call failed without a recorded reason"))
        });
        (reason, core::mem::take(&mut self.backtrace))
    }
}
