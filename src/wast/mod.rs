//! A runner for `.wast` spec scripts.
//!
//! The official WebAssembly test suite is written as `.wast` scripts: a
//! sequence of *directives* that define modules, invoke their exports and
//! assert what must happen (`assert_return`, `assert_trap`,
//! `assert_invalid`, ...). This module executes such scripts against Kiln's
//! public embedding API — the same [`Engine`], [`Module`], [`Store`],
//! [`Linker`] and [`Func::call`](crate::Func::call) an embedder uses — so the
//! suite tests exactly what users get, with no private shortcuts.
//!
//! Design choices:
//!
//! * **Every directive is counted**, as one pass or one failure. A directive
//!   the runner cannot handle (a component, a thread, a SIMD value...) is a
//!   failure with an explanation, never silently ignored. The only way not
//!   to run a directive is a [`Skip`] entry, and every skipped directive is
//!   printed with its reason.
//! * **A script keeps going after a failure**, so one report shows every
//!   problem. A `module` directive that fails clears the "current" module so
//!   the invocations that follow fail instead of running against the
//!   previous module. Those directives failed only because the module did:
//!   each still counts as a failure, but on the module's report entry
//!   ([`Failure::dependents`]) rather than with a line of its own, so one
//!   unsupported module reads as one line, not hundreds. The same holds
//!   for a `register` of the failed module and for a module that cannot
//!   link because it imports from a name only the failed module would have
//!   registered. A panic inside the engine is caught and recorded as the
//!   failure of the directive that caused it.
//! * **Imports resolve through a [`Linker`]**: the `spectest` host module is
//!   defined in it up front, and `register` adds an instance's exports under
//!   a module name, exactly as the scripts' semantics ask.
//! * **Every module reaches Kiln**: a `(module quote …)` is handed to
//!   [`Module::new`] as text (Kiln's own text path parses it, so a quoted
//!   module that fails to parse fails *in Kiln*), and a `(module binary …)`
//!   as its bytes; only an inline text module is encoded by the script
//!   parser first, with the same `wast` encoder Kiln's text path uses.
//! * **Outcomes are checked by kind, messages loosely where the suite
//!   allows it**: `assert_trap`, `assert_exhaustion` and
//!   `assert_uninstantiable` need a [`Trap`](crate::Trap), and its own
//!   message (never the backtrace or other context around it) must match the
//!   expected text by substring, widened by a small table of equivalent
//!   wordings ([`trap_message_matches`]); an empty expected text still needs
//!   a trap. `assert_invalid` and `assert_malformed` need [`Module::new`] to
//!   fail; `assert_unlinkable` needs the module to compile and instantiation
//!   to fail with an error that is not a trap (a link error). The exact
//!   texts of those are the reference interpreter's and not part of the
//!   spec, so only the phase is checked.
//!
//! The report format (per-file lines, skips, the closing
//! `N passed, N failed` line) is produced by [`write_report`] /
//! [`print_report`], shared by `kiln wast` and the `kiln-spec-tests` crate so
//! the two cannot drift apart.

mod matching;
mod report;
mod spectest;
#[cfg(test)]
mod tests;

pub use matching::{f32_matches, f64_matches, trap_message_matches};
pub use report::{
    Failure, FileResult, Location, Skip, Skipped, Totals, print_report, write_failures,
    write_report, write_summary,
};
pub use spectest::define_spectest;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use ::wast::core::{AbstractHeapType, HeapType, WastArgCore, WastRetCore};
use ::wast::lexer::Lexer;
use ::wast::parser::{self, ParseBuffer};
use ::wast::token::{Id, Span};
use ::wast::{
    QuoteWat, QuoteWatTest, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat,
};
use anyhow::{Context as _, bail};

use crate::{Engine, Extern, ExternRef, Instance, Linker, Module, Store, Trap, Val};

use matching::{describe_f32, describe_f32_bits, describe_f64, describe_f64_bits};

/// Runs each `.wast` file, in order, with a fresh [`WastRunner`]; a file
/// that cannot be read counts as one failure. (What `kiln wast` does.)
pub fn run_wast_files(paths: &[impl AsRef<Path>]) -> Vec<FileResult> {
    WastRunner::new().run_files(paths)
}

