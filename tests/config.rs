//! wasmtime's `Config` surface in Kiln: every `wasm_*` proposal toggle
//! (the ones Kiln runs change what validates, the others make
//! `Engine::new` fail with the proposal's name), the backtrace settings in
//! every tier, and the settings Kiln accepts or refuses for mechanisms it
//! does not have.

#[path = "common/tiers.rs"]
mod tiers;

use kiln::{
    Config, Engine, Instance, Module, OptLevel, Store, Strategy, Trap, WasmBacktrace,
    WasmBacktraceDetails, WasmFeatures,
};
use std::num::NonZeroUsize;
use tiers::Tier;

/// The tiers this build has: all of them with the native tier, the
/// interpreter alone without it.
fn tiers() -> Vec<Tier> {
    if cfg!(feature = "jit") {
        tiers::TIERS.to_vec()
    } else {
        vec![Tier::Interpreter]
    }
}

type Toggle = fn(&mut Config, bool) -> &mut Config;

/// Applies one setting to a configuration.
type Apply = fn(&mut Config) -> &mut Config;

/// Every proposal toggle Kiln cannot run yet, with the name its error
/// must give.
const UNSUPPORTED: &[(&str, Toggle)] = &[
    ("SIMD", Config::wasm_simd),
    ("relaxed SIMD", Config::wasm_relaxed_simd),
    ("threads", Config::wasm_threads),
    (
        "shared-everything-threads",
        Config::wasm_shared_everything_threads,
    ),
    ("tail-call", Config::wasm_tail_call),
    ("multi-memory", Config::wasm_multi_memory),
    ("memory64", Config::wasm_memory64),
    ("extended-const", Config::wasm_extended_const),
    ("function-references", Config::wasm_function_references),
    ("GC", Config::wasm_gc),
    ("exception-handling", Config::wasm_exceptions),
    ("legacy exception-handling", Config::wasm_legacy_exceptions),
    ("custom-page-sizes", Config::wasm_custom_page_sizes),
    ("stack-switching", Config::wasm_stack_switching),
    ("wide-arithmetic", Config::wasm_wide_arithmetic),
    ("component model", Config::wasm_component_model),
    ("component-model async", Config::wasm_component_model_async),
    (
        "component-model async builtins",
        Config::wasm_component_model_more_async_builtins,
    ),
    (
        "component-model stackful async",
        Config::wasm_component_model_async_stackful,
    ),
    (
        "component-model threading",
        Config::wasm_component_model_threading,
    ),
    (
        "component-model error-context",
        Config::wasm_component_model_error_context,
    ),
    ("component-model GC", Config::wasm_component_model_gc),
    ("component-model map", Config::wasm_component_model_map),
    (
        "component-model memory64",
        Config::wasm_component_model_memory64,
    ),
    (
        "component-model fixed-length lists",
        Config::wasm_component_model_fixed_length_lists,
    ),
    (
        "component-model implements",
        Config::wasm_component_model_implements,
    ),
];

#[test]
fn enabling_an_unsupported_proposal_fails_engine_new_naming_it() {
    for &(name, toggle) in UNSUPPORTED {
        let mut config = Config::new();
        toggle(&mut config, true);
        let err = Engine::new(&config).expect_err(name).to_string();
        assert!(
            err.contains(&format!(
                "the WebAssembly {name} proposal is not supported by Kiln yet"
            )),
            "{name}: {err}"
        );
        // Switching it off again (or never on) is fine: they are off by default.
        toggle(&mut config, false);
        Engine::new(&config).unwrap_or_else(|e| panic!("{name} off: {e}"));
    }
}

#[test]
fn unsupported_proposals_are_off_by_default() {
    let features = Engine::default().get_wasm_features();
    for flag in [
        WasmFeatures::SIMD,
        WasmFeatures::THREADS,
        WasmFeatures::TAIL_CALL,
        WasmFeatures::MULTI_MEMORY,
        WasmFeatures::MEMORY64,
        WasmFeatures::EXTENDED_CONST,
        WasmFeatures::GC,
        WasmFeatures::EXCEPTIONS,
        WasmFeatures::COMPONENT_MODEL,
    ] {
        assert!(!features.contains(flag), "{flag:?} is on by default");
    }
    // What a module using one of them gets is the validator's error.
    let err = Module::new(&Engine::default(), "(module (func $f return_call $f))").unwrap_err();
    assert!(
        format!("{err:#}").contains("tail calls support is not enabled"),
        "{err:#}"
    );
}

