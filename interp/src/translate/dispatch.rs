//! Operator dispatch: which translator method handles each wasm operator,
//! and what happens to operators in unreachable code.
//!
//! The dispatch is a pair of macros expanded inside each `visit_*` method of
//! the [`Driver`](super::driver::Driver), so every operator goes straight
//! to its handler without building an `Operator` value or matching on it.

use super::Translator;
use anyhow::bail;

/// Translates one operator: `translate_op!(translator Name (args...))`
/// evaluates to `anyhow::Result<()>`. Operators outside WebAssembly 2.0
/// (SIMD aside) are errors.
#[rustfmt::skip]
macro_rules! translate_op {
    // ----- control -----
    ($t:ident Unreachable ()) => {{ $t.unreachable(); Ok(()) }};
    ($t:ident Nop ()) => { Ok(()) };
    ($t:ident Block ($blockty:ident)) => { $t.block($blockty) };
    ($t:ident Loop ($blockty:ident)) => { $t.loop_($blockty) };
    ($t:ident If ($blockty:ident)) => { $t.if_($blockty) };
    ($t:ident Else ()) => { $t.else_() };
    ($t:ident End ()) => { $t.end() };
    ($t:ident Br ($depth:ident)) => { $t.br($depth) };
    ($t:ident BrIf ($depth:ident)) => { $t.br_if($depth) };
    ($t:ident BrTable ($targets:ident)) => { $t.br_table($targets) };
    ($t:ident Return ()) => { $t.return_() };
    ($t:ident Call ($func:ident)) => { $t.call($func) };
    ($t:ident CallIndirect ($ty:ident, $table:ident)) => { $t.call_indirect($ty, $table) };

    // ----- parametric, variables, constants -----
    ($t:ident Drop ()) => { $t.drop_() };
    ($t:ident Select ()) => { $t.select() };
    ($t:ident TypedSelect ($ty:ident)) => {{ let _ = $ty; $t.select() }};
    ($t:ident LocalGet ($index:ident)) => { $t.local_get($index) };
    ($t:ident LocalSet ($index:ident)) => { $t.local_set($index, false) };
    ($t:ident LocalTee ($index:ident)) => { $t.local_set($index, true) };
    ($t:ident GlobalGet ($index:ident)) => {{ $t.global_get($index); Ok(()) }};
    ($t:ident GlobalSet ($index:ident)) => { $t.global_set($index) };
    ($t:ident I32Const ($value:ident)) => {{ $t.constant(u64::from($value as u32), false); Ok(()) }};
    ($t:ident I64Const ($value:ident)) => {{ $t.constant($value as u64, true); Ok(()) }};
    ($t:ident F32Const ($value:ident)) => {{ $t.constant(u64::from($value.bits()), false); Ok(()) }};
    ($t:ident F64Const ($value:ident)) => {{ $t.constant($value.bits(), true); Ok(()) }};

    // ----- references (`ref.null` is the constant 0, `ref.is_null` a test for 0) -----
    ($t:ident RefNull ($hty:ident)) => {{ let _ = $hty; $t.constant(0, true); Ok(()) }};
    ($t:ident RefIsNull ()) => { $t.unary($crate::bytecode::Op::I64Eqz) };
    ($t:ident RefFunc ($func:ident)) => {{ $t.ref_func($func); Ok(()) }};

    // ----- memory -----
    ($t:ident MemorySize ($mem:ident)) => {{ $t.memory_size($mem); Ok(()) }};
    ($t:ident MemoryGrow ($mem:ident)) => { $t.memory_grow($mem) };
    ($t:ident MemoryFill ($mem:ident)) => { $t.memory_fill($mem) };
    ($t:ident MemoryCopy ($dst_mem:ident, $src_mem:ident)) => { $t.memory_copy($dst_mem, $src_mem) };
    ($t:ident MemoryInit ($data:ident, $mem:ident)) => { $t.memory_init($data, $mem) };
    ($t:ident DataDrop ($data:ident)) => {{ $t.emit($crate::bytecode::Op::DataDrop { data: $data }); Ok(()) }};

    // ----- tables -----
    ($t:ident TableGet ($table:ident)) => { $t.table_get($table) };
    ($t:ident TableSet ($table:ident)) => { $t.table_set($table) };
    ($t:ident TableSize ($table:ident)) => {{ $t.table_size($table); Ok(()) }};
    ($t:ident TableGrow ($table:ident)) => { $t.table_grow($table) };
    ($t:ident TableFill ($table:ident)) => { $t.table_fill($table) };
    ($t:ident TableCopy ($dst:ident, $src:ident)) => { $t.table_copy($dst, $src) };
    ($t:ident TableInit ($elem:ident, $table:ident)) => { $t.table_init($elem, $table) };
    ($t:ident ElemDrop ($elem:ident)) => {{ $t.emit($crate::bytecode::Op::ElemDrop { elem: $elem }); Ok(()) }};

    // ----- reinterpretations: same bits, same slot encoding: nothing to do -----
    ($t:ident I32ReinterpretF32 ()) => { Ok(()) };
    ($t:ident I64ReinterpretF64 ()) => { Ok(()) };
    ($t:ident F32ReinterpretI32 ()) => { Ok(()) };
    ($t:ident F64ReinterpretI64 ()) => { Ok(()) };

    // ----- numeric, loads and stores: one instruction each -----
    ($t:ident I32Load ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I32Load) };
    ($t:ident I64Load ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I64Load) };
    ($t:ident F32Load ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::F32Load) };
    ($t:ident F64Load ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::F64Load) };
    ($t:ident I32Load8S ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I32Load8S) };
    ($t:ident I32Load8U ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I32Load8U) };
    ($t:ident I32Load16S ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I32Load16S) };
    ($t:ident I32Load16U ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I32Load16U) };
    ($t:ident I64Load8S ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I64Load8S) };
    ($t:ident I64Load8U ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I64Load8U) };
    ($t:ident I64Load16S ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I64Load16S) };
    ($t:ident I64Load16U ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I64Load16U) };
    ($t:ident I64Load32S ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I64Load32S) };
    ($t:ident I64Load32U ($memarg:ident)) => { $t.load($memarg, $crate::bytecode::Op::I64Load32U) };
    ($t:ident I32Store ($memarg:ident)) => { $t.store($memarg, $crate::bytecode::Op::I32Store) };
    ($t:ident I64Store ($memarg:ident)) => { $t.store($memarg, $crate::bytecode::Op::I64Store) };
    ($t:ident F32Store ($memarg:ident)) => { $t.store($memarg, $crate::bytecode::Op::F32Store) };
    ($t:ident F64Store ($memarg:ident)) => { $t.store($memarg, $crate::bytecode::Op::F64Store) };
    ($t:ident I32Store8 ($memarg:ident)) => { $t.store($memarg, $crate::bytecode::Op::I32Store8) };
    ($t:ident I32Store16 ($memarg:ident)) => { $t.store($memarg, $crate::bytecode::Op::I32Store16) };
    ($t:ident I64Store8 ($memarg:ident)) => { $t.store($memarg, $crate::bytecode::Op::I64Store8) };
    ($t:ident I64Store16 ($memarg:ident)) => { $t.store($memarg, $crate::bytecode::Op::I64Store16) };
    ($t:ident I64Store32 ($memarg:ident)) => { $t.store($memarg, $crate::bytecode::Op::I64Store32) };
    ($t:ident I32Eqz ()) => { $t.unary($crate::bytecode::Op::I32Eqz) };
    ($t:ident I32Eq ()) => { $t.binary($crate::bytecode::Op::I32Eq) };
    ($t:ident I32Ne ()) => { $t.binary($crate::bytecode::Op::I32Ne) };
    ($t:ident I32LtS ()) => { $t.binary($crate::bytecode::Op::I32LtS) };
    ($t:ident I32LtU ()) => { $t.binary($crate::bytecode::Op::I32LtU) };
    ($t:ident I32GtS ()) => { $t.binary($crate::bytecode::Op::I32GtS) };
    ($t:ident I32GtU ()) => { $t.binary($crate::bytecode::Op::I32GtU) };
    ($t:ident I32LeS ()) => { $t.binary($crate::bytecode::Op::I32LeS) };
    ($t:ident I32LeU ()) => { $t.binary($crate::bytecode::Op::I32LeU) };
    ($t:ident I32GeS ()) => { $t.binary($crate::bytecode::Op::I32GeS) };
    ($t:ident I32GeU ()) => { $t.binary($crate::bytecode::Op::I32GeU) };
    ($t:ident I32Clz ()) => { $t.unary($crate::bytecode::Op::I32Clz) };
    ($t:ident I32Ctz ()) => { $t.unary($crate::bytecode::Op::I32Ctz) };
    ($t:ident I32Popcnt ()) => { $t.unary($crate::bytecode::Op::I32Popcnt) };
    ($t:ident I32Add ()) => { $t.binary($crate::bytecode::Op::I32Add) };
    ($t:ident I32Sub ()) => { $t.binary($crate::bytecode::Op::I32Sub) };
    ($t:ident I32Mul ()) => { $t.binary($crate::bytecode::Op::I32Mul) };
    ($t:ident I32DivS ()) => { $t.binary($crate::bytecode::Op::I32DivS) };
    ($t:ident I32DivU ()) => { $t.binary($crate::bytecode::Op::I32DivU) };
    ($t:ident I32RemS ()) => { $t.binary($crate::bytecode::Op::I32RemS) };
    ($t:ident I32RemU ()) => { $t.binary($crate::bytecode::Op::I32RemU) };
    ($t:ident I32And ()) => { $t.binary($crate::bytecode::Op::I32And) };
    ($t:ident I32Or ()) => { $t.binary($crate::bytecode::Op::I32Or) };
    ($t:ident I32Xor ()) => { $t.binary($crate::bytecode::Op::I32Xor) };
    ($t:ident I32Shl ()) => { $t.binary($crate::bytecode::Op::I32Shl) };
    ($t:ident I32ShrS ()) => { $t.binary($crate::bytecode::Op::I32ShrS) };
    ($t:ident I32ShrU ()) => { $t.binary($crate::bytecode::Op::I32ShrU) };
    ($t:ident I32Rotl ()) => { $t.binary($crate::bytecode::Op::I32Rotl) };
    ($t:ident I32Rotr ()) => { $t.binary($crate::bytecode::Op::I32Rotr) };
    ($t:ident I64Eqz ()) => { $t.unary($crate::bytecode::Op::I64Eqz) };
    ($t:ident I64Eq ()) => { $t.binary($crate::bytecode::Op::I64Eq) };
    ($t:ident I64Ne ()) => { $t.binary($crate::bytecode::Op::I64Ne) };
    ($t:ident I64LtS ()) => { $t.binary($crate::bytecode::Op::I64LtS) };
    ($t:ident I64LtU ()) => { $t.binary($crate::bytecode::Op::I64LtU) };
    ($t:ident I64GtS ()) => { $t.binary($crate::bytecode::Op::I64GtS) };
    ($t:ident I64GtU ()) => { $t.binary($crate::bytecode::Op::I64GtU) };
    ($t:ident I64LeS ()) => { $t.binary($crate::bytecode::Op::I64LeS) };
    ($t:ident I64LeU ()) => { $t.binary($crate::bytecode::Op::I64LeU) };
    ($t:ident I64GeS ()) => { $t.binary($crate::bytecode::Op::I64GeS) };
    ($t:ident I64GeU ()) => { $t.binary($crate::bytecode::Op::I64GeU) };
    ($t:ident I64Clz ()) => { $t.unary($crate::bytecode::Op::I64Clz) };
    ($t:ident I64Ctz ()) => { $t.unary($crate::bytecode::Op::I64Ctz) };
    ($t:ident I64Popcnt ()) => { $t.unary($crate::bytecode::Op::I64Popcnt) };
    ($t:ident I64Add ()) => { $t.binary($crate::bytecode::Op::I64Add) };
    ($t:ident I64Sub ()) => { $t.binary($crate::bytecode::Op::I64Sub) };
    ($t:ident I64Mul ()) => { $t.binary($crate::bytecode::Op::I64Mul) };
    ($t:ident I64DivS ()) => { $t.binary($crate::bytecode::Op::I64DivS) };
    ($t:ident I64DivU ()) => { $t.binary($crate::bytecode::Op::I64DivU) };
    ($t:ident I64RemS ()) => { $t.binary($crate::bytecode::Op::I64RemS) };
    ($t:ident I64RemU ()) => { $t.binary($crate::bytecode::Op::I64RemU) };
    ($t:ident I64And ()) => { $t.binary($crate::bytecode::Op::I64And) };
    ($t:ident I64Or ()) => { $t.binary($crate::bytecode::Op::I64Or) };
    ($t:ident I64Xor ()) => { $t.binary($crate::bytecode::Op::I64Xor) };
    ($t:ident I64Shl ()) => { $t.binary($crate::bytecode::Op::I64Shl) };
    ($t:ident I64ShrS ()) => { $t.binary($crate::bytecode::Op::I64ShrS) };
    ($t:ident I64ShrU ()) => { $t.binary($crate::bytecode::Op::I64ShrU) };
    ($t:ident I64Rotl ()) => { $t.binary($crate::bytecode::Op::I64Rotl) };
    ($t:ident I64Rotr ()) => { $t.binary($crate::bytecode::Op::I64Rotr) };
    ($t:ident F32Eq ()) => { $t.binary($crate::bytecode::Op::F32Eq) };
    ($t:ident F32Ne ()) => { $t.binary($crate::bytecode::Op::F32Ne) };
    ($t:ident F32Lt ()) => { $t.binary($crate::bytecode::Op::F32Lt) };
    ($t:ident F32Gt ()) => { $t.binary($crate::bytecode::Op::F32Gt) };
    ($t:ident F32Le ()) => { $t.binary($crate::bytecode::Op::F32Le) };
    ($t:ident F32Ge ()) => { $t.binary($crate::bytecode::Op::F32Ge) };
    ($t:ident F32Abs ()) => { $t.unary($crate::bytecode::Op::F32Abs) };
    ($t:ident F32Neg ()) => { $t.unary($crate::bytecode::Op::F32Neg) };
    ($t:ident F32Ceil ()) => { $t.unary($crate::bytecode::Op::F32Ceil) };
    ($t:ident F32Floor ()) => { $t.unary($crate::bytecode::Op::F32Floor) };
    ($t:ident F32Trunc ()) => { $t.unary($crate::bytecode::Op::F32Trunc) };
    ($t:ident F32Nearest ()) => { $t.unary($crate::bytecode::Op::F32Nearest) };
    ($t:ident F32Sqrt ()) => { $t.unary($crate::bytecode::Op::F32Sqrt) };
    ($t:ident F32Add ()) => { $t.binary($crate::bytecode::Op::F32Add) };
    ($t:ident F32Sub ()) => { $t.binary($crate::bytecode::Op::F32Sub) };
    ($t:ident F32Mul ()) => { $t.binary($crate::bytecode::Op::F32Mul) };
    ($t:ident F32Div ()) => { $t.binary($crate::bytecode::Op::F32Div) };
    ($t:ident F32Min ()) => { $t.binary($crate::bytecode::Op::F32Min) };
    ($t:ident F32Max ()) => { $t.binary($crate::bytecode::Op::F32Max) };
    ($t:ident F32Copysign ()) => { $t.binary($crate::bytecode::Op::F32Copysign) };
    ($t:ident F64Eq ()) => { $t.binary($crate::bytecode::Op::F64Eq) };
    ($t:ident F64Ne ()) => { $t.binary($crate::bytecode::Op::F64Ne) };
    ($t:ident F64Lt ()) => { $t.binary($crate::bytecode::Op::F64Lt) };
    ($t:ident F64Gt ()) => { $t.binary($crate::bytecode::Op::F64Gt) };
    ($t:ident F64Le ()) => { $t.binary($crate::bytecode::Op::F64Le) };
    ($t:ident F64Ge ()) => { $t.binary($crate::bytecode::Op::F64Ge) };
    ($t:ident F64Abs ()) => { $t.unary($crate::bytecode::Op::F64Abs) };
    ($t:ident F64Neg ()) => { $t.unary($crate::bytecode::Op::F64Neg) };
    ($t:ident F64Ceil ()) => { $t.unary($crate::bytecode::Op::F64Ceil) };
    ($t:ident F64Floor ()) => { $t.unary($crate::bytecode::Op::F64Floor) };
    ($t:ident F64Trunc ()) => { $t.unary($crate::bytecode::Op::F64Trunc) };
    ($t:ident F64Nearest ()) => { $t.unary($crate::bytecode::Op::F64Nearest) };
    ($t:ident F64Sqrt ()) => { $t.unary($crate::bytecode::Op::F64Sqrt) };
    ($t:ident F64Add ()) => { $t.binary($crate::bytecode::Op::F64Add) };
    ($t:ident F64Sub ()) => { $t.binary($crate::bytecode::Op::F64Sub) };
    ($t:ident F64Mul ()) => { $t.binary($crate::bytecode::Op::F64Mul) };
    ($t:ident F64Div ()) => { $t.binary($crate::bytecode::Op::F64Div) };
    ($t:ident F64Min ()) => { $t.binary($crate::bytecode::Op::F64Min) };
    ($t:ident F64Max ()) => { $t.binary($crate::bytecode::Op::F64Max) };
    ($t:ident F64Copysign ()) => { $t.binary($crate::bytecode::Op::F64Copysign) };
    ($t:ident I32WrapI64 ()) => { $t.unary($crate::bytecode::Op::I32WrapI64) };
    ($t:ident I32TruncF32S ()) => { $t.unary($crate::bytecode::Op::I32TruncF32S) };
    ($t:ident I32TruncF32U ()) => { $t.unary($crate::bytecode::Op::I32TruncF32U) };
    ($t:ident I32TruncF64S ()) => { $t.unary($crate::bytecode::Op::I32TruncF64S) };
    ($t:ident I32TruncF64U ()) => { $t.unary($crate::bytecode::Op::I32TruncF64U) };
    ($t:ident I64ExtendI32S ()) => { $t.unary($crate::bytecode::Op::I64ExtendI32S) };
    ($t:ident I64ExtendI32U ()) => { $t.unary($crate::bytecode::Op::I64ExtendI32U) };
    ($t:ident I64TruncF32S ()) => { $t.unary($crate::bytecode::Op::I64TruncF32S) };
    ($t:ident I64TruncF32U ()) => { $t.unary($crate::bytecode::Op::I64TruncF32U) };
    ($t:ident I64TruncF64S ()) => { $t.unary($crate::bytecode::Op::I64TruncF64S) };
    ($t:ident I64TruncF64U ()) => { $t.unary($crate::bytecode::Op::I64TruncF64U) };
    ($t:ident F32ConvertI32S ()) => { $t.unary($crate::bytecode::Op::F32ConvertI32S) };
    ($t:ident F32ConvertI32U ()) => { $t.unary($crate::bytecode::Op::F32ConvertI32U) };
    ($t:ident F32ConvertI64S ()) => { $t.unary($crate::bytecode::Op::F32ConvertI64S) };
    ($t:ident F32ConvertI64U ()) => { $t.unary($crate::bytecode::Op::F32ConvertI64U) };
    ($t:ident F32DemoteF64 ()) => { $t.unary($crate::bytecode::Op::F32DemoteF64) };
    ($t:ident F64ConvertI32S ()) => { $t.unary($crate::bytecode::Op::F64ConvertI32S) };
    ($t:ident F64ConvertI32U ()) => { $t.unary($crate::bytecode::Op::F64ConvertI32U) };
    ($t:ident F64ConvertI64S ()) => { $t.unary($crate::bytecode::Op::F64ConvertI64S) };
    ($t:ident F64ConvertI64U ()) => { $t.unary($crate::bytecode::Op::F64ConvertI64U) };
    ($t:ident F64PromoteF32 ()) => { $t.unary($crate::bytecode::Op::F64PromoteF32) };
    ($t:ident I32Extend8S ()) => { $t.unary($crate::bytecode::Op::I32Extend8S) };
    ($t:ident I32Extend16S ()) => { $t.unary($crate::bytecode::Op::I32Extend16S) };
    ($t:ident I64Extend8S ()) => { $t.unary($crate::bytecode::Op::I64Extend8S) };
    ($t:ident I64Extend16S ()) => { $t.unary($crate::bytecode::Op::I64Extend16S) };
    ($t:ident I64Extend32S ()) => { $t.unary($crate::bytecode::Op::I64Extend32S) };
    ($t:ident I32TruncSatF32S ()) => { $t.unary($crate::bytecode::Op::I32TruncSatF32S) };
    ($t:ident I32TruncSatF32U ()) => { $t.unary($crate::bytecode::Op::I32TruncSatF32U) };
    ($t:ident I32TruncSatF64S ()) => { $t.unary($crate::bytecode::Op::I32TruncSatF64S) };
    ($t:ident I32TruncSatF64U ()) => { $t.unary($crate::bytecode::Op::I32TruncSatF64U) };
    ($t:ident I64TruncSatF32S ()) => { $t.unary($crate::bytecode::Op::I64TruncSatF32S) };
    ($t:ident I64TruncSatF32U ()) => { $t.unary($crate::bytecode::Op::I64TruncSatF32U) };
    ($t:ident I64TruncSatF64S ()) => { $t.unary($crate::bytecode::Op::I64TruncSatF64S) };
    ($t:ident I64TruncSatF64U ()) => { $t.unary($crate::bytecode::Op::I64TruncSatF64U) };

    // ----- everything else -----
    ($t:ident $op:ident $args:tt) => { $crate::translate::dispatch::unsupported(stringify!($op)) };
}
pub(super) use translate_op;

