//! Instantiation: from a module and its imports to a running instance.
//!
//! The steps follow the WebAssembly spec (and wasmtime's `Instance::new`):
//!
//! 1. match the provided imports 1:1, in order, against the module's import
//!    types (kind, signature, limits against the *current* size, global
//!    mutability); items from another store are rejected. An `InstancePre`
//!    checked the types once already, so its instantiations only sort the
//!    imports by kind ([`instantiate_prechecked`]);
//! 2. count the instance against the store's limits, take the vmctx block,
//!    memories and tables from the engine's allocator (on demand, or the
//!    pool, which may reject a module that can never fit or is out of
//!    slots), asking the store's resource limiter about every initial
//!    memory and table size; then fill every region of the vmctx (function
//!    records, entity pointers, globals from their constant initialisers,
//!    the passive data and element segments). The new memories and tables
//!    are added to the store only once every allocation has succeeded (a
//!    failed allocation returns the pool slots already taken);
//! 3. apply the active element segments, then the active data segments, in
//!    order, with bulk-memory semantics: each is bounds-checked and copied in
//!    turn, so a trap leaves the earlier ones applied; applied (and
//!    declarative) segments are dropped;
//! 4. run the start function.
//!
//! Steps 2 and 3 follow the module's [`SegmentPlan`], made when the module
//! was created: constant segment offsets are already evaluated, so applying
//! a data segment is a bounds check and a copy from the module's bytes.
//! Since a segment that instantiation applies is dropped straight away, its
//! vmctx descriptor is never written at all: the block's initial zero is
//! the dropped state. Only if a segment traps are the descriptors of the
//! segments not yet applied (which the spec leaves undropped) written, as
//! they would have been.
//!
//! The instance is registered in the store as soon as its vmctx exists, so
//! the objects a failed step 3 or 4 already modified stay reachable.

use super::call::invoke;
use super::const_eval::{eval, eval_offset};
use super::instance::{InstanceData, VmctxBlock};
use super::memory::{MemoryObject, MemoryStorage};
use super::memory_buffer::MemoryInitHint;
use super::pooling::PoolingAllocator;
use super::table::{TableObject, TableStorage};
use super::{builtins::BUILTINS, global::GlobalRecord};
use crate::module::{ElemInit, ElemItems, EntityIndex, ModuleInfo, Offset, SegmentPlan};
use crate::store::StoreOpaque;
use crate::trap::trap_error;
use crate::types::matching::{kind_mismatch, match_func, match_global, match_memory, match_table};
use crate::types::{ExternType, MemoryType, TableType};
use crate::{Engine, Extern, Global, Instance, Memory, Module, Table, Trap};
use anyhow::{Context as _, Result, bail};
use kiln_vm::VMContextAllocation;
use kiln_vm::{
    VMCONTEXT_MAGIC, VMContext, VMDataSegment, VMElemSegment, VMFuncRef, VMGlobalDefinition,
    VMInterpFunc, WASM_PAGE_SIZE,
};
use std::ptr::NonNull;

/// Imports, checked and sorted by kind, in index order.
#[derive(Default)]
struct Imports {
    funcs: Vec<NonNull<VMFuncRef>>,
    tables: Vec<Table>,
    memories: Vec<Memory>,
    globals: Vec<Global>,
}

/// Instantiates `module` in the store at `store` with `imports`.
///
/// # Safety
/// `store` is a live store that no reference is held into for the duration
/// of the call (the start function may re-enter it).
pub(crate) unsafe fn instantiate(
    store: NonNull<StoreOpaque>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    // SAFETY: per the contract.
    unsafe { instantiate_with(store, module, imports, resolve_imports) }
}

/// Instantiates `module` with `imports` whose types were already checked
/// against the module's imports (by `InstancePre`): only the store, the
/// count and each import's kind are checked.
///
/// # Safety
/// As for [`instantiate`].
pub(crate) unsafe fn instantiate_prechecked(
    store: NonNull<StoreOpaque>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    // SAFETY: per the contract.
    unsafe { instantiate_with(store, module, imports, sort_imports) }
}