#[test]
fn wasm_features_refuses_flags_outside_kiln_and_names_them() {
    let mut config = Config::new();
    config.wasm_features(WasmFeatures::TAIL_CALL | WasmFeatures::SIMD, true);
    let err = Engine::new(&config).unwrap_err().to_string();
    assert!(err.contains("is not supported by Kiln yet"), "{err}");
    config.wasm_features(WasmFeatures::TAIL_CALL | WasmFeatures::SIMD, false);
    Engine::new(&config).unwrap();
}

/// Module texts that need one supported proposal each, with its toggle.
const SUPPORTED: &[(&str, Toggle, &str)] = &[
    (
        "multi-value",
        Config::wasm_multi_value,
        "(module (func (result i32 i32) i32.const 1 i32.const 2))",
    ),
    (
        "bulk memory",
        Config::wasm_bulk_memory,
        "(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))",
    ),
    (
        "reference types",
        Config::wasm_reference_types,
        "(module (func (param externref)))",
    ),
];

#[test]
fn supported_proposals_change_what_validates() {
    for &(name, toggle, wat) in SUPPORTED {
        // On by default.
        Module::new(&Engine::default(), wat).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let mut config = Config::new();
        // Reference types need bulk memory: turn both off for the latter.
        if name == "bulk memory" {
            config.wasm_reference_types(false);
        }
        toggle(&mut config, false);
        let engine = Engine::new(&config).unwrap();
        assert!(
            Module::new(&engine, wat).is_err(),
            "{name} off still validates"
        );
        assert!(!engine.get_wasm_features().contains(match name {
            "multi-value" => WasmFeatures::MULTI_VALUE,
            "bulk memory" => WasmFeatures::BULK_MEMORY,
            _ => WasmFeatures::REFERENCE_TYPES,
        }));
        toggle(&mut config, true);
        if name == "bulk memory" {
            config.wasm_reference_types(true);
        }
        Module::new(&Engine::new(&config).unwrap(), wat)
            .unwrap_or_else(|e| panic!("{name} back on: {e:#}"));
    }
    // Reference types without bulk memory is refused, as in wasmtime.
    assert!(Engine::new(Config::new().wasm_bulk_memory(false)).is_err());
    // The always-on 2.0 features can be switched off through `wasm_features`.
    let sign_ext = "(module (func (param i32) (result i32) (i32.extend8_s (local.get 0))))";
    Module::new(&Engine::default(), sign_ext).unwrap();
    let mut config = Config::new();
    config.wasm_features(WasmFeatures::SIGN_EXTENSION, false);
    assert!(Module::new(&Engine::new(&config).unwrap(), sign_ext).is_err());
}

/// `run` calls `$down` with 49, which recurses down to 0 (50 `down`
/// frames), whose innermost call calls `$leaf`, which traps: 52 frames,
/// innermost `leaf`, outermost `run`.
const DEEP: &str = r#"(module $deep
  (func $run (export "run") (call $down (i32.const 49)))
  (func $down (param i32)
    (if (local.get 0)
      (then (call $down (i32.sub (local.get 0) (i32.const 1))))
      (else (call $leaf))))
  (func $leaf unreachable))"#;

/// The error of running [`DEEP`] in `tier` with `tweak` applied.
fn deep_trap(tier: Tier, tweak: impl FnOnce(&mut Config)) -> kiln::Error {
    let engine = tiers::engine_with(tier, tweak);
    let module = tiers::module(tier, &engine, DEEP);
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    let err = run.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached),
        "{}",
        tier.name()
    );
    err
}

fn frame_names(err: &kiln::Error) -> Option<Vec<String>> {
    let bt = err.downcast_ref::<WasmBacktrace>()?;
    Some(
        bt.frames()
            .iter()
            .map(|f| f.func_name().unwrap_or("?").to_owned())
            .collect(),
    )
}

