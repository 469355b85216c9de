//! Compiling a module: every defined function (in parallel), then one code
//! mapping holding all bodies and trampolines.

use crate::Unsupported;
use crate::abi;
use crate::adapter::build_adapter;
use crate::code_memory::CodeMemory;
use crate::env::ModuleEnv;
use crate::isa::host_isa;
use crate::trampoline::build_trampoline;
use crate::translate::translate_function;
use anyhow::Result;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{Function, UserFuncName};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_frontend::FunctionBuilderContext;
use kiln_vm::{VMArrayCallFn, VMWasmCallFunction};
use std::ops::Range;
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How hard Cranelift optimises (wasmtime's `OptLevel`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OptLevel {
    /// No optimisation: fastest compilation.
    None,
    /// Optimise for speed (the default).
    #[default]
    Speed,
    /// Optimise for speed and size.
    SpeedAndSize,
}

impl OptLevel {
    fn cranelift_name(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }
}

/// Cranelift set up for this machine; shared by every compilation of an
/// engine (it is `Send + Sync`).
pub struct Compiler {
    isa: OwnedTargetIsa,
}

impl std::fmt::Debug for Compiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiler")
            .field("isa", &self.isa.name())
            .finish()
    }
}

/// What compiling a module did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct CompileStats {
    /// Defined functions compiled to native code.
    pub compiled: usize,
    /// Defined functions left to the interpreter (see
    /// [`CompiledModule::fallbacks`]).
    pub fallbacks: usize,
    /// Bytes of machine code (bodies and trampolines).
    pub code_bytes: usize,
    /// Wall time of the compilation.
    pub time: Duration,
}

/// One compiled function's entries, as offsets into the code mapping.
#[derive(Copy, Clone, Debug)]
struct NativeFunc {
    body: usize,
    /// Only functions reachable from outside native code have one (see
    /// [`ModuleEnv::escaping`]).
    trampoline: Option<usize>,
}

/// A module's native code: each defined function's `wasm_call` body and
/// `array_call` trampoline, in one executable mapping freed with this
/// value. The runtime keeps it alive as long as any instance of the module
/// (whose `VMFuncRef`s point into it).
#[derive(Debug)]
pub struct CompiledModule {
    code: Option<CodeMemory>,
    funcs: Vec<Option<NativeFunc>>,
    /// The adapter of each module type (see `adapter.rs`).
    adapters: Vec<Option<usize>>,
    fallbacks: Vec<(u32, String)>,
    stats: CompileStats,
}

impl CompiledModule {
    /// The `wasm_call` entry of defined function `def_index`, if it was
    /// compiled.
    pub fn wasm_call(&self, def_index: u32) -> Option<NonNull<VMWasmCallFunction>> {
        let f = (*self.funcs.get(def_index as usize)?)?;
        let code = self.code.as_ref()?;
        NonNull::new(code.at(f.body).cast_mut().cast())
    }

    /// The `array_call` entry of defined function `def_index`, if it was
    /// compiled and can be called from outside native code (a function only
    /// native code calls directly has none; the runtime gives its record
    /// [`kiln_vm::no_array_call`]). Its `callee_vmctx` is the function's
    /// instance vmctx.
    pub fn array_call(&self, def_index: u32) -> Option<VMArrayCallFn> {
        let f = (*self.funcs.get(def_index as usize)?)?;
        let code = self.code.as_ref()?;
        let entry = code.at(f.trampoline?);
        // SAFETY: `entry` is the start of a trampoline Cranelift compiled
        // with exactly `VMArrayCallFn`'s signature in the host's calling
        // convention, in a mapping that stays executable while `self` lives.
        Some(unsafe { core::mem::transmute::<*const u8, VMArrayCallFn>(entry) })
    }

    /// The adapter through which this module's native code calls a
    /// non-native function of module type `type_index` (what the
    /// `type_adapters` region of its instances holds).
    pub fn type_adapter(&self, type_index: u32) -> Option<NonNull<VMWasmCallFunction>> {
        let at = (*self.adapters.get(type_index as usize)?)?;
        NonNull::new(self.code.as_ref()?.at(at).cast_mut().cast())
    }

