//! The executor: runs Kiln bytecode.
//!
//! Every interpreted function is entered from outside through
//! [`interp_array_call`], its `VMFuncRef::array_call`. Each such entry is an
//! *activation*: one run of the loop in `execute`, which keeps the hot
//! state — instruction pointer, frame slots, instance, memory 0's base and
//! length — in locals (the `Cursor`) and dispatches on [`Op`] with one
//! dense `match`.
//!
//! Calls between interpreted functions stay in the loop: the caller's return
//! state is pushed on the store's frame stack and the callee's frame is laid
//! over the caller's argument slots on the value stack (see
//! [`crate::bytecode`]). Deep wasm recursion therefore uses the value stack,
//! bounded by `max_wasm_stack`, and never the native stack; exhausting it is
//! [`TrapCode::StackOverflow`]. Calls to host (or native) functions go
//! through their `array_call`; if they call back into wasm, the new
//! activation nests on the same stacks above the caller's frame.
//!
//! Traps are values: an instruction that traps stops the loop with a
//! `Fault`, the activation records its live frames in the store's
//! backtrace and its reason in `pending`, restores the stacks, and the entry
//! returns `false`.
//!
//! Instruction families live in their own files: `arith` (integers),
//! `float` (floats and conversions), `control`, `call`,
//! `load_store`, `memory`, `table`, `global`; `regs` is the slot
//! access they share and `stack` the stacks.

mod arith;
mod call;
mod control;
mod float;
mod global;
mod load_store;
mod memory;
mod regs;
mod stack;
mod table;
#[cfg(test)]
mod tests;

pub use stack::InterpStack;

use crate::bytecode::{CompiledFunc, Op};
use crate::vm::{
    FrameInfo, TrapCode, UnwindReason, VMContext, VMInterpFunc, VMOpaqueContext, VMStoreContext,
    ValRaw,
};
use call::Sig;
use memory::Mem;
use regs::{Regs, bin, bin_trap, un, un_trap};

/// Why the loop stopped before its entry function returned.
#[derive(Debug)]
enum Fault {
    /// An instruction trapped: this becomes the store's pending reason.
    Trap(TrapCode),
    /// A callee or builtin already stored the pending reason.
    Pending,
}

impl From<TrapCode> for Fault {
    #[inline(always)]
    fn from(code: TrapCode) -> Self {
        Fault::Trap(code)
    }
}

/// The running frame: everything the loop needs at hand.
#[derive(Copy, Clone, Debug)]
struct Cursor {
    /// The running function's instance.
    vmctx: *mut VMContext,
    /// The running function's bytecode.
    func: *const CompiledFunc,
    /// The running function's index in its module, for backtraces.
    func_index: u32,
    /// The instruction being executed.
    ip: *const Op,
    /// Absolute index of the frame's slot 0 on the value stack.
    base: usize,
    /// The frame's slots (`values[base..]`).
    regs: Regs,
    /// Memory 0 of `vmctx`, as last loaded.
    mem: Mem,
}