#[test]
fn backtrace_max_frames_caps_deep_backtraces_in_every_tier() {
    for tier in tiers() {
        let name = tier.name();
        // Default: 20 frames, the innermost ones.
        let names = frame_names(&deep_trap(tier, |_| {})).expect(name);
        assert_eq!(names.len(), 20, "{name}: {names:?}");
        assert_eq!(names[0], "leaf", "{name}");
        assert!(names[1..].iter().all(|n| n == "down"), "{name}: {names:?}");

        let names = frame_names(&deep_trap(tier, |c| {
            c.wasm_backtrace_max_frames(NonZeroUsize::new(3));
        }))
        .expect(name);
        assert_eq!(names, ["leaf", "down", "down"], "{name}");

        // A limit above the depth keeps every frame, down to the export.
        let names = frame_names(&deep_trap(tier, |c| {
            c.wasm_backtrace_max_frames(NonZeroUsize::new(1000));
        }))
        .expect(name);
        assert_eq!(names.len(), 52, "{name}: {names:?}");
        assert_eq!(names.last().map(String::as_str), Some("run"), "{name}");

        // None: the trap comes back without a backtrace.
        let err = deep_trap(tier, |c| {
            c.wasm_backtrace_max_frames(None);
        });
        assert!(frame_names(&err).is_none(), "{name}: {err:?}");
        #[allow(deprecated)]
        let err = deep_trap(tier, |c| {
            c.wasm_backtrace(false);
        });
        assert!(frame_names(&err).is_none(), "{name}: {err:?}");
    }
}

#[test]
fn generate_address_map_decides_whether_frames_have_offsets() {
    for tier in tiers() {
        let name = tier.name();
        let err = deep_trap(tier, |_| {});
        let bt = err.downcast_ref::<WasmBacktrace>().expect(name);
        assert!(
            bt.frames().iter().all(|f| f.module_offset().is_some()),
            "{name}"
        );
        let err = deep_trap(tier, |c| {
            c.generate_address_map(false);
        });
        let bt = err.downcast_ref::<WasmBacktrace>().expect(name);
        assert_eq!(bt.frames().len(), 20, "{name}");
        assert!(
            bt.frames().iter().all(|f| f.module_offset().is_none()),
            "{name}"
        );
    }
}

#[test]
fn settings_kiln_cannot_honour_make_engine_new_fail() {
    let cases: [(&str, Apply); 3] = [
        ("debug_info(true)", |c| c.debug_info(true)),
        ("memory_may_move(false)", |c| c.memory_may_move(false)),
        ("cranelift_nan_canonicalization(true)", |c| {
            c.cranelift_nan_canonicalization(true)
        }),
    ];
    for (setting, apply) in cases {
        let mut config = Config::new();
        apply(&mut config);
        let err = Engine::new(&config).expect_err(setting).to_string();
        assert!(
            err.contains(&format!("Config::{setting} is not supported by Kiln")),
            "{err}"
        );
    }
    // Their defaults are fine and can be set explicitly.
    let engine = Engine::new(
        Config::new()
            .debug_info(false)
            .memory_may_move(true)
            .cranelift_nan_canonicalization(false),
    )
    .unwrap();
    assert!(!engine.get_debug_info());
    assert!(engine.get_memory_may_move());
}

/// `grow` grows memory 0 and then stores past the old end; `oob` stores
/// past the current end.
const MEMORY: &str = r#"(module
  (memory 1)
  (func (export "grow") (result i32)
    (drop (memory.grow (i32.const 3)))
    (i32.store (i32.const 200000) (i32.const 7))
    (i32.load (i32.const 200000)))
  (func (export "oob") (i32.store (i32.const 262144) (i32.const 1))))"#;

#[test]
fn settings_for_mechanisms_kiln_lacks_are_accepted_and_change_nothing() {
    for tier in tiers() {
        let name = tier.name();
        let engine = tiers::engine_with(tier, |c| {
            c.signals_based_traps(false)
                .memory_reservation(1 << 20)
                .memory_reservation_for_growth(0)
                .memory_guard_size(0)
                .guard_before_linear_memory(false)
                .memory_init_cow(false)
                .native_unwind_info(false)
                .wasm_backtrace_details(WasmBacktraceDetails::Enable)
                .wasm_branch_hinting(true)
                .relaxed_simd_deterministic(true);
        });
        // Bounds are still checked explicitly; memories still grow.
        let module = tiers::module(tier, &engine, MEMORY);
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let grow = instance
            .get_typed_func::<(), i32>(&mut store, "grow")
            .unwrap();
        assert_eq!(grow.call(&mut store, ()).unwrap(), 7, "{name}");
        let oob = instance
            .get_typed_func::<(), ()>(&mut store, "oob")
            .unwrap();
        let err = oob.call(&mut store, ()).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::MemoryOutOfBounds),
            "{name}"
        );
        // The getters say what Kiln does, not what was asked for.
        assert!(!engine.get_signals_based_traps());
        assert_eq!(engine.get_memory_reservation(), 0);
        assert_eq!(engine.get_memory_guard_size(), 0);
        assert!(!engine.get_guard_before_linear_memory());
        assert!(!engine.get_memory_init_cow());
        assert!(!engine.get_wasm_branch_hinting());
        // No DWARF: frames have no file or line, whatever the setting.
        let err = deep_trap(tier, |c| {
            c.wasm_backtrace_details(WasmBacktraceDetails::Enable);
        });
        let trace = err.downcast_ref::<WasmBacktrace>().expect(name);
        assert!(
            trace.frames().iter().all(|f| f.symbols().is_empty()),
            "{name}"
        );
    }
}

