//! `Engine`: the shared, thread-safe context modules are compiled in.
//!
//! An engine is cheap to clone (it is an `Arc`) and is meant to be created
//! once per process and shared: modules and stores belong to one engine, and
//! everything an engine owns — its configuration and its type registry — is
//! read-only or internally synchronised.
//!
//! The type registry is why engines matter at run time: every function
//! signature is interned into an engine-wide
//! [`VMSharedTypeIndex`](kiln_vm::VMSharedTypeIndex), so two
//! functions from different modules have the same type exactly when their
//! indices are equal. `call_indirect` and import matching compare one `u32`.

use crate::module::native::NativeCompiler;
use crate::module::tier::TierQueue;
use crate::runtime::pooling::PoolingAllocator;
use crate::types::registry::TypeRegistry;
use crate::{Config, InstanceAllocationStrategy};
use anyhow::{Context, Result};
use std::fmt;
use std::hash::Hash;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use wasmparser::WasmFeatures;

/// A compilation environment shared by modules and stores.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    config: Config,
    features: WasmFeatures,
    registry: TypeRegistry,
    /// The engine's pooling allocator, with
    /// `InstanceAllocationStrategy::Pooling`: slots are shared by every store
    /// of this engine and of no other.
    pool: Option<Arc<PoolingAllocator>>,
    /// The epoch counter stores' deadlines are measured against.
    epoch: AtomicU64,
    /// Cranelift, with `Strategy::Cranelift` or `Strategy::Tiered`.
    native: Option<Arc<NativeCompiler>>,
    /// Tiered execution's background compiler.
    tier_queue: Arc<TierQueue>,
}

impl Drop for EngineInner {
    fn drop(&mut self) {
        self.tier_queue.shut_down();
    }
}

