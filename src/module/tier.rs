//! Tiered execution: which functions of a module have moved to native code,
//! and the engine's background compiler that moves them.
//!
//! The policy, in the spirit of V8's Liftoff → TurboFan budget:
//!
//! * Every function starts in the interpreter. The interpreter takes the
//!   work it does (the size of the code it runs, at the function's entry and
//!   at every loop iteration) from the function's budget
//!   (`Config::tier_up_budget`), shared by every instance of the module so
//!   that short-lived instances add up.
//! * When the budget runs out, the interpreter asks the runtime
//!   ([`tier_up`], the `VMBuiltins::tier_up` entry): the function is queued
//!   for Cranelift on the engine's background thread, which takes the
//!   hottest queued function first (the one asked for most often). The
//!   interpreter never waits; it asks again every eighth of the budget.
//! * Once the code is ready, the next ask — at the function's next call in
//!   any store — patches that instance's `VMFuncRef` (its `array_call`,
//!   `wasm_call` and `vmctx`) so every later call, from the host, the
//!   interpreter or native code, goes native, and runs the current call
//!   natively too. Patching happens on the store's own thread, at a call, so
//!   nothing else reads the record meanwhile; the code itself is published
//!   once per module through a `OnceLock`.
//! * A call stuck in a hot loop asks at the loop's header: the runtime
//!   queues an on-stack-replacement entry for that loop, and once it is
//!   ready the interpreter moves the running call into it.
//! * A function Cranelift cannot compile stays interpreted; it is counted in
//!   the module's statistics, never reported as an error.

use super::ModuleInfo;
use super::native::{NativeCompiler, TierStats};
use crate::Config;
use anyhow::Result;
use kiln_interp::ModuleTypes;
use kiln_vm::{VMArrayCallFn, VMBuiltins, VMContext, VMFuncRef};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::Duration;

/// One function's native code, or why there is none.
type FuncSlot = OnceLock<Result<kiln_jit::NativeFunction, String>>;

/// An on-stack-replacement entry, by `(defined function, loop)`.
enum OsrSlot {
    /// Queued or being compiled.
    Pending,
    /// Ready.
    Ready(Arc<kiln_jit::OsrEntry>),
    /// Cranelift could not compile it.
    Failed,
}

/// A module's tiered state: what has moved to native code so far.
pub(crate) struct TierState {
    env: kiln_jit::ModuleEnv,
    bytes: Arc<[u8]>,
    bodies: Box<[Range<usize>]>,
    synchronous: bool,
    funcs: Box<[FuncSlot]>,
    osr: Mutex<HashMap<(u32, u32), OsrSlot>>,
    adapters: OnceLock<Option<kiln_jit::Adapters>>,
    /// Jobs of this module not finished yet, with how often each was asked
    /// for (the queue takes the hottest first).
    heat: Mutex<HashMap<Job, u64>>,
    compile_nanos: AtomicU64,
    osr_entries: AtomicU64,
    moved_calls: AtomicU64,
    queue: Arc<TierQueue>,
    compiler: Arc<NativeCompiler>,
}

/// What to compile: a function (`loop_index` `None`) or an OSR entry.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
struct Job {
    def_index: u32,
    loop_index: Option<u32>,
}

impl TierState {
    /// The tiered state of a new module.
    pub(crate) fn new(
        config: &Config,
        compiler: Arc<NativeCompiler>,
        queue: Arc<TierQueue>,
        info: &ModuleInfo,
        types: &ModuleTypes,
        bytes: Arc<[u8]>,
    ) -> Result<TierState> {
        let env = NativeCompiler::module_env(config, info, types)?;
        Ok(TierState {
            env,
            bytes,
            bodies: info.bodies.clone().into(),
            synchronous: config.tier_up_synchronously,
            funcs: info.bodies.iter().map(|_| OnceLock::new()).collect(),
            osr: Mutex::new(HashMap::new()),
            adapters: OnceLock::new(),
            heat: Mutex::new(HashMap::new()),
            compile_nanos: AtomicU64::new(0),
            osr_entries: AtomicU64::new(0),
            moved_calls: AtomicU64::new(0),
            queue,
            compiler,
        })
    }

    /// The native code of defined function `def_index`, if ready.
    pub(crate) fn native(&self, def_index: u32) -> Option<&kiln_jit::NativeFunction> {
        self.funcs.get(def_index as usize)?.get()?.as_ref().ok()
    }

    /// The module's adapters, once its first function has been compiled.
    pub(crate) fn adapters(&self) -> Option<&kiln_jit::Adapters> {
        self.adapters.get()?.as_ref()
    }