/// A digest of what makes `engine`'s serialised modules loadable.
#[cfg(feature = "jit")]
fn hash(engine: &Engine) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.finish()
}

#[test]
#[cfg(feature = "jit")]
fn cranelift_debug_verifier_reaches_cranelift() {
    let verified = Engine::new(
        Config::new()
            .strategy(Strategy::Cranelift)
            .cranelift_debug_verifier(true),
    )
    .unwrap();
    let unverified = Engine::new(
        Config::new()
            .strategy(Strategy::Cranelift)
            .cranelift_debug_verifier(false),
    )
    .unwrap();
    assert_eq!(verified.get_cranelift_debug_verifier(), Some(true));
    assert_eq!(unverified.get_cranelift_debug_verifier(), Some(false));
    // The flag is part of Cranelift's settings, so code compiled with one
    // setting is not loaded by an engine with the other.
    assert_ne!(hash(&verified), hash(&unverified));
    let bytes = verified
        .precompile_module(b"(module (func (export \"f\")))")
        .unwrap();
    // SAFETY: `bytes` were serialised by Kiln just above.
    let err = unsafe { Module::deserialize(&unverified, &bytes) }.unwrap_err();
    assert!(
        format!("{err:#}").contains("incompatible engine configuration"),
        "{err:#}"
    );
    // Both compile and run code.
    for engine in [&verified, &unverified] {
        let module = Module::new(
            engine,
            "(module (func (export \"f\") (result i32) i32.const 5))",
        )
        .unwrap();
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), 5);
    }
}

#[test]
fn engine_getters_report_the_configuration() {
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(256 * 1024)
        .parallel_compilation(false)
        .strategy(Strategy::Interpreter)
        .wasm_backtrace_max_frames(NonZeroUsize::new(7))
        .generate_address_map(false);
    let engine = Engine::new(&config).unwrap();
    assert!(engine.get_consume_fuel());
    assert!(engine.get_epoch_interruption());
    assert_eq!(engine.get_max_wasm_stack(), 256 * 1024);
    assert!(!engine.get_parallel_compilation());
    assert_eq!(engine.get_strategy(), Some(Strategy::Interpreter));
    assert_eq!(engine.get_cranelift_opt_level(), None);
    assert_eq!(engine.get_wasm_backtrace_max_frames(), 7);
    assert!(!engine.get_generate_address_map());
    assert!(engine.get_pooling_config().is_none());

    let engine = Engine::default();
    assert!(!engine.get_consume_fuel());
    assert_eq!(engine.get_wasm_backtrace_max_frames(), 20);
    assert!(engine.get_generate_address_map());
    assert_eq!(engine.get_max_wasm_stack(), 512 * 1024);
    let expected = if cfg!(feature = "jit") {
        Strategy::Tiered
    } else {
        Strategy::Interpreter
    };
    assert_eq!(engine.get_strategy(), Some(expected));
    if cfg!(feature = "jit") {
        assert_eq!(engine.get_cranelift_opt_level(), Some(OptLevel::Speed));
        assert_eq!(engine.get_native_unwind_info(), Some(false));
    }
    let pooled =
        Engine::new(Config::new().allocation_strategy(kiln::PoolingAllocationConfig::default()))
            .unwrap();
    assert!(pooled.get_pooling_config().is_some());
    let no_frames = Engine::new(Config::new().wasm_backtrace_max_frames(None)).unwrap();
    assert_eq!(no_frames.get_wasm_backtrace_max_frames(), 0);
}