/// Instantiation, with `resolve` checking and sorting the imports.
///
/// # Safety
/// As for [`instantiate`].
unsafe fn instantiate_with(
    store: NonNull<StoreOpaque>,
    module: &Module,
    imports: &[Extern],
    resolve: fn(&StoreOpaque, &Module, &[Extern]) -> Result<Imports>,
) -> Result<Instance> {
    let (instance, start) = {
        // SAFETY: per the contract; this borrow ends before the start
        // function runs.
        let store = unsafe { &mut *store.as_ptr() };
        let imports = resolve(store, module, imports)?;
        let instance = build(store, module, imports)?;
        initialize_segments(store, instance.index(), module)?;
        let data = &store.instances[instance.index() as usize];
        let start = module.info().start.and_then(|f| data.func_ref(f));
        (instance, start)
    };
    if let Some(start) = start {
        // SAFETY: the start function belongs to this store, takes no
        // parameters and returns nothing (validated); `store` is unborrowed.
        unsafe { invoke(store, start, &mut [])? };
    }
    Ok(instance)
}

/// The checks every instantiation makes before looking at import types:
/// same engine, the right number of imports, all from this store.
fn check_provided(store: &StoreOpaque, module: &Module, provided: &[Extern]) -> Result<()> {
    if !Engine::same(&store.engine, module.engine()) {
        bail!("cross-`Engine` instantiation is not currently supported");
    }
    let expected = module.info().imports.len();
    if provided.len() != expected {
        bail!("expected {expected} imports, found {}", provided.len());
    }
    if provided.iter().any(|item| item.store_id() != store.id) {
        bail!("cross-`Store` instantiation is not currently supported");
    }
    Ok(())
}

/// Step 1: checks every provided import against the module's.
fn resolve_imports(store: &StoreOpaque, module: &Module, provided: &[Extern]) -> Result<Imports> {
    check_provided(store, module, provided)?;
    let info = module.info();
    let mut imports = Imports::default();
    for (decl, item) in info.imports.iter().zip(provided) {
        let expected = module.entity_type(decl.index);
        check_import(store, &expected, item, &mut imports).with_context(|| {
            format!(
                "incompatible import type for `{}::{}`",
                decl.module, decl.name
            )
        })?;
    }
    Ok(imports)
}

/// Step 1 for imports already type-checked: checks the engine, the count,
/// the store and the kinds, and sorts the imports by kind.
fn sort_imports(store: &StoreOpaque, module: &Module, provided: &[Extern]) -> Result<Imports> {
    check_provided(store, module, provided)?;
    let info = module.info();
    let mut imports = Imports::default();
    for (decl, item) in info.imports.iter().zip(provided) {
        match (decl.index, item) {
            (EntityIndex::Func(_), Extern::Func(f)) => imports.funcs.push(f.vm_func_ref()),
            (EntityIndex::Global(_), Extern::Global(g)) => imports.globals.push(*g),
            (EntityIndex::Table(_), Extern::Table(t)) => imports.tables.push(*t),
            (EntityIndex::Memory(_), Extern::Memory(m)) => imports.memories.push(*m),
            _ => {
                let expected = module.entity_type(decl.index);
                return Err(kind_mismatch(&expected, &item.ty_in(store)?)).with_context(|| {
                    format!(
                        "incompatible import type for `{}::{}`",
                        decl.module, decl.name
                    )
                });
            }
        }
    }
    Ok(imports)
}

