//! Traps and WebAssembly backtraces.
//!
//! A trap comes back to the embedder as an `anyhow::Error` built from the
//! [`Trap`] value itself, so `err.downcast_ref::<Trap>()` tells which trap
//! it was, with a [`WasmBacktrace`] attached as context listing the
//! WebAssembly frames that were live, innermost first. This is wasmtime's
//! shape: `{err}` shows the backtrace, `{err:?}` (or `{err:#}`) the whole
//! chain ending in `wasm trap: <message>`.
//!
//! Errors returned by host functions are not traps: they travel through
//! WebAssembly frames untouched and come back exactly as the host returned
//! them.

use crate::Module;
use crate::store::StoreOpaque;
use std::fmt;

/// Why WebAssembly execution stopped: `Trap::MemoryOutOfBounds`,
/// `Trap::UnreachableCodeReached`, ... Displays as `wasm trap: <message>`.
///
/// A trap reaches the host as the `Err` of the call, which downcasts to
/// the `Trap`; the store and instance stay usable afterwards.
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Engine, Instance, Module, Store, Trap};
///
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"
///     (module
///       (memory 1)
///       (func (export "peek") (param i32) (result i32) (i32.load (local.get 0))))
/// "#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let peek = instance.get_typed_func::<u32, i32>(&mut store, "peek")?;
/// let err = peek.call(&mut store, 70_000).unwrap_err();
/// assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
/// assert!(format!("{err:?}").contains("wasm trap: out of bounds memory access"));
/// assert_eq!(peek.call(&mut store, 0)?, 0);
/// # Ok(())
/// # }
/// ```
pub use kiln_vm::TrapCode as Trap;

/// The WebAssembly frames live when a trap happened, innermost first.
#[derive(Debug, Clone)]
pub struct WasmBacktrace {
    frames: Vec<FrameInfo>,
}

/// One frame of a [`WasmBacktrace`].
#[derive(Debug, Clone)]
pub struct FrameInfo {
    module: Module,
    func_index: u32,
    func_name: Option<String>,
    func_start: Option<usize>,
}

impl WasmBacktrace {
    /// The frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }

    /// The WebAssembly frames on the stack now, innermost first: called
    /// from a host function (through its [`Caller`](crate::Caller)), those
    /// of every WebAssembly call in progress on this store; from outside
    /// any call, none.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Caller, Engine, Instance, Module, Store, WasmBacktrace};
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module
    ///   (import "" "host" (func $host))
    ///   (func $run (export "run") (call $host)))"#)?;
    /// let mut store = Store::new(&engine, Vec::new());
    /// let host = kiln::Func::wrap(&mut store, |mut caller: Caller<'_, Vec<String>>| {
    ///     let trace = WasmBacktrace::capture(&caller);
    ///     let names = trace.frames().iter().map(|f| f.func_name().unwrap_or("?").to_string());
    ///     *caller.data_mut() = names.collect();
    /// });
    /// let instance = Instance::new(&mut store, &module, &[host.into()])?;
    /// instance.get_typed_func::<(), ()>(&mut store, "run")?.call(&mut store, ())?;
    /// assert_eq!(store.data(), &["run"]);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Empty when the engine keeps no backtraces
    /// ([`Config::wasm_backtrace_max_frames`](crate::Config::wasm_backtrace_max_frames)
    /// `None`); [`WasmBacktrace::force_capture`] captures regardless.
    pub fn capture(store: impl crate::AsContext) -> WasmBacktrace {
        let store = store.as_context();
        if store
            .opaque()
            .engine
            .config()
            .knobs
            .backtrace_max_frames
            .is_none()
        {
            return WasmBacktrace { frames: Vec::new() };
        }
        WasmBacktrace::force_capture(store)
    }

    /// The same as [`WasmBacktrace::capture`], whatever the engine's
    /// backtrace setting: every live WebAssembly frame, innermost first.
    pub fn force_capture(store: impl crate::AsContext) -> WasmBacktrace {
        let store = store.as_context();
        let store = store.opaque();
        let frames = crate::runtime::backtrace::live_frames(store);
        WasmBacktrace::from_vm_frames(store, &frames)
    }

