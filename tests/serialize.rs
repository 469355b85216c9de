//! Serialised modules (`Module::serialize`, `Module::deserialize`,
//! `Engine::precompile_module`), as an embedder caching compiled modules
//! uses them: the loaded module behaves as the original did, in every
//! strategy, and anything written for another engine or damaged is refused
//! with an error, never loaded.

use kiln::{
    Config, Engine, Func, Instance, Linker, Module, Precompiled, Store, Strategy, Trap, Val,
};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Exercises calls (direct, indirect, into the host), memory (data
/// segments, loads, stores, out-of-bounds traps), globals and loops.
const PROGRAM: &str = r#"
(module
  (import "host" "double" (func $double (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\05\00\00\00")
  (global $calls (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $square $double)
  (type $unary (func (param i32) (result i32)))
  (func $square (param i32) (result i32)
    local.get 0 local.get 0 i32.mul)
  (func (export "sum_of_squares") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (loop $top
      (local.set $acc (i32.add (local.get $acc)
        (call_indirect (type $unary) (local.get $i) (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
    local.get $acc)
  (func (export "doubled_seed") (result i32)
    (call $double (i32.load (i32.const 16))))
  (func (export "load") (param i32) (result i32)
    (i32.load (local.get 0)))
  (func (export "calls") (result i32) global.get $calls))
"#;

/// The strategies this build has.
fn strategies() -> Vec<Strategy> {
    let mut strategies = vec![Strategy::Interpreter];
    if cfg!(feature = "jit") {
        strategies.extend([Strategy::Cranelift, Strategy::Tiered]);
    }
    strategies
}

fn engine(strategy: Strategy) -> Engine {
    Engine::new(Config::new().strategy(strategy)).unwrap()
}

/// Runs [`PROGRAM`]'s exports in a fresh store; what the embedder sees.
fn run(module: &Module) -> Vec<String> {
    let mut store = Store::new(module.engine(), ());
    let mut linker = Linker::new(module.engine());
    linker.func_wrap("host", "double", |x: i32| x * 2).unwrap();
    let instance = linker.instantiate(&mut store, module).unwrap();
    let mut out = Vec::new();
    let sum = instance
        .get_typed_func::<i32, i32>(&mut store, "sum_of_squares")
        .unwrap();
    for n in [1, 10, 200] {
        out.push(format!("sum {n} = {}", sum.call(&mut store, n).unwrap()));
    }
    let seed = instance
        .get_typed_func::<(), i32>(&mut store, "doubled_seed")
        .unwrap();
    out.push(format!("seed = {}", seed.call(&mut store, ()).unwrap()));
    let load = instance
        .get_typed_func::<i32, i32>(&mut store, "load")
        .unwrap();
    let trap = load.call(&mut store, 65535).unwrap_err();
    out.push(format!("oob = {:?}", trap.downcast_ref::<Trap>()));
    let calls = instance.get_func(&mut store, "calls").unwrap();
    let mut result = [Val::I32(0)];
    calls.call(&mut store, &[], &mut result).unwrap();
    out.push(format!("calls = {:?}", result[0].i32()));
    out
}

#[test]
fn a_deserialised_module_behaves_as_the_original_in_every_strategy() {
    for strategy in strategies() {
        let engine = engine(strategy);
        let original = Module::new(&engine, PROGRAM).unwrap();
        let bytes = original.serialize().unwrap();
        // SAFETY: these bytes were just written by `serialize`.
        let loaded = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
        let expected = run(&original);
        assert_eq!(run(&loaded), expected, "{strategy:?}");
        assert!(expected[2].ends_with(&(0..200).map(|i| i * i).sum::<i32>().to_string()));
        assert_eq!(expected[4], "oob = Some(MemoryOutOfBounds)");

        // Another engine with the same configuration loads it too, and
        // so does `precompile_module`'s output.
        let other = self::engine(strategy);
        // SAFETY: as above.
        let loaded = unsafe { Module::deserialize(&other, &bytes) }.unwrap();
        assert_eq!(run(&loaded), expected, "{strategy:?} in another engine");
        let precompiled = other.precompile_module(PROGRAM.as_bytes()).unwrap();
        // SAFETY: written by `precompile_module`.
        let loaded = unsafe { Module::deserialize(&engine, &precompiled) }.unwrap();
        assert_eq!(run(&loaded), expected, "{strategy:?} precompiled");
        assert_eq!(
            loaded
                .exports()
                .map(|e| e.name().to_owned())
                .collect::<Vec<_>>(),
            ["memory", "sum_of_squares", "doubled_seed", "load", "calls"]
        );
    }
}

#[cfg(feature = "jit")]
#[test]
fn a_deserialised_native_module_is_not_compiled_again() {
    let engine = engine(Strategy::Cranelift);
    let original = Module::new(&engine, PROGRAM).unwrap();
    let compiled = original.tier_stats().unwrap();
    assert!(compiled.native > 0 && compiled.fallbacks.is_empty());
    assert!(compiled.compile_time > std::time::Duration::ZERO);

    // SAFETY: written by `serialize` just now.
    let loaded = unsafe { Module::deserialize(&engine, original.serialize().unwrap()) }.unwrap();
    let stats = loaded.tier_stats().unwrap();
    assert_eq!(
        (stats.native, stats.code_bytes, stats.compile_time),
        (
            compiled.native,
            compiled.code_bytes,
            std::time::Duration::ZERO
        )
    );
}

#[cfg(feature = "jit")]
#[test]
fn functions_left_to_the_interpreter_stay_there() {
    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    // Hidden knob the tier tests use: defined function 2 (`$square`'s
    // caller) stays interpreted.
    config.interpret_functions(|index| index == 2);
    let engine = Engine::new(&config).unwrap();
    let original = Module::new(&engine, PROGRAM).unwrap();
    // SAFETY: written by `serialize` just now.
    let loaded = unsafe { Module::deserialize(&engine, original.serialize().unwrap()) }.unwrap();
    assert_eq!(
        loaded.tier_stats().unwrap().fallbacks,
        original.tier_stats().unwrap().fallbacks
    );
    assert_eq!(loaded.tier_stats().unwrap().fallbacks.len(), 1);
    assert_eq!(run(&loaded), run(&original));
}

#[test]
fn modules_for_another_configuration_are_refused() {
    let written = engine(Strategy::Interpreter)
        .precompile_module(PROGRAM.as_bytes())
        .unwrap();
    // Other WebAssembly features: the bodies were validated without them.
    let no_bulk = Engine::new(
        Config::new()
            .strategy(Strategy::Interpreter)
            .wasm_reference_types(false)
            .wasm_bulk_memory(false),
    )
    .unwrap();
    // SAFETY: the bytes are Kiln's; they must be refused, not run.
    let err = unsafe { Module::deserialize(&no_bulk, &written) }.unwrap_err();
    assert!(format!("{err}").contains("incompatible engine"), "{err}");

    if cfg!(feature = "jit") {
        // Interpreted modules hold no code: tiered engines load them.
        // SAFETY: as above.
        unsafe { Module::deserialize(&engine(Strategy::Tiered), &written) }.unwrap();
        // A native engine needs native code.
        // SAFETY: as above.
        let err = unsafe { Module::deserialize(&engine(Strategy::Cranelift), &written) };
        assert!(format!("{}", err.unwrap_err()).contains("incompatible"));

        let native = engine(Strategy::Cranelift)
            .precompile_module(PROGRAM.as_bytes())
            .unwrap();
        for config in [
            Config::new().strategy(Strategy::Interpreter).clone(),
            Config::new()
                .strategy(Strategy::Cranelift)
                .consume_fuel(true)
                .clone(),
            Config::new()
                .strategy(Strategy::Cranelift)
                .epoch_interruption(true)
                .clone(),
            Config::new()
                .strategy(Strategy::Cranelift)
                .cranelift_opt_level(kiln::OptLevel::None)
                .clone(),
        ] {
            let engine = Engine::new(&config).unwrap();
            // SAFETY: as above.
            let err = unsafe { Module::deserialize(&engine, &native) }.unwrap_err();
            assert!(format!("{err}").contains("incompatible engine"), "{err}");
        }
    }
}

#[test]
fn damaged_or_foreign_bytes_are_refused() {
    let engine = Engine::default();
    let bytes = engine.precompile_module(PROGRAM.as_bytes()).unwrap();
    for len in [0, 7, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        // SAFETY: truncated Kiln output: refused before anything runs.
        let err = unsafe { Module::deserialize(&engine, &bytes[..len]) }.unwrap_err();
        let msg = format!("{err}");
        assert!(
            msg.contains("truncated") || msg.contains("magic") || msg.contains("checksum"),
            "{len}: {msg}"
        );
    }
    let mut flipped = bytes.clone();
    let middle = flipped.len() - 40;
    flipped[middle] ^= 0x40;
    // SAFETY: damaged Kiln output: refused by the checksum.
    let err = unsafe { Module::deserialize(&engine, &flipped) }.unwrap_err();
    assert!(format!("{err}").contains("checksum"), "{err}");

    let wasm = wat::parse_str(PROGRAM).unwrap();
    // SAFETY: not a serialised module: refused by the magic.
    let err = unsafe { Module::deserialize(&engine, &wasm) }.unwrap_err();
    assert!(
        format!("{err}").contains("not a serialised Kiln module"),
        "{err}"
    );

    let err = Module::new(&engine, &bytes).unwrap_err();
    assert!(format!("{err}").contains("Module::deserialize"), "{err}");
}

#[test]
fn detects_precompiled_bytes_and_files() {
    let engine = Engine::default();
    let bytes = engine.precompile_module(PROGRAM.as_bytes()).unwrap();
    let wasm = wat::parse_str(PROGRAM).unwrap();
    assert_eq!(
        Engine::detect_precompiled(&bytes),
        Some(Precompiled::Module)
    );
    assert_eq!(Engine::detect_precompiled(&wasm), None);
    assert_eq!(Engine::detect_precompiled(b""), None);

    let dir = std::env::temp_dir().join(format!("kiln-serialize-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cwasm = dir.join("program.cwasm");
    let wasm_file = dir.join("program.wasm");
    std::fs::write(&cwasm, &bytes).unwrap();
    std::fs::write(&wasm_file, &wasm).unwrap();
    assert_eq!(
        Engine::detect_precompiled_file(&cwasm).unwrap(),
        Some(Precompiled::Module)
    );
    assert_eq!(Engine::detect_precompiled_file(&wasm_file).unwrap(), None);
    let missing = dir.join("missing.cwasm");
    let err = Engine::detect_precompiled_file(&missing).unwrap_err();
    assert!(format!("{err}").contains("missing.cwasm"), "{err}");

    // SAFETY: written by `precompile_module` above.
    let loaded = unsafe { Module::deserialize_file(&engine, &cwasm) }.unwrap();
    let from_wasm = Module::from_file(&engine, &wasm_file).unwrap();
    assert_eq!(run(&loaded), run(&from_wasm));
    let opened = std::fs::File::open(&cwasm).unwrap();
    // SAFETY: as above.
    let loaded = unsafe { Module::deserialize_open_file(&engine, opened) }.unwrap();
    assert_eq!(run(&loaded), run(&from_wasm));
    let raw = std::ptr::NonNull::from(&bytes[..]);
    // SAFETY: as above; `bytes` outlives the call.
    let loaded = unsafe { Module::deserialize_raw(&engine, raw) }.unwrap();
    assert_eq!(run(&loaded), run(&from_wasm));

    // SAFETY: a missing file is an error, nothing is run.
    let err = unsafe { Module::deserialize_file(&engine, &missing) }.unwrap_err();
    assert!(format!("{err:#}").contains("missing.cwasm"), "{err:#}");
    let err = Module::from_file(&engine, &cwasm).unwrap_err();
    assert!(
        format!("{err:#}").contains("Module::deserialize"),
        "{err:#}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn hash(engine: &Engine) -> u64 {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.finish()
}

#[test]
fn compatibility_hash_tells_which_engines_share_serialised_modules() {
    let interpreter = engine(Strategy::Interpreter);
    assert_eq!(hash(&interpreter), hash(&engine(Strategy::Interpreter)));
    let no_bulk = Engine::new(
        Config::new()
            .strategy(Strategy::Interpreter)
            .wasm_reference_types(false)
            .wasm_bulk_memory(false),
    )
    .unwrap();
    assert_ne!(hash(&interpreter), hash(&no_bulk));
    if cfg!(feature = "jit") {
        let cranelift = engine(Strategy::Cranelift);
        assert_eq!(hash(&cranelift), hash(&engine(Strategy::Cranelift)));
        assert_ne!(hash(&cranelift), hash(&interpreter));
        let fuel = Engine::new(
            Config::new()
                .strategy(Strategy::Cranelift)
                .consume_fuel(true),
        );
        assert_ne!(hash(&cranelift), hash(&fuel.unwrap()));
    }
}

/// A host function reachable only through the table still works after
/// loading (the adapters and trampolines are part of the saved code).
#[test]
fn host_functions_in_tables_work_after_loading() {
    for strategy in strategies() {
        let engine = engine(strategy);
        let wat = r#"(module
            (import "host" "add" (func $add (param i32 i32) (result i32)))
            (table 1 funcref) (elem (i32.const 0) $add)
            (func (export "go") (param i32) (result i32)
              (call_indirect (param i32 i32) (result i32)
                (local.get 0) (i32.const 1000) (i32.const 0))))"#;
        let bytes = engine.precompile_module(wat.as_bytes()).unwrap();
        // SAFETY: written by `precompile_module`.
        let module = unsafe { Module::deserialize(&engine, bytes) }.unwrap();
        let mut store = Store::new(&engine, ());
        let add = Func::wrap(&mut store, |a: i32, b: i32| a + b);
        let instance = Instance::new(&mut store, &module, &[add.into()]).unwrap();
        let go = instance
            .get_typed_func::<i32, i32>(&mut store, "go")
            .unwrap();
        assert_eq!(go.call(&mut store, 234).unwrap(), 1234, "{strategy:?}");
    }
}

/// Eager translation of a loaded module translates every body without
/// validating it again.
#[test]
fn eager_translation_loads_serialised_modules() {
    let lazy = engine(Strategy::Interpreter);
    let eager = Engine::new(
        Config::new()
            .strategy(Strategy::Interpreter)
            .compilation_mode(kiln::CompilationMode::Eager),
    )
    .unwrap();
    let bytes = lazy.precompile_module(PROGRAM.as_bytes()).unwrap();
    // SAFETY: written by `precompile_module`.
    let loaded = unsafe { Module::deserialize(&eager, &bytes) }.unwrap();
    assert_eq!(run(&loaded), run(&Module::new(&lazy, PROGRAM).unwrap()));
}