    /// The defined function whose body holds code address `addr` (a return
    /// address found on the stack), or `None` if `addr` is outside this
    /// module's function bodies (a trampoline, an adapter, other code).
    pub fn func_at(&self, addr: usize) -> Option<u32> {
        let offset = self.code.as_ref()?.offset_of(addr)?;
        // The piece of code holding `offset` is the one starting last at or
        // before it: every body, trampoline and adapter is one piece.
        let bodies = self.funcs.iter().enumerate().filter_map(|(def, f)| {
            let f = (*f)?;
            Some((f.body, Some(def as u32)))
        });
        let trampolines = (self.funcs.iter()).filter_map(|f| Some(((*f)?.trampoline?, None)));
        let adapters = self.adapters.iter().filter_map(|a| Some(((*a)?, None)));
        bodies
            .chain(trampolines)
            .chain(adapters)
            .filter(|&(start, _)| start <= offset)
            .max_by_key(|&(start, _)| start)?
            .1
    }

    /// Everything this module's native code is, for serialising it: the
    /// image (all the code, in one piece), each defined function's body and
    /// trampoline offsets, each type's adapter offset and the fallbacks.
    /// [`CompiledModule::from_parts`] maps it again; the code needs no
    /// relocation, so the same bytes run at any address.
    pub fn to_parts(&self) -> ModuleParts {
        ModuleParts {
            image: self.code.as_ref().map_or(Vec::new(), |c| c.code().to_vec()),
            funcs: self
                .funcs
                .iter()
                .map(|f| f.map(|f| (f.body, f.trampoline)))
                .collect(),
            adapters: self.adapters.clone(),
            fallbacks: self.fallbacks.clone(),
        }
    }

    /// Maps serialised native code again (see [`CompiledModule::to_parts`]).
    ///
    /// # Safety
    /// `parts` came from [`CompiledModule::to_parts`] of a module compiled
    /// for the same machine, Kiln version and configuration: the bytes are
    /// executed as they are. Offsets out of the image are refused.
    pub unsafe fn from_parts(parts: ModuleParts) -> Result<CompiledModule> {
        let len = parts.image.len();
        let in_image = |at: usize| {
            if at < len {
                Ok(at)
            } else {
                anyhow::bail!("serialised native code: offset {at} past its {len} bytes")
            }
        };
        let mut funcs = Vec::with_capacity(parts.funcs.len());
        for f in parts.funcs {
            funcs.push(match f {
                Some((body, trampoline)) => Some(NativeFunc {
                    body: in_image(body)?,
                    trampoline: trampoline.map(in_image).transpose()?,
                }),
                None => None,
            });
        }
        let adapters = parts
            .adapters
            .into_iter()
            .map(|a| a.map(in_image).transpose())
            .collect::<Result<Vec<_>>>()?;
        let code = if parts.image.is_empty() {
            None
        } else {
            Some(CodeMemory::new(&parts.image)?)
        };
        let stats = CompileStats {
            compiled: funcs.iter().filter(|f| f.is_some()).count(),
            fallbacks: parts.fallbacks.len(),
            code_bytes: len,
            time: Duration::ZERO,
        };
        Ok(CompiledModule {
            code,
            funcs,
            adapters,
            fallbacks: parts.fallbacks,
            stats,
        })
    }

    /// The defined functions left to the interpreter, with why.
    pub fn fallbacks(&self) -> &[(u32, String)] {
        &self.fallbacks
    }

    /// What the compilation did.
    pub fn stats(&self) -> CompileStats {
        self.stats
    }
}

/// A [`CompiledModule`] taken apart for serialisation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleParts {
    /// All the module's machine code.
    pub image: Vec<u8>,
    /// Per defined function: the body's offset and the trampoline's, or
    /// `None` for a function left to the interpreter.
    pub funcs: Vec<Option<(usize, Option<usize>)>>,
    /// Per module type: its adapter's offset.
    pub adapters: Vec<Option<usize>>,
    /// The functions left to the interpreter, with why.
    pub fallbacks: Vec<(u32, String)>,
}

/// One function's body and (if it escapes) trampoline, or why there is
/// none.
type Output = Result<(Vec<u8>, Option<Vec<u8>>), Unsupported>;