/// The `array_call` entry of every interpreted function: `callee_vmctx` is
/// its [`VMInterpFunc`].
///
/// Runs the function to completion in a new activation on the store's
/// stacks: reads the parameters from the front of `args_and_results`,
/// writes the results there and returns `true`; or, if it traps (or a
/// callee fails), leaves the reason in the store's `pending`, appends this
/// activation's frames to its `backtrace` and returns `false`. Each call
/// counts as one host → wasm entry against
/// [`VMStoreContext::MAX_ENTRY_DEPTH`].
///
/// # Safety
/// As for [`crate::vm::VMArrayCallFn`]: `callee_vmctx` is the
/// `VMInterpFunc` of a defined function of a live, fully initialised
/// instance, and `args_and_results` points to `capacity` slots holding the
/// function's parameters.
pub unsafe extern "C" fn interp_array_call(
    callee_vmctx: *mut VMOpaqueContext,
    caller_vmctx: *mut VMContext,
    args_and_results: *mut ValRaw,
    capacity: usize,
) -> bool {
    let _ = caller_vmctx;
    // SAFETY: the caller upholds the array-call contract above: the callee
    // context, its instance, store and module are live, and the buffer holds
    // `capacity` slots (checked against the signature below). `reserve`
    // allocates `frame_size` slots from `start`, which is all `Regs` needs.
    unsafe {
        let callee = callee_vmctx as *const VMInterpFunc;
        let vmctx = (*callee).instance;
        let func_index = (*callee).func_index;
        let store = (*vmctx).store;
        if (*store).entry_depth >= VMStoreContext::MAX_ENTRY_DEPTH {
            return raise(store, UnwindReason::Trap(TrapCode::StackOverflow));
        }
        let def_index = func_index.wrapping_sub((*vmctx).offsets.counts.imported_funcs);
        let func: *const CompiledFunc = match (*(*vmctx).code).compiled(def_index) {
            Ok(f) => f,
            Err(e) => return raise(store, UnwindReason::Host(e)),
        };
        let f = &*func;
        let (params, results) = (f.num_params as usize, f.num_results as usize);
        if capacity < params.max(results) {
            let msg = anyhow::anyhow!(
                "array call with {capacity} slots to a function with {params} parameters and {results} results"
            );
            return raise(store, UnwindReason::Host(msg));
        }

        let stack = &mut (*store).interp;
        let start = stack.top;
        let entry_frames = stack.frames.len();
        if !stack.reserve(start + f.frame_size as usize) {
            return raise(store, UnwindReason::Trap(TrapCode::StackOverflow));
        }
        let regs = Regs::new(stack.values.as_mut_ptr().add(start));
        for i in 0..params {
            regs.ptr(i).write((*args_and_results.add(i)).bits());
        }
        regs.init_frame(f);

        let cur = Cursor {
            vmctx,
            func,
            func_index,
            ip: f.ops.as_ptr(),
            base: start,
            regs,
            mem: Mem::load(vmctx),
        };
        (*store).entry_depth += 1;
        let ok = execute(store, cur, entry_frames);
        (*store).entry_depth -= 1;
        (*store).interp.top = start;
        if ok {
            let regs = Regs::new((*store).interp.values.as_mut_ptr().add(start));
            for i in 0..results {
                args_and_results
                    .add(i)
                    .write(ValRaw::from_bits(regs.ptr(i).read()));
            }
        }
        ok
    }
}

/// Records a fresh failure (not one a callee reported) as the store's
/// pending reason, discarding any stale backtrace. Returns `false`.
///
/// # Safety
/// `store` is a live store context not borrowed elsewhere.
#[cold]
#[inline(never)]
unsafe fn raise(store: *mut VMStoreContext, reason: UnwindReason) -> bool {
    // SAFETY: forwarded to the caller.
    let s = unsafe { &mut *store };
    s.backtrace.clear();
    s.pending = Some(reason);
    false
}