/// Checks one import and records it.
fn check_import(
    store: &StoreOpaque,
    expected: &ExternType,
    item: &Extern,
    imports: &mut Imports,
) -> Result<()> {
    match (expected, item) {
        (ExternType::Func(want), Extern::Func(f)) => {
            match_func(want, &f.load_ty(store)?)?;
            imports.funcs.push(f.vm_func_ref());
        }
        (ExternType::Global(want), Extern::Global(g)) => {
            match_global(want, &g.record(store)?.ty)?;
            imports.globals.push(*g);
        }
        (ExternType::Table(want), Extern::Table(t)) => {
            let table = t.object(store)?;
            match_table(want, table.ty(), table.size())?;
            imports.tables.push(*t);
        }
        (ExternType::Memory(want), Extern::Memory(m)) => {
            let memory = m.object(store)?;
            match_memory(want, memory.ty(), memory.pages())?;
            imports.memories.push(*m);
        }
        _ => return Err(kind_mismatch(expected, &item.ty_in(store)?)),
    }
    Ok(())
}

/// Step 2: creates the defined entities and the vmctx, and registers the
/// instance in the store.
fn build(store: &mut StoreOpaque, module: &Module, imports: Imports) -> Result<Instance> {
    let info = module.info();
    let index = StoreOpaque::next_index(store.instances.len(), "instances")?;
    let defined_memories = &info.memories[info.num_imported_memories as usize..];
    let defined_tables = &info.tables[info.num_imported_tables as usize..];

    let plan = module.plan();
    if let Some(e) = &plan.data_error {
        bail!("cannot read the module's data section: {e}");
    }
    let pool = store.engine.pooling_allocator().cloned();
    if let Some(pool) = &pool {
        pool.validate(module)?;
    }
    store.bump_resource_counts(defined_memories.len(), defined_tables.len())?;

    // Every allocation first; each returns its pool slot if a later one
    // fails.
    let offsets = *module.offsets();
    let mut block = match &pool {
        Some(pool) => VmctxBlock::Pooled(pool.allocate_vmctx(&offsets)?),
        None => VmctxBlock::OnDemand(VMContextAllocation::new(&offsets)?),
    };
    if plan.passive_data.is_empty() {
        // No data segment descriptor is written unless a segment traps
        // (which calls `touch_all`).
        block.set_untouched(offsets.data_segments as usize..offsets.elem_segments as usize);
    }
    let hints = &plan.memory_hints[info.num_imported_memories as usize..];
    let new_memories = defined_memories
        .iter()
        .zip(hints)
        .map(|(ty, hint)| create_memory(store, pool.as_deref(), ty, *hint))
        .collect::<Result<Vec<_>>>()?;
    let new_tables = defined_tables
        .iter()
        .map(|ty| create_table(store, pool.as_deref(), ty))
        .collect::<Result<Vec<_>>>()?;

    let mut memories = imports.memories;
    for object in new_memories {
        memories.push(Memory::from_object(store, object)?);
    }
    let mut tables = imports.tables;
    for object in new_tables {
        tables.push(Table::from_object(store, object)?);
    }

    let vmctx = block.vmctx();
    // SAFETY: `vmctx` is a fresh, zeroed block laid out by `offsets`; the
    // header is written first, so the region accessors below can read the
    // offsets, and every index written is within the module's counts (which
    // sized the block). The pointers stored point at objects owned by this
    // store, which outlive the instance.
    unsafe {
        vmctx.write(VMContext {
            magic: VMCONTEXT_MAGIC,
            instance_index: index,
            store: std::ptr::addr_of_mut!(store.vm),
            builtins: &BUILTINS,
            interp_module: std::sync::Arc::as_ptr(module.code()).cast(),
            offsets,
        });
        for (i, id) in module.type_ids().iter().enumerate() {
            *VMContext::type_id_slot(vmctx, i as u32) = *id;
            if let Some(adapter) = module.native_type_adapter(i as u32) {
                *VMContext::type_adapter_slot(vmctx, i as u32) = adapter.as_ptr();
            }
        }
        write_funcs(vmctx, module, &imports.funcs);
        if let Some(tier) = module.tier() {
            crate::module::tier::instantiate(vmctx, tier);
        }
        for (i, memory) in memories.iter().enumerate() {
            let object = memory.object_ptr(store)?;
            *VMContext::memory_slot(vmctx, i as u32) = MemoryObject::def_ptr(object);
        }
        for (i, table) in tables.iter().enumerate() {
            let object = table.object_ptr(store)?;
            *VMContext::table_slot(vmctx, i as u32) = TableObject::def_ptr(object);
        }
    }
    // SAFETY: the header, functions and imported entities are initialised.
    let globals = unsafe { write_globals(store, vmctx, info, imports.globals)? };
    // SAFETY: as above, plus the globals.
    let elems = unsafe { write_passive_segments(vmctx, module)? };

    store.instances.push(InstanceData {
        module: module.clone(),
        vmctx: block,
        memories: memories.into(),
        tables: tables.into(),
        globals: globals.into(),
        elems,
    });
    Ok(Instance::from_index(store.id, index))
}

