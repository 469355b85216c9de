//! Helpers shared by the integration tests that compare Kiln's tiers and
//! compilation modes.

use kiln::{CompilationMode, Config, Engine, Instance, Module, Store, WasmParams, WasmResults};

/// The engine configurations every tier-independent test runs under: the
/// interpreter translating lazily and eagerly, and (when the native tier is
/// built) Cranelift.
pub fn tier_configs() -> Vec<(&'static str, Config)> {
    let mut configs = Vec::new();
    for (name, mode) in [
        ("lazy", CompilationMode::Lazy),
        ("eager", CompilationMode::Eager),
    ] {
        let mut config = Config::new();
        config
            .strategy(kiln::Strategy::Interpreter)
            .compilation_mode(mode);
        configs.push((name, config));
    }
    if cfg!(feature = "jit") {
        let mut config = Config::new();
        config.strategy(kiln::Strategy::Cranelift);
        configs.push(("cranelift", config));
    }
    configs
}

/// Calls export `name` of `module` (wat text or wasm bytes, no imports)
/// with `args` in every tier ([`tier_configs`]), checks they all give the
/// same result, and returns it.
pub fn call_in_every_tier<P, R>(module: impl AsRef<[u8]>, name: &str, args: P) -> R
where
    P: WasmParams + Copy,
    R: WasmResults + PartialEq + std::fmt::Debug,
{
    let mut results: Vec<(&str, R)> = Vec::new();
    for (tier, config) in tier_configs() {
        let engine = Engine::new(&config).expect("engine");
        let module = Module::new(&engine, module.as_ref()).expect("module");
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).expect("instance");
        let f = instance
            .get_typed_func::<P, R>(&mut store, name)
            .expect("export");
        let result = f
            .call(&mut store, args)
            .unwrap_or_else(|e| panic!("{name} trapped in the {tier} tier: {e:?}"));
        results.push((tier, result));
    }
    let (first_tier, first) = results.remove(0);
    for (tier, result) in &results {
        assert_eq!(
            &first, result,
            "{name}: the {first_tier} and {tier} tiers disagree"
        );
    }
    first
}
