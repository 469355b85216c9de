//! The `array_call` entry of a native function.
//!
//! The host, the interpreter and native code calling a function without a
//! `wasm_call` all call through `array_call(callee_vmctx, caller_vmctx,
//! *mut ValRaw, capacity) -> bool`. For a native function `callee_vmctx` is
//! its instance's vmctx, and the trampoline, compiled per function:
//!
//! 1. sets the store's native stack limit to `max_wasm_stack` below the
//!    current stack pointer if no native code is running yet (and restores
//!    the previous limit on the way out), so deep native recursion traps
//!    with `StackOverflow` wherever it was entered from;
//! 2. loads the arguments from the buffer and calls the body through the
//!    function's own `VMFuncRef::wasm_call` (no relocation: the address is
//!    in the instance's vmctx);
//! 3. on success writes the results back to the buffer as `ValRaw`s and
//!    returns `true`; on a trap returns `false`, the reason and the frames
//!    already recorded in the store by the body.

use crate::Unsupported;
use crate::abi::{self, PTR};
use crate::abi::{slot_offset, value_bits};
use crate::env::ModuleEnv;
use crate::translate::{vm_const_flags, vm_flags};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Function, InstBuilder, UserFuncName, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use kiln_vm::{VMContext, VMFuncRef, VMStoreContext};

/// Builds the array-call trampoline of defined function `func_index`.
pub fn build_trampoline(
    env: &ModuleEnv,
    func_index: u32,
    isa: &dyn TargetIsa,
    fctx: &mut FunctionBuilderContext,
) -> Result<Function, Unsupported> {
    let ty = env.func_type(func_index);
    let params = abi::value_types(ty.params())?;
    let results = abi::value_types(ty.results())?;
    let mut func =
        Function::with_name_signature(UserFuncName::user(1, func_index), abi::array_signature(isa));
    let mut b = FunctionBuilder::new(&mut func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let [vmctx, caller, buffer, _capacity] = b.block_params(entry) else {
        unreachable!("the array signature has four parameters")
    };
    let (vmctx, caller, buffer) = (*vmctx, *caller, *buffer);

    // The stack limit, set by the outermost entry into native code.
    let store = b
        .ins()
        .load(PTR, vm_const_flags(), vmctx, VMContext::OFFSET_STORE as i32);
    let limit_at = VMStoreContext::OFFSET_STACK_LIMIT as i32;
    let old_limit = b.ins().load(PTR, vm_flags(), store, limit_at);
    let sp = b.ins().get_stack_pointer(PTR);
    let max = b.ins().load(
        PTR,
        vm_flags(),
        store,
        VMStoreContext::OFFSET_MAX_WASM_STACK as i32,
    );
    let below = b.ins().isub(sp, max);
    let one = b.ins().iconst(PTR, 1);
    // A budget larger than the stack itself means no limit (1 is below
    // every stack pointer, and nonzero: "set").
    let too_big = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, max, sp);
    let fresh = b.ins().select(too_big, one, below);
    let outer = b.ins().icmp_imm_s(IntCC::Equal, old_limit, 0);
    let limit = b.ins().select(outer, fresh, old_limit);
    b.ins().store(vm_flags(), limit, store, limit_at);

    // The arguments, then the body.
    let mut args = vec![vmctx, caller];
    for (i, ty) in params.iter().enumerate() {
        let v = b.ins().load(*ty, vm_flags(), buffer, slot_offset(i));
        args.push(v);
    }
    let env_offsets = env.offsets();
    let def_index = func_index - env.num_imported_funcs();
    let record =
        env_offsets.defined_func_refs as i32 + def_index as i32 * size_of::<VMFuncRef>() as i32;
    let body = b.ins().load(
        PTR,
        vm_flags(),
        vmctx,
        record + VMFuncRef::OFFSET_WASM_CALL as i32,
    );
    let sig = b.import_signature(abi::wasm_signature(ty)?);
    let call = b.ins().call_indirect(sig, body, &args);
    let outs = b.inst_results(call).to_vec();
    b.ins().store(vm_flags(), old_limit, store, limit_at);

    let ok = b.create_block();
    let failed = b.create_block();
    b.ins().brif(outs[0], ok, &[], failed, &[]);

    b.switch_to_block(ok);
    b.seal_block(ok);
    let zero = b.ins().iconst(types::I64, 0);
    for (i, v) in outs[1..].iter().enumerate() {
        let bits = value_bits(&mut b, *v);
        let at = slot_offset(i);
        b.ins().store(vm_flags(), bits, buffer, at);
        b.ins().store(vm_flags(), zero, buffer, at + 8);
    }
    debug_assert_eq!(outs.len(), results.len() + 1);
    let yes = b.ins().iconst(types::I8, 1);
    b.ins().return_(&[yes]);

    b.switch_to_block(failed);
    b.seal_block(failed);
    let no = b.ins().iconst(types::I8, 0);
    b.ins().return_(&[no]);

    b.finalize(isa.frontend_config());
    Ok(func)
}