/// Runs `.wast` scripts, one fresh [`Store`] and [`Linker`] per script, all
/// sharing one [`Engine`].
///
/// ```
/// let script = r#"
///     (module
///       (func (export "add") (param i32 i32) (result i32)
///         (i32.add (local.get 0) (local.get 1))))
///     (assert_return (invoke "add" (i32.const 2) (i32.const 3)) (i32.const 5))
///     (assert_return (invoke "add" (i32.const 2) (i32.const 3)) (i32.const 6))
/// "#;
/// let result = kiln::wast::WastRunner::new().run_script("add.wast", script);
/// assert_eq!((result.passed, result.failed), (2, 1));
/// assert_eq!(result.failures[0].location.line, 6);
/// ```
pub struct WastRunner {
    engine: Engine,
    skips: Vec<Skip>,
    print: bool,
}

impl Default for WastRunner {
    fn default() -> Self {
        WastRunner::new()
    }
}

impl WastRunner {
    /// A runner on a default-configured engine, with no skips and silent
    /// `spectest.print*` functions.
    pub fn new() -> WastRunner {
        WastRunner::with_engine(Engine::default())
    }

    /// A runner whose modules are compiled by `engine`.
    pub fn with_engine(engine: Engine) -> WastRunner {
        WastRunner {
            engine,
            skips: Vec::new(),
            print: false,
        }
    }

    /// Directives not to execute; each one met is recorded in
    /// [`FileResult::skipped`] and printed in the report.
    pub fn skips(mut self, skips: &[Skip]) -> WastRunner {
        self.skips = skips.to_vec();
        self
    }

    /// Whether `spectest.print*` writes its arguments to standard output
    /// (off by default, so that a run prints only its report).
    pub fn print_spectest(mut self, print: bool) -> WastRunner {
        self.print = print;
        self
    }

    /// Runs each `.wast` file, in order; a file that cannot be read counts
    /// as one failure.
    pub fn run_files(&self, paths: &[impl AsRef<Path>]) -> Vec<FileResult> {
        paths
            .iter()
            .map(|path| {
                let path = path.as_ref();
                let name = path.display().to_string();
                match std::fs::read_to_string(path) {
                    Ok(text) => self.run_script(&name, &text),
                    Err(e) => FileResult::file_error(name, 1, 1, format!("failed to read: {e}")),
                }
            })
            .collect()
    }

    /// Runs the script `text`, reporting under the name `name`.
    ///
    /// Never panics on a bad script: an unparseable script yields a result
    /// with a single failure.
    pub fn run_script(&self, name: &str, text: &str) -> FileResult {
        let position = |span: Span| {
            let (line, col) = span.linecol_in(text);
            (line + 1, col + 1)
        };
        let mut lexer = Lexer::new(text);
        // The suite deliberately uses unusual Unicode in names (names.wast).
        lexer.allow_confusing_unicode(true);
        let buffer = match ParseBuffer::new_with_lexer(lexer) {
            Ok(buffer) => buffer,
            Err(e) => {
                let (line, col) = position(e.span());
                return FileResult::file_error(
                    name,
                    line,
                    col,
                    format!("failed to parse script: {}", e.message()),
                );
            }
        };
        let script = match parser::parse::<Wast<'_>>(&buffer) {
            Ok(script) => script,
            Err(e) => {
                let (line, col) = position(e.span());
                return FileResult::file_error(
                    name,
                    line,
                    col,
                    format!("failed to parse script: {}", e.message()),
                );
            }
        };

        let mut result = FileResult::new(name);
        let mut cx = match ScriptContext::new(&self.engine, text, self.print) {
            Ok(cx) => cx,
            Err(e) => {
                return FileResult::file_error(
                    name,
                    1,
                    1,
                    format!("failed to set up the spectest module: {e:#}"),
                );
            }
        };
        for directive in script.directives {
            let (line, col) = position(directive.span());
            let location = result.location(line, col);
            let kind = directive_name(&directive);
            if let Some(skip) = self.skips.iter().find(|s| s.file == name && s.line == line) {
                result.skip(location, kind, skip.reason);
                continue;
            }
            cx.position = (line, col);
            match catch_unwind(AssertUnwindSafe(|| cx.run(directive))) {
                Ok(Ok(())) => result.pass(),
                Ok(Err(e)) => match e.downcast_ref::<NeedsFailedModule>() {
                    Some(needs) => {
                        let at = needs.at;
                        result.fail_dependent(at, location, kind, format!("{e:#}"));
                    }
                    None => result.fail(location, kind, format!("{e:#}")),
                },
                Err(payload) => {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(non-string panic payload)".to_string());
                    result.fail(location, kind, format!("panicked: {message}"));
                }
            }
        }
        for ((line, col), module) in std::mem::take(&mut cx.modules) {
            let Some(stats) = module.tier_stats() else {
                continue;
            };
            result.native_functions += stats.native;
            result.osr_entries += stats.osr_entries;
            for (func, why) in stats.fallbacks {
                result
                    .native_fallbacks
                    .push(format!("{name}:{line}:{col}: function {func}: {why}"));
            }
        }
        result
    }
}