/// A memory of type `ty` for a new instance, from `pool` if pooling, after
/// asking the store's resource limiter about its initial size. `hint` says
/// what the data segments will write into it.
fn create_memory(
    store: &mut StoreOpaque,
    pool: Option<&PoolingAllocator>,
    ty: &MemoryType,
    hint: MemoryInitHint,
) -> Result<MemoryObject> {
    let allocator_max = pool.map(PoolingAllocator::max_memory_bytes);
    store.with_limiter(|limiter| {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        let minimum = ty
            .minimum()
            .checked_mul(WASM_PAGE_SIZE)
            .and_then(|bytes| usize::try_from(bytes).ok());
        let maximum = MemoryObject::limiter_maximum(ty, allocator_max);
        match minimum {
            Some(minimum) if limiter.memory_growing(0, minimum, maximum)? => Ok(()),
            _ => bail!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.minimum()
            ),
        }
    })?;
    let storage = match pool {
        Some(pool) => {
            let (lease, buffer) = pool.allocate_memory()?;
            MemoryStorage::Pooled {
                buffer,
                max_bytes: pool.max_memory_bytes(),
                lease,
            }
        }
        None => MemoryStorage::OnDemand,
    };
    MemoryObject::with_storage(ty, storage, hint)
}

/// A table of type `ty` for a new instance (null elements), from `pool` if
/// pooling, after asking the store's resource limiter about its initial
/// size.
fn create_table(
    store: &mut StoreOpaque,
    pool: Option<&PoolingAllocator>,
    ty: &TableType,
) -> Result<TableObject> {
    let allocator_max = pool.map(PoolingAllocator::max_table_elements);
    store.with_limiter(|limiter| {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        let minimum = usize::try_from(ty.minimum()).ok();
        let maximum = TableObject::limiter_maximum(ty, allocator_max);
        match minimum {
            Some(minimum) if limiter.table_growing(0, minimum, maximum)? => Ok(()),
            _ => bail!(
                "table minimum size of {} elements exceeds table limits",
                ty.minimum()
            ),
        }
    })?;
    let storage = match pool {
        Some(pool) => {
            let (lease, elements) = pool.allocate_table()?;
            TableStorage::Pooled {
                elements,
                max_elements: pool.max_table_elements(),
                lease,
            }
        }
        None => TableStorage::OnDemand,
    };
    TableObject::with_storage(ty, 0, storage)
}

