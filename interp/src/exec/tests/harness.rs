//! A minimal runtime for executor tests: builds an instance vmctx by hand in
//! the layout `VMOffsets` describes, with hand-written `CompiledFunc`s
//! pre-installed, test memories and tables owned by the "store", host
//! functions behind a non-interpreter `array_call`, and builtins for growth.

use crate::InterpModule;
use crate::ModuleTypes;
use crate::bytecode::{Bin, CompiledFunc, Load, Op, Slot, Store, Un};
use crate::exec::{StoreStacks, interp_array_call};
use crate::vm::{
    FrameInfo, ModuleCounts, TrapCode, UnwindReason, VMBuiltins, VMCONTEXT_MAGIC, VMContext,
    VMContextAllocation, VMDataSegment, VMElemSegment, VMFuncRef, VMInterpFunc, VMMemoryDefinition,
    VMOffsets, VMOpaqueContext, VMSharedTypeIndex, VMStoreContext, VMTableDefinition, ValRaw,
    WASM_PAGE_SIZE,
};
use std::marker::PhantomData;
use std::sync::Arc;
use wasmparser::{FuncType, ValType};

pub(crate) use ValType::{F32, F64, I32, I64};

/// A host function: receives the calling instance and the array-call buffer.
pub(crate) type HostFn = Box<dyn FnMut(*mut VMContext, &mut [ValRaw]) -> anyhow::Result<()>>;

/// A store: the `VMStoreContext` instances point at. Declare it before the
/// instances using it so it is dropped after them.
pub(crate) struct TestStore {
    ctx: *mut VMStoreContext,
    stacks: std::cell::UnsafeCell<StoreStacks>,
}

impl TestStore {
    /// A store allowing `max_wasm_stack` bytes of interpreter stack.
    pub(crate) fn new(max_wasm_stack: usize) -> TestStore {
        let stacks = StoreStacks::new(max_wasm_stack);
        let ctx = VMStoreContext::new(max_wasm_stack, stacks.as_vm());
        TestStore {
            ctx: Box::into_raw(Box::new(ctx)),
            stacks: std::cell::UnsafeCell::new(stacks),
        }
    }

    /// The interpreter stacks.
    ///
    /// # Safety
    /// No activation is running and the reference is not kept.
    #[allow(clippy::mut_from_ref)]
    unsafe fn stacks(&self) -> &mut crate::exec::InterpStack {
        // SAFETY: forwarded to the caller: nothing else uses the stacks.
        unsafe { (*self.stacks.get()).get_mut() }
    }

    /// The raw context.
    pub(crate) fn ctx(&self) -> *mut VMStoreContext {
        self.ctx
    }

    /// Frame records on the interpreter's frame stack right now.
    pub(crate) fn live_frames(&self) -> usize {
        // SAFETY: no activation is running between test calls.
        unsafe { self.stacks().frames.len() }
    }

    /// Frame records the frame stack has room for without growing.
    pub(crate) fn frame_capacity(&self) -> usize {
        // SAFETY: as above.
        unsafe { self.stacks().frames.capacity() }
    }

    /// Frees the frame stack (no activation is running), so that the next
    /// deep call grows it again from nothing.
    pub(crate) fn reset_frames(&self) {
        // SAFETY: as above.
        unsafe { self.stacks().frames = Vec::new() }
    }

    /// Value slots allocated so far.
    pub(crate) fn allocated_slots(&self) -> usize {
        // SAFETY: as above.
        unsafe { self.stacks().allocated_slots() }
    }

    /// Current host → wasm nesting depth.
    pub(crate) fn entry_depth(&self) -> u32 {
        // SAFETY: the context is live and no activation is running.
        unsafe { (*self.ctx).entry_depth }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        // SAFETY: created by `Box::into_raw` in `new`; instances are gone.
        drop(unsafe { Box::from_raw(self.ctx) });
    }
}