impl Compiler {
    /// What the code this compiler makes depends on beyond the module and
    /// Kiln's version: the target and its enabled CPU features, and the
    /// shared settings (optimisation level...). A serialised module is only
    /// loaded by a compiler with the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let flags: Vec<String> = self.isa.isa_flags().iter().map(|v| v.to_string()).collect();
        format!(
            "{} {} [{}] [{}]",
            self.isa.triple(),
            self.isa.name(),
            flags.join(","),
            self.isa.flags()
        )
    }

    /// Cranelift for the host machine at `opt_level`, with its IR verifier
    /// on in debug builds of Kiln.
    pub fn new(opt_level: OptLevel) -> Result<Compiler> {
        Compiler::with_verifier(opt_level, cfg!(debug_assertions))
    }

    /// Cranelift for the host machine at `opt_level`, running Cranelift's
    /// IR verifier on every function if `verify` (slower compilation).
    pub fn with_verifier(opt_level: OptLevel, verify: bool) -> Result<Compiler> {
        Ok(Compiler {
            isa: host_isa(opt_level.cranelift_name(), verify)?,
        })
    }

    /// Compiles every defined function of a module: `bodies[i]` is the byte
    /// range of defined function `i`'s (validated) body in `wasm`. Uses up
    /// to `threads` threads. A function this tier cannot translate, or that
    /// `interpret` selects (by function index, imports first), is left out
    /// and listed in [`CompiledModule::fallbacks`]; only failing to map the
    /// code is an error.
    pub fn compile_module(
        &self,
        env: &ModuleEnv,
        wasm: &[u8],
        bodies: &[Range<usize>],
        threads: usize,
        interpret: &(dyn Fn(u32) -> bool + Sync),
    ) -> Result<CompiledModule> {
        let started = Instant::now();
        let mut outputs = self.compile_all(env, wasm, bodies, threads.max(1), interpret);
        let mut worker = Worker::new(&*self.isa);
        // Interpreted functions call native ones through `array_call`: with
        // any function left to the interpreter, every native one needs its
        // trampoline (rare: only what the native tier cannot translate, or
        // what the configuration asks to interpret).
        let any_fallback = outputs.iter().any(|o| o.is_err());
        for (def_index, output) in outputs.iter_mut().enumerate() {
            if let Ok((_, trampoline @ None)) = output
                && any_fallback
            {
                let func_index = env.num_imported_funcs() + def_index as u32;
                match worker.trampoline(env, func_index) {
                    Ok(code) => *trampoline = Some(code),
                    Err(why) => *output = Err(why),
                }
            }
        }
        let adapters: Vec<Result<Vec<u8>, Unsupported>> = (0..env.types.len())
            .map(|t| worker.adapter(env, t as u32))
            .collect();

        let mut image = Vec::new();
        let mut funcs = Vec::with_capacity(bodies.len());
        let mut fallbacks = Vec::new();
        for (def_index, output) in outputs.into_iter().enumerate() {
            match output {
                Ok((body, trampoline)) => {
                    let body = append_aligned(&mut image, &body);
                    let trampoline = trampoline.map(|t| append_aligned(&mut image, &t));
                    funcs.push(Some(NativeFunc { body, trampoline }));
                }
                Err(why) => {
                    funcs.push(None);
                    fallbacks.push((def_index as u32, why.0));
                }
            }
        }
        let adapters = adapters
            .into_iter()
            .map(|a| a.ok().map(|code| append_aligned(&mut image, &code)))
            .collect();
        let code = if image.is_empty() {
            None
        } else {
            Some(CodeMemory::new(&image)?)
        };
        let stats = CompileStats {
            compiled: funcs.iter().filter(|f| f.is_some()).count(),
            fallbacks: fallbacks.len(),
            code_bytes: image.len(),
            time: started.elapsed(),
        };
        Ok(CompiledModule {
            code,
            funcs,
            adapters,
            fallbacks,
            stats,
        })
    }

    /// Compiles each body, on up to `threads` threads taking functions from
    /// a shared counter; results in function order.
    fn compile_all(
        &self,
        env: &ModuleEnv,
        wasm: &[u8],
        bodies: &[Range<usize>],
        threads: usize,
        interpret: &(dyn Fn(u32) -> bool + Sync),
    ) -> Vec<Output> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Output>>> = Mutex::new(vec![None; bodies.len()]);
        let work = || {
            let mut worker = Worker::new(&*self.isa);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(range) = bodies.get(i) else { break };
                let func_index = env.num_imported_funcs() + i as u32;
                let output = if interpret(func_index) {
                    Err(Unsupported("interpreted as the configuration asks".into()))
                } else {
                    worker.compile(env, func_index, wasm, range.clone())
                };
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(output);
            }
        };
        let threads = threads.min(bodies.len());
        if threads <= 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(work);
                }
            });
        }
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Unsupported("not compiled".into()))))
            .collect()
    }
}

/// Whether `KILN_JIT_DUMP` asks for the IR and machine code of every
/// compiled function (read once).
fn dump_enabled() -> bool {
    static DUMP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DUMP.get_or_init(|| std::env::var_os("KILN_JIT_DUMP").is_some())
}

