//! `VMStoreContext`: the per-store state every tier reads and writes while
//! running: interpreter stack, limits, and the pending trap.

use crate::{TrapCode, VMContext};

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

/// One live entry into WebAssembly code that has left it again for the
/// host (or for another tier) and is still on the native stack: a link of
/// the chain [`VMStoreContext::activations`] starts, innermost first, so the
/// WebAssembly frames live at any moment can be listed
/// (`WasmBacktrace::capture`).
///
/// Each record lives on the native stack of whoever pushed it and is popped
/// before that frame returns:
///
/// * an interpreter activation ([`VMActivation::INTERP`]) pushes one for
///   its whole run; `data` is its context, which only the interpreter reads;
/// * native code pushes one ([`VMActivation::NATIVE`]) around each call out
///   of native code that may run host code: the per-type adapter around its
///   `array_call`, and the epoch builtin. `data` is the frame pointer of the
///   frame making that call; its callers are found by following the saved
///   frame pointers while the return addresses are in native function
///   bodies. `func_index`/`vmctx` name that frame itself when it is a
///   function body (`vmctx` null for an adapter, which is no wasm frame).
#[repr(C)]
#[derive(Debug)]
pub struct VMActivation {
    /// The next outer record, or null.
    pub prev: *mut VMActivation,
    /// [`VMActivation::INTERP`] or [`VMActivation::NATIVE`].
    pub kind: usize,
    /// The interpreter's context, or the frame pointer to walk from.
    pub data: usize,
    /// The function of the frame at `data` (native records with a `vmctx`).
    pub func_index: usize,
    /// The instance of that function, or null.
    pub vmctx: *mut VMContext,
}

impl VMActivation {
    /// An interpreter activation.
    pub const INTERP: usize = 1;
    /// A call out of native code.
    pub const NATIVE: usize = 2;

    /// Byte offset of `prev`.
    pub const OFFSET_PREV: u32 = core::mem::offset_of!(VMActivation, prev) as u32;
    /// Byte offset of `kind`.
    pub const OFFSET_KIND: u32 = core::mem::offset_of!(VMActivation, kind) as u32;
    /// Byte offset of `data`.
    pub const OFFSET_DATA: u32 = core::mem::offset_of!(VMActivation, data) as u32;
    /// Byte offset of `func_index`.
    pub const OFFSET_FUNC_INDEX: u32 = core::mem::offset_of!(VMActivation, func_index) as u32;
    /// Byte offset of `vmctx`.
    pub const OFFSET_VMCTX: u32 = core::mem::offset_of!(VMActivation, vmctx) as u32;
    /// Size in bytes.
    pub const SIZE: u32 = core::mem::size_of::<VMActivation>() as u32;
}

/// Opaque per-store data of the interpreter (`kiln_interp::exec::InterpStack`),
/// which [`VMStoreContext::interp`] points at.
#[repr(C)]
pub struct VMInterpStack {
    _private: [u8; 0],
}

/// Per-store runtime state, at a stable address for the store's lifetime.
///
/// `#[repr(C)]`: native code reads and writes the fields with an `OFFSET_*`
/// constant (fuel, the epoch deadline and counter, the native stack limit).
#[repr(C)]
#[derive(Debug)]
pub struct VMStoreContext {
    /// Fuel remaining (negative: out of fuel); used when fuel is enabled.
    pub fuel: i64,
    /// Epoch value at or past which execution is interrupted.
    pub epoch_deadline: u64,
    /// Pointer to the engine's current epoch counter.
    pub epoch_ptr: *const core::sync::atomic::AtomicU64,
    /// Lowest native stack address wasm code may use; a native function's
    /// prologue traps with [`TrapCode::StackOverflow`] below it. Set by the
    /// outermost host → wasm entry (0 while none is live).
    pub stack_limit: usize,
    /// Bytes of native stack wasm frames may use below the outermost
    /// entry's stack pointer: `Config::max_wasm_stack` scaled by `kiln`'s
    /// `stack_budget` (the interpreter's stacks have a budget of their own).
    pub max_wasm_stack: usize,
    /// Type-erased pointer to the embedding's store (`kiln`'s `StoreInner<T>`),
    /// for host-function trampolines.
    pub store_data: *mut (),
    /// How many host → wasm entries are live on the native stack.
    pub entry_depth: u32,
    /// The interpreter's stacks, shared by every interpreted call in the
    /// store; owned by the store, opaque to the other tiers.
    pub interp: *mut VMInterpStack,
    /// Set by a callee before it returns `false` from an array call.
    pub pending: Option<UnwindReason>,
    /// WebAssembly frames live when `pending` was set, innermost first.
    pub backtrace: Vec<FrameInfo>,
    /// The innermost live [`VMActivation`], or null: the chain through
    /// which the WebAssembly frames on the stack are found.
    pub activations: *mut VMActivation,
}