/// Returned by a host function whose nested wasm call failed: the
/// trampoline then returns `false` without touching the pending reason.
#[derive(Debug)]
pub(crate) struct Propagate;

impl core::fmt::Display for Propagate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("nested call failed")
    }
}

impl std::error::Error for Propagate {}

/// A failed call: the pending reason and the backtrace.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) reason: UnwindReason,
    pub(crate) backtrace: Vec<FrameInfo>,
}

impl Failure {
    /// The trap code, panicking (test failure) if it was a host error.
    pub(crate) fn trap(&self) -> TrapCode {
        match &self.reason {
            UnwindReason::Trap(code) => *code,
            UnwindReason::Host(e) => panic!("expected a trap, got host error {e:#}"),
        }
    }

    /// The host error's message, panicking if it was a trap.
    pub(crate) fn host_message(&self) -> String {
        match &self.reason {
            UnwindReason::Host(e) => format!("{e:#}"),
            UnwindReason::Trap(code) => panic!("expected a host error, got trap {code:?}"),
        }
    }
}

/// Calls `fr` through its `array_call` from the host.
///
/// # Safety
/// `fr` is a live function of a live store; `buf` is large enough for it.
pub(crate) unsafe fn invoke(
    fr: *const VMFuncRef,
    caller: *mut VMContext,
    buf: &mut [ValRaw],
) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe { ((*fr).array_call)((*fr).vmctx, caller, buf.as_mut_ptr(), buf.len()) }
}

/// Takes the store's pending reason after a failed call.
pub(crate) fn take_failure(store: *mut VMStoreContext) -> Failure {
    // SAFETY: no activation is running.
    let (reason, backtrace) = unsafe { (*store).take_pending() };
    Failure { reason, backtrace }
}

/// A compiled function with `frame_size` slots and `locals` declared locals
/// (the parameter and result counts come from its type).
pub(crate) struct FuncDef {
    ty: u32,
    locals: u16,
    frame_size: u16,
    ops: Vec<Op>,
    /// The constant pool (slots from `num_params + locals`).
    consts: Vec<u64>,
}

enum Import {
    Host(HostFn),
    Func(*const VMFuncRef),
}

/// Builds a test instance. Imports must be declared before defined functions.
pub(crate) struct Builder {
    types: Vec<FuncType>,
    imports: Vec<(u32, Import)>,
    funcs: Vec<FuncDef>,
    memory: Option<MemorySpec>,
    tables: Vec<(usize, usize)>,
    globals: Vec<u64>,
    data: Vec<Vec<u8>>,
    elems: Vec<Vec<Option<u32>>>,
    lazy: Vec<u32>,
}

#[derive(Copy, Clone)]
struct MemorySpec {
    pages: u64,
    max_pages: u64,
    trap_on_grow_failure: bool,
}

/// Builds a module holding one function of type `params -> [result]` with
/// `locals` declared locals, `frame_size` slots, `ops` and the constant pool
/// `consts`, calls it with `args` and returns its result (panicking on a
/// trap): the common shape of the instruction tests.
pub(crate) fn run_one(
    params: &[ValType],
    result: ValType,
    locals: u16,
    frame_size: u16,
    ops: Vec<Op>,
    consts: Vec<u64>,
    args: &[u64],
) -> u64 {
    let mut m = Builder::new();
    let t = m.ty(params, &[result]);
    let f = m.func_with_consts(t, locals, frame_size, ops, consts);
    let s = TestStore::new(1 << 16);
    let inst = m.build(&s);
    inst.call1(f, args).expect("no trap")
}

impl Builder {
    /// An empty module.
    pub(crate) fn new() -> Builder {
        Builder {
            types: Vec::new(),
            imports: Vec::new(),
            funcs: Vec::new(),
            memory: None,
            tables: Vec::new(),
            globals: Vec::new(),
            data: Vec::new(),
            elems: Vec::new(),
            lazy: Vec::new(),
        }
    }

