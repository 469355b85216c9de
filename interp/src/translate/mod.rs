//! The translator: WebAssembly function bodies to Kiln bytecode.
//!
//! (Stub — being written.)

use crate::ModuleTypes;
use crate::bytecode::CompiledFunc;

/// Translates the body of function `func_index` into bytecode. With a
/// `validator`, every operator is validated in the same pass and the first
/// validation error (wasmparser's message and offset) is returned.
pub fn translate_function(
    types: &ModuleTypes,
    func_index: u32,
    body: &wasmparser::FunctionBody<'_>,
    validator: Option<&mut wasmparser::FuncValidator<wasmparser::ValidatorResources>>,
) -> anyhow::Result<CompiledFunc> {
    let _ = (types, func_index, body, validator);
    anyhow::bail!("translator not implemented")
}
