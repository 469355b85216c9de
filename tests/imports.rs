//! Instantiation: every import kind, import errors, segments and the start
//! function.

use kiln::{
    Engine, Extern, Func, Global, GlobalType, Instance, Memory, MemoryType, Module, Mutability,
    Ref, RefType, Store, Table, TableType, Trap, Val, ValType,
};

#[test]
fn every_import_kind_is_shared_with_the_host() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "env" "f" (func $f (result i32)))
             (import "env" "mem" (memory 1))
             (import "env" "tab" (table 2 funcref))
             (import "env" "g" (global $g (mut i32)))
             (func (export "run") (result i32)
               ;; write through the imported memory and global, call through the table
               i32.const 8 i32.const 0x11223344 i32.store
               global.get $g i32.const 1 i32.add global.set $g
               i32.const 0 call_indirect (result i32)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let f = Func::wrap(&mut store, || 99i32);
    let mem = Memory::new(&mut store, MemoryType::new(1, None))?;
    let tab = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 2, None),
        Ref::Func(None),
    )?;
    tab.set(&mut store, 0, Ref::Func(Some(f)))?;
    let g = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Var),
        Val::I32(41),
    )?;
    let imports: [Extern; 4] = [f.into(), mem.into(), tab.into(), g.into()];
    let instance = Instance::new(&mut store, &module, &imports)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 99);
    assert_eq!(g.get(&mut store).unwrap_i32(), 42);
    assert_eq!(&mem.data(&store)[8..12], &0x11223344u32.to_le_bytes());
    Ok(())
}

#[test]
fn wrong_import_count_and_types_are_clear_errors() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func (param i32))) (import "env" "m" (memory 2)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let err = Instance::new(&mut store, &module, &[]).err().unwrap();
    assert!(
        err.to_string().contains("expected 2 imports, found 0"),
        "{err}"
    );

    let wrong_func = Func::wrap(&mut store, |_: i64| {});
    let mem = Memory::new(&mut store, MemoryType::new(2, None))?;
    let err = Instance::new(&mut store, &module, &[wrong_func.into(), mem.into()])
        .err()
        .unwrap();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("incompatible import type for `env::f`"),
        "{msg}"
    );

    let right_func = Func::wrap(&mut store, |_: i32| {});
    let small = Memory::new(&mut store, MemoryType::new(1, None))?;
    let err = Instance::new(&mut store, &module, &[right_func.into(), small.into()])
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("incompatible import type for `env::m`"),
        "{err:#}"
    );

    // Kinds swapped.
    let err = Instance::new(&mut store, &module, &[mem.into(), right_func.into()])
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("incompatible import type"),
        "{err:#}"
    );
    Ok(())
}

#[test]
fn start_function_runs_and_its_trap_is_returned() -> kiln::Result<()> {
    let engine = Engine::default();
    let ok = Module::new(
        &engine,
        r#"(module (global (export "g") (mut i32) (i32.const 0))
                   (func $start i32.const 7 global.set 0) (start $start))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &ok, &[])?;
    let g = instance.get_global(&mut store, "g").unwrap();
    assert_eq!(g.get(&mut store).unwrap_i32(), 7);

    let trapping = Module::new(
        &engine,
        r#"(module (func $start unreachable) (start $start))"#,
    )?;
    let err = Instance::new(&mut store, &trapping, &[]).err().unwrap();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    Ok(())
}

#[test]
fn data_segment_trap_leaves_earlier_segments_applied() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "mem" (memory 1))
                   (data (i32.const 0) "abc")
                   (data (i32.const 65535) "xy"))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mem = Memory::new(&mut store, MemoryType::new(1, None))?;
    let err = Instance::new(&mut store, &module, &[mem.into()])
        .err()
        .unwrap();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    assert_eq!(&mem.data(&store)[0..3], b"abc");
    Ok(())
}

#[test]
fn module_reports_imports_and_exports() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module $named (import "a" "b" (func (param i32)))
             (memory (export "m") 1 3) (func (export "f") (result i64) i64.const 1))"#,
    )?;
    assert_eq!(module.name(), Some("named"));
    let imports: Vec<_> = module
        .imports()
        .map(|i| (i.module().to_string(), i.name().to_string()))
        .collect();
    assert_eq!(imports, [("a".to_string(), "b".to_string())]);
    let exports: Vec<_> = module.exports().map(|e| e.name().to_string()).collect();
    assert_eq!(exports, ["m", "f"]);
    let m = module.exports().find(|e| e.name() == "m").unwrap();
    let mt = m.ty().unwrap_memory().clone();
    assert_eq!((mt.minimum(), mt.maximum()), (1, Some(3)));
    Ok(())
}

#[test]
fn malformed_and_invalid_modules_are_errors_with_offsets() {
    let engine = Engine::default();
    let err = Module::new(&engine, b"\0asm\x01\0\0\0\x01\x05")
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("offset"), "{err:#}");
    let err = Module::new(&engine, r#"(module (func (result i32) i64.const 0))"#)
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("type mismatch"), "{err:#}");
    assert!(Module::validate(&engine, b"not wasm").is_err());
}