    /// The defined function whose native code (body or on-stack
    /// replacement entry) holds code address `addr`, a return address found
    /// on the stack.
    pub(crate) fn func_at(&self, addr: usize) -> Option<u32> {
        let body = self
            .funcs
            .iter()
            .position(|slot| matches!(slot.get(), Some(Ok(f)) if f.body_contains(addr)));
        if let Some(def) = body {
            return Some(def as u32);
        }
        let osr = self.osr.lock().unwrap_or_else(|e| e.into_inner());
        osr.iter().find_map(|(&(def, _), slot)| match slot {
            OsrSlot::Ready(entry) if entry.contains(addr) => Some(def),
            _ => None,
        })
    }

    /// What has moved to native code so far.
    pub(crate) fn stats(&self, num_imported_funcs: u32) -> TierStats {
        let mut stats = TierStats::default();
        for (def, slot) in self.funcs.iter().enumerate() {
            match slot.get() {
                Some(Ok(_)) => stats.native += 1,
                Some(Err(why)) => stats
                    .fallbacks
                    .push((num_imported_funcs + def as u32, why.clone())),
                None => {}
            }
        }
        let osr = self.osr.lock().unwrap_or_else(|e| e.into_inner());
        stats.osr_compiled = osr
            .values()
            .filter(|s| matches!(s, OsrSlot::Ready(_)))
            .count();
        stats.osr_entries = self.osr_entries.load(Ordering::Relaxed);
        stats.moved_calls = self.moved_calls.load(Ordering::Relaxed);
        stats.code_bytes = self
            .funcs
            .iter()
            .filter_map(|f| f.get()?.as_ref().ok())
            .map(|f| f.code_bytes())
            .sum();
        stats.compile_time = Duration::from_nanos(self.compile_nanos.load(Ordering::Relaxed));
        stats
    }

    /// Asks for `job`: compiles it now in synchronous mode, otherwise
    /// queues it (or makes it hotter if it is queued already).
    fn request(self: &Arc<Self>, job: Job) {
        if self.synchronous {
            self.compile(job);
            return;
        }
        let mut heat = self.heat.lock().unwrap_or_else(|e| e.into_inner());
        match heat.get_mut(&job) {
            Some(h) => *h += 1,
            None => {
                heat.insert(job, 1);
                drop(heat);
                self.queue.push(Arc::downgrade(self), job);
            }
        }
    }

    /// How often `job` was asked for.
    fn heat_of(&self, job: Job) -> u64 {
        let heat = self.heat.lock().unwrap_or_else(|e| e.into_inner());
        heat.get(&job).copied().unwrap_or(0)
    }

    /// Whether `job` has a result already (code, or a failure).
    fn finished(&self, job: Job) -> bool {
        match job.loop_index {
            None => self.funcs[job.def_index as usize].get().is_some(),
            Some(loop_index) => {
                let osr = self.osr.lock().unwrap_or_else(|e| e.into_inner());
                !matches!(
                    osr.get(&(job.def_index, loop_index)),
                    None | Some(OsrSlot::Pending)
                )
            }
        }
    }

    /// Compiles `job` and publishes the result.
    ///
    /// Published code is never replaced: a store may be running it. A job
    /// can reach here twice (a caller that saw it pending asks again just
    /// after it finished, and it is queued anew), so a finished job is
    /// skipped, and a result that loses a race is dropped unpublished.
    fn compile(&self, job: Job) {
        if self.finished(job) {
            let mut heat = self.heat.lock().unwrap_or_else(|e| e.into_inner());
            heat.remove(&job);
            return;
        }
        // The adapters first: native code may call non-native functions as
        // soon as it runs.
        self.adapters
            .get_or_init(|| self.compiler.compiler().compile_adapters(&self.env).ok());
        let def = job.def_index as usize;
        let func_index = self.env.num_imported_funcs() + job.def_index;
        let range = self.bodies[def].clone();
        let compiler = self.compiler.compiler();
        match job.loop_index {
            None => {
                self.funcs[def].get_or_init(|| {
                    let compiled = compiler
                        .compile_function(&self.env, &self.bytes, range, func_index)
                        .map_err(|e| format!("{e:#}"));
                    if let Ok(f) = &compiled {
                        self.add_time(f.time);
                    }
                    compiled
                });
            }
            Some(loop_index) => {
                let compiled =
                    compiler.compile_osr(&self.env, &self.bytes, range, func_index, loop_index);
                let slot = match compiled {
                    Ok(entry) => {
                        self.add_time(entry.time);
                        OsrSlot::Ready(Arc::new(entry))
                    }
                    Err(_) => OsrSlot::Failed,
                };
                let mut osr = self.osr.lock().unwrap_or_else(|e| e.into_inner());
                let published = osr
                    .entry((job.def_index, loop_index))
                    .or_insert(OsrSlot::Pending);
                if matches!(published, OsrSlot::Pending) {
                    *published = slot;
                }
            }
        }
        let mut heat = self.heat.lock().unwrap_or_else(|e| e.into_inner());
        heat.remove(&job);
    }