impl VMStoreContext {
    /// Most nested host → wasm entries before calls trap with
    /// [`TrapCode::StackOverflow`]; each one uses native stack.
    pub const MAX_ENTRY_DEPTH: u32 = 1_000;

    /// Byte offset of `fuel`.
    pub const OFFSET_FUEL: u32 = core::mem::offset_of!(VMStoreContext, fuel) as u32;
    /// Byte offset of `epoch_deadline`.
    pub const OFFSET_EPOCH_DEADLINE: u32 =
        core::mem::offset_of!(VMStoreContext, epoch_deadline) as u32;
    /// Byte offset of `epoch_ptr`.
    pub const OFFSET_EPOCH_PTR: u32 = core::mem::offset_of!(VMStoreContext, epoch_ptr) as u32;
    /// Byte offset of `stack_limit`.
    pub const OFFSET_STACK_LIMIT: u32 = core::mem::offset_of!(VMStoreContext, stack_limit) as u32;
    /// Byte offset of `max_wasm_stack`.
    pub const OFFSET_MAX_WASM_STACK: u32 =
        core::mem::offset_of!(VMStoreContext, max_wasm_stack) as u32;
    /// Byte offset of `activations`.
    pub const OFFSET_ACTIVATIONS: u32 = core::mem::offset_of!(VMStoreContext, activations) as u32;

    /// A fresh context allowing `max_wasm_stack` bytes of native
    /// WebAssembly stack. `interp` is the interpreter's stack object for the store
    /// (null if the store never runs interpreted code).
    pub fn new(max_wasm_stack: usize, interp: *mut VMInterpStack) -> Self {
        VMStoreContext {
            fuel: 0,
            epoch_deadline: u64::MAX,
            epoch_ptr: core::ptr::null(),
            stack_limit: 0,
            max_wasm_stack,
            store_data: core::ptr::null_mut(),
            entry_depth: 0,
            interp,
            pending: None,
            backtrace: Vec::new(),
            activations: core::ptr::null_mut(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_code_offsets_match_the_layout() {
        assert_eq!(VMStoreContext::OFFSET_FUEL, 0);
        assert_eq!(VMStoreContext::OFFSET_EPOCH_DEADLINE, 8);
        assert_eq!(VMStoreContext::OFFSET_EPOCH_PTR, 16);
        assert_eq!(VMStoreContext::OFFSET_STACK_LIMIT, 24);
        assert_eq!(VMStoreContext::OFFSET_MAX_WASM_STACK, 32);
        let fields = [
            VMActivation::OFFSET_PREV,
            VMActivation::OFFSET_KIND,
            VMActivation::OFFSET_DATA,
            VMActivation::OFFSET_FUNC_INDEX,
            VMActivation::OFFSET_VMCTX,
        ];
        for (i, offset) in fields.iter().enumerate() {
            assert_eq!(*offset as usize, i * size_of::<usize>());
        }
        assert_eq!(
            VMActivation::SIZE as usize,
            fields.len() * size_of::<usize>()
        );
    }
}