/// Runs the script `text` named `name` on a default [`WastRunner`].
pub fn run_script(name: &str, text: &str) -> FileResult {
    WastRunner::new().run_script(name, text)
}

/// The keyword of a directive, for reports.
pub fn directive_name(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(QuoteWat::QuoteModule(..)) => "module quote",
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap {
            exec: WastExecute::Wat(_),
            ..
        } => "assert_uninstantiable",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// The error of a directive that failed only because it needed a module
/// whose directive (at `at`, line and column) had failed: the runner counts
/// it on that directive's report entry ([`FileResult::fail_dependent`]).
#[derive(Debug)]
struct NeedsFailedModule {
    /// Where the failed module's directive starts.
    at: (usize, usize),
    /// What was needed: "the current module", "`$name`", "module `M`".
    what: String,
}

impl std::fmt::Display for NeedsFailedModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is missing: its module (line {}) failed",
            self.what, self.at.0
        )
    }
}

impl std::error::Error for NeedsFailedModule {}

/// Where the modules that failed were needed from: for each way a later
/// directive can refer to a module, the position of the failed directive
/// that should have provided it (the first failure of a chain, so that
/// every dependent counts on the entry that explains it).
#[derive(Default)]
struct FailedModules {
    /// The current module, if the last `module` or `module instance` failed.
    current: Option<(usize, usize)>,
    /// Instance names (`$name`) whose module failed.
    instances: HashMap<String, (usize, usize)>,
    /// `module definition` names whose definition failed.
    definitions: HashMap<String, (usize, usize)>,
    /// The last `module definition`, if it failed.
    last_definition: Option<(usize, usize)>,
    /// Names a failed module would have been `register`ed under.
    registered: HashMap<String, (usize, usize)>,
}

/// The position the failure `error` goes back to: that of the module it
/// needed if it is a [`NeedsFailedModule`], else `position` (its own).
fn failure_root(error: &anyhow::Error, position: (usize, usize)) -> (usize, usize) {
    error
        .downcast_ref::<NeedsFailedModule>()
        .map_or(position, |needs| needs.at)
}

/// The state of one script run: its store, linker and module namespace.
struct ScriptContext<'t> {
    /// The script, for positions inside error messages.
    text: &'t str,
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// The most recently instantiated module: the target of unnamed
    /// `invoke`, `get` and `register`.
    current: Option<Instance>,
    /// Instances by their `$name`.
    instances: HashMap<String, Instance>,
    /// `module definition`s by their `$name`.
    definitions: HashMap<String, Module>,
    /// The most recent `module definition`.
    last_definition: Option<Module>,
    /// Every module compiled, with where its directive starts: their
    /// native-tier statistics are read when the script ends (with tiered
    /// execution, functions move to native code while the script runs).
    modules: Vec<((usize, usize), Module)>,
    /// Where the directive being run starts (for fallback reports and
    /// failed modules).
    position: (usize, usize),
    /// The modules that failed, by how later directives name them.
    failed: FailedModules,
}

/// The outcome of executing an action: `Err` of the outer result is a
/// problem of the script or the harness (unknown export, bad argument), the
/// inner result is what Kiln did (values or a trap/error).
type Outcome = anyhow::Result<anyhow::Result<Vec<Val>>>;