    fn add_time(&self, time: Duration) {
        let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        self.compile_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The OSR entry for loop `loop_index` of defined function `def_index`:
    /// ready, or asked for (then `None`).
    fn osr_entry(
        self: &Arc<Self>,
        def_index: u32,
        loop_index: u32,
    ) -> Option<Arc<kiln_jit::OsrEntry>> {
        let key = (def_index, loop_index);
        let mut osr = self.osr.lock().unwrap_or_else(|e| e.into_inner());
        match osr.get(&key) {
            Some(OsrSlot::Ready(entry)) => return Some(entry.clone()),
            Some(OsrSlot::Failed) => return None,
            Some(OsrSlot::Pending) => {}
            None => {
                osr.insert(key, OsrSlot::Pending);
            }
        }
        drop(osr);
        self.request(Job {
            def_index,
            loop_index: Some(loop_index),
        });
        // Synchronous mode compiled it just now.
        let osr = self.osr.lock().unwrap_or_else(|e| e.into_inner());
        match osr.get(&key) {
            Some(OsrSlot::Ready(entry)) => Some(entry.clone()),
            _ => None,
        }
    }
}

/// Writes the module's type adapters, once compiled, into instance `vmctx`
/// (needed before any of its native code runs; done once per instance).
///
/// # Safety
/// `vmctx` is a live instance of the module `tier` belongs to, on the
/// store's own thread.
unsafe fn install_adapters(vmctx: *mut VMContext, tier: &TierState) {
    // SAFETY: per the contract; the slots written are within the module's
    // type count.
    unsafe {
        let Some(adapters) = tier.adapters() else {
            return;
        };
        let types = (*vmctx).offsets.counts.types;
        if types == 0 || !(*VMContext::type_adapter_slot(vmctx, 0)).is_null() {
            return;
        }
        for t in 0..types {
            if let Some(adapter) = adapters.get(t) {
                *VMContext::type_adapter_slot(vmctx, t) = adapter.as_ptr();
            }
        }
    }
}

/// Makes instance `vmctx` run defined function `def_index` as `native`:
/// installs the adapters and patches the function's `VMFuncRef`.
///
/// # Safety
/// As for [`install_adapters`]; nothing is reading the record meanwhile,
/// and `native` is the module's code for `def_index`.
unsafe fn use_native(
    vmctx: *mut VMContext,
    tier: &TierState,
    def_index: u32,
    native: &kiln_jit::NativeFunction,
) {
    // SAFETY: per the contract; `def_index` is a defined function of the
    // instance.
    unsafe {
        install_adapters(vmctx, tier);
        let record = VMContext::defined_func_ref(vmctx, def_index);
        let type_index = (*record).type_index;
        record.write(VMFuncRef {
            array_call: native.array_call(),
            wasm_call: Some(native.wasm_call()),
            type_index,
            vmctx: vmctx.cast(),
        });
    }
}

/// The runtime's tier-up entry (`VMBuiltins::tier_up`), for the module of
/// instance `vmctx`: see the module docs.
///
/// # Safety
/// `vmctx` is a live instance running on its store's thread; `tier` is its
/// module's tiered state.
pub(crate) unsafe fn tier_up(
    vmctx: *mut VMContext,
    tier: &Arc<TierState>,
    func_index: u32,
    loop_index: u32,
) -> Option<VMArrayCallFn> {
    // SAFETY: per the contract.
    unsafe {
        let def = func_index.checked_sub((*vmctx).offsets.counts.imported_funcs)?;
        let function = Job {
            def_index: def,
            loop_index: None,
        };
        // Ask for the function itself unless it has a result already (in a
        // loop too: later calls should go native).
        if tier.funcs.get(def as usize)?.get().is_none() {
            tier.request(function);
        }
        if loop_index == VMBuiltins::FUNCTION_ENTRY {
            let native = tier.native(def)?;
            use_native(vmctx, tier, def, native);
            tier.moved_calls.fetch_add(1, Ordering::Relaxed);
            Some(native.array_call())
        } else {
            let entry = tier.osr_entry(def, loop_index)?;
            if let Some(native) = tier.native(def) {
                use_native(vmctx, tier, def, native);
            } else {
                install_adapters(vmctx, tier);
            }
            tier.osr_entries.fetch_add(1, Ordering::Relaxed);
            Some(entry.entry())
        }
    }
}

/// Writes into a new instance of a tiered module what is native already.
///
/// # Safety
/// `vmctx` is the new instance's vmctx, with its function records written.
pub(crate) unsafe fn instantiate(vmctx: *mut VMContext, tier: &TierState) {
    // SAFETY: forwarded to the caller.
    unsafe {
        install_adapters(vmctx, tier);
        for def in 0..tier.funcs.len() as u32 {
            if let Some(native) = tier.native(def) {
                use_native(vmctx, tier, def, native);
            }
        }
    }
}

/// The engine's tier-up queue and its background compiling thread
/// (started on the first job, ended when the engine is dropped).
pub(crate) struct TierQueue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    jobs: Vec<(Weak<TierState>, Job)>,
    running: bool,
    shut_down: bool,
}