/// Fills `func_refs`, `defined_func_refs` and `interp_funcs`.
///
/// # Safety
/// `vmctx` is a block for `module` with its header and `type_ids` written.
unsafe fn write_funcs(vmctx: *mut VMContext, module: &Module, imported: &[NonNull<VMFuncRef>]) {
    let info = module.info();
    // SAFETY: indices are within the module's function counts.
    unsafe {
        for (i, func_ref) in imported.iter().enumerate() {
            *VMContext::func_ref_slot(vmctx, i as u32) = func_ref.as_ptr();
        }
        for func_index in info.num_imported_funcs..info.funcs.len() as u32 {
            let def_index = func_index - info.num_imported_funcs;
            let interp = VMContext::interp_func(vmctx, def_index);
            interp.write(VMInterpFunc {
                instance: vmctx,
                func_index,
            });
            let type_index = module.type_ids()[info.funcs[func_index as usize] as usize];
            let func_ref = VMContext::defined_func_ref(vmctx, def_index);
            func_ref.write(match module.native_entries(def_index) {
                // Native code: its trampoline takes the instance's vmctx.
                Some((array_call, wasm_call)) => VMFuncRef {
                    array_call,
                    wasm_call: Some(wasm_call),
                    type_index,
                    vmctx: vmctx.cast(),
                },
                None => VMFuncRef {
                    array_call: kiln_interp::exec::interp_array_call,
                    wasm_call: None,
                    type_index,
                    vmctx: interp.cast(),
                },
            });
            *VMContext::func_ref_slot(vmctx, func_index) = func_ref;
        }
    }
}

/// Fills the `globals` region, initialising the defined globals, and
/// returns every global's handle.
///
/// # Safety
/// `vmctx` is a block for the module of `info` with its header and
/// `func_refs` written.
unsafe fn write_globals(
    store: &mut StoreOpaque,
    vmctx: *mut VMContext,
    info: &ModuleInfo,
    mut globals: Vec<Global>,
) -> Result<Vec<Global>> {
    for (i, global) in globals.iter().enumerate() {
        let def = global.record(store)?.def_ptr();
        // SAFETY: `i` is an imported global index.
        unsafe { *VMContext::global_slot(vmctx, i as u32) = def };
    }
    let defined = info.globals[info.num_imported_globals as usize..].iter();
    for (def_index, (ty, init)) in defined.zip(&info.global_inits).enumerate() {
        let def_index = def_index as u32;
        // SAFETY: the initialiser may only read functions and earlier
        // globals, all written by now; `def_index` and the global index are
        // within the module's counts.
        let def = unsafe {
            let value = eval(init, vmctx)?;
            let def = VMContext::defined_global(vmctx, def_index);
            def.write(VMGlobalDefinition { value });
            *VMContext::global_slot(vmctx, info.num_imported_globals + def_index) = def;
            NonNull::new_unchecked(def)
        };
        globals.push(Global::from_record(
            store,
            GlobalRecord::new_borrowed(ty.clone(), def),
        )?);
    }
    Ok(globals)
}

/// Writes the descriptors of the passive data and element segments (the
/// only ones `memory.init`/`table.init` can still use once instantiation
/// succeeds); returns the storage of the evaluated element segments.
///
/// # Safety
/// `vmctx` is a block for `module` with everything but the segments written.
unsafe fn write_passive_segments(
    vmctx: *mut VMContext,
    module: &Module,
) -> Result<Vec<Box<[u64]>>> {
    let bytes = module.bytes();
    for segment in &module.plan().passive_data {
        // SAFETY: `index` is within the data count.
        unsafe { write_data_descriptor(vmctx, segment.index, &bytes[segment.range.clone()]) };
    }
    let mut storage = Vec::new();
    for (index, elem) in module.plan().elems.iter().enumerate() {
        if elem.init == ElemInit::Passive {
            // SAFETY: items only name functions and globals, all written;
            // `index` is within the element count.
            storage.push(unsafe { write_elem_descriptor(vmctx, index as u32, &elem.items)? });
        }
    }
    Ok(storage)
}

/// Points data segment `index` of `vmctx` at `bytes`.
///
/// # Safety
/// `vmctx` is a block with its header written; `index` is within its data
/// count; `bytes` are owned by the instance's module, which outlives it.
unsafe fn write_data_descriptor(vmctx: *mut VMContext, index: u32, bytes: &[u8]) {
    // SAFETY: per the contract.
    unsafe {
        VMContext::data_segment(vmctx, index).write(VMDataSegment {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        });
    }
}