impl Engine {
    /// Creates an engine with `config`, failing if the configuration asks
    /// for something Kiln does not support (e.g. SIMD).
    pub fn new(config: &Config) -> Result<Engine> {
        config.validate()?;
        let native = NativeCompiler::new(config)?.map(Arc::new);
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                features: config.features(),
                registry: TypeRegistry::default(),
                epoch: AtomicU64::new(0),
                native,
                tier_queue: TierQueue::new(),
                pool: match &config.allocation_strategy {
                    InstanceAllocationStrategy::OnDemand => None,
                    InstanceAllocationStrategy::Pooling(limits) => {
                        Some(Arc::new(PoolingAllocator::new(limits)))
                    }
                },
            }),
        })
    }

    /// The configuration this engine was created with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether `a` and `b` are the same engine (clones of one another).
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// A handle to this engine that does not keep it alive.
    pub fn weak(&self) -> EngineWeak {
        EngineWeak {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// Whether this engine runs code on wasmtime's portable Pulley
    /// interpreter: never in Kiln (its interpreter is its own, see
    /// [`Strategy::Interpreter`](crate::Strategy::Interpreter)).
    pub fn is_pulley(&self) -> bool {
        false
    }

    /// Prepares the calling thread's thread-local state for running
    /// WebAssembly ahead of the first call. Kiln keeps no per-thread state
    /// for running code (it installs no signal handlers), so there is
    /// nothing to prepare and this does nothing.
    pub fn tls_eager_initialize() {}

    /// The WebAssembly features the validator accepts.
    pub(crate) fn features(&self) -> WasmFeatures {
        self.inner.features
    }

    /// Advances the engine's epoch by one. Code running in any store of this
    /// engine whose epoch deadline is now reached traps with
    /// [`Trap::Interrupt`](crate::Trap::Interrupt) at its next function entry
    /// or loop iteration (with [`Config::epoch_interruption`]). Cheap and
    /// safe to call from any thread, e.g. a timer.
    ///
    /// ```
    /// let engine = kiln::Engine::default();
    /// let timer = engine.clone();
    /// std::thread::spawn(move || timer.increment_epoch()).join().unwrap();
    /// ```
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// The current epoch.
    pub(crate) fn current_epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Relaxed)
    }

    /// The epoch counter, for running code to poll.
    pub(crate) fn epoch_ptr(&self) -> *const AtomicU64 {
        &self.inner.epoch
    }

    /// What the translator adds to code for this engine's configuration.
    pub(crate) fn instrument(&self) -> crate::module::parse::Instrument {
        let config = &self.inner.config;
        crate::module::parse::Instrument {
            consume_fuel: config.consume_fuel,
            epoch_interruption: config.epoch_interruption,
            tier_up_budget: config.tiered().then_some(config.tier_up_budget),
        }
    }

    /// The native compiler, if the engine compiles every function up front
    /// (`Strategy::Cranelift`).
    pub(crate) fn native_compiler(&self) -> Option<&NativeCompiler> {
        if !self.inner.config.native() {
            return None;
        }
        self.inner.native.as_deref()
    }

    /// The compiler and the background queue, with tiered execution.
    pub(crate) fn tier_up(&self) -> Option<(Arc<NativeCompiler>, Arc<TierQueue>)> {
        if !self.inner.config.tiered() {
            return None;
        }
        let compiler = self.inner.native.clone()?;
        Some((compiler, self.inner.tier_queue.clone()))
    }

    /// The engine's pooling allocator, if it pools instances.
    pub(crate) fn pooling_allocator(&self) -> Option<&Arc<PoolingAllocator>> {
        self.inner.pool.as_ref()
    }

    /// The engine-wide function type registry.
    pub(crate) fn registry(&self) -> &TypeRegistry {
        &self.inner.registry
    }

    /// Compiles `bytes` (binary or text) into the serialised form
    /// [`Module::deserialize`](crate::Module::deserialize) loads: the same
    /// as `Module::new(self, bytes)?.serialize()`.
    pub fn precompile_module(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        crate::Module::new(self, bytes)?.serialize()
    }

    /// Whether `bytes` are a serialised module (which
    /// [`Module::deserialize`](crate::Module::deserialize) may still refuse,
    /// if it was written for another engine configuration). Looks only at
    /// the bytes, so it needs no engine, as in wasmtime. Kiln has no
    /// component model, so never [`Precompiled::Component`].
    pub fn detect_precompiled(bytes: &[u8]) -> Option<Precompiled> {
        crate::module::serialize::is_serialized(bytes).then_some(Precompiled::Module)
    }

    /// [`Engine::detect_precompiled`] on the start of the file at `path`.
    pub fn detect_precompiled_file(path: impl AsRef<Path>) -> Result<Option<Precompiled>> {
        let path = path.as_ref();
        let mut start = [0; crate::module::serialize::MAGIC.len()];
        let mut file = std::fs::File::open(path)
            .with_context(|| format!("failed to open {}", path.display()))?;
        let mut read = 0;
        while read < start.len() {
            match file.read(&mut start[read..]) {
                Ok(0) => break,
                Ok(n) => read += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("failed to read {}", path.display()));
                }
            }
        }
        Ok(Engine::detect_precompiled(&start[..read]))
    }

    /// A value whose hash is the same for two engines exactly when a module
    /// serialised by one can be deserialised by the other (same Kiln
    /// version, WebAssembly features, strategy and, with native code,
    /// target, CPU features and code-generation settings): a key for a
    /// cache of serialised modules.
    pub fn precompile_compatibility_hash(&self) -> impl Hash + '_ {
        (env!("CARGO_PKG_VERSION"), self.compatibility())
    }

    /// What a serialised module must have been written for to load in this
    /// engine (see `module::serialize`). Interpreted code is translated
    /// again when a module is loaded, so only the WebAssembly features
    /// matter for it (its bodies were validated with them); native code
    /// also depends on the machine and on the code-generation settings.
    pub(crate) fn compatibility(&self) -> String {
        let features = format!("features {:#x}", self.inner.features.bits());
        match self.native_compiler() {
            None => format!("{features}, interpreted"),
            Some(compiler) => {
                let config = &self.inner.config;
                format!(
                    "{features}, native: fuel {} epochs {}, {}",
                    config.consume_fuel,
                    config.epoch_interruption,
                    compiler.fingerprint()
                )
            }
        }
    }
}

/// A reference to an [`Engine`] that does not keep it alive (see
/// [`Engine::weak`]); the default one refers to no engine.
#[derive(Clone, Default)]
pub struct EngineWeak {
    inner: std::sync::Weak<EngineInner>,
}

impl EngineWeak {
    /// The engine, if a clone of it still exists.
    pub fn upgrade(&self) -> Option<Engine> {
        self.inner.upgrade().map(|inner| Engine { inner })
    }
}

impl fmt::Debug for EngineWeak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineWeak")
            .field("alive", &(self.inner.strong_count() > 0))
            .finish()
    }
}

/// What [`Engine::detect_precompiled`] found.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Precompiled {
    /// A serialised module ([`Module::serialize`](crate::Module::serialize)).
    Module,
    /// A serialised component: Kiln has no component model, so it never
    /// reports one (the variant is here so that code matching wasmtime's
    /// `Precompiled` compiles unchanged).
    Component,
}

impl Default for Engine {
    fn default() -> Engine {
        // The default configuration is always valid.
        Engine::new(&Config::default()).expect("the default configuration is valid")
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_are_the_same_engine() {
        let a = Engine::default();
        let b = a.clone();
        assert!(Engine::same(&a, &b));
        assert!(!Engine::same(&a, &Engine::default()));
    }

    #[test]
    fn simd_is_unsupported() {
        let err = Engine::new(Config::new().wasm_simd(true)).unwrap_err();
        assert!(err.to_string().contains("SIMD"), "{err}");
    }
}