/// Handles an operator in unreachable code: `dead_op!(translator proposal
/// Name)`. Only the block structure matters until the `else`/`end` that
/// makes code reachable again; operators outside Wasm 2.0 are still errors.
#[rustfmt::skip]
macro_rules! dead_op {
    ($t:ident mvp Block) => { $t.open_dead() };
    ($t:ident mvp Loop) => { $t.open_dead_loop() };
    ($t:ident mvp If) => { $t.open_dead() };
    ($t:ident mvp Else) => { $t.else_dead() };
    ($t:ident mvp End) => { $t.end_dead() };
    ($t:ident mvp $op:ident) => { Ok(()) };
    ($t:ident sign_extension $op:ident) => { Ok(()) };
    ($t:ident saturating_float_to_int $op:ident) => { Ok(()) };
    ($t:ident bulk_memory $op:ident) => { Ok(()) };
    ($t:ident reference_types $op:ident) => { Ok(()) };
    ($t:ident $proposal:ident $op:ident) => { $crate::translate::dispatch::unsupported(stringify!($op)) };
}
pub(super) use dead_op;

/// The error for an operator Kiln does not implement.
#[cold]
pub(super) fn unsupported(op: &str) -> anyhow::Result<()> {
    bail!("operator {op} is not supported: Kiln implements WebAssembly 2.0 without SIMD")
}

impl Translator<'_> {
    /// A block opened in unreachable code.
    #[inline]
    pub(super) fn open_dead(&mut self) -> anyhow::Result<()> {
        self.dead_depth += 1;
        Ok(())
    }

    /// A loop opened in unreachable code: it still takes its loop index.
    #[inline]
    pub(super) fn open_dead_loop(&mut self) -> anyhow::Result<()> {
        self.loops += 1;
        self.open_dead()
    }

    /// `else` in unreachable code: the else arm of a live `if` is live.
    #[inline]
    pub(super) fn else_dead(&mut self) -> anyhow::Result<()> {
        if self.dead_depth == 0 {
            self.else_()
        } else {
            Ok(())
        }
    }

    /// `end` in unreachable code: closes a dead block or a live frame.
    #[inline]
    pub(super) fn end_dead(&mut self) -> anyhow::Result<()> {
        if self.dead_depth == 0 {
            self.end()
        } else {
            self.dead_depth -= 1;
            Ok(())
        }
    }
}