impl<'t> ScriptContext<'t> {
    fn new(engine: &Engine, text: &'t str, print: bool) -> anyhow::Result<ScriptContext<'t>> {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new(engine);
        define_spectest(&mut linker, &mut store, print)?;
        Ok(ScriptContext {
            text,
            engine: engine.clone(),
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            modules: Vec::new(),
            position: (0, 0),
            failed: FailedModules::default(),
        })
    }

    /// Executes one directive; `Ok` means it behaved as the script expects.
    fn run(&mut self, directive: WastDirective<'_>) -> anyhow::Result<()> {
        match directive {
            WastDirective::Module(wat) => {
                let name = wat.name();
                // Whatever happens, the previous module stops being current.
                self.current = None;
                if let Some(name) = name {
                    self.instances.remove(name.name());
                }
                let instance = self.compile(wat).and_then(|module| self.link(&module));
                self.bind(name, instance)
            }
            WastDirective::ModuleDefinition(wat) => {
                let name = wat.name().map(|id| id.name().to_string());
                match self.compile(wat) {
                    Ok(module) => {
                        if let Some(name) = name {
                            self.failed.definitions.remove(&name);
                            self.definitions.insert(name, module.clone());
                        }
                        self.last_definition = Some(module);
                        self.failed.last_definition = None;
                        Ok(())
                    }
                    Err(e) => {
                        let root = failure_root(&e, self.position);
                        if let Some(name) = name {
                            self.definitions.remove(&name);
                            self.failed.definitions.insert(name, root);
                        }
                        self.last_definition = None;
                        self.failed.last_definition = Some(root);
                        Err(e)
                    }
                }
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                self.current = None;
                if let Some(name) = instance {
                    self.instances.remove(name.name());
                }
                let new = self
                    .definition(module)
                    .and_then(|definition| self.link(&definition));
                self.bind(instance, new)
            }
            WastDirective::Register { name, module, .. } => {
                let instance = match self.instance(module) {
                    Ok(instance) => instance,
                    Err(e) => {
                        if let Some(needs) = e.downcast_ref::<NeedsFailedModule>() {
                            self.failed.registered.insert(name.to_string(), needs.at);
                        }
                        return Err(e);
                    }
                };
                self.linker
                    .instance(&mut self.store, name, instance)
                    .with_context(|| format!("failed to register the instance as `{name}`"))?;
                self.failed.registered.remove(name);
                Ok(())
            }
            WastDirective::Invoke(invoke) => match self.invoke(&invoke)? {
                Ok(_) => Ok(()),
                Err(e) => Err(e.context(format!("invoking `{}` failed", invoke.name))),
            },
            WastDirective::AssertReturn { exec, results, .. } => match self.execute(exec)? {
                Ok(actual) => self.check_results(&results, &actual),
                Err(e) => Err(e.context("expected results, got an error")),
            },
            WastDirective::AssertTrap { exec, message, .. } => {
                let outcome = self.execute(exec)?;
                expect_trap(outcome, message, |vals| self.describe_vals(vals))
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                let outcome = self.invoke(&call)?;
                expect_trap(outcome, message, |vals| self.describe_vals(vals))
            }
            WastDirective::AssertInvalid { module, .. } => {
                let source = self.source(module)?;
                match Module::new(&self.engine, &source) {
                    Ok(_) => bail!("expected the module to be invalid, but it compiled"),
                    Err(_) => Ok(()),
                }
            }
            WastDirective::AssertMalformed { module, .. } => {
                let source = self.source(module)?;
                match Module::new(&self.engine, &source) {
                    Ok(_) => bail!("expected the module to be malformed, but it compiled"),
                    Err(_) => Ok(()),
                }
            }
            WastDirective::AssertUnlinkable { module, .. } => {
                let module = self.compile(QuoteWat::Wat(module))?;
                match self.linker.instantiate(&mut self.store, &module) {
                    Ok(_) => bail!("expected instantiation to fail, but it succeeded"),
                    Err(e) => match e.downcast_ref::<Trap>() {
                        Some(trap) => {
                            bail!("expected a link error, but instantiation trapped: {trap}")
                        }
                        None => Ok(()),
                    },
                }
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                bail!("custom-section assertions are not supported by this runner")
            }
            WastDirective::AssertException { .. } => {
                bail!("exceptions are not supported by this runner")
            }
            WastDirective::AssertSuspension { .. } => {
                bail!("stack switching is not supported by this runner")
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                bail!("threads are not supported by this runner")
            }
        }
    }

    /// Makes the new instance the current one, under `name` too if given;
    /// if there is none (its module failed), records where the failure
    /// happened for the directives that needed it, and returns the error.
    fn bind(&mut self, name: Option<Id<'_>>, new: anyhow::Result<Instance>) -> anyhow::Result<()> {
        match new {
            Ok(instance) => {
                if let Some(name) = name {
                    self.instances.insert(name.name().to_string(), instance);
                    self.failed.instances.remove(name.name());
                }
                self.current = Some(instance);
                self.failed.current = None;
                Ok(())
            }
            Err(e) => {
                let root = failure_root(&e, self.position);
                if let Some(name) = name {
                    self.failed.instances.insert(name.name().to_string(), root);
                }
                self.failed.current = Some(root);
                Err(e)
            }
        }
    }

    /// Instantiates `module`. A link failure of a module that imports from
    /// a name only a failed module would have registered is that module's
    /// failure ([`NeedsFailedModule`]).
    fn link(&mut self, module: &Module) -> anyhow::Result<Instance> {
        self.linker
            .instantiate(&mut self.store, module)
            .map_err(|e| {
                let needed = module.imports().find_map(|import| {
                    let at = *self.failed.registered.get(import.module())?;
                    Some((import.module().to_string(), at))
                });
                match (e.downcast_ref::<Trap>(), needed) {
                    (None, Some((name, at))) => anyhow::Error::new(NeedsFailedModule {
                        at,
                        what: format!("module `{name}` (imported)"),
                    })
                    .context(format!("instantiation failed: {e:#}")),
                    _ => e.context("instantiation failed"),
                }
            })
    }

    /// The instance named `name`, or the current one.
    fn instance(&self, name: Option<Id<'_>>) -> anyhow::Result<Instance> {
        match name {
            Some(id) => match self.instances.get(id.name()) {
                Some(instance) => Ok(*instance),
                None => match self.failed.instances.get(id.name()) {
                    Some(&at) => Err(NeedsFailedModule {
                        at,
                        what: format!("instance `${}`", id.name()),
                    }
                    .into()),
                    None => bail!("no instance named `${}`", id.name()),
                },
            },
            None => match (self.current, self.failed.current) {
                (Some(instance), _) => Ok(instance),
                (None, Some(at)) => Err(NeedsFailedModule {
                    at,
                    what: "the current module".to_string(),
                }
                .into()),
                (None, None) => bail!("no module is instantiated"),
            },
        }
    }

    /// The `module definition` named `name`, or the last one.
    fn definition(&self, name: Option<Id<'_>>) -> anyhow::Result<Module> {
        let (found, failed, what) = match name {
            Some(id) => (
                self.definitions.get(id.name()),
                self.failed.definitions.get(id.name()),
                format!("module definition `${}`", id.name()),
            ),
            None => (
                self.last_definition.as_ref(),
                self.failed.last_definition.as_ref(),
                "the last module definition".to_string(),
            ),
        };
        match (found, failed) {
            (Some(module), _) => Ok(module.clone()),
            (None, Some(&at)) => Err(NeedsFailedModule { at, what }.into()),
            (None, None) => bail!("there is no {what} to instantiate"),
        }
    }

    /// What a script module hands to [`Module::new`]: the text of a
    /// `(module quote …)` (Kiln's text path parses it), the bytes of a
    /// `(module binary …)`, and for an inline text module the binary the
    /// script parser encodes (an encoding failure there is the script's
    /// problem, reported as such).
    fn source(&self, mut wat: QuoteWat<'_>) -> anyhow::Result<Vec<u8>> {
        if let QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_)) = wat {
            bail!("components are not supported by this runner");
        }
        match wat.to_test() {
            Ok(QuoteWatTest::Text(text)) => Ok(text),
            Ok(QuoteWatTest::Binary(bytes)) => Ok(bytes),
            Err(e) => {
                let (line, col) = e.span().linecol_in(self.text);
                bail!(
                    "failed to encode the module at {}:{}: {}",
                    line + 1,
                    col + 1,
                    e.message()
                )
            }
        }
    }

    /// Compiles a script module with [`Module::new`], noting which tier
    /// runs its functions.
    fn compile(&mut self, wat: QuoteWat<'_>) -> anyhow::Result<Module> {
        let source = self.source(wat)?;
        let module = Module::new(&self.engine, &source).context("compilation failed")?;
        self.modules.push((self.position, module.clone()));
        Ok(module)
    }

    /// Executes the action of an assertion.
    fn execute(&mut self, exec: WastExecute<'_>) -> Outcome {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(wat) => {
                let module = self.compile(QuoteWat::Wat(wat))?;
                Ok(self
                    .linker
                    .instantiate(&mut self.store, &module)
                    .map(|_| Vec::new()))
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                match instance.get_export(&mut self.store, global) {
                    Some(Extern::Global(g)) => Ok(Ok(vec![g.get(&mut self.store)])),
                    Some(_) => bail!("export `{global}` is not a global"),
                    None => bail!("no export named `{global}`"),
                }
            }
        }
    }

    /// Calls an export with the script's arguments.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Outcome {
        let instance = self.instance(invoke.module)?;
        let func = match instance.get_export(&mut self.store, invoke.name) {
            Some(Extern::Func(f)) => f,
            Some(_) => bail!("export `{}` is not a function", invoke.name),
            None => bail!("no export named `{}`", invoke.name),
        };
        let args = invoke
            .args
            .iter()
            .map(|arg| self.arg(arg))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let ty = func.ty(&self.store);
        let params = ty.params().len();
        if params != args.len() {
            bail!(
                "`{}` takes {params} arguments, the script passes {}",
                invoke.name,
                args.len()
            );
        }
        let mut results = vec![Val::I32(0); ty.results().len()];
        Ok(func
            .call(&mut self.store, &args, &mut results)
            .map(|()| results))
    }

    /// Converts a script argument to a value.
    fn arg(&mut self, arg: &WastArg<'_>) -> anyhow::Result<Val> {
        let WastArg::Core(arg) = arg else {
            bail!("component-model arguments are not supported by this runner");
        };
        Ok(match arg {
            WastArgCore::I32(v) => Val::I32(*v),
            WastArgCore::I64(v) => Val::I64(*v),
            WastArgCore::F32(v) => Val::F32(v.bits),
            WastArgCore::F64(v) => Val::F64(v.bits),
            WastArgCore::RefNull(HeapType::Abstract {
                ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
                ..
            }) => Val::FuncRef(None),
            WastArgCore::RefNull(HeapType::Abstract {
                ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
                ..
            }) => Val::ExternRef(None),
            WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(&mut self.store, *n)?)),
            other => bail!("unsupported argument {other:?}"),
        })
    }

    /// Compares results against an `assert_return`'s expectations.
    fn check_results(&self, expected: &[WastRet<'_>], actual: &[Val]) -> anyhow::Result<()> {
        if expected.len() != actual.len() {
            bail!(
                "expected {} results, got {}: [{}]",
                expected.len(),
                actual.len(),
                self.describe_vals(actual)
            );
        }
        for (i, (expected, actual)) in expected.iter().zip(actual).enumerate() {
            let WastRet::Core(expected) = expected else {
                bail!("component-model results are not supported by this runner");
            };
            if !self.val_matches(expected, actual)? {
                bail!(
                    "result {i}: expected {}, got {}",
                    describe_expected(expected),
                    self.describe_val(actual)
                );
            }
        }
        Ok(())
    }

    /// Does `actual` satisfy `expected`? `Err` for expectations this runner
    /// cannot check (which then count as failures).
    fn val_matches(&self, expected: &WastRetCore<'_>, actual: &Val) -> anyhow::Result<bool> {
        Ok(match (expected, actual) {
            (WastRetCore::I32(e), Val::I32(a)) => e == a,
            (WastRetCore::I64(e), Val::I64(a)) => e == a,
            (WastRetCore::F32(p), Val::F32(bits)) => f32_matches(p, *bits),
            (WastRetCore::F64(p), Val::F64(bits)) => f64_matches(p, *bits),
            (WastRetCore::RefNull(ty), Val::FuncRef(r)) => r.is_none() && null_type_is(ty, false),
            (WastRetCore::RefNull(ty), Val::ExternRef(r)) => r.is_none() && null_type_is(ty, true),
            (WastRetCore::RefFunc(_), Val::FuncRef(r)) => r.is_some(),
            (WastRetCore::RefExtern(None), Val::ExternRef(r)) => r.is_some(),
            (WastRetCore::RefExtern(Some(n)), Val::ExternRef(Some(r))) => {
                r.data(&self.store)?.and_then(|d| d.downcast_ref::<u32>()) == Some(n)
            }
            (WastRetCore::Either(alternatives), actual) => {
                for alternative in alternatives {
                    if self.val_matches(alternative, actual)? {
                        return Ok(true);
                    }
                }
                false
            }
            (
                WastRetCore::I32(_)
                | WastRetCore::I64(_)
                | WastRetCore::F32(_)
                | WastRetCore::F64(_)
                | WastRetCore::RefNull(_)
                | WastRetCore::RefFunc(_)
                | WastRetCore::RefExtern(_),
                _,
            ) => false,
            (other, _) => bail!("unsupported expected result {other:?}"),
        })
    }

    fn describe_vals(&self, vals: &[Val]) -> String {
        vals.iter()
            .map(|v| self.describe_val(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn describe_val(&self, val: &Val) -> String {
        match val {
            Val::I32(v) => format!("i32 {v}"),
            Val::I64(v) => format!("i64 {v}"),
            Val::F32(bits) => describe_f32_bits(*bits),
            Val::F64(bits) => describe_f64_bits(*bits),
            Val::FuncRef(None) => "ref.null func".to_string(),
            Val::FuncRef(Some(_)) => "ref.func".to_string(),
            Val::ExternRef(None) => "ref.null extern".to_string(),
            Val::ExternRef(Some(r)) => match r.data(&self.store) {
                Ok(data) => match data.and_then(|d| d.downcast_ref::<u32>()) {
                    Some(n) => format!("ref.extern {n}"),
                    None => "ref.extern (non-u32 host value)".to_string(),
                },
                Err(_) => "ref.extern (unreadable)".to_string(),
            },
            #[allow(unreachable_patterns)]
            other => format!("{other:?}"),
        }
    }
}

/// Fails unless `outcome` is a [`Trap`] whose own message matches
/// `expected` ([`trap_message_matches`]). Only the trap's message counts: the
/// backtrace and any other context around it are not searched, so a function
/// *named* `$unreachable` that divides by zero does not satisfy
/// `"unreachable"`. An error that is not a trap (a host error, a link error)
/// never satisfies an expected trap, even one with an empty message.
fn expect_trap(
    outcome: anyhow::Result<Vec<Val>>,
    expected: &str,
    describe: impl FnOnce(&[Val]) -> String,
) -> anyhow::Result<()> {
    match outcome {
        Ok(values) => bail!(
            "expected a trap (\"{expected}\"), got [{}]",
            describe(&values)
        ),
        Err(e) => match e.downcast_ref::<Trap>() {
            Some(trap) => {
                let actual = trap.to_string();
                if trap_message_matches(expected, &actual) {
                    Ok(())
                } else {
                    bail!("expected a trap (\"{expected}\"), got: {actual}")
                }
            }
            None => {
                bail!("expected a trap (\"{expected}\"), got an error that is not a trap: {e:#}")
            }
        },
    }
}

/// Does a `ref.null` expectation accept a null of the extern (`true`) or
/// func (`false`) hierarchy?
fn null_type_is(ty: &Option<HeapType<'_>>, extern_hierarchy: bool) -> bool {
    match ty {
        None => true,
        Some(HeapType::Abstract { ty, .. }) => match ty {
            AbstractHeapType::Func | AbstractHeapType::NoFunc => !extern_hierarchy,
            AbstractHeapType::Extern | AbstractHeapType::NoExtern => extern_hierarchy,
            _ => false,
        },
        Some(HeapType::Concrete(_) | HeapType::Exact(_)) => !extern_hierarchy,
    }
}

/// Renders an expectation for a failure message.
fn describe_expected(expected: &WastRetCore<'_>) -> String {
    match expected {
        WastRetCore::I32(v) => format!("i32 {v}"),
        WastRetCore::I64(v) => format!("i64 {v}"),
        WastRetCore::F32(p) => describe_f32(p),
        WastRetCore::F64(p) => describe_f64(p),
        WastRetCore::RefNull(None) => "ref.null".to_string(),
        WastRetCore::RefNull(Some(HeapType::Abstract { ty, .. })) => {
            format!("ref.null {}", format!("{ty:?}").to_lowercase())
        }
        WastRetCore::RefNull(Some(_)) => "ref.null (concrete type)".to_string(),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::Either(alternatives) => {
            let alternatives: Vec<_> = alternatives.iter().map(describe_expected).collect();
            format!("either({})", alternatives.join(" | "))
        }
        other => format!("{other:?}"),
    }
}
