//! Small pieces of wasmtime's core API that Kiln has under the same names
//! (see `docs/wasmtime-api.md`): engine handles, module identity, fallible
//! constructors, type helpers, pooling getters, frame symbols, the error
//! macros.

use kiln::{
    Engine, EngineWeak, FrameSymbol, Func, FuncType, HeapType, Instance, MemoryType, Module,
    PoolingAllocationConfig, RefType, Store, Trap, Val, ValType, WasmBacktrace,
};

#[test]
fn weak_engines_upgrade_while_a_clone_lives() {
    let engine = Engine::default();
    let weak = engine.weak();
    let again = weak.upgrade().expect("the engine is alive");
    assert!(Engine::same(&engine, &again));
    drop((engine, again));
    assert!(weak.upgrade().is_none());
    assert!(EngineWeak::default().upgrade().is_none());
    assert!(!Engine::default().is_pulley());
    // `kiln::wasmparser` is the crate whose flags the engine reports.
    let features: kiln::wasmparser::WasmFeatures = Engine::default().get_wasm_features();
    assert!(features.contains(kiln::wasmparser::WasmFeatures::MULTI_VALUE));
    assert!(!features.contains(kiln::wasmparser::WasmFeatures::SIMD));
    Engine::tls_eager_initialize();
}

#[test]
fn module_same_is_identity_not_contents() {
    let engine = Engine::default();
    let wat = "(module (func (export \"f\")))";
    let a = Module::new(&engine, wat).unwrap();
    let b = Module::new(&engine, wat).unwrap();
    assert!(Module::same(&a, &a.clone()));
    assert!(!Module::same(&a, &b));
    // No copy-on-write images to prepare; the module still instantiates.
    a.initialize_copy_on_write_image().unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &a, &[]).unwrap();
    assert!(instance.get_func(&mut store, "f").is_some());
}

