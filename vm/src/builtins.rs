//! `VMBuiltins`: the operations running code asks of the runtime.
//!
//! Every instance's vmctx points at one static table of these. The growth
//! entries are the runtime's (they allocate and consult the embedder's
//! limits); the rest are defined here, once, on top of [`crate::bulk`], and
//! serve native code, which reaches every operation it cannot inline through
//! this table: the bulk memory and table operations, and the two halves of
//! leaving native code on a trap — recording the trap as the store's pending
//! reason, and adding a native frame to the backtrace on the way out.
//!
//! Conventions: every entry is `extern "C"` (the host's calling
//! convention) and takes the calling instance's vmctx first. An entry that
//! can trap returns `false` after storing the trap as the store's pending
//! reason (with an empty backtrace); the caller then unwinds.

use crate::{TrapCode, UnwindReason, VMContext, bulk};

/// The runtime's growth entry: `memory.grow` of memory `index` by `delta`
/// pages. Returns the old size in pages, [`VMBuiltins::GROW_FAILED`], or
/// [`VMBuiltins::GROW_TRAPPED`] with the reason in the store's `pending`.
pub type MemoryGrowFn = unsafe extern "C" fn(vmctx: *mut VMContext, memory: u32, delta: u64) -> u64;

/// The runtime's growth entry: `table.grow` of table `index` by `delta`
/// elements set to `init`. Returns as [`MemoryGrowFn`] does, in elements.
pub type TableGrowFn =
    unsafe extern "C" fn(vmctx: *mut VMContext, table: u32, delta: u64, init: u64) -> u64;

/// The runtime's tier-up entry: the interpreter calls it when a function's
/// work budget runs out. For `loop_index == u32::MAX` (at the function's
/// entry): returns the function's native `array_call` entry if its native
/// code is ready — after patching this instance's `VMFuncRef` so later calls
/// go native — and otherwise queues its compilation and returns `None`. For
/// a loop (its ordinal among the body's `loop`s): returns an on-stack
/// replacement entry into native code at that loop's header if one is
/// ready, queuing it otherwise. An OSR entry is called like an `array_call`
/// whose buffer holds the function's locals, then the operand stack at the
/// loop header, and receives the function's results.
pub type TierUpFn = unsafe extern "C" fn(
    vmctx: *mut VMContext,
    func_index: u32,
    loop_index: u32,
) -> Option<crate::VMArrayCallFn>;

/// The runtime's epoch entry: running code calls it when the engine's
/// epoch has reached the store's deadline. The runtime runs the store's
/// deadline callback, if any: it returns `true` after setting a new
/// deadline (execution goes on), or `false` with the reason (a
/// [`TrapCode::Interrupt`] trap or the callback's error) in the store's
/// `pending`. Native code passes its own frame pointer `fp` and function
/// index so that the frames it leaves on the stack can be listed while the
/// callback runs (see [`crate::VMActivation`]); the interpreter passes
/// `fp == 0` (its activation is on the chain already).
pub type NewEpochFn =
    unsafe extern "C" fn(vmctx: *mut VMContext, func_index: u32, fp: usize) -> bool;

