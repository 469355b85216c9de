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
//!    data and evaluated element segments). The new memories and tables
//!    are added to the store only once every allocation has succeeded (a
//!    failed allocation returns the pool slots already taken);
//! 3. apply the active element segments, then the active data segments, in
//!    order, with bulk-memory semantics: each is bounds-checked and copied in
//!    turn, so a trap leaves the earlier ones applied; applied (and
//!    declarative) segments are dropped;
//! 4. run the start function.
//!
//! The instance is registered in the store as soon as its vmctx exists, so
//! the objects a failed step 3 or 4 already modified stay reachable.

use super::call::invoke;
use super::const_eval::{eval, eval_offset};
use super::instance::{InstanceData, VmctxBlock};
use super::memory::{MemoryObject, MemoryStorage};
use super::pooling::PoolingAllocator;
use super::table::{TableObject, TableStorage};
use super::vmctx::{self, VmctxAllocation};
use super::{builtins::BUILTINS, global::GlobalRecord};
use crate::module::{DataKind, ElemKind, EntityIndex, ModuleInfo};
use crate::store::StoreOpaque;
use crate::trap::trap_error;
use crate::types::matching::{kind_mismatch, match_func, match_global, match_memory, match_table};
use crate::types::{ExternType, MemoryType, TableType};
use crate::{Engine, Extern, Global, Instance, Memory, Module, Table, Trap};
use anyhow::{Context as _, Result, bail};
use kiln_interp::vm::{
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
        initialize_segments(store, instance.index())?;
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

    let pool = store.engine.pooling_allocator().cloned();
    if let Some(pool) = &pool {
        pool.validate(module)?;
    }
    store.bump_resource_counts(defined_memories.len(), defined_tables.len())?;

    // Every allocation first; each returns its pool slot if a later one
    // fails.
    let offsets = *module.offsets();
    let block = match &pool {
        Some(pool) => VmctxBlock::Pooled(pool.allocate_vmctx(&offsets)?),
        None => VmctxBlock::OnDemand(VmctxAllocation::new(&offsets)?),
    };
    let new_memories = defined_memories
        .iter()
        .map(|ty| create_memory(store, pool.as_deref(), ty))
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
            code: std::sync::Arc::as_ptr(module.code()),
            offsets,
        });
        for (i, id) in module.type_ids().iter().enumerate() {
            *vmctx::type_id_slot(vmctx, i as u32) = *id;
        }
        write_funcs(vmctx, module, &imports.funcs);
        for (i, memory) in memories.iter().enumerate() {
            let object = memory.object_ptr(store)?;
            *vmctx::memory_slot(vmctx, i as u32) = MemoryObject::def_ptr(object);
        }
        for (i, table) in tables.iter().enumerate() {
            let object = table.object_ptr(store)?;
            *vmctx::table_slot(vmctx, i as u32) = TableObject::def_ptr(object);
        }
    }
    // SAFETY: the header, functions and imported entities are initialised.
    let globals = unsafe { write_globals(store, vmctx, info, imports.globals)? };
    // SAFETY: as above, plus the globals.
    let elems = unsafe { write_segments(vmctx, module)? };

    store.instances.push(InstanceData {
        module: module.clone(),
        vmctx: block,
        memories: memories.into(),
        tables: tables.into(),
        globals: globals.into(),
        _elems: elems.into(),
    });
    Ok(Instance::from_index(store.id, index))
}

