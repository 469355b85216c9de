//! Evaluating constant expressions (global initialisers, segment offsets
//! and element items) against an instance under construction.

use crate::module::ConstExpr;
use anyhow::{Result, bail};
use kiln_vm::{VMContext, ValRaw};

/// The value of `expr` in the instance `vmctx`.
///
/// # Safety
/// `vmctx` is an instance block whose header, `func_refs` and `globals`
/// regions are initialised up to the indices `expr` may name (validation
/// only allows functions, and globals defined before the one being
/// initialised).
pub(crate) unsafe fn eval(expr: &ConstExpr, vmctx: *mut VMContext) -> Result<ValRaw> {
    // SAFETY: the header is initialised (contract above).
    let counts = unsafe { (*vmctx).offsets.counts };
    Ok(match *expr {
        ConstExpr::I32(v) => ValRaw::i32(v),
        ConstExpr::I64(v) => ValRaw::i64(v),
        ConstExpr::F32(bits) => ValRaw::f32(bits),
        ConstExpr::F64(bits) => ValRaw::f64(bits),
        ConstExpr::RefNull => ValRaw::zero(),
        ConstExpr::RefFunc(index) => {
            if index >= counts.funcs {
                bail!("constant expression refers to unknown function {index}");
            }
            // SAFETY: in range, and initialised per the contract.
            let func_ref = unsafe { *VMContext::func_ref_slot(vmctx, index) };
            ValRaw::from_bits(func_ref as u64)
        }
        ConstExpr::GlobalGet(index) => {
            if index >= counts.globals {
                bail!("constant expression refers to unknown global {index}");
            }
            // SAFETY: in range, and the slot points at a live definition per
            // the contract.
            unsafe { (**VMContext::global_slot(vmctx, index)).value }
        }
    })
}

/// The value of an `i32` offset expression, as an unsigned offset.
///
/// # Safety
/// As for [`eval`].
pub(crate) unsafe fn eval_offset(expr: &ConstExpr, vmctx: *mut VMContext) -> Result<u64> {
    // SAFETY: forwarded to the caller.
    let value = unsafe { eval(expr, vmctx)? };
    Ok(u64::from(value.get_i32() as u32))
}
