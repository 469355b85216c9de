//! Unit tests of the linker's core paths (the end-to-end tests are in
//! `tests/linker.rs`).

use super::*;
use crate::{Memory, MemoryType, Store, ValType};

#[test]
fn resolves_imports_by_name() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, 0u32);
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("env", "bump", |mut caller: Caller<'_, u32>| {
            *caller.data_mut() += 1
        })
        .unwrap();
    let ty = FuncType::new(&engine, [ValType::I32], [ValType::I32]);
    linker
        .func_new("env", "double", ty, |_, args, results| {
            results[0] = Val::I32(args[0].unwrap_i32() * 2);
            Ok(())
        })
        .unwrap();
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    linker.define(&store, "env", "memory", memory).unwrap();

    let module = Module::new(
        &engine,
        r#"(module
             (import "env" "bump" (func $bump))
             (import "env" "double" (func $double (param i32) (result i32)))
             (import "env" "memory" (memory 1))
             (func (export "run") (result i32) call $bump i32.const 21 call $double))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 42);
    assert_eq!(*store.data(), 1);
    assert!(
        linker
            .get(&mut store, "env", "memory")
            .unwrap()
            .into_memory()
            .is_some()
    );
    assert!(linker.get(&mut store, "env", "nope").is_err());

    // Re-export an instance under a new name and link against it.
    linker.instance(&mut store, "first", instance).unwrap();
    let user = Module::new(
        &engine,
        r#"(module (import "first" "run" (func (result i32))))"#,
    )
    .unwrap();
    linker.instantiate(&mut store, &user).unwrap();
}

#[test]
fn redefinition_and_missing_imports_are_errors() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("m", "f", || {}).unwrap();
    let err = linker.func_wrap("m", "f", || 1i32).err().unwrap();
    assert!(err.to_string().contains("defined twice"), "{err}");
    linker
        .allow_shadowing(true)
        .func_wrap("m", "f", || 1i32)
        .unwrap();

    let module = Module::new(&engine, r#"(module (import "m" "g" (func)))"#).unwrap();
    let err = linker.instantiate(&mut store, &module).err().unwrap();
    assert!(err.to_string().contains("unknown import: `m::g`"), "{err}");

    let mut other = Store::new(&engine, ());
    let foreign = Memory::new(&mut other, MemoryType::new(0, None)).unwrap();
    assert!(linker.define(&store, "m", "mem", foreign).is_err());
}

#[test]
fn host_functions_are_placed_once_per_store() {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", || {}).unwrap();
    linker.alias("env", "f", "env", "g").unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func)) (import "env" "g" (func)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let count = |store: &Store<()>| store.as_context().opaque().host_funcs.len();
    for _ in 0..20 {
        linker.instantiate(&mut store, &module).unwrap();
        linker.get(&mut store, "env", "f").unwrap();
    }
    // `f` and its alias `g` share one definition, hence one function.
    assert_eq!(count(&store), 1);
    let pre = linker.clone().instantiate_pre(&module).unwrap();
    pre.instantiate(&mut store).unwrap();
    assert_eq!(count(&store), 1);
    // A new definition is one more function.
    linker
        .allow_shadowing(true)
        .func_wrap("env", "g", || {})
        .unwrap();
    linker.instantiate(&mut store, &module).unwrap();
    assert_eq!(count(&store), 2);
}

#[test]
fn instance_pre_rechecks_count_and_kinds_cheaply() {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (import "env" "f" (func)))"#).unwrap();
    let mut store = Store::new(&engine, ());
    // The linker never builds these, but a mismatched list is an error,
    // not undefined behaviour.
    let empty = InstancePre::<()>::new(module.clone(), Vec::new().into());
    let err = empty.instantiate(&mut store).unwrap_err();
    assert_eq!(err.to_string(), "expected 1 imports, found 0");
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let wrong = Definition::new(store.as_context().opaque(), Extern::Memory(memory)).unwrap();
    let pre = InstancePre::<()>::new(module, vec![wrong].into());
    let err = pre.instantiate(&mut store).unwrap_err();
    assert_eq!(err.to_string(), "incompatible import type for `env::f`");
    assert!(format!("{err:#}").contains("expected func, but found memory"));
}
