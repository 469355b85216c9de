//! `InstancePre`: imports checked once, then instantiated in many stores.

use kiln::{
    Caller, Engine, Func, Global, GlobalType, Instance, InstancePre, Linker, Memory, MemoryType,
    Module, Mutability, Store, Val, ValType,
};

/// Store data: not `Clone`, to show `InstancePre` does not need it.
struct Counter(u32);

fn counting_linker(engine: &Engine) -> kiln::Result<Linker<Counter>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap("host", "tick", |mut caller: Caller<'_, Counter>| {
        caller.data_mut().0 += 1;
        caller.data().0 as i32
    })?;
    Ok(linker)
}

#[test]
fn one_pre_instantiates_in_many_stores() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module $counted
             (import "host" "tick" (func $tick (result i32)))
             (global $g (mut i32) (i32.const 0))
             (func $start (global.set $g (call $tick)))
             (start $start)
             (func (export "run") (result i32) (i32.add (global.get $g) (call $tick))))"#,
    )?;
    let linker = counting_linker(&engine)?;
    let pre: InstancePre<Counter> = linker.instantiate_pre(&module)?;
    assert_eq!(pre.module().name(), Some("counted"));
    let copy = pre.clone();
    for i in 0..50 {
        let mut store = Store::new(&engine, Counter(i));
        let pre = if i % 2 == 0 { &pre } else { &copy };
        let instance = pre.instantiate(&mut store)?;
        // The start function ran once in this store: `g` is i + 1.
        let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, ())?, (i + 1) as i32 + (i + 2) as i32);
        // And again in the same store: a separate instance.
        let second = pre.instantiate(&mut store)?;
        let run = second.get_typed_func::<(), i32>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, ())?, (i + 3) as i32 + (i + 4) as i32);
    }
    Ok(())
}

#[test]
fn type_errors_are_reported_by_instantiate_pre() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "tick" (func (param i64))))"#,
    )?;
    let linker = counting_linker(&engine)?;
    let err = linker.instantiate_pre(&module).unwrap_err();
    assert_eq!(err.to_string(), "incompatible import type for `host::tick`");
    let chain = format!("{err:#}");
    assert!(
        chain.contains("expected func of type `(func (param i64))`")
            && chain.contains("found func of type `(func (result i32))`"),
        "{chain}"
    );

    let wrong_kind = Module::new(&engine, r#"(module (import "host" "tick" (global i32)))"#)?;
    let err = linker.instantiate_pre(&wrong_kind).unwrap_err();
    assert!(
        format!("{err:#}").contains("expected global, but found func"),
        "{err:#}"
    );

    let mut store = Store::new(&engine, Counter(0));
    let mut with_global = counting_linker(&engine)?;
    let global = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Var),
        Val::I32(0),
    )?;
    with_global.define(&store, "host", "g", global)?;
    let immutable = Module::new(&engine, r#"(module (import "host" "g" (global i32)))"#)?;
    let err = with_global.instantiate_pre(&immutable).unwrap_err();
    assert!(
        format!("{err:#}").contains("global types incompatible"),
        "{err:#}"
    );
    Ok(())
}

#[test]
fn cross_engine_and_cross_store_use_are_errors() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "tick" (func (result i32))))"#,
    )?;
    let pre = counting_linker(&engine)?.instantiate_pre(&module)?;

    // A store of another engine.
    let other_engine = Engine::default();
    let err = pre
        .instantiate(&mut Store::new(&other_engine, Counter(0)))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cross-`Engine` instantiation is not currently supported"
    );
    // A module of another engine.
    let foreign = Module::new(&other_engine, "(module)")?;
    let err = counting_linker(&engine)?
        .instantiate_pre(&foreign)
        .unwrap_err();
    assert!(err.to_string().contains("cross-`Engine`"), "{err}");

    // Store-owned definitions tie the pre to their store.
    let mut home = Store::new(&engine, Counter(0));
    let memory = Memory::new(&mut home, MemoryType::new(1, None))?;
    let mut linker = counting_linker(&engine)?;
    linker.define(&home, "env", "memory", memory)?;
    let uses_memory = Module::new(&engine, r#"(module (import "env" "memory" (memory 1)))"#)?;
    let pre = linker.instantiate_pre(&uses_memory)?;
    pre.instantiate(&mut home)?;
    let err = pre
        .instantiate(&mut Store::new(&engine, Counter(0)))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cross-`Store` instantiation is not currently supported"
    );
    Ok(())
}

#[test]
fn instantiation_failures_after_checking_are_reported() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
    )?;
    let pre = Linker::<()>::new(&engine).instantiate_pre(&module)?;
    let err = pre.instantiate(&mut Store::new(&engine, ())).unwrap_err();
    assert_eq!(
        err.downcast_ref::<kiln::Trap>(),
        Some(&kiln::Trap::MemoryOutOfBounds)
    );
    Ok(())
}

#[test]
fn a_pre_is_send_and_sync_and_works_across_threads() -> kiln::Result<()> {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "tick" (func $t (result i32)))
             (func (export "run") (result i32) call $t))"#,
    )?;
    let pre = counting_linker(&engine)?.instantiate_pre(&module)?;
    assert_send_sync(&pre);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let pre = pre.clone();
            let engine = engine.clone();
            std::thread::spawn(move || -> kiln::Result<i32> {
                let mut store = Store::new(&engine, Counter(i * 10));
                let instance: Instance = pre.instantiate(&mut store)?;
                let run: Func = instance.get_func(&mut store, "run").unwrap();
                run.typed::<(), i32>(&store)?.call(&mut store, ())
            })
        })
        .collect();
    for (i, thread) in threads.into_iter().enumerate() {
        assert_eq!(thread.join().unwrap()?, i as i32 * 10 + 1);
    }
    Ok(())
}