/// A memory of type `ty` for a new instance, from `pool` if pooling, after
/// asking the store's resource limiter about its initial size.
fn create_memory(
    store: &mut StoreOpaque,
    pool: Option<&PoolingAllocator>,
    ty: &MemoryType,
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
    MemoryObject::with_storage(ty, storage)
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
            *vmctx::func_ref_slot(vmctx, i as u32) = func_ref.as_ptr();
        }
        for func_index in info.num_imported_funcs..info.funcs.len() as u32 {
            let def_index = func_index - info.num_imported_funcs;
            let interp = vmctx::interp_func(vmctx, def_index);
            interp.write(VMInterpFunc {
                instance: vmctx,
                func_index,
            });
            let type_index = module.type_ids()[info.funcs[func_index as usize] as usize];
            let func_ref = vmctx::defined_func_ref(vmctx, def_index);
            func_ref.write(VMFuncRef {
                array_call: kiln_interp::exec::interp_array_call,
                wasm_call: None,
                type_index,
                vmctx: interp.cast(),
            });
            *vmctx::func_ref_slot(vmctx, func_index) = func_ref;
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
        unsafe { *vmctx::global_slot(vmctx, i as u32) = def };
    }
    let defined = info.globals[info.num_imported_globals as usize..].iter();
    for (def_index, (ty, init)) in defined.zip(&info.global_inits).enumerate() {
        let def_index = def_index as u32;
        // SAFETY: the initialiser may only read functions and earlier
        // globals, all written by now; `def_index` and the global index are
        // within the module's counts.
        let def = unsafe {
            let value = eval(init, vmctx)?;
            let def = vmctx::defined_global(vmctx, def_index);
            def.write(VMGlobalDefinition { value });
            *vmctx::global_slot(vmctx, info.num_imported_globals + def_index) = def;
            NonNull::new_unchecked(def)
        };
        globals.push(Global::from_record(
            store,
            GlobalRecord::new_borrowed(ty.clone(), def),
        )?);
    }
    Ok(globals)
}

/// Fills the data and element segment regions; returns the storage of the
/// evaluated element segments.
///
/// # Safety
/// `vmctx` is a block for `module` with everything but the segments written.
unsafe fn write_segments(vmctx: *mut VMContext, module: &Module) -> Result<Vec<Box<[u64]>>> {
    let info = module.info();
    let bytes = module.bytes();
    for (i, segment) in info.data.iter().enumerate() {
        let data = &bytes[segment.range.clone()];
        // SAFETY: `i` is within the data count; the bytes are owned by the
        // module, which the instance keeps alive.
        unsafe {
            vmctx::data_segment(vmctx, i as u32).write(VMDataSegment {
                ptr: data.as_ptr(),
                len: data.len(),
            });
        }
    }
    let mut storage = Vec::with_capacity(info.elems.len());
    for (i, segment) in info.elems.iter().enumerate() {
        let items = segment
            .items
            .iter()
            // SAFETY: items only name functions and globals, all written.
            .map(|item| unsafe { eval(item, vmctx) }.map(|v| v.bits()))
            .collect::<Result<Box<[u64]>>>()?;
        // SAFETY: `i` is within the element count; the items are owned by
        // the instance record, which lives as long as the vmctx.
        unsafe {
            vmctx::elem_segment(vmctx, i as u32).write(VMElemSegment {
                ptr: items.as_ptr(),
                len: items.len(),
            });
        }
        storage.push(items);
    }
    Ok(storage)
}

/// Step 3: applies the active segments of instance `index`.
fn initialize_segments(store: &StoreOpaque, index: u32) -> Result<()> {
    let data = &store.instances[index as usize];
    let vmctx = data.vmctx.vmctx();
    let info = data.module.info();
    for (i, segment) in info.elems.iter().enumerate() {
        // SAFETY: the instance is fully built; indices come from the
        // validated module. The table is owned by the store and no
        // reference to its elements is live.
        unsafe {
            let elems = vmctx::elem_segment(vmctx, i as u32);
            match &segment.kind {
                ElemKind::Passive => continue,
                ElemKind::Declared => {}
                ElemKind::Active { table, offset } => {
                    let offset = eval_offset(offset, vmctx)?;
                    let def = *vmctx::table_slot(vmctx, *table);
                    let len = (*elems).len;
                    if offset + len as u64 > (*def).current_elements as u64 {
                        return Err(trap_error(store, Trap::TableOutOfBounds, &[]));
                    }
                    std::ptr::copy_nonoverlapping(
                        (*elems).ptr,
                        (*def).base.add(offset as usize),
                        len,
                    );
                }
            }
            (*elems).len = 0;
        }
    }
    for (i, segment) in info.data.iter().enumerate() {
        let DataKind::Active { memory, offset } = &segment.kind else {
            continue;
        };
        // SAFETY: as above, for the memory's bytes.
        unsafe {
            let data = vmctx::data_segment(vmctx, i as u32);
            let offset = eval_offset(offset, vmctx)?;
            let def = *vmctx::memory_slot(vmctx, *memory);
            let len = (*data).len;
            if offset + len as u64 > (*def).current_length as u64 {
                return Err(trap_error(store, Trap::MemoryOutOfBounds, &[]));
            }
            std::ptr::copy_nonoverlapping((*data).ptr, (*def).base.add(offset as usize), len);
            (*data).len = 0;
        }
    }
    Ok(())
}