impl TierQueue {
    /// An empty queue; no thread yet.
    pub(crate) fn new() -> Arc<TierQueue> {
        Arc::new(TierQueue {
            state: Mutex::new(QueueState::default()),
            ready: Condvar::new(),
        })
    }

    /// Queues `job` of module `tier`, starting the thread if needed.
    fn push(self: &Arc<Self>, tier: Weak<TierState>, job: Job) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.shut_down {
            return;
        }
        state.jobs.push((tier, job));
        if !state.running {
            state.running = true;
            let queue = Arc::downgrade(self);
            let spawned = std::thread::Builder::new()
                .name("kiln-tier-up".into())
                .spawn(move || work(queue));
            if spawned.is_err() {
                // No thread: the functions stay interpreted.
                state.running = false;
                state.jobs.clear();
            }
        }
        self.ready.notify_one();
    }

    /// Stops the thread (the engine is going away).
    pub(crate) fn shut_down(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.shut_down = true;
        state.jobs.clear();
        self.ready.notify_all();
    }

    /// The hottest job whose module is still alive, waiting for one.
    fn next(&self) -> Option<(Arc<TierState>, Job)> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if state.shut_down {
                return None;
            }
            state.jobs.retain(|(tier, _)| tier.strong_count() > 0);
            let hottest = state
                .jobs
                .iter()
                .enumerate()
                .filter_map(|(i, (tier, job))| Some((i, tier.upgrade()?.heat_of(*job))))
                .max_by_key(|&(_, heat)| heat)
                .map(|(i, _)| i);
            if let Some(i) = hottest {
                let (tier, job) = state.jobs.swap_remove(i);
                if let Some(tier) = tier.upgrade() {
                    return Some((tier, job));
                }
                continue;
            }
            state = self.ready.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// The background thread: compiles jobs until the engine is dropped.
fn work(queue: Weak<TierQueue>) {
    loop {
        let Some(queue) = queue.upgrade() else { return };
        let Some((tier, job)) = queue.next() else {
            return;
        };
        drop(queue);
        // A panic in the compiler leaves the function interpreted.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tier.compile(job)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Module, Strategy};

    const LOOP: &str = r#"(module
      (func (export "sum") (param i32) (result i64) (local i64)
        (loop $l
          (local.set 1 (i64.add (local.get 1) (i64.extend_i32_u (local.get 0))))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (br_if $l (local.get 0)))
        (local.get 1)))"#;

    /// A job can be queued again just after it finished (a caller saw it
    /// pending, then asked). Compiling it again must leave the published
    /// code alone: a store may be running it, and replacing it would unmap
    /// it under that store's feet.
    #[test]
    fn a_finished_job_compiled_again_keeps_the_published_code() {
        let mut config = Config::new();
        config
            .strategy(Strategy::Tiered)
            .tier_up_synchronously(true);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, LOOP).unwrap();
        let tier = module.tier().expect("tiered").clone();

        let osr = Job {
            def_index: 0,
            loop_index: Some(0),
        };
        let first = tier.osr_entry(0, 0).expect("compiled synchronously");
        tier.compile(osr);
        let again = tier.osr_entry(0, 0).expect("still there");
        assert!(Arc::ptr_eq(&first, &again), "the OSR entry was replaced");

        let func = Job {
            def_index: 0,
            loop_index: None,
        };
        tier.compile(func);
        let entry = tier.native(0).expect("compiled").wasm_call();
        tier.compile(func);
        assert_eq!(tier.native(0).expect("still there").wasm_call(), entry);
        // Nothing is left queued or counted for the finished jobs.
        assert!(tier.heat.lock().unwrap().is_empty());
    }
}
