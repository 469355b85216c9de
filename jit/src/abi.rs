//! How wasm values and functions look to Cranelift: value types and the
//! signatures of the two entries every native function has, and of the
//! runtime's builtins.

use crate::Unsupported;
use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Signature, Type, Value, types};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{FuncType, ValType};

/// The pointer type (Kiln's native tier targets 64-bit hosts only).
pub(crate) const PTR: Type = types::I64;

/// The type of a wasm function's status return: nonzero when it returned
/// normally, 0 when it trapped (the reason is in the store's `pending`).
pub(crate) const STATUS: Type = types::I32;

/// Bytes of one `ValRaw` slot of an array-call buffer.
const VALRAW: usize = core::mem::size_of::<kiln_vm::ValRaw>();

/// The offset of slot `i` of an array-call buffer (arguments, results, an
/// OSR entry's frame).
pub(crate) fn slot_offset(i: usize) -> i32 {
    (i * VALRAW) as i32
}

/// The size in bytes of an array-call buffer of `slots` slots.
pub(crate) fn buffer_size(slots: usize) -> u32 {
    (slots * VALRAW) as u32
}

/// A value's `ValRaw` bits: zero-extended to 64, floats by their bits.
pub(crate) fn value_bits(b: &mut FunctionBuilder<'_>, v: Value) -> Value {
    let flags = MemFlagsData::new();
    match b.func.dfg.value_type(v) {
        types::I32 => b.ins().uextend(types::I64, v),
        types::F32 => {
            let bits = b.ins().bitcast(types::I32, flags, v);
            b.ins().uextend(types::I64, bits)
        }
        types::F64 => b.ins().bitcast(types::I64, flags, v),
        _ => v,
    }
}

/// The zero of a Cranelift type.
pub(crate) fn zero(b: &mut FunctionBuilder<'_>, ty: Type) -> Value {
    match ty {
        types::F32 => b.ins().f32const(0.0),
        types::F64 => b.ins().f64const(0.0),
        ty => b.ins().iconst(ty, 0),
    }
}

/// The Cranelift type holding a wasm value: references are 64-bit (a
/// `*const VMFuncRef` or an externref handle, 0 for null), as in the
/// interpreter's slots and in `ValRaw`.
pub(crate) fn value_type(ty: ValType) -> Result<Type, Unsupported> {
    Ok(match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::Ref(_) => types::I64,
        ValType::V128 => return Err(Unsupported("v128 values".into())),
    })
}

/// The Cranelift types of a list of wasm types.
pub(crate) fn value_types(tys: &[ValType]) -> Result<Vec<Type>, Unsupported> {
    tys.iter().map(|t| value_type(*t)).collect()
}

/// The calling convention of `wasm_call` bodies: Cranelift's `tail`,
/// which passes any number of arguments and results in registers and on
/// the stack.
pub(crate) const WASM_CALL_CONV: CallConv = CallConv::Tail;

/// The `wasm_call` signature of a function of type `ty`:
/// `(callee_vmctx, caller_vmctx, params...) -> (status, results...)`.
pub(crate) fn wasm_signature(ty: &FuncType) -> Result<Signature, Unsupported> {
    let mut sig = Signature::new(WASM_CALL_CONV);
    sig.params.push(AbiParam::new(PTR));
    sig.params.push(AbiParam::new(PTR));
    for p in ty.params() {
        sig.params.push(AbiParam::new(value_type(*p)?));
    }
    sig.returns.push(AbiParam::new(STATUS));
    for r in ty.results() {
        sig.returns.push(AbiParam::new(value_type(*r)?));
    }
    Ok(sig)
}

/// The `array_call` signature (`kiln_vm::VMArrayCallFn`), in the host's
/// calling convention: `(callee_vmctx, caller_vmctx, *mut ValRaw, capacity)
/// -> bool`.
pub(crate) fn array_signature(isa: &dyn TargetIsa) -> Signature {
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.extend([AbiParam::new(PTR); 4]);
    sig.returns.push(AbiParam::new(types::I8));
    sig
}

/// A builtin's signature: `vmctx` then `params`, in the host's calling
/// convention.
pub(crate) fn builtin_signature(
    call_conv: CallConv,
    params: &[Type],
    returns: &[Type],
) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(PTR));
    sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
    sig.returns
        .extend(returns.iter().map(|t| AbiParam::new(*t)));
    sig
}