/// Evaluates `items` and points element segment `index` of `vmctx` at
/// them; returns their storage, which the caller keeps as long as the
/// vmctx.
///
/// # Safety
/// `vmctx` is a block whose header, functions and globals are written;
/// `index` is within its element count.
unsafe fn write_elem_descriptor(
    vmctx: *mut VMContext,
    index: u32,
    items: &ElemItems,
) -> Result<Box<[u64]>> {
    let mut values = vec![0u64; items.len()].into_boxed_slice();
    // SAFETY: `values` holds `items.len()` slots; the rest per the contract.
    unsafe {
        write_items(vmctx, items, values.as_mut_ptr())?;
        VMContext::elem_segment(vmctx, index).write(VMElemSegment {
            ptr: values.as_ptr(),
            len: values.len(),
        });
    }
    Ok(values)
}

/// Evaluates `items` into the `items.len()` slots at `dst`.
///
/// # Safety
/// `vmctx` is a block whose header, functions and globals are written, for
/// a module whose validation admitted `items`; `dst` is valid for
/// `items.len()` writes.
unsafe fn write_items(vmctx: *mut VMContext, items: &ElemItems, dst: *mut u64) -> Result<()> {
    match items {
        ElemItems::Funcs(funcs) => {
            // SAFETY: validation keeps every function index within the
            // function count, so each slot is inside `func_refs`.
            unsafe {
                let slots = VMContext::func_ref_slot(vmctx, 0);
                for (i, &func) in funcs.iter().enumerate() {
                    *dst.add(i) = *slots.add(func as usize) as u64;
                }
            }
        }
        ElemItems::Exprs(exprs) => {
            for (i, expr) in exprs.iter().enumerate() {
                // SAFETY: items only name functions and globals, all
                // written; `i` is within `dst`'s slots.
                unsafe { *dst.add(i) = eval(expr, vmctx)?.bits() };
            }
        }
    }
    Ok(())
}

/// The value of a segment offset in the instance `vmctx`.
///
/// # Safety
/// As for [`eval`].
unsafe fn resolve(offset: &Offset, vmctx: *mut VMContext) -> Result<u64> {
    match offset {
        Offset::Const(offset) => Ok(*offset),
        // SAFETY: forwarded to the caller.
        Offset::Eval(expr) => unsafe { eval_offset(expr, vmctx) },
    }
}

/// Where applying the segments stopped with a trap: the position in the
/// plan's element segments or active data segments of the segment that
/// trapped.
enum Stopped {
    Elems(usize),
    Data(usize),
}

/// Why applying the segments failed.
enum SegmentFailure {
    /// A segment was out of bounds.
    Trap(Trap, Stopped),
    /// Anything else (evaluating a constant expression).
    Error(anyhow::Error),
}

impl From<anyhow::Error> for SegmentFailure {
    fn from(error: anyhow::Error) -> SegmentFailure {
        SegmentFailure::Error(error)
    }
}

/// Step 3: applies the active segments of instance `index`, an instance of
/// `module`.
fn initialize_segments(store: &mut StoreOpaque, index: u32, module: &Module) -> Result<()> {
    let vmctx = store.instances[index as usize].vmctx.vmctx();
    // SAFETY: the instance is fully built from `module`; its tables and
    // memories are owned by the store, and no reference to their contents
    // is live (`store` is borrowed mutably and unused meanwhile).
    let (trap, stopped) = match unsafe { apply_segments(vmctx, module) } {
        Ok(()) => return Ok(()),
        Err(SegmentFailure::Error(error)) => return Err(error),
        Err(SegmentFailure::Trap(trap, stopped)) => (trap, stopped),
    };
    // SAFETY: as above; the storage returned is kept with the instance.
    let storage = unsafe { keep_unapplied(vmctx, module, stopped)? };
    let data = &mut store.instances[index as usize];
    data.elems.extend(storage);
    data.vmctx.touch_all();
    Err(trap_error(store, trap, &[]))
}