    /// Resolves the executor's raw frames against the store's instances.
    pub(crate) fn from_vm_frames(
        store: &StoreOpaque,
        frames: &[kiln_vm::FrameInfo],
    ) -> WasmBacktrace {
        let frames = frames
            .iter()
            .filter_map(|frame| {
                let instance = store
                    .instances
                    .iter()
                    .find(|i| i.vmctx.vmctx() == frame.vmctx)?;
                let info = instance.module.info();
                let func_start = frame
                    .func_index
                    .checked_sub(info.num_imported_funcs)
                    .and_then(|def| info.bodies.get(def as usize))
                    .map(|body| body.start);
                Some(FrameInfo {
                    module: instance.module.clone(),
                    func_index: frame.func_index,
                    func_name: info.func_names.get(&frame.func_index).cloned(),
                    func_start,
                })
            })
            .collect();
        WasmBacktrace { frames }
    }
}

impl FrameInfo {
    /// The module the function belongs to.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The function's index in its module (imports included).
    pub fn func_index(&self) -> u32 {
        self.func_index
    }

    /// The function's name from the module's `name` section, if any.
    pub fn func_name(&self) -> Option<&str> {
        self.func_name.as_deref()
    }

    /// Byte offset of the function's body in the module binary. (Kiln does
    /// not map bytecode back to individual instructions yet, so this is the
    /// function's position rather than the trapping instruction's.)
    pub fn module_offset(&self) -> Option<usize> {
        self.func_start
    }

    /// Offset of the trapping instruction within the function; not tracked
    /// by Kiln yet.
    pub fn func_offset(&self) -> Option<usize> {
        None
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error while executing at wasm backtrace:")?;
        for (i, frame) in self.frames.iter().enumerate() {
            let module = frame.module.name().unwrap_or("<unknown>");
            write!(
                f,
                "  {i:>3}: {:#8x} - {module}!",
                frame.func_start.unwrap_or(0)
            )?;
            match &frame.func_name {
                Some(name) => write!(f, "{name}")?,
                None => write!(f, "<wasm function {}>", frame.func_index)?,
            }
            if i + 1 < self.frames.len() {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

/// The error returned for trap `code` with the executor's `frames`
/// (innermost first), of which the engine's
/// `Config::wasm_backtrace_max_frames` are kept.
pub(crate) fn trap_error(
    store: &StoreOpaque,
    code: Trap,
    frames: &[kiln_vm::FrameInfo],
) -> anyhow::Error {
    let error = anyhow::Error::new(code);
    let knobs = &store.engine.config().knobs;
    let Some(max) = knobs.backtrace_max_frames else {
        return error;
    };
    let frames = &frames[..frames.len().min(max.get())];
    if frames.is_empty() {
        return error;
    }
    let mut backtrace = WasmBacktrace::from_vm_frames(store, frames);
    if !knobs.generate_address_map {
        for frame in &mut backtrace.frames {
            frame.func_start = None;
        }
    }
    error.context(backtrace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AsContext, Engine, Store};

    #[test]
    fn trap_errors_downcast_and_display_the_message() {
        let store = Store::new(&Engine::default(), ());
        let err = trap_error(store.as_context().opaque(), Trap::MemoryOutOfBounds, &[]);
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
        assert_eq!(err.to_string(), "wasm trap: out of bounds memory access");
    }
}

#[cfg(test)]
mod backtrace_tests {
    use crate::{Engine, Instance, Module, Store, Trap, WasmBacktrace};

    #[test]
    fn backtraces_name_frames_innermost_first() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module $m
                 (func $outer (export "run") call $inner)
                 (func $inner unreachable)
                 (func (export "anon") (i32.div_u (i32.const 1) (i32.const 0)) drop))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let run = instance
            .get_typed_func::<(), ()>(&mut store, "run")
            .unwrap();
        let err = run.call(&mut store, ()).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::UnreachableCodeReached)
        );
        let bt = err.downcast_ref::<WasmBacktrace>().unwrap();
        let names: Vec<_> = bt.frames().iter().map(|f| f.func_name()).collect();
        assert_eq!(names, [Some("inner"), Some("outer")]);
        assert_eq!(bt.frames()[0].module().name(), Some("m"));
        let text = bt.to_string();
        assert!(
            text.contains("m!inner") && text.contains("m!outer"),
            "{text}"
        );
        assert!(format!("{err:?}").contains("wasm trap: wasm `unreachable` instruction executed"));

        let anon = instance
            .get_typed_func::<(), ()>(&mut store, "anon")
            .unwrap();
        let err = anon.call(&mut store, ()).unwrap_err();
        assert!(err.to_string().contains("m!<wasm function 2>"), "{err}");
    }
}