    /// Adds a function type.
    pub(crate) fn ty(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        self.types.push(FuncType::new(
            params.iter().copied(),
            results.iter().copied(),
        ));
        self.types.len() as u32 - 1
    }

    /// Imports a host function of type `ty`.
    pub(crate) fn host(
        &mut self,
        ty: u32,
        f: impl FnMut(*mut VMContext, &mut [ValRaw]) -> anyhow::Result<()> + 'static,
    ) -> u32 {
        assert!(self.funcs.is_empty(), "imports come first");
        self.imports.push((ty, Import::Host(Box::new(f))));
        self.imports.len() as u32 - 1
    }

    /// Imports another instance's function.
    pub(crate) fn import_func(&mut self, ty: u32, fr: *const VMFuncRef) -> u32 {
        assert!(self.funcs.is_empty(), "imports come first");
        self.imports.push((ty, Import::Func(fr)));
        self.imports.len() as u32 - 1
    }

    /// Defines a function of type `ty` with `locals` declared locals (beyond
    /// the parameters) and `frame_size` slots.
    pub(crate) fn func(&mut self, ty: u32, locals: u16, frame_size: u16, ops: Vec<Op>) -> u32 {
        self.func_with_consts(ty, locals, frame_size, ops, Vec::new())
    }

    /// [`func`](Self::func) with a constant pool, which the frame holds
    /// right after the locals (as the translator lays it out).
    pub(crate) fn func_with_consts(
        &mut self,
        ty: u32,
        locals: u16,
        frame_size: u16,
        ops: Vec<Op>,
        consts: Vec<u64>,
    ) -> u32 {
        self.funcs.push(FuncDef {
            ty,
            locals,
            frame_size,
            ops,
            consts,
        });
        (self.imports.len() + self.funcs.len()) as u32 - 1
    }

    /// Defines a function whose bytecode is *not* pre-installed, so the
    /// first call translates its (empty, invalid) body.
    pub(crate) fn untranslated_func(&mut self, ty: u32) -> u32 {
        let index = self.func(ty, 0, 0, Vec::new());
        self.lazy.push(index);
        index
    }

    /// Adds memory 0 with `pages` pages, growable to `max_pages`.
    pub(crate) fn memory(&mut self, pages: u64, max_pages: u64) -> &mut Self {
        self.memory = Some(MemorySpec {
            pages,
            max_pages,
            trap_on_grow_failure: false,
        });
        self
    }

    /// Makes growing memory 0 past its maximum trap instead of returning -1.
    pub(crate) fn trap_on_grow_failure(&mut self) -> &mut Self {
        if let Some(m) = &mut self.memory {
            m.trap_on_grow_failure = true;
        }
        self
    }

    /// Adds a table of `size` null elements, growable to `max`.
    pub(crate) fn table(&mut self, size: usize, max: usize) -> u32 {
        self.tables.push((size, max));
        self.tables.len() as u32 - 1
    }

    /// Adds a (defined, mutable) global holding `bits`.
    pub(crate) fn global(&mut self, bits: u64) -> u32 {
        self.globals.push(bits);
        self.globals.len() as u32 - 1
    }

    /// Adds a passive data segment.
    pub(crate) fn data(&mut self, bytes: &[u8]) -> u32 {
        self.data.push(bytes.to_vec());
        self.data.len() as u32 - 1
    }

    /// Adds a passive element segment of function references (None = null).
    pub(crate) fn elem(&mut self, funcs: &[Option<u32>]) -> u32 {
        self.elems.push(funcs.to_vec());
        self.elems.len() as u32 - 1
    }

    /// Instantiates the module in `store`.
    pub(crate) fn build(self, store: &TestStore) -> Instance<'_> {
        Instance::new(self, store)
    }
}

/// A memory owned by the test store: the definition first, as the runtime's are.
#[repr(C)]
struct TestMemory {
    def: VMMemoryDefinition,
    bytes: Vec<u8>,
    max_pages: u64,
    trap_on_grow_failure: bool,
}

