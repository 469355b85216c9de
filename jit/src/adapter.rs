//! The per-type adapters through which native code calls a function that
//! has no native body.
//!
//! A native call site calls its callee's `wasm_call` body when the callee's
//! `VMFuncRef` has one, and otherwise this module's adapter for the callee's
//! type — with the same single call instruction, the adapter standing in
//! for the body. The adapter takes the callee's `VMFuncRef` in place of its
//! vmctx, passes the arguments to the record's `array_call` entry in a
//! `ValRaw` buffer on its own frame, and returns the results (and the
//! status) as a body would. Keeping this out of line keeps every call site
//! one call and one status check, which matters for compile time: a call
//! site with both paths inline was four blocks and a stack slot.
//!
//! The callee is host code or the interpreter, which may want to list the
//! WebAssembly frames on the stack (`WasmBacktrace::capture`, a trap's
//! backtrace): around the call the adapter links a
//! [`VMActivation`](kiln_vm::VMActivation) holding its own frame pointer
//! into the store's chain, from which the native frames of its callers are
//! found.

use crate::Unsupported;
use crate::abi::{self, PTR};
use crate::translate::vm_flags;
use cranelift_codegen::ir::{Function, InstBuilder, StackSlotData, StackSlotKind, UserFuncName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use kiln_vm::{VMActivation, VMContext, VMFuncRef, VMStoreContext};
use wasmparser::FuncType;

/// Builds the adapter for functions of type `ty` (type index `type_index`,
/// for its name).
pub fn build_adapter(
    ty: &FuncType,
    type_index: u32,
    isa: &dyn TargetIsa,
    fctx: &mut FunctionBuilderContext,
) -> Result<Function, Unsupported> {
    let params = abi::value_types(ty.params())?;
    let results = abi::value_types(ty.results())?;
    let mut func =
        Function::with_name_signature(UserFuncName::user(2, type_index), abi::wasm_signature(ty)?);
    let mut b = FunctionBuilder::new(&mut func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let incoming = b.block_params(entry).to_vec();
    let (func_ref, caller, args) = (incoming[0], incoming[1], &incoming[2..]);

    let slots = params.len().max(results.len()).max(1);
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        crate::abi::buffer_size(slots),
        4,
    ));
    let buffer = b.ins().stack_addr(PTR, slot, 0);
    for (i, arg) in args.iter().enumerate() {
        let bits = crate::abi::value_bits(&mut b, *arg);
        b.ins()
            .store(vm_flags(), bits, buffer, crate::abi::slot_offset(i));
    }
    let array_call = b.ins().load(
        PTR,
        vm_flags(),
        func_ref,
        VMFuncRef::OFFSET_ARRAY_CALL as i32,
    );
    let callee_vmctx = b
        .ins()
        .load(PTR, vm_flags(), func_ref, VMFuncRef::OFFSET_VMCTX as i32);
    let capacity = b.ins().iconst(PTR, slots as i64);

    // This call out of native code, on the store's activation chain.
    let record = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        VMActivation::SIZE,
        3,
    ));
    let record = b.ins().stack_addr(PTR, record, 0);
    let store = b
        .ins()
        .load(PTR, vm_flags(), caller, VMContext::OFFSET_STORE as i32);
    let chain = VMStoreContext::OFFSET_ACTIVATIONS as i32;
    let prev = b.ins().load(PTR, vm_flags(), store, chain);
    let kind = b.ins().iconst(PTR, VMActivation::NATIVE as i64);
    let fp = b.ins().get_frame_pointer(PTR);
    let null = b.ins().iconst(PTR, 0);
    for (value, at) in [
        (prev, VMActivation::OFFSET_PREV),
        (kind, VMActivation::OFFSET_KIND),
        (fp, VMActivation::OFFSET_DATA),
        (null, VMActivation::OFFSET_FUNC_INDEX),
        (null, VMActivation::OFFSET_VMCTX),
    ] {
        b.ins().store(vm_flags(), value, record, at as i32);
    }
    b.ins().store(vm_flags(), record, store, chain);

    let sig = b.import_signature(abi::array_signature(isa));
    let call = b
        .ins()
        .call_indirect(sig, array_call, &[callee_vmctx, caller, buffer, capacity]);
    let ok = b.inst_results(call)[0];
    b.ins().store(vm_flags(), prev, store, chain);

    let returned = b.create_block();
    let failed = b.create_block();
    b.ins().brif(ok, returned, &[], failed, &[]);

    b.switch_to_block(returned);
    b.seal_block(returned);
    let mut values = vec![b.ins().iconst(abi::STATUS, 1)];
    for (i, ty) in results.iter().enumerate() {
        let v = b
            .ins()
            .load(*ty, vm_flags(), buffer, crate::abi::slot_offset(i));
        values.push(v);
    }
    b.ins().return_(&values);

    b.switch_to_block(failed);
    b.seal_block(failed);
    let mut values = vec![b.ins().iconst(abi::STATUS, 0)];
    for ty in &results {
        values.push(crate::abi::zero(&mut b, *ty));
    }
    b.ins().return_(&values);

    b.finalize(isa.frontend_config());
    Ok(func)
}
