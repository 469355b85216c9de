//! Helpers shared by the integration tests that compare Kiln's compilation
//! modes.

use kiln::{CompilationMode, Config, Engine, Instance, Module, Store, WasmParams, WasmResults};

/// Calls export `name` of `module` (wat text or wasm bytes, no imports)
/// with `args`, in lazy and in eager mode, checks both give the same
/// result, and returns it.
pub fn call_in_both_modes<P, R>(module: impl AsRef<[u8]>, name: &str, args: P) -> R
where
    P: WasmParams + Copy,
    R: WasmResults + PartialEq + std::fmt::Debug,
{
    let mut results = Vec::new();
    for mode in [CompilationMode::Lazy, CompilationMode::Eager] {
        let mut config = Config::new();
        config.compilation_mode(mode);
        let engine = Engine::new(&config).expect("engine");
        let module = Module::new(&engine, module.as_ref()).expect("module");
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).expect("instance");
        let f = instance
            .get_typed_func::<P, R>(&mut store, name)
            .expect("export");
        results.push(f.call(&mut store, args).expect("no trap"));
    }
    let eager = results.pop().expect("two runs");
    let lazy = results.pop().expect("two runs");
    assert_eq!(lazy, eager, "{name}: lazy and eager modes disagree");
    lazy
}