/// A table owned by the test store.
#[repr(C)]
struct TestTable {
    def: VMTableDefinition,
    elems: Vec<u64>,
    max: usize,
}

/// The context behind a host function's `VMFuncRef`.
struct HostCtx {
    f: HostFn,
    store: *mut VMStoreContext,
}

static BUILTINS: VMBuiltins = VMBuiltins::new(
    test_memory_grow,
    test_table_grow,
    test_tier_up,
    test_new_epoch,
);

/// No deadline callback in the harness: reaching the deadline traps.
unsafe extern "C" fn test_new_epoch(vmctx: *mut VMContext, _func_index: u32, _fp: usize) -> bool {
    // SAFETY: `vmctx` is a live instance of the test store.
    unsafe {
        let store = &mut *(*vmctx).store;
        store.backtrace.clear();
        store.pending = Some(crate::vm::UnwindReason::Trap(
            crate::vm::TrapCode::Interrupt,
        ));
    }
    false
}

/// No native tier in the harness: tier-up never finds native code.
unsafe extern "C" fn test_tier_up(
    _vmctx: *mut VMContext,
    _func_index: u32,
    _loop_index: u32,
) -> Option<crate::vm::VMArrayCallFn> {
    None
}

unsafe extern "C" fn test_memory_grow(vmctx: *mut VMContext, memory: u32, delta: u64) -> u64 {
    // SAFETY: `memories[memory]` points at the `def` field, the first field
    // of a live `TestMemory`.
    unsafe {
        let mem = VMContext::memory(vmctx, memory).cast::<TestMemory>();
        let old = (*mem).bytes.len() as u64 / WASM_PAGE_SIZE;
        let new = old + delta;
        if new > (*mem).max_pages {
            if (*mem).trap_on_grow_failure {
                (*(*vmctx).store).pending =
                    Some(UnwindReason::Host(anyhow::anyhow!("memory limit exceeded")));
                return VMBuiltins::GROW_TRAPPED;
            }
            return VMBuiltins::GROW_FAILED;
        }
        // Reallocates (new base), which the executor must notice.
        let mut bytes = vec![0u8; (new * WASM_PAGE_SIZE) as usize];
        bytes[..(*mem).bytes.len()].copy_from_slice(&(*mem).bytes);
        (*mem).bytes = bytes;
        (*mem).def.base = (*mem).bytes.as_mut_ptr();
        (*mem).def.current_length = (*mem).bytes.len();
        old
    }
}

unsafe extern "C" fn test_table_grow(
    vmctx: *mut VMContext,
    table: u32,
    delta: u64,
    init: u64,
) -> u64 {
    // SAFETY: `tables[table]` points at the first field of a live `TestTable`.
    unsafe {
        let t = VMContext::table(vmctx, table).cast::<TestTable>();
        let old = (*t).elems.len();
        let new = old as u64 + delta;
        if new > (*t).max as u64 {
            return VMBuiltins::GROW_FAILED;
        }
        (*t).elems.resize(new as usize, init);
        (*t).def.base = (*t).elems.as_mut_ptr();
        (*t).def.current_elements = (*t).elems.len();
        old as u64
    }
}

unsafe extern "C" fn host_trampoline(
    callee: *mut VMOpaqueContext,
    caller: *mut VMContext,
    args: *mut ValRaw,
    capacity: usize,
) -> bool {
    // SAFETY: `callee` is the `HostCtx` this trampoline's `VMFuncRef` was
    // built with; the buffer has `capacity` slots (array-call contract).
    unsafe {
        let ctx = callee.cast::<HostCtx>();
        let buf = core::slice::from_raw_parts_mut(args, capacity);
        match ((*ctx).f)(caller, buf) {
            Ok(()) => true,
            // A nested call failed and already recorded why: pass it on.
            Err(e) if e.is::<Propagate>() => false,
            Err(e) => {
                (*(*ctx).store).backtrace.clear();
                (*(*ctx).store).pending = Some(UnwindReason::Host(e));
                false
            }
        }
    }
}