#[test]
fn from_trusted_file_loads_wasm_and_serialised_modules() {
    let engine = Engine::default();
    let dir = std::env::temp_dir().join(format!("kiln-trusted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wasm = dir.join("m.wat");
    std::fs::write(
        &wasm,
        "(module (func (export \"seven\") (result i32) i32.const 7))",
    )
    .unwrap();
    let cwasm = dir.join("m.cwasm");
    std::fs::write(
        &cwasm,
        engine
            .precompile_module(&std::fs::read(&wasm).unwrap())
            .unwrap(),
    )
    .unwrap();
    for path in [&wasm, &cwasm] {
        // SAFETY: the serialised file was written by Kiln just above.
        let module = unsafe { Module::from_trusted_file(&engine, path) }.unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let seven = instance
            .get_typed_func::<(), i32>(&mut store, "seven")
            .unwrap();
        assert_eq!(seven.call(&mut store, ()).unwrap(), 7, "{}", path.display());
    }
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, b"not wasm").unwrap();
    // SAFETY: not a serialised module, so nothing is trusted.
    assert!(unsafe { Module::from_trusted_file(&engine, &garbage) }.is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fallible_constructors_and_matches_ty() {
    let engine = Engine::default();
    let mut store = Store::try_new(&engine, 5u32).unwrap();
    let double = Func::try_wrap(&mut store, |x: i32| x * 2).unwrap();
    let i32_to_i32 = FuncType::new(&engine, [ValType::I32], [ValType::I32]);
    let i64_to_i64 = FuncType::new(&engine, [ValType::I64], [ValType::I64]);
    assert!(double.matches_ty(&store, &i32_to_i32));
    assert!(!double.matches_ty(&store, &i64_to_i64));
    let mut out = [Val::I32(0)];
    double.call(&mut store, &[Val::I32(21)], &mut out).unwrap();
    assert_eq!(out[0].unwrap_i32(), 42);

    let data = Func::try_new(&mut store, i64_to_i64.clone(), |caller, _, results| {
        results[0] = Val::I64(i64::from(*caller.data()));
        Ok(())
    })
    .unwrap();
    assert!(data.matches_ty(&store, &i64_to_i64));
    let mut out = [Val::I64(0)];
    data.call(&mut store, &[Val::I64(0)], &mut out).unwrap();
    assert_eq!(out[0].unwrap_i64(), 5);
}

#[test]
fn store_context_reads_fuel() {
    let mut config = kiln::Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(123).unwrap();
    assert_eq!(kiln::AsContext::as_context(&store).get_fuel().unwrap(), 123);
    let unfuelled = Store::new(&Engine::default(), ());
    let err = kiln::AsContext::as_context(&unfuelled)
        .get_fuel()
        .unwrap_err();
    assert!(err.to_string().contains("consume_fuel"), "{err}");
}

#[test]
fn value_type_helpers() {
    assert!(HeapType::Func.is_func() && !HeapType::Func.is_extern());
    assert!(HeapType::Extern.is_extern() && !HeapType::Extern.is_func());
    for ty in [HeapType::Func, HeapType::Extern] {
        assert!(ty.is_abstract() && !ty.is_concrete() && ty.is_top());
        assert_eq!(ty.top(), ty);
        assert!(ty.matches(&ty));
    }
    assert!(!HeapType::Func.matches(&HeapType::Extern));

    assert!(matches!(Val::null_ref(&HeapType::Func), Val::FuncRef(None)));
    assert!(matches!(
        Val::null_ref(&HeapType::Extern),
        Val::ExternRef(None)
    ));
    assert_eq!(ValType::from(RefType::EXTERNREF), ValType::EXTERNREF);
    assert!(matches!(ValType::I64.default_value(), Some(Val::I64(0))));
    assert!(matches!(
        ValType::FUNCREF.default_value(),
        Some(Val::FuncRef(None))
    ));
    assert!(
        ValType::Ref(RefType::new(false, HeapType::Func))
            .default_value()
            .is_none()
    );
    assert!(ValType::V128.default_value().is_none());
    assert_eq!(MemoryType::new(1, None).page_size_log2(), 16);
    assert!(!kiln::TableType::new(RefType::FUNCREF, 1, None).is_64());
    assert_eq!(
        1u64 << MemoryType::new(1, None).page_size_log2(),
        MemoryType::new(1, None).page_size()
    );
}

#[test]
fn pooling_getters_return_what_was_set() {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(3)
        .total_memories(4)
        .total_tables(5)
        .max_memory_size(6 << 16)
        .table_elements(7)
        .max_memories_per_module(1)
        .max_tables_per_module(2)
        .max_core_instance_size(8192)
        .max_unused_warm_slots(9);
    assert_eq!(pool.get_total_core_instances(), 3);
    assert_eq!(pool.get_total_memories(), 4);
    assert_eq!(pool.get_total_tables(), 5);
    assert_eq!(pool.get_max_memory_size(), 6 << 16);
    assert_eq!(pool.get_table_elements(), 7);
    assert_eq!(pool.get_max_memories_per_module(), 1);
    assert_eq!(pool.get_max_tables_per_module(), 2);
    assert_eq!(pool.get_max_core_instance_size(), 8192);
    assert_eq!(pool.get_max_unused_warm_slots(), 9);
    let engine = Engine::new(kiln::Config::new().allocation_strategy(pool)).unwrap();
    assert_eq!(
        engine
            .get_pooling_config()
            .map(|p| p.get_total_core_instances()),
        Some(3)
    );
}

#[test]
fn frames_have_no_symbols_without_dwarf() {
    let engine = Engine::default();
    let module = Module::new(&engine, "(module (func (export \"f\") unreachable))").unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    let bt = err.downcast_ref::<WasmBacktrace>().unwrap();
    assert_eq!(bt.frames().len(), 1);
    let symbols: &[FrameSymbol] = bt.frames()[0].symbols();
    assert!(symbols.is_empty());
}

fn checked(x: u32) -> kiln::Result<u32> {
    kiln::ensure!(x < 10, "{x} is too big");
    if x == 3 {
        kiln::bail!("three is not allowed");
    }
    Err(kiln::format_err!("got {x}"))
}

#[test]
fn error_macros_and_module_match_wasmtimes() {
    assert_eq!(checked(12).unwrap_err().to_string(), "12 is too big");
    assert_eq!(checked(3).unwrap_err().to_string(), "three is not allowed");
    assert_eq!(checked(4).unwrap_err().to_string(), "got 4");
    use kiln::error::Context as _;
    let err: kiln::error::Error = checked(4).context("while checking").unwrap_err();
    assert_eq!(format!("{err:#}"), "while checking: got 4");
    let ok: kiln::error::Result<u32> = "1".parse::<u32>().map_err(kiln::error::Error::from);
    assert_eq!(ok.unwrap(), 1);
}

#[test]
fn module_export_indices_find_exports_of_their_own_module_only() {
    let engine = Engine::default();
    let wat = r#"(module
        (import "host" "peek" (func $peek (result i32)))
        (global (export "g") i32 (i32.const 41))
        (func (export "answer") (result i32) (i32.add (call $peek) (i32.const 1))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let twin = Module::new(&engine, wat).unwrap();
    let g = module.get_export_index("g").unwrap();
    assert!(module.get_export_index("missing").is_none());
    // The host function reads global `g` of its caller through the index
    // of `module`: found for instances of `module`, not of its twin.
    let mut linker = kiln::Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "peek",
            move |mut caller: kiln::Caller<'_, ()>| match caller.get_module_export(&g) {
                Some(kiln::Extern::Global(global)) => global.get(&mut caller).unwrap_i32(),
                Some(_) => panic!("`g` is a global"),
                None => -1000,
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let other = linker.instantiate(&mut store, &twin).unwrap();
    let global = instance.get_module_export(&mut store, &g).unwrap();
    assert_eq!(
        global.into_global().unwrap().get(&mut store).unwrap_i32(),
        41
    );
    assert!(other.get_module_export(&mut store, &g).is_none());
    let answer = |i: Instance, store: &mut Store<()>| {
        i.get_typed_func::<(), i32>(&mut *store, "answer")
            .unwrap()
            .call(store, ())
            .unwrap()
    };
    assert_eq!(answer(instance, &mut store), 42);
    assert_eq!(answer(other, &mut store), -999);
    // The index of a function export gives the function.
    let f = module.get_export_index("answer").unwrap();
    let func = instance.get_module_export(&mut store, &f).unwrap();
    assert!(func.into_func().is_some());
}

#[test]
fn typed_func_new_unchecked_calls_like_typed() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        "(module (func (export \"mul\") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1))))",
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let func = instance.get_func(&mut store, "mul").unwrap();
    assert!(func.typed::<(i64, i64), i64>(&store).is_ok());
    // SAFETY: `typed` accepts the same types just above.
    let mul = unsafe { kiln::TypedFunc::<(i64, i64), i64>::new_unchecked(&store, func) };
    assert_eq!(mul.call(&mut store, (6, -7)).unwrap(), -42);
    // Calls still check the store.
    let mut other = Store::new(&engine, ());
    assert!(mul.call(&mut other, (1, 1)).is_err());
}