/// Applies the active element segments, then the active data segments, in
/// order, stopping at the first that is out of bounds.
///
/// # Safety
/// `vmctx` is a fully built instance of `module` whose tables' and
/// memories' contents nothing borrows.
unsafe fn apply_segments(vmctx: *mut VMContext, module: &Module) -> Result<(), SegmentFailure> {
    let plan = module.plan();
    for (at, elem) in plan.elems.iter().enumerate() {
        let ElemInit::Active { table, offset } = &elem.init else {
            continue;
        };
        // SAFETY: validation keeps the table index in range and the items
        // valid; the range written is bounds-checked first.
        unsafe {
            let offset = resolve(offset, vmctx)?;
            let def = *VMContext::table_slot(vmctx, *table);
            if offset + elem.items.len() as u64 > (*def).current_elements as u64 {
                return Err(SegmentFailure::Trap(
                    Trap::TableOutOfBounds,
                    Stopped::Elems(at),
                ));
            }
            write_items(vmctx, &elem.items, (*def).base.add(offset as usize))?;
        }
    }
    let bytes = module.bytes();
    if let Some(data) = &plan.data_chunks {
        for chunk in &data.chunks {
            let contents = data.bytes(chunk, bytes);
            // SAFETY: the memory index is a defined memory of the module;
            // the range written is bounds-checked first (the plan only
            // merges segments that fit the memory's initial size, which is
            // the size of a memory instantiation creates, so the check
            // always passes); the source is the module's bytes or the
            // plan's, never inside a linear memory.
            unsafe {
                let def = *VMContext::memory_slot(vmctx, chunk.memory);
                if chunk.offset + contents.len() > (*def).current_length {
                    return Err(SegmentFailure::Trap(
                        Trap::MemoryOutOfBounds,
                        Stopped::Data(0),
                    ));
                }
                std::ptr::copy_nonoverlapping(
                    contents.as_ptr(),
                    (*def).base.add(chunk.offset),
                    contents.len(),
                );
            }
        }
        return Ok(());
    }
    for (at, segment) in plan.active_data.iter().enumerate() {
        // SAFETY: validation keeps the memory index in range; the range
        // written is bounds-checked first; the source is inside the module's
        // bytes (the parser took `start..start + len` from them), which are
        // never inside a linear memory.
        unsafe {
            let offset = resolve(&segment.offset, vmctx)?;
            let def = *VMContext::memory_slot(vmctx, segment.memory);
            if offset + segment.len as u64 > (*def).current_length as u64 {
                return Err(SegmentFailure::Trap(
                    Trap::MemoryOutOfBounds,
                    Stopped::Data(at),
                ));
            }
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr().add(segment.start),
                (*def).base.add(offset as usize),
                segment.len,
            );
        }
    }
    Ok(())
}

/// After a trap at `stopped`: writes the descriptors of the segments from
/// there on that instantiation would have dropped (they stay usable, as the
/// spec's instantiation leaves them); returns the storage of the element
/// segments evaluated.
///
/// # Safety
/// As for [`apply_segments`].
unsafe fn keep_unapplied(
    vmctx: *mut VMContext,
    module: &Module,
    stopped: Stopped,
) -> Result<Vec<Box<[u64]>>> {
    let plan: &SegmentPlan = module.plan();
    let bytes = module.bytes();
    let mut storage = Vec::new();
    let first_data = match stopped {
        Stopped::Elems(first) => {
            for (index, elem) in plan.elems.iter().enumerate().skip(first) {
                if elem.init != ElemInit::Passive {
                    // SAFETY: `index` is within the element count.
                    storage
                        .push(unsafe { write_elem_descriptor(vmctx, index as u32, &elem.items)? });
                }
            }
            0
        }
        Stopped::Data(first) => first,
    };
    for segment in &plan.active_data[first_data..] {
        let contents = &bytes[segment.start..][..segment.len];
        // SAFETY: the index is within the data count.
        unsafe { write_data_descriptor(vmctx, segment.index, contents) };
    }
    Ok(storage)
}