/// One function compiled on its own (tiered execution): its `wasm_call`
/// body and `array_call` trampoline in a mapping of their own.
#[derive(Debug)]
pub struct NativeFunction {
    code: CodeMemory,
    body: usize,
    trampoline: usize,
    /// Wall time of the compilation.
    pub time: Duration,
}

impl NativeFunction {
    /// The `wasm_call` entry.
    pub fn wasm_call(&self) -> NonNull<VMWasmCallFunction> {
        NonNull::new(self.code.at(self.body).cast_mut().cast()).expect("mapped code")
    }

    /// Whether code address `addr` (a return address found on the stack) is
    /// in this function's body (not its trampoline).
    pub fn body_contains(&self, addr: usize) -> bool {
        let Some(offset) = self.code.offset_of(addr) else {
            return false;
        };
        let end = if self.trampoline > self.body {
            self.trampoline
        } else {
            usize::MAX
        };
        (self.body..end).contains(&offset)
    }

    /// Bytes of machine code (body and trampoline, whole pages).
    pub fn code_bytes(&self) -> usize {
        self.code.len()
    }

    /// The `array_call` entry; its `callee_vmctx` is the instance vmctx.
    pub fn array_call(&self) -> VMArrayCallFn {
        // SAFETY: a trampoline compiled with `VMArrayCallFn`'s signature in
        // the host's convention, mapped while `self` lives.
        unsafe { core::mem::transmute::<*const u8, VMArrayCallFn>(self.code.at(self.trampoline)) }
    }
}

/// An on-stack-replacement entry into a function's native code at one of
/// its loop headers (see [`translate_function`]'s `osr`), with the
/// `array_call` signature.
#[derive(Debug)]
pub struct OsrEntry {
    code: CodeMemory,
    /// Wall time of the compilation.
    pub time: Duration,
}

impl OsrEntry {
    /// Whether code address `addr` is in this entry.
    pub fn contains(&self, addr: usize) -> bool {
        self.code.offset_of(addr).is_some()
    }

    /// The entry; its `callee_vmctx` is the instance vmctx.
    pub fn entry(&self) -> VMArrayCallFn {
        // SAFETY: compiled with `VMArrayCallFn`'s signature in the host's
        // convention, mapped while `self` lives.
        unsafe { core::mem::transmute::<*const u8, VMArrayCallFn>(self.code.at(0)) }
    }
}

/// A module's per-type adapters (see `adapter.rs`), compiled on their own.
#[derive(Debug)]
pub struct Adapters {
    code: Option<CodeMemory>,
    offsets: Vec<Option<usize>>,
}

impl Adapters {
    /// The adapter of module type `type_index`.
    pub fn get(&self, type_index: u32) -> Option<NonNull<VMWasmCallFunction>> {
        let at = (*self.offsets.get(type_index as usize)?)?;
        NonNull::new(self.code.as_ref()?.at(at).cast_mut().cast())
    }
}

impl Compiler {
    /// Compiles defined function `func_index` alone, whose body is
    /// `wasm[range]` (tiered execution).
    pub fn compile_function(
        &self,
        env: &ModuleEnv,
        wasm: &[u8],
        range: Range<usize>,
        func_index: u32,
    ) -> Result<NativeFunction> {
        let started = Instant::now();
        let mut worker = Worker::new(&*self.isa);
        let (body, trampoline) = worker.compile(env, func_index, wasm, range)?;
        let trampoline = match trampoline {
            Some(code) => code,
            None => worker.trampoline(env, func_index)?,
        };
        let mut image = Vec::new();
        let body = append_aligned(&mut image, &body);
        let trampoline = append_aligned(&mut image, &trampoline);
        Ok(NativeFunction {
            code: CodeMemory::new(&image)?,
            body,
            trampoline,
            time: started.elapsed(),
        })
    }

    /// Compiles an on-stack-replacement entry into defined function
    /// `func_index` (body `wasm[range]`) at the header of its loop number
    /// `loop_index`.
    pub fn compile_osr(
        &self,
        env: &ModuleEnv,
        wasm: &[u8],
        range: Range<usize>,
        func_index: u32,
        loop_index: u32,
    ) -> Result<OsrEntry> {
        let started = Instant::now();
        let mut worker = Worker::new(&*self.isa);
        let reader = wasmparser::BinaryReader::new(&wasm[range.clone()], range.start as u64);
        let body = wasmparser::FunctionBody::new(reader);
        let mut func = Function::with_name_signature(
            UserFuncName::user(3, func_index),
            abi::array_signature(&*self.isa),
        );
        translate_function(
            env,
            func_index,
            &body,
            &*self.isa,
            &mut func,
            &mut worker.fctx,
            Some(loop_index),
        )?;
        let code = worker.emit(func)?;
        Ok(OsrEntry {
            code: CodeMemory::new(&code)?,
            time: started.elapsed(),
        })
    }