/// An instance: its vmctx and everything it points at.
pub(crate) struct Instance<'s> {
    vmctx: *mut VMContext,
    _block: VMContextAllocation,
    store: *mut VMStoreContext,
    module: *mut InterpModule,
    memory: Option<*mut TestMemory>,
    tables: Vec<*mut TestTable>,
    hosts: Vec<(*mut HostCtx, *mut VMFuncRef)>,
    _data: Vec<Vec<u8>>,
    _elems: Vec<Vec<u64>>,
    _store: PhantomData<&'s TestStore>,
}

impl<'s> Instance<'s> {
    fn new(b: Builder, store: &'s TestStore) -> Instance<'s> {
        let num_imported = b.imports.len() as u32;
        let counts = ModuleCounts {
            types: b.types.len() as u32,
            funcs: num_imported + b.funcs.len() as u32,
            imported_funcs: num_imported,
            tables: b.tables.len() as u32,
            memories: b.memory.is_some() as u32,
            globals: b.globals.len() as u32,
            imported_globals: 0,
            data: b.data.len() as u32,
            elems: b.elems.len() as u32,
        };
        let offsets = VMOffsets::new(counts);
        let block = VMContextAllocation::new(&offsets).unwrap();
        let vmctx = block.vmctx();

        // Equal function types get equal engine-wide ids.
        let type_id = |t: u32| {
            VMSharedTypeIndex(
                b.types
                    .iter()
                    .position(|x| *x == b.types[t as usize])
                    .unwrap() as u32,
            )
        };

        let mut funcs: Vec<u32> = b.imports.iter().map(|(t, _)| *t).collect();
        funcs.extend(b.funcs.iter().map(|f| f.ty));
        let module_types = Arc::new(ModuleTypes {
            types: b.types.clone(),
            funcs,
            num_imported_funcs: num_imported,
            ..ModuleTypes::default()
        });
        let source: Arc<[u8]> = Arc::from(Vec::new());
        let bodies = b.funcs.iter().map(|_| 0..0).collect();
        let module = Box::into_raw(Box::new(InterpModule::new(module_types, source, bodies)));
        for (i, f) in b.funcs.iter().enumerate() {
            let index = num_imported + i as u32;
            if b.lazy.contains(&index) {
                continue;
            }
            let ty = &b.types[f.ty as usize];
            let num_params = ty.params().len() as u16;
            let first_const = num_params + f.locals;
            let mut consts = f.consts.clone();
            let code = crate::exec::assemble(f.ops.clone(), &[], &mut consts, first_const);
            // SAFETY: `module` was just created.
            unsafe {
                (*module).set_compiled(
                    i as u32,
                    CompiledFunc {
                        code,
                        num_params,
                        num_results: ty.results().len() as u16,
                        num_locals: num_params + f.locals,
                        frame_size: f.frame_size,
                        consts: consts.into_boxed_slice(),
                        func_index: index,
                        tier_budget: Default::default(),
                    },
                )
            };
        }

        let memory = b.memory.map(|m| {
            let mut bytes = vec![0u8; (m.pages * WASM_PAGE_SIZE) as usize];
            let def = VMMemoryDefinition {
                base: bytes.as_mut_ptr(),
                current_length: bytes.len(),
            };
            Box::into_raw(Box::new(TestMemory {
                def,
                bytes,
                max_pages: m.max_pages,
                trap_on_grow_failure: m.trap_on_grow_failure,
            }))
        });
        let tables: Vec<*mut TestTable> = b
            .tables
            .iter()
            .map(|&(size, max)| {
                let mut elems = vec![0u64; size];
                let def = VMTableDefinition {
                    base: elems.as_mut_ptr(),
                    current_elements: size,
                };
                Box::into_raw(Box::new(TestTable { def, elems, max }))
            })
            .collect();

        let mut hosts = Vec::new();
        let mut data = b.data;
        let mut elems = Vec::new();
        // SAFETY: `vmctx` is a zeroed allocation of `offsets.size` bytes laid
        // out by `offsets`; every index written below is within its counts.
        unsafe {
            vmctx.write(VMContext {
                magic: VMCONTEXT_MAGIC,
                instance_index: 0,
                store: store.ctx,
                builtins: &BUILTINS,
                interp_module: module.cast_const().cast(),
                offsets,
            });
            for t in 0..counts.types {
                *VMContext::type_id_slot(vmctx, t) = type_id(t);
            }
            for (i, (ty, import)) in b.imports.into_iter().enumerate() {
                let fr = match import {
                    Import::Host(f) => {
                        let ctx = Box::into_raw(Box::new(HostCtx {
                            f,
                            store: store.ctx,
                        }));
                        let fr = Box::into_raw(Box::new(VMFuncRef {
                            array_call: host_trampoline,
                            wasm_call: None,
                            type_index: type_id(ty),
                            vmctx: ctx.cast(),
                        }));
                        hosts.push((ctx, fr));
                        fr.cast_const()
                    }
                    Import::Func(fr) => fr,
                };
                *VMContext::func_ref_slot(vmctx, i as u32) = fr;
            }
            for (j, f) in b.funcs.iter().enumerate() {
                let j = j as u32;
                let interp = VMContext::interp_func(vmctx, j);
                interp.write(VMInterpFunc {
                    instance: vmctx,
                    func_index: num_imported + j,
                });
                let fr = VMContext::defined_func_ref(vmctx, j);
                fr.write(VMFuncRef {
                    array_call: interp_array_call,
                    wasm_call: None,
                    type_index: type_id(f.ty),
                    vmctx: interp.cast(),
                });
                *VMContext::func_ref_slot(vmctx, num_imported + j) = fr;
            }
            if let Some(m) = memory {
                *VMContext::memory_slot(vmctx, 0) = &raw mut (*m).def;
            }
            for (i, t) in tables.iter().enumerate() {
                *VMContext::table_slot(vmctx, i as u32) = &raw mut (**t).def;
            }
            for (i, bits) in b.globals.iter().enumerate() {
                let g = VMContext::defined_global(vmctx, i as u32);
                (*g).value = ValRaw::from_bits(*bits);
                *VMContext::global_slot(vmctx, i as u32) = g;
            }
            for (i, d) in data.iter_mut().enumerate() {
                VMContext::data_segment(vmctx, i as u32).write(VMDataSegment {
                    ptr: d.as_ptr(),
                    len: d.len(),
                });
            }
            for (i, e) in b.elems.iter().enumerate() {
                let refs: Vec<u64> = e
                    .iter()
                    .map(|f| f.map_or(0, |f| VMContext::func_ref(vmctx, f) as u64))
                    .collect();
                VMContext::elem_segment(vmctx, i as u32).write(VMElemSegment {
                    ptr: refs.as_ptr(),
                    len: refs.len(),
                });
                elems.push(refs);
            }
        }

        Instance {
            vmctx,
            _block: block,
            store: store.ctx,
            module,
            memory,
            tables,
            hosts,
            _data: data,
            _elems: elems,
            _store: PhantomData,
        }
    }

    /// The instance's vmctx.
    pub(crate) fn vmctx(&self) -> *mut VMContext {
        self.vmctx
    }

    /// The `VMFuncRef` of function `index`.
    pub(crate) fn func_ref(&self, index: u32) -> *const VMFuncRef {
        // SAFETY: the vmctx is initialised; tests pass valid indices.
        unsafe { VMContext::func_ref(self.vmctx, index) }
    }

    /// Calls function `index` with `args` (raw slot bits) from the host.
    pub(crate) fn call(&self, index: u32, args: &[u64]) -> Result<Vec<u64>, Failure> {
        // SAFETY: test modules type-check their own calls.
        let module_types = unsafe { (*self.module).types().clone() };
        let ty = module_types.func_type(index);
        assert_eq!(args.len(), ty.params().len(), "argument count");
        let results = ty.results().len();
        let mut buf = vec![ValRaw::zero(); args.len().max(results)];
        for (slot, a) in buf.iter_mut().zip(args) {
            *slot = ValRaw::from_bits(*a);
        }
        // SAFETY: the function is live and the buffer is large enough.
        if unsafe { invoke(self.func_ref(index), core::ptr::null_mut(), &mut buf) } {
            Ok(buf[..results].iter().map(|v| v.bits()).collect())
        } else {
            Err(take_failure(self.store))
        }
    }

    /// Calls a function returning one value.
    pub(crate) fn call1(&self, index: u32, args: &[u64]) -> Result<u64, Failure> {
        self.call(index, args).map(|r| r[0])
    }

    /// `len` bytes of memory 0 from `at`.
    pub(crate) fn read_memory(&self, at: usize, len: usize) -> Vec<u8> {
        let m = self.memory.expect("no memory");
        // SAFETY: the memory is live and no activation is running.
        unsafe { (&(*m).bytes)[at..at + len].to_vec() }
    }

    /// Writes `bytes` into memory 0 at `at`.
    pub(crate) fn write_memory(&self, at: usize, bytes: &[u8]) {
        let m = self.memory.expect("no memory");
        // SAFETY: as above.
        unsafe { (&mut (*m).bytes)[at..at + bytes.len()].copy_from_slice(bytes) }
    }

    /// Memory 0's current size in bytes, as its definition says.
    pub(crate) fn memory_len(&self) -> usize {
        // SAFETY: as above.
        unsafe { (*self.memory.expect("no memory")).def.current_length }
    }

    /// Table `t`'s elements.
    pub(crate) fn table(&self, t: u32) -> Vec<u64> {
        // SAFETY: the table is live and no activation is running.
        unsafe {
            let table = self.tables[t as usize];
            (*table).elems.clone()
        }
    }

    /// Sets element `i` of table `t` to function `func` (None = null).
    pub(crate) fn set_elem(&self, t: u32, i: usize, func: Option<u32>) {
        let v = func.map_or(0, |f| self.func_ref(f) as u64);
        // SAFETY: as above.
        unsafe {
            let table = self.tables[t as usize];
            (&mut (*table).elems)[i] = v;
        }
    }

    /// Global `g`'s bits.
    pub(crate) fn global(&self, g: u32) -> u64 {
        // SAFETY: the vmctx is initialised and `g` is a global.
        unsafe { (*VMContext::global(self.vmctx, g)).value.bits() }
    }
}

impl Drop for Instance<'_> {
    fn drop(&mut self) {
        // SAFETY: everything freed here was created by `Box::into_raw` in
        // `new`, and nothing runs in the instance any more (the vmctx block
        // frees itself after this).
        unsafe {
            for (ctx, fr) in self.hosts.drain(..) {
                drop(Box::from_raw(ctx));
                drop(Box::from_raw(fr));
            }
            for t in self.tables.drain(..) {
                drop(Box::from_raw(t));
            }
            if let Some(m) = self.memory.take() {
                drop(Box::from_raw(m));
            }
            drop(Box::from_raw(self.module));
        }
    }
}

/// Operands of a binary instruction.
pub(crate) fn b(dst: Slot, lhs: Slot, rhs: Slot) -> Bin {
    Bin::new(dst, lhs, rhs)
}

/// Operands of a unary instruction.
pub(crate) fn u(dst: Slot, src: Slot) -> Un {
    Un { dst, src }
}

/// Operands of a load.
pub(crate) fn ld(dst: Slot, addr: Slot, offset: u32) -> Load {
    Load { dst, addr, offset }
}

/// Operands of a store.
pub(crate) fn st(addr: Slot, value: Slot, offset: u32) -> Store {
    Store {
        addr,
        value,
        offset,
    }
}