/// Operations running code asks of the runtime. A static table the store
/// provides ([`VMBuiltins::new`]); every instance's vmctx points at it.
/// Native code calls an entry by loading it at its `OFFSET_*`.
#[repr(C)]
#[derive(Debug)]
pub struct VMBuiltins {
    /// `memory.grow` (the runtime's).
    pub memory_grow: MemoryGrowFn,
    /// `table.grow` (the runtime's).
    pub table_grow: TableGrowFn,
    /// Tier-up (the runtime's): see [`TierUpFn`].
    pub tier_up: TierUpFn,
    /// The epoch deadline was reached (the runtime's): see [`NewEpochFn`].
    pub new_epoch: NewEpochFn,
    /// Records trap `code` as the store's pending reason, clearing the
    /// backtrace.
    pub raise_trap: unsafe extern "C" fn(vmctx: *mut VMContext, code: u32),
    /// Appends the frame of function `func_index` of `vmctx` to the store's
    /// backtrace (native code leaving a function on a failure).
    pub unwind_frame: unsafe extern "C" fn(vmctx: *mut VMContext, func_index: u32),
    /// `memory.fill`.
    pub memory_fill:
        unsafe extern "C" fn(vmctx: *mut VMContext, mem: u32, dst: u32, val: u32, len: u32) -> bool,
    /// `memory.copy`.
    pub memory_copy: unsafe extern "C" fn(
        vmctx: *mut VMContext,
        dst_mem: u32,
        src_mem: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> bool,
    /// `memory.init`.
    pub memory_init: unsafe extern "C" fn(
        vmctx: *mut VMContext,
        mem: u32,
        data: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> bool,
    /// `data.drop`.
    pub data_drop: unsafe extern "C" fn(vmctx: *mut VMContext, data: u32),
    /// `table.fill`.
    pub table_fill: unsafe extern "C" fn(
        vmctx: *mut VMContext,
        table: u32,
        dst: u32,
        val: u64,
        len: u32,
    ) -> bool,
    /// `table.copy`.
    pub table_copy: unsafe extern "C" fn(
        vmctx: *mut VMContext,
        dst_table: u32,
        src_table: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> bool,
    /// `table.init`.
    pub table_init: unsafe extern "C" fn(
        vmctx: *mut VMContext,
        table: u32,
        elem: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> bool,
    /// `elem.drop`.
    pub elem_drop: unsafe extern "C" fn(vmctx: *mut VMContext, elem: u32),
}

impl VMBuiltins {
    /// Growth refused: the instruction returns -1.
    pub const GROW_FAILED: u64 = u64::MAX;
    /// Growth refused with a trap (`StoreLimits::trap_on_grow_failure`).
    pub const GROW_TRAPPED: u64 = u64::MAX - 1;

    /// Byte offset of `memory_grow`.
    pub const OFFSET_MEMORY_GROW: u32 = core::mem::offset_of!(VMBuiltins, memory_grow) as u32;
    /// Byte offset of `table_grow`.
    pub const OFFSET_TABLE_GROW: u32 = core::mem::offset_of!(VMBuiltins, table_grow) as u32;
    /// Byte offset of `tier_up`.
    pub const OFFSET_TIER_UP: u32 = core::mem::offset_of!(VMBuiltins, tier_up) as u32;
    /// Byte offset of `new_epoch`.
    pub const OFFSET_NEW_EPOCH: u32 = core::mem::offset_of!(VMBuiltins, new_epoch) as u32;
    /// Byte offset of `raise_trap`.
    pub const OFFSET_RAISE_TRAP: u32 = core::mem::offset_of!(VMBuiltins, raise_trap) as u32;
    /// Byte offset of `unwind_frame`.
    pub const OFFSET_UNWIND_FRAME: u32 = core::mem::offset_of!(VMBuiltins, unwind_frame) as u32;
    /// Byte offset of `memory_fill`.
    pub const OFFSET_MEMORY_FILL: u32 = core::mem::offset_of!(VMBuiltins, memory_fill) as u32;
    /// Byte offset of `memory_copy`.
    pub const OFFSET_MEMORY_COPY: u32 = core::mem::offset_of!(VMBuiltins, memory_copy) as u32;
    /// Byte offset of `memory_init`.
    pub const OFFSET_MEMORY_INIT: u32 = core::mem::offset_of!(VMBuiltins, memory_init) as u32;
    /// Byte offset of `data_drop`.
    pub const OFFSET_DATA_DROP: u32 = core::mem::offset_of!(VMBuiltins, data_drop) as u32;
    /// Byte offset of `table_fill`.
    pub const OFFSET_TABLE_FILL: u32 = core::mem::offset_of!(VMBuiltins, table_fill) as u32;
    /// Byte offset of `table_copy`.
    pub const OFFSET_TABLE_COPY: u32 = core::mem::offset_of!(VMBuiltins, table_copy) as u32;
    /// Byte offset of `table_init`.
    pub const OFFSET_TABLE_INIT: u32 = core::mem::offset_of!(VMBuiltins, table_init) as u32;
    /// Byte offset of `elem_drop`.
    pub const OFFSET_ELEM_DROP: u32 = core::mem::offset_of!(VMBuiltins, elem_drop) as u32;

    /// `loop_index` of a tier-up at a function's entry (not at a loop).
    pub const FUNCTION_ENTRY: u32 = u32::MAX;

    /// The table with the runtime's growth, tier-up and epoch entries and
    /// this crate's own for everything else.
    pub const fn new(
        memory_grow: MemoryGrowFn,
        table_grow: TableGrowFn,
        tier_up: TierUpFn,
        new_epoch: NewEpochFn,
    ) -> VMBuiltins {
        VMBuiltins {
            memory_grow,
            table_grow,
            tier_up,
            new_epoch,
            raise_trap,
            unwind_frame,
            memory_fill,
            memory_copy,
            memory_init,
            data_drop,
            table_fill,
            table_copy,
            table_init,
            elem_drop,
        }
    }
}

/// Turns a bulk operation's outcome into a builtin's return value: a trap
/// becomes the store's pending reason.
///
/// # Safety
/// `vmctx` is a live instance whose store is not borrowed.
unsafe fn report(vmctx: *mut VMContext, outcome: Result<(), TrapCode>) -> bool {
    match outcome {
        Ok(()) => true,
        Err(code) => {
            // SAFETY: forwarded to the caller.
            unsafe { raise_trap(vmctx, code as u32) };
            false
        }
    }
}

/// The trap code numbered `code` (an unknown number, which native code never
/// passes, becomes `UnreachableCodeReached` rather than undefined
/// behaviour).
fn trap_code(code: u32) -> TrapCode {
    TrapCode::from_u8(u8::try_from(code).unwrap_or(u8::MAX))
        .unwrap_or(TrapCode::UnreachableCodeReached)
}

/// [`VMBuiltins::raise_trap`].
///
/// # Safety
/// `vmctx` is a live instance whose store is not borrowed.
unsafe extern "C" fn raise_trap(vmctx: *mut VMContext, code: u32) {
    // SAFETY: forwarded to the caller.
    unsafe {
        let store = &mut *(*vmctx).store;
        store.backtrace.clear();
        store.pending = Some(UnwindReason::Trap(trap_code(code)));
    }
}

/// [`VMBuiltins::unwind_frame`].
///
/// # Safety
/// `vmctx` is a live instance whose store is not borrowed.
unsafe extern "C" fn unwind_frame(vmctx: *mut VMContext, func_index: u32) {
    // SAFETY: forwarded to the caller.
    unsafe {
        (*(*vmctx).store).backtrace.push(crate::FrameInfo {
            vmctx,
            func_index,
            pc: 0,
        });
    }
}

/// Memory `mem`'s current bytes.
///
/// # Safety
/// `vmctx` is live and `mem` one of its memories.
unsafe fn memory(vmctx: *mut VMContext, mem: u32) -> (*mut u8, usize) {
    // SAFETY: forwarded to the caller.
    unsafe {
        let def = VMContext::memory(vmctx, mem);
        ((*def).base, (*def).current_length)
    }
}

/// [`VMBuiltins::memory_fill`].
///
/// # Safety
/// `vmctx` is live, `mem` one of its memories.
unsafe extern "C" fn memory_fill(
    vmctx: *mut VMContext,
    mem: u32,
    dst: u32,
    val: u32,
    len: u32,
) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe {
        let (base, size) = memory(vmctx, mem);
        report(vmctx, bulk::memory_fill(base, size, dst, val as u8, len))
    }
}

/// [`VMBuiltins::memory_copy`].
///
/// # Safety
/// `vmctx` is live, both memories are its memories.
unsafe extern "C" fn memory_copy(
    vmctx: *mut VMContext,
    dst_mem: u32,
    src_mem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe {
        let (dst_base, dst_size) = memory(vmctx, dst_mem);
        let (src_base, src_size) = memory(vmctx, src_mem);
        let outcome = bulk::memory_copy(dst_base, dst_size, src_base, src_size, dst, src, len);
        report(vmctx, outcome)
    }
}

/// [`VMBuiltins::memory_init`].
///
/// # Safety
/// `vmctx` is live, `mem` and `data` are its memory and data segment.
unsafe extern "C" fn memory_init(
    vmctx: *mut VMContext,
    mem: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe {
        let (base, size) = memory(vmctx, mem);
        let segment = VMContext::data_segment(vmctx, data);
        report(vmctx, bulk::memory_init(base, size, segment, dst, src, len))
    }
}

/// [`VMBuiltins::data_drop`].
///
/// # Safety
/// `vmctx` is live and `data` one of its data segments.
unsafe extern "C" fn data_drop(vmctx: *mut VMContext, data: u32) {
    // SAFETY: forwarded to the caller.
    unsafe { bulk::data_drop(VMContext::data_segment(vmctx, data)) }
}

/// [`VMBuiltins::table_fill`].
///
/// # Safety
/// `vmctx` is live and `table` one of its tables.
unsafe extern "C" fn table_fill(
    vmctx: *mut VMContext,
    table: u32,
    dst: u32,
    val: u64,
    len: u32,
) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe {
        let outcome = bulk::table_fill(VMContext::table(vmctx, table), dst, val, len);
        report(vmctx, outcome)
    }
}

/// [`VMBuiltins::table_copy`].
///
/// # Safety
/// `vmctx` is live and both tables are its tables.
unsafe extern "C" fn table_copy(
    vmctx: *mut VMContext,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe {
        let d = VMContext::table(vmctx, dst_table);
        let s = VMContext::table(vmctx, src_table);
        report(vmctx, bulk::table_copy(d, s, dst, src, len))
    }
}

/// [`VMBuiltins::table_init`].
///
/// # Safety
/// `vmctx` is live, `table` and `elem` are its table and element segment.
unsafe extern "C" fn table_init(
    vmctx: *mut VMContext,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe {
        let t = VMContext::table(vmctx, table);
        let segment = VMContext::elem_segment(vmctx, elem);
        report(vmctx, bulk::table_init(t, segment, dst, src, len))
    }
}

/// [`VMBuiltins::elem_drop`].
///
/// # Safety
/// `vmctx` is live and `elem` one of its element segments.
unsafe extern "C" fn elem_drop(vmctx: *mut VMContext, elem: u32) {
    // SAFETY: forwarded to the caller.
    unsafe { bulk::elem_drop(VMContext::elem_segment(vmctx, elem)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_pointer_sized_in_declaration_order() {
        let offsets = [
            VMBuiltins::OFFSET_MEMORY_GROW,
            VMBuiltins::OFFSET_TABLE_GROW,
            VMBuiltins::OFFSET_TIER_UP,
            VMBuiltins::OFFSET_NEW_EPOCH,
            VMBuiltins::OFFSET_RAISE_TRAP,
            VMBuiltins::OFFSET_UNWIND_FRAME,
            VMBuiltins::OFFSET_MEMORY_FILL,
            VMBuiltins::OFFSET_MEMORY_COPY,
            VMBuiltins::OFFSET_MEMORY_INIT,
            VMBuiltins::OFFSET_DATA_DROP,
            VMBuiltins::OFFSET_TABLE_FILL,
            VMBuiltins::OFFSET_TABLE_COPY,
            VMBuiltins::OFFSET_TABLE_INIT,
            VMBuiltins::OFFSET_ELEM_DROP,
        ];
        for (i, offset) in offsets.iter().enumerate() {
            assert_eq!(*offset as usize, i * size_of::<usize>());
        }
        assert_eq!(size_of::<VMBuiltins>(), offsets.len() * size_of::<usize>());
    }

    #[test]
    fn trap_numbers_round_trip() {
        for code in [
            TrapCode::StackOverflow,
            TrapCode::OutOfFuel,
            TrapCode::UnknownImport,
        ] {
            assert_eq!(trap_code(code as u32), code);
        }
        assert_eq!(trap_code(1000), TrapCode::UnreachableCodeReached);
    }
}