    /// Compiles the adapters of every type of a module (tiered execution
    /// does this once per module, before its first native function runs).
    pub fn compile_adapters(&self, env: &ModuleEnv) -> Result<Adapters> {
        let mut worker = Worker::new(&*self.isa);
        let mut image = Vec::new();
        let offsets = (0..env.types.len() as u32)
            .map(|t| {
                worker
                    .adapter(env, t)
                    .ok()
                    .map(|code| append_aligned(&mut image, &code))
            })
            .collect();
        let code = if image.is_empty() {
            None
        } else {
            Some(CodeMemory::new(&image)?)
        };
        Ok(Adapters { code, offsets })
    }
}

/// Appends `code` at the next 16-byte boundary; returns its offset.
fn append_aligned(image: &mut Vec<u8>, code: &[u8]) -> usize {
    let at = image.len().next_multiple_of(16);
    image.resize(at, 0);
    image.extend_from_slice(code);
    at
}

/// One compiling thread's reusable Cranelift state.
struct Worker<'i> {
    isa: &'i dyn TargetIsa,
    fctx: FunctionBuilderContext,
    ctx: cranelift_codegen::Context,
}

impl<'i> Worker<'i> {
    fn new(isa: &'i dyn TargetIsa) -> Self {
        Worker {
            isa,
            fctx: FunctionBuilderContext::new(),
            ctx: cranelift_codegen::Context::new(),
        }
    }

    /// The body of function `func_index`, whose body is `wasm[range]`, and
    /// its trampoline if the function escapes.
    fn compile(
        &mut self,
        env: &ModuleEnv,
        func_index: u32,
        wasm: &[u8],
        range: Range<usize>,
    ) -> Output {
        let reader = wasmparser::BinaryReader::new(&wasm[range.clone()], range.start as u64);
        let body = wasmparser::FunctionBody::new(reader);
        let sig = abi::wasm_signature(env.func_type(func_index))?;
        let mut func = Function::with_name_signature(UserFuncName::user(0, func_index), sig);
        translate_function(
            env,
            func_index,
            &body,
            self.isa,
            &mut func,
            &mut self.fctx,
            None,
        )?;
        let body = self.emit(func)?;
        let def_index = (func_index - env.num_imported_funcs()) as usize;
        let trampoline = if env.escaping.get(def_index).copied().unwrap_or(true) {
            Some(self.trampoline(env, func_index)?)
        } else {
            None
        };
        Ok((body, trampoline))
    }

    /// The array-call trampoline of function `func_index`.
    fn trampoline(&mut self, env: &ModuleEnv, func_index: u32) -> Result<Vec<u8>, Unsupported> {
        let trampoline = build_trampoline(env, func_index, self.isa, &mut self.fctx)?;
        self.emit(trampoline)
    }

    /// The adapter of module type `type_index`.
    fn adapter(&mut self, env: &ModuleEnv, type_index: u32) -> Result<Vec<u8>, Unsupported> {
        let ty = &env.types[type_index as usize];
        let adapter = build_adapter(ty, type_index, self.isa, &mut self.fctx)?;
        self.emit(adapter)
    }

    /// Machine code of `func`, which must need no relocation. With
    /// `KILN_JIT_DUMP` set in the environment, prints the function's IR and
    /// machine code to standard error (a debugging aid).
    fn emit(&mut self, func: Function) -> Result<Vec<u8>, Unsupported> {
        let dump = dump_enabled();
        if dump {
            eprintln!("{}", func.display());
        }
        self.ctx.clear();
        self.ctx.set_disasm(dump);
        self.ctx.func = func;
        let code = self
            .ctx
            .compile(self.isa, &mut ControlPlane::default())
            .map_err(|e| Unsupported(format!("Cranelift failed: {:?}", e.inner)))?;
        if let Some(vcode) = code.vcode.as_deref() {
            eprintln!("{vcode}");
        }
        if !code.buffer.relocs().is_empty() {
            return Err(Unsupported(format!(
                "code needing relocations ({:?})",
                code.buffer.relocs()[0].target
            )));
        }
        Ok(code.code_buffer().to_vec())
    }
}