/// Runs the activation whose entry frame `cur` describes until that frame
/// returns (`true`, results in its slots `0..`) or a fault unwinds it
/// (`false`, with `pending` and `backtrace` set and the frame stack
/// restored to `entry_frames`).
///
/// # Safety
/// `store` is the live store running `cur`'s instance; `cur` is a freshly
/// entered frame (`frame_size` slots reserved, locals zeroed); the frame
/// stack holds `entry_frames` records of outer activations.
unsafe fn execute(store: *mut VMStoreContext, entry: Cursor, entry_frames: usize) -> bool {
    // A local copy (not the by-reference argument) lets the compiler keep
    // the cursor's fields in registers.
    let mut cur = entry;
    let fault: Fault = 'run: loop {
        /// Unwraps an operation's result, or stops the loop with its fault.
        // A fused compare-and-branch: taken when `lhs CMP rhs` as `$t`.
        macro_rules! br_cmp {
            ($r:ident, $cur:ident, $b:ident, $t:ty, $cmp:tt) => {
                if $r.take::<$t>($b.lhs) $cmp $r.take::<$t>($b.rhs) {
                    $cur.ip = $cur.ip.offset($b.offset as isize);
                    continue;
                }
            };
        }
        macro_rules! check {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => break 'run Fault::from(e),
                }
            };
        }

        // SAFETY: the loop's invariants, established by the entry and kept
        // by every call, return and branch:
        // * `cur.ip` points into `(*cur.func).ops` (execution starts at 0,
        //   branch offsets and `BrTable` entries land inside the function,
        //   and every path ends in `Return` or a trap — the translator's
        //   contract for valid code);
        // * `cur.regs` points at `frame_size` allocated slots of the running
        //   frame, and every slot an instruction names is below `frame_size`
        //   (the translator's contract), so slot accesses are in bounds;
        // * `cur.vmctx` is the running function's live instance, and the
        //   entity indices in instructions are valid for it (validation);
        // * `cur.mem` is memory 0's current extent: it is reloaded after
        //   every call, return and `memory.grow`, the only things that can
        //   change it while this frame runs.
        unsafe {
            let r = cur.regs;
            match *cur.ip {
                // ----- control -----
                Op::Trap { code } => break 'run Fault::Trap(code),
                Op::Br { offset } => {
                    cur.ip = cur.ip.offset(offset as isize);
                    continue;
                }
                Op::BrIfNez { cond, offset } => {
                    if r.get_u32(cond) != 0 {
                        cur.ip = cur.ip.offset(offset as isize);
                        continue;
                    }
                }
                Op::BrIfEqz { cond, offset } => {
                    if r.get_u32(cond) == 0 {
                        cur.ip = cur.ip.offset(offset as isize);
                        continue;
                    }
                }
                Op::BrIfI32Eq(b) => br_cmp!(r, cur, b, u32, ==),
                Op::BrIfI32Ne(b) => br_cmp!(r, cur, b, u32, !=),
                Op::BrIfI32LtS(b) => br_cmp!(r, cur, b, i32, <),
                Op::BrIfI32LtU(b) => br_cmp!(r, cur, b, u32, <),
                Op::BrIfI32GtS(b) => br_cmp!(r, cur, b, i32, >),
                Op::BrIfI32GtU(b) => br_cmp!(r, cur, b, u32, >),
                Op::BrIfI32LeS(b) => br_cmp!(r, cur, b, i32, <=),
                Op::BrIfI32LeU(b) => br_cmp!(r, cur, b, u32, <=),
                Op::BrIfI32GeS(b) => br_cmp!(r, cur, b, i32, >=),
                Op::BrIfI32GeU(b) => br_cmp!(r, cur, b, u32, >=),
                Op::BrIfI64Eq(b) => br_cmp!(r, cur, b, u64, ==),
                Op::BrIfI64Ne(b) => br_cmp!(r, cur, b, u64, !=),
                Op::BrIfI64LtS(b) => br_cmp!(r, cur, b, i64, <),
                Op::BrIfI64LtU(b) => br_cmp!(r, cur, b, u64, <),
                Op::BrIfI64GtS(b) => br_cmp!(r, cur, b, i64, >),
                Op::BrIfI64GtU(b) => br_cmp!(r, cur, b, u64, >),
                Op::BrIfI64LeS(b) => br_cmp!(r, cur, b, i64, <=),
                Op::BrIfI64LeU(b) => br_cmp!(r, cur, b, u64, <=),
                Op::BrIfI64GeS(b) => br_cmp!(r, cur, b, i64, >=),
                Op::BrIfI64GeU(b) => br_cmp!(r, cur, b, u64, >=),
                Op::BrTable { index, len } => {
                    cur.ip = control::br_table(cur.ip, r, index, len);
                    continue;
                }
                Op::Return => {
                    if !call::ret(store, &mut cur, entry_frames) {
                        return true;
                    }
                    continue;
                }
                Op::Call { func, base } => {
                    let fr = (*cur.vmctx).func_ref(func);
                    check!(call::call(store, &mut cur, fr, base, Sig::Func(func)));
                    continue;
                }
                Op::CallIndirect {
                    type_index,
                    table,
                    index,
                    base,
                } => {
                    let fr = check!(table::indirect_target(
                        cur.vmctx, r, type_index, table, index
                    ));
                    check!(call::call(store, &mut cur, fr, base, Sig::Type(type_index)));
                    continue;
                }

                // ----- data movement -----
                Op::Copy { dst, src } => r.set(dst, r.get(src)),
                Op::Const32 { dst, value } => r.set(dst, value as u64),
                Op::Const64 { dst, value } => r.set(dst, value),
                Op::Select {
                    dst,
                    cond,
                    if_true,
                    if_false,
                } => control::select(r, dst, cond, if_true, if_false),
                Op::GlobalGet { dst, global } => global::global_get(cur.vmctx, r, dst, global),
                Op::GlobalSet { src, global } => global::global_set(cur.vmctx, r, src, global),
                Op::RefFunc { dst, func } => r.set(dst, (*cur.vmctx).func_ref(func) as u64),

                // ----- memory -----
                Op::I32Load(l) | Op::F32Load(l) => check!(load_store::i32_load(r, cur.mem, l)),
                Op::I64Load(l) | Op::F64Load(l) => check!(load_store::i64_load(r, cur.mem, l)),
                Op::I32Load8S(l) => check!(load_store::i32_load8_s(r, cur.mem, l)),
                Op::I32Load8U(l) => check!(load_store::i32_load8_u(r, cur.mem, l)),
                Op::I32Load16S(l) => check!(load_store::i32_load16_s(r, cur.mem, l)),
                Op::I32Load16U(l) => check!(load_store::i32_load16_u(r, cur.mem, l)),
                Op::I64Load8S(l) => check!(load_store::i64_load8_s(r, cur.mem, l)),
                Op::I64Load8U(l) => check!(load_store::i64_load8_u(r, cur.mem, l)),
                Op::I64Load16S(l) => check!(load_store::i64_load16_s(r, cur.mem, l)),
                Op::I64Load16U(l) => check!(load_store::i64_load16_u(r, cur.mem, l)),
                Op::I64Load32S(l) => check!(load_store::i64_load32_s(r, cur.mem, l)),
                Op::I64Load32U(l) => check!(load_store::i64_load32_u(r, cur.mem, l)),
                Op::I32Store(s) | Op::F32Store(s) | Op::I64Store32(s) => {
                    check!(load_store::i32_store(r, cur.mem, s))
                }
                Op::I64Store(s) | Op::F64Store(s) => check!(load_store::i64_store(r, cur.mem, s)),
                Op::I32Store8(s) | Op::I64Store8(s) => check!(load_store::store8(r, cur.mem, s)),
                Op::I32Store16(s) | Op::I64Store16(s) => check!(load_store::store16(r, cur.mem, s)),
                Op::MemorySize { dst, memory } => memory::memory_size(cur.vmctx, r, dst, memory),
                Op::MemoryGrow { dst, delta, memory } => {
                    cur.mem = check!(memory::memory_grow(cur.vmctx, r, dst, delta, memory));
                }
                Op::MemoryFill { dst, value, len } => {
                    check!(memory::memory_fill(cur.mem, r, dst, value, len))
                }
                Op::MemoryCopy { dst, src, len } => {
                    check!(memory::memory_copy(cur.mem, r, dst, src, len))
                }
                Op::MemoryInit {
                    data,
                    dst,
                    src,
                    len,
                } => {
                    check!(memory::memory_init(
                        cur.vmctx, cur.mem, r, data, dst, src, len
                    ))
                }
                Op::DataDrop { data } => memory::data_drop(cur.vmctx, data),

                // ----- tables -----
                Op::TableGet { dst, index, table } => {
                    check!(table::table_get(cur.vmctx, r, dst, index, table))
                }
                Op::TableSet {
                    index,
                    value,
                    table,
                } => check!(table::table_set(cur.vmctx, r, index, value, table)),
                Op::TableSize { dst, table } => table::table_size(cur.vmctx, r, dst, table),
                Op::TableGrow {
                    dst,
                    init,
                    delta,
                    table,
                } => {
                    check!(table::table_grow(cur.vmctx, r, dst, init, delta, table))
                }
                Op::TableFill {
                    table,
                    dst,
                    value,
                    len,
                } => {
                    check!(table::table_fill(cur.vmctx, r, table, dst, value, len))
                }
                Op::TableCopy {
                    dst_table,
                    src_table,
                    dst,
                    src,
                    len,
                } => {
                    check!(table::table_copy(
                        cur.vmctx, r, dst_table, src_table, dst, src, len
                    ))
                }
                Op::TableInit {
                    table,
                    elem,
                    dst,
                    src,
                    len,
                } => {
                    check!(table::table_init(cur.vmctx, r, table, elem, dst, src, len))
                }
                Op::ElemDrop { elem } => table::elem_drop(cur.vmctx, elem),

                // ----- i32 -----
                Op::I32Eqz(o) => un(r, o, arith::i32_eqz),
                Op::I32Eq(o) => bin(r, o, arith::i32_eq),
                Op::I32Ne(o) => bin(r, o, arith::i32_ne),
                Op::I32LtS(o) => bin(r, o, arith::i32_lt_s),
                Op::I32LtU(o) => bin(r, o, arith::i32_lt_u),
                Op::I32GtS(o) => bin(r, o, arith::i32_gt_s),
                Op::I32GtU(o) => bin(r, o, arith::i32_gt_u),
                Op::I32LeS(o) => bin(r, o, arith::i32_le_s),
                Op::I32LeU(o) => bin(r, o, arith::i32_le_u),
                Op::I32GeS(o) => bin(r, o, arith::i32_ge_s),
                Op::I32GeU(o) => bin(r, o, arith::i32_ge_u),
                Op::I32Clz(o) => un(r, o, arith::i32_clz),
                Op::I32Ctz(o) => un(r, o, arith::i32_ctz),
                Op::I32Popcnt(o) => un(r, o, arith::i32_popcnt),
                Op::I32Add(o) => bin(r, o, arith::i32_add),
                Op::I32Sub(o) => bin(r, o, arith::i32_sub),
                Op::I32Mul(o) => bin(r, o, arith::i32_mul),
                Op::I32DivS(o) => check!(bin_trap(r, o, arith::i32_div_s)),
                Op::I32DivU(o) => check!(bin_trap(r, o, arith::i32_div_u)),
                Op::I32RemS(o) => check!(bin_trap(r, o, arith::i32_rem_s)),
                Op::I32RemU(o) => check!(bin_trap(r, o, arith::i32_rem_u)),
                Op::I32And(o) => bin(r, o, arith::i32_and),
                Op::I32Or(o) => bin(r, o, arith::i32_or),
                Op::I32Xor(o) => bin(r, o, arith::i32_xor),
                Op::I32Shl(o) => bin(r, o, arith::i32_shl),
                Op::I32ShrS(o) => bin(r, o, arith::i32_shr_s),
                Op::I32ShrU(o) => bin(r, o, arith::i32_shr_u),
                Op::I32Rotl(o) => bin(r, o, arith::i32_rotl),
                Op::I32Rotr(o) => bin(r, o, arith::i32_rotr),

                // ----- i64 -----
                Op::I64Eqz(o) => un(r, o, arith::i64_eqz),
                Op::I64Eq(o) => bin(r, o, arith::i64_eq),
                Op::I64Ne(o) => bin(r, o, arith::i64_ne),
                Op::I64LtS(o) => bin(r, o, arith::i64_lt_s),
                Op::I64LtU(o) => bin(r, o, arith::i64_lt_u),
                Op::I64GtS(o) => bin(r, o, arith::i64_gt_s),
                Op::I64GtU(o) => bin(r, o, arith::i64_gt_u),
                Op::I64LeS(o) => bin(r, o, arith::i64_le_s),
                Op::I64LeU(o) => bin(r, o, arith::i64_le_u),
                Op::I64GeS(o) => bin(r, o, arith::i64_ge_s),
                Op::I64GeU(o) => bin(r, o, arith::i64_ge_u),
                Op::I64Clz(o) => un(r, o, arith::i64_clz),
                Op::I64Ctz(o) => un(r, o, arith::i64_ctz),
                Op::I64Popcnt(o) => un(r, o, arith::i64_popcnt),
                Op::I64Add(o) => bin(r, o, arith::i64_add),
                Op::I64Sub(o) => bin(r, o, arith::i64_sub),
                Op::I64Mul(o) => bin(r, o, arith::i64_mul),
                Op::I64DivS(o) => check!(bin_trap(r, o, arith::i64_div_s)),
                Op::I64DivU(o) => check!(bin_trap(r, o, arith::i64_div_u)),
                Op::I64RemS(o) => check!(bin_trap(r, o, arith::i64_rem_s)),
                Op::I64RemU(o) => check!(bin_trap(r, o, arith::i64_rem_u)),
                Op::I64And(o) => bin(r, o, arith::i64_and),
                Op::I64Or(o) => bin(r, o, arith::i64_or),
                Op::I64Xor(o) => bin(r, o, arith::i64_xor),
                Op::I64Shl(o) => bin(r, o, arith::i64_shl),
                Op::I64ShrS(o) => bin(r, o, arith::i64_shr_s),
                Op::I64ShrU(o) => bin(r, o, arith::i64_shr_u),
                Op::I64Rotl(o) => bin(r, o, arith::i64_rotl),
                Op::I64Rotr(o) => bin(r, o, arith::i64_rotr),

                // ----- f32 -----
                Op::F32Eq(o) => bin(r, o, float::f32_eq),
                Op::F32Ne(o) => bin(r, o, float::f32_ne),
                Op::F32Lt(o) => bin(r, o, float::f32_lt),
                Op::F32Gt(o) => bin(r, o, float::f32_gt),
                Op::F32Le(o) => bin(r, o, float::f32_le),
                Op::F32Ge(o) => bin(r, o, float::f32_ge),
                Op::F32Abs(o) => un(r, o, float::f32_abs),
                Op::F32Neg(o) => un(r, o, float::f32_neg),
                Op::F32Ceil(o) => un(r, o, float::f32_ceil),
                Op::F32Floor(o) => un(r, o, float::f32_floor),
                Op::F32Trunc(o) => un(r, o, float::f32_trunc),
                Op::F32Nearest(o) => un(r, o, float::f32_nearest),
                Op::F32Sqrt(o) => un(r, o, float::f32_sqrt),
                Op::F32Add(o) => bin(r, o, float::f32_add),
                Op::F32Sub(o) => bin(r, o, float::f32_sub),
                Op::F32Mul(o) => bin(r, o, float::f32_mul),
                Op::F32Div(o) => bin(r, o, float::f32_div),
                Op::F32Min(o) => bin(r, o, float::f32_min),
                Op::F32Max(o) => bin(r, o, float::f32_max),
                Op::F32Copysign(o) => bin(r, o, float::f32_copysign),

                // ----- f64 -----
                Op::F64Eq(o) => bin(r, o, float::f64_eq),
                Op::F64Ne(o) => bin(r, o, float::f64_ne),
                Op::F64Lt(o) => bin(r, o, float::f64_lt),
                Op::F64Gt(o) => bin(r, o, float::f64_gt),
                Op::F64Le(o) => bin(r, o, float::f64_le),
                Op::F64Ge(o) => bin(r, o, float::f64_ge),
                Op::F64Abs(o) => un(r, o, float::f64_abs),
                Op::F64Neg(o) => un(r, o, float::f64_neg),
                Op::F64Ceil(o) => un(r, o, float::f64_ceil),
                Op::F64Floor(o) => un(r, o, float::f64_floor),
                Op::F64Trunc(o) => un(r, o, float::f64_trunc),
                Op::F64Nearest(o) => un(r, o, float::f64_nearest),
                Op::F64Sqrt(o) => un(r, o, float::f64_sqrt),
                Op::F64Add(o) => bin(r, o, float::f64_add),
                Op::F64Sub(o) => bin(r, o, float::f64_sub),
                Op::F64Mul(o) => bin(r, o, float::f64_mul),
                Op::F64Div(o) => bin(r, o, float::f64_div),
                Op::F64Min(o) => bin(r, o, float::f64_min),
                Op::F64Max(o) => bin(r, o, float::f64_max),
                Op::F64Copysign(o) => bin(r, o, float::f64_copysign),

                // ----- conversions -----
                Op::I32WrapI64(o) => un(r, o, arith::i32_wrap_i64),
                Op::I32TruncF32S(o) => check!(un_trap(r, o, float::i32_trunc_f32_s)),
                Op::I32TruncF32U(o) => check!(un_trap(r, o, float::i32_trunc_f32_u)),
                Op::I32TruncF64S(o) => check!(un_trap(r, o, float::i32_trunc_f64_s)),
                Op::I32TruncF64U(o) => check!(un_trap(r, o, float::i32_trunc_f64_u)),
                Op::I64ExtendI32S(o) => un(r, o, arith::i64_extend_i32_s),
                Op::I64ExtendI32U(o) => un(r, o, arith::i64_extend_i32_u),
                Op::I64TruncF32S(o) => check!(un_trap(r, o, float::i64_trunc_f32_s)),
                Op::I64TruncF32U(o) => check!(un_trap(r, o, float::i64_trunc_f32_u)),
                Op::I64TruncF64S(o) => check!(un_trap(r, o, float::i64_trunc_f64_s)),
                Op::I64TruncF64U(o) => check!(un_trap(r, o, float::i64_trunc_f64_u)),
                Op::F32ConvertI32S(o) => un(r, o, float::f32_convert_i32_s),
                Op::F32ConvertI32U(o) => un(r, o, float::f32_convert_i32_u),
                Op::F32ConvertI64S(o) => un(r, o, float::f32_convert_i64_s),
                Op::F32ConvertI64U(o) => un(r, o, float::f32_convert_i64_u),
                Op::F32DemoteF64(o) => un(r, o, float::f32_demote_f64),
                Op::F64ConvertI32S(o) => un(r, o, float::f64_convert_i32_s),
                Op::F64ConvertI32U(o) => un(r, o, float::f64_convert_i32_u),
                Op::F64ConvertI64S(o) => un(r, o, float::f64_convert_i64_s),
                Op::F64ConvertI64U(o) => un(r, o, float::f64_convert_i64_u),
                Op::F64PromoteF32(o) => un(r, o, float::f64_promote_f32),
                Op::I32Extend8S(o) => un(r, o, arith::i32_extend8_s),
                Op::I32Extend16S(o) => un(r, o, arith::i32_extend16_s),
                Op::I64Extend8S(o) => un(r, o, arith::i64_extend8_s),
                Op::I64Extend16S(o) => un(r, o, arith::i64_extend16_s),
                Op::I64Extend32S(o) => un(r, o, arith::i64_extend32_s),
                Op::I32TruncSatF32S(o) => un(r, o, float::i32_trunc_sat_f32_s),
                Op::I32TruncSatF32U(o) => un(r, o, float::i32_trunc_sat_f32_u),
                Op::I32TruncSatF64S(o) => un(r, o, float::i32_trunc_sat_f64_s),
                Op::I32TruncSatF64U(o) => un(r, o, float::i32_trunc_sat_f64_u),
                Op::I64TruncSatF32S(o) => un(r, o, float::i64_trunc_sat_f32_s),
                Op::I64TruncSatF32U(o) => un(r, o, float::i64_trunc_sat_f32_u),
                Op::I64TruncSatF64S(o) => un(r, o, float::i64_trunc_sat_f64_s),
                Op::I64TruncSatF64U(o) => un(r, o, float::i64_trunc_sat_f64_u),
            }
            cur.ip = cur.ip.add(1);
        }
    };
    // SAFETY: `cur` is the frame that faulted, at the faulting instruction;
    // the frames above `entry_frames` are this activation's callers.
    unsafe { unwind(store, fault, entry_frames, cur) };
    false
}

/// Ends a faulted activation: records the pending reason (for a trap raised
/// here), appends the activation's frames to the backtrace innermost first,
/// and pops its frame records.
///
/// # Safety
/// As for [`execute`]; `cur` is the faulting frame.
#[cold]
#[inline(never)]
unsafe fn unwind(store: *mut VMStoreContext, fault: Fault, entry_frames: usize, cur: Cursor) {
    // SAFETY: the store is live and not borrowed elsewhere while the loop is
    // stopped; each frame's `ip` points into its `func`'s ops.
    unsafe {
        let s = &mut *store;
        if let Fault::Trap(code) = fault {
            s.backtrace.clear();
            s.pending = Some(UnwindReason::Trap(code));
        }
        s.backtrace
            .push(frame_info(cur.vmctx, cur.func_index, cur.func, cur.ip));
        let callers = s.interp.frames.get(entry_frames..).unwrap_or(&[]);
        s.backtrace.extend(
            callers
                .iter()
                .rev()
                .map(|f| frame_info(f.vmctx, f.func_index, f.func, f.ip)),
        );
        s.interp.frames.truncate(entry_frames);
    }
}

/// The backtrace entry of a frame executing `ip` in `func`.
///
/// # Safety
/// `ip` points into `(*func).ops`.
unsafe fn frame_info(
    vmctx: *mut VMContext,
    func_index: u32,
    func: *const CompiledFunc,
    ip: *const Op,
) -> FrameInfo {
    // SAFETY: forwarded to the caller.
    let pc = unsafe { ip.offset_from_unsigned((*func).ops.as_ptr()) };
    FrameInfo {
        vmctx,
        func_index,
        pc: pc as u32,
    }
}
