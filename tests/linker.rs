//! `Linker`: name resolution, shadowing, unknown imports, Commands and
//! Reactors, aliases and lookups.

use kiln::{
    Caller, Engine, Extern, ExternType, Func, FuncType, Global, GlobalType, Linker, Memory,
    MemoryType, Module, Mutability, Store, Trap, UnknownImportError, Val, ValRaw, ValType,
};

/// Store data recording which host functions ran.
type Log = Vec<&'static str>;

fn call_i32(store: &mut Store<impl Sized + 'static>, func: Func) -> kiln::Result<i32> {
    func.typed::<(), i32>(&*store)?.call(&mut *store, ())
}

fn run_i32<T: 'static>(
    store: &mut Store<T>,
    instance: kiln::Instance,
    name: &str,
) -> kiln::Result<i32> {
    instance
        .get_typed_func::<(), i32>(&mut *store, name)?
        .call(&mut *store, ())
}

#[test]
fn new_default_engine_and_clone() -> kiln::Result<()> {
    // `T` needs neither `Clone` nor `Default`.
    struct NotClone;
    let engine = Engine::default();
    let mut linker = Linker::<NotClone>::new(&engine);
    assert!(Engine::same(linker.engine(), &engine));
    linker.func_wrap("env", "one", || 1i32)?;
    let copy = linker.clone();
    let mut store = Store::new(&engine, NotClone);
    let one = copy
        .get(&mut store, "env", "one")
        .unwrap()
        .into_func()
        .unwrap();
    assert_eq!(call_i32(&mut store, one)?, 1);

    let default = Linker::<()>::default();
    let module = Module::new(default.engine(), "(module)")?;
    default.instantiate(&mut Store::new(default.engine(), ()), &module)?;
    assert!(format!("{copy:?}").contains("env::one"));
    Ok(())
}

#[test]
fn shadowing_off_is_an_error_and_on_lets_the_later_definition_win() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func $f (result i32)))
             (func (export "run") (result i32) call $f))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", || 1i32)?;
    let err = linker.func_wrap("env", "f", || 2i32).err().unwrap();
    assert_eq!(err.to_string(), "import of `env::f` defined twice");
    let g = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(0),
    )?;
    assert!(linker.define(&store, "env", "f", g).is_err());
    let instance = linker.instantiate(&mut store, &module)?;
    assert_eq!(run_i32(&mut store, instance, "run")?, 1);

    linker.allow_shadowing(true);
    linker.func_wrap("env", "f", || 2i32)?;
    let instance = linker.instantiate(&mut store, &module)?;
    assert_eq!(run_i32(&mut store, instance, "run")?, 2);
    let ty = FuncType::new(&engine, [], [ValType::I32]);
    linker.func_new("env", "f", ty, |_, _, results| {
        results[0] = Val::I32(3);
        Ok(())
    })?;
    let instance = linker.instantiate(&mut store, &module)?;
    assert_eq!(run_i32(&mut store, instance, "run")?, 3);
    Ok(())
}

#[test]
fn unknown_imports_as_traps() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "env" "known" (func $known (result i32)))
             (import "env" "missing" (func $missing (param i32) (result i64)))
             (func (export "known") (result i32) call $known)
             (func (export "missing") (result i64) i32.const 1 call $missing))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "known", || 7i32)?;
    linker.define_unknown_imports_as_traps(&module)?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    // Defined imports are untouched.
    assert_eq!(run_i32(&mut store, instance, "known")?, 7);
    let missing = instance.get_typed_func::<(), i64>(&mut store, "missing")?;
    let err = missing.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnknownImport));
    let unknown = err.downcast_ref::<UnknownImportError>().unwrap();
    assert_eq!((unknown.module(), unknown.name()), ("env", "missing"));
    assert!(unknown.ty().func().is_some());
    let text = format!("{err:#}");
    assert!(
        text.contains("called an unknown imported function"),
        "{text}"
    );
    assert!(
        text.contains("`env::missing` has not been defined"),
        "{text}"
    );

    // Only functions are defined that way; a missing memory stays missing.
    let with_memory = Module::new(
        &engine,
        r#"(module (import "env" "f" (func)) (import "env" "mem" (memory 1)))"#,
    )?;
    let mut linker = Linker::<()>::new(&engine);
    linker.define_unknown_imports_as_traps(&with_memory)?;
    let err = linker
        .instantiate(&mut Store::new(&engine, ()), &with_memory)
        .unwrap_err();
    assert_eq!(
        err.downcast_ref::<UnknownImportError>().unwrap().name(),
        "mem"
    );
    Ok(())
}

#[test]
fn unknown_imports_as_default_values() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "env" "i32" (func $i32 (param i32) (result i32)))
             (import "env" "many" (func $many (result i64 f32 f64)))
             (import "env" "refs" (func $refs (result funcref externref)))
             (import "env" "kept" (func $kept (result i32)))
             (import "env" "g" (global $g i32))
             (import "env" "gm" (global $gm (mut f64)))
             (import "env" "mem" (memory 2 3))
             (import "env" "tab" (table $tab 4 funcref))
             (func (export "i32") (result i32) i32.const 9 call $i32)
             (func (export "many") (result i64 f32 f64) call $many)
             (func (export "refs") (result i32) (local $f funcref) (local $e externref)
               call $refs local.set $e local.set $f
               (i32.add (i32.shl (ref.is_null (local.get $f)) (i32.const 1))
                        (ref.is_null (local.get $e))))
             (func (export "kept") (result i32) call $kept)
             (func (export "g") (result i32) global.get $g)
             (func (export "set_gm") f64.const 1.5 global.set $gm)
             (func (export "mem_size") (result i32) memory.size)
             (func (export "mem_sum") (result i32) (local $i i32) (local $sum i32)
               (loop $l
                 (local.set $sum (i32.or (local.get $sum) (i32.load8_u (local.get $i))))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const 131072))))
               local.get $sum)
             (func (export "tab_null") (result i32) (ref.is_null (table.get $tab (i32.const 3))))
             (func (export "tab_size") (result i32) table.size $tab))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "kept", || 5i32)?;
    linker.define_unknown_imports_as_default_values(&mut store, &module)?;
    let instance = linker.instantiate(&mut store, &module)?;
    assert_eq!(run_i32(&mut store, instance, "i32")?, 0);
    let many = instance.get_typed_func::<(), (i64, f32, f64)>(&mut store, "many")?;
    assert_eq!(many.call(&mut store, ())?, (0, 0.0, 0.0));
    // Both references null: 1 << 1 | 1.
    assert_eq!(run_i32(&mut store, instance, "refs")?, 3);
    assert_eq!(run_i32(&mut store, instance, "kept")?, 5);
    assert_eq!(run_i32(&mut store, instance, "g")?, 0);
    // The mutable global is mutable, and is the linker's definition.
    instance
        .get_typed_func::<(), ()>(&mut store, "set_gm")?
        .call(&mut store, ())?;
    let gm = linker
        .get(&mut store, "env", "gm")
        .unwrap()
        .into_global()
        .unwrap();
    assert_eq!(gm.get(&mut store).unwrap_f64(), 1.5);
    assert_eq!(gm.ty(&store).mutability(), Mutability::Var);
    assert_eq!(run_i32(&mut store, instance, "mem_size")?, 2);
    assert_eq!(run_i32(&mut store, instance, "mem_sum")?, 0);
    let mem = linker
        .get(&mut store, "env", "mem")
        .unwrap()
        .into_memory()
        .unwrap();
    assert_eq!(mem.ty(&store), MemoryType::new(2, Some(3)));
    assert_eq!(run_i32(&mut store, instance, "tab_null")?, 1);
    assert_eq!(run_i32(&mut store, instance, "tab_size")?, 4);
    Ok(())
}

#[test]
fn define_define_name_and_store_checks() -> kiln::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    let mut linker = Linker::new(&engine);
    linker.define(&store, "env", "memory", memory)?;
    linker.define_name(&store, "memory", memory)?;
    assert!(linker.define_name(&store, "memory", memory).is_err());
    let module = Module::new(
        &engine,
        r#"(module (import "env" "memory" (memory 1))
             (func (export "store") (i32.store (i32.const 0) (i32.const 0x01020304))))"#,
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    instance
        .get_typed_func::<(), ()>(&mut store, "store")?
        .call(&mut store, ())?;
    assert_eq!(&memory.data(&store)[..4], &[4, 3, 2, 1]);

    // Items of another store, or of another engine's store, are refused.
    let mut other = Store::new(&engine, ());
    let foreign = Memory::new(&mut other, MemoryType::new(1, None))?;
    let err = linker
        .define(&store, "env", "foreign", foreign)
        .unwrap_err();
    assert!(err.to_string().contains("wrong store"), "{err}");
    let other_engine = Engine::default();
    let mut alien = Store::new(&other_engine, ());
    let alien_memory = Memory::new(&mut alien, MemoryType::new(1, None))?;
    let err = linker
        .define(&alien, "env", "alien", alien_memory)
        .unwrap_err();
    assert!(err.to_string().contains("cross-`Engine`"), "{err}");

    // A linker holding store-owned items cannot instantiate in another store.
    let err = linker.instantiate(&mut other, &module).unwrap_err();
    assert!(err.to_string().contains("cross-`Store`"), "{err}");
    Ok(())
}

#[test]
fn func_new_func_new_unchecked_and_func_wrap() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "wrap" (func $wrap (param i32) (result i32)))
             (import "host" "new" (func $new (param i32) (result i32)))
             (import "host" "raw" (func $raw (param i64 i64) (result i64)))
             (func (export "run") (result i64)
               (i64.extend_i32_s (call $new (call $wrap (i32.const 5))))
               i64.const 100
               call $raw))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "wrap", |mut caller: Caller<'_, Log>, x: i32| {
        caller.data_mut().push("wrap");
        x + 1
    })?;
    let ty = FuncType::new(&engine, [ValType::I32], [ValType::I32]);
    linker.func_new("host", "new", ty, |mut caller, params, results| {
        caller.data_mut().push("new");
        results[0] = Val::I32(params[0].unwrap_i32() * 10);
        Ok(())
    })?;
    let raw_ty = FuncType::new(&engine, [ValType::I64, ValType::I64], [ValType::I64]);
    // SAFETY: the closure writes an `i64` into the single result slot.
    unsafe {
        linker.func_new_unchecked("host", "raw", raw_ty, |mut caller, slots| {
            caller.data_mut().push("raw");
            let sum = slots[0].get_i64() + slots[1].get_i64();
            slots[0] = ValRaw::i64(sum);
            Ok(())
        })?;
    }
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i64>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 160);
    assert_eq!(store.data(), &["wrap", "new", "raw"]);
    Ok(())
}

#[test]
fn instance_exports_become_definitions() -> kiln::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let lib = Module::new(
        &engine,
        r#"(module
             (memory (export "memory") 1)
             (global (export "base") i32 (i32.const 16))
             (func (export "get") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    )?;
    let lib = linker.instantiate(&mut store, &lib)?;
    linker.instance(&mut store, "lib", lib)?;
    let user = Module::new(
        &engine,
        r#"(module
             (import "lib" "memory" (memory 1))
             (import "lib" "base" (global $base i32))
             (import "lib" "get" (func $get (param i32) (result i32)))
             (data (global.get $base) "\2a")
             (func (export "run") (result i32) (call $get (global.get $base))))"#,
    )?;
    let user = linker.instantiate(&mut store, &user)?;
    assert_eq!(run_i32(&mut store, user, "run")?, 42);
    // Defining the same instance again is a redefinition.
    assert!(linker.instance(&mut store, "lib", lib).is_err());
    // An instance of another store is refused.
    let mut other = Store::new(&engine, ());
    assert!(linker.instance(&mut other, "lib2", lib).is_err());
    Ok(())
}

#[test]
fn a_command_gets_a_fresh_instance_per_call() -> kiln::Result<()> {
    let engine = Engine::default();
    let command = Module::new(
        &engine,
        r#"(module
             (import "host" "log" (func $log (param i32)))
             (global $counter (mut i32) (i32.const 100))
             (memory (export "memory") 1)
             (global (export "__heap_base") i32 (i32.const 0))
             (global (export "__data_end") i32 (i32.const 0))
             (table (export "__indirect_function_table") 1 funcref)
             (func (export "_start"))
             (func (export "bump") (result i32)
               (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
               (call $log (global.get $counter))
               global.get $counter))"#,
    )?;
    let mut store = Store::new(&engine, Vec::<i32>::new());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "log", |mut caller: Caller<'_, Vec<i32>>, x: i32| {
        caller.data_mut().push(x)
    })?;
    linker.module(&mut store, "cmd", &command)?;
    let bump = linker
        .get(&mut store, "cmd", "bump")
        .unwrap()
        .into_func()
        .unwrap();
    // Each call: a new instance whose global starts at 100 again.
    assert_eq!(call_i32(&mut store, bump)?, 101);
    assert_eq!(call_i32(&mut store, bump)?, 101);
    assert_eq!(call_i32(&mut store, bump)?, 101);
    assert_eq!(store.data(), &[101, 101, 101]);
    // Tolerated non-function exports are not defined.
    assert!(linker.get(&mut store, "cmd", "memory").is_err());
    // The command's functions are callable from other modules too.
    let user = Module::new(
        &engine,
        r#"(module (import "cmd" "bump" (func $bump (result i32)))
             (func (export "twice") (result i32) (i32.add (call $bump) (call $bump))))"#,
    )?;
    let user = linker.instantiate(&mut store, &user)?;
    assert_eq!(run_i32(&mut store, user, "twice")?, 202);
    // `get_default` finds `_start`.
    linker
        .get_default(&mut store, "cmd")?
        .call(&mut store, &[], &mut [])?;
    Ok(())
}

#[test]
fn command_exports_and_imports_are_checked_up_front() -> kiln::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let unknown_export = Module::new(
        &engine,
        r#"(module (func (export "_start")) (global (export "state") i32 (i32.const 0)))"#,
    )?;
    let mut linker = Linker::new(&engine);
    let err = linker
        .module(&mut store, "cmd", &unknown_export)
        .unwrap_err();
    assert_eq!(err.to_string(), "command export 'state' is not a function");
    // Nothing was defined.
    assert!(linker.get(&mut store, "cmd", "_start").is_err());
    linker.allow_unknown_exports(true);
    linker.module(&mut store, "cmd", &unknown_export)?;
    assert!(linker.get(&mut store, "cmd", "state").is_err());

    // A "memory" export that is not a memory is not tolerated.
    let odd = Module::new(
        &engine,
        r#"(module (func (export "_start")) (global (export "memory") i32 (i32.const 0)))"#,
    )?;
    let mut strict = Linker::new(&engine);
    assert!(strict.module(&mut store, "odd", &odd).is_err());

    // Imports are resolved when the command is defined.
    let needs_import = Module::new(
        &engine,
        r#"(module (import "env" "f" (func)) (func (export "_start")))"#,
    )?;
    let err = strict.module(&mut store, "cmd", &needs_import).unwrap_err();
    assert_eq!(
        err.downcast_ref::<UnknownImportError>().unwrap().name(),
        "f"
    );

    // Neither, both, or non-function `_start` / `_initialize`.
    let both = Module::new(
        &engine,
        r#"(module (func (export "_start")) (func (export "_initialize")))"#,
    )?;
    let err = strict.module(&mut store, "both", &both).unwrap_err();
    assert!(
        err.to_string().contains("both a Command and a Reactor"),
        "{err}"
    );
    let bad_start = Module::new(
        &engine,
        r#"(module (global (export "_start") i32 (i32.const 0)))"#,
    )?;
    let err = strict.module(&mut store, "bad", &bad_start).unwrap_err();
    assert_eq!(err.to_string(), "`_start` must be a function");
    Ok(())
}

#[test]
fn a_reactor_is_initialised_once() -> kiln::Result<()> {
    let engine = Engine::default();
    let reactor = Module::new(
        &engine,
        r#"(module
             (import "host" "init" (func $init))
             (global $ready (mut i32) (i32.const 0))
             (global $calls (mut i32) (i32.const 0))
             (func (export "_initialize") call $init (global.set $ready (i32.const 1)))
             (func (export "call") (result i32)
               (global.set $calls (i32.add (global.get $calls) (global.get $ready)))
               global.get $calls))"#,
    )?;
    let mut store = Store::new(&engine, 0u32);
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "init", |mut caller: Caller<'_, u32>| {
        *caller.data_mut() += 1
    })?;
    linker.module(&mut store, "lib", &reactor)?;
    assert_eq!(*store.data(), 1);
    let call = linker
        .get(&mut store, "lib", "call")
        .unwrap()
        .into_func()
        .unwrap();
    // One instance: its state persists across calls.
    assert_eq!(call_i32(&mut store, call)?, 1);
    assert_eq!(call_i32(&mut store, call)?, 2);
    assert_eq!(*store.data(), 1);

    // A plain module (no `_initialize`) is a Reactor too.
    let plain = Module::new(
        &engine,
        r#"(module (func (export "f") (result i32) i32.const 3))"#,
    )?;
    linker.module(&mut store, "plain", &plain)?;
    let f = linker
        .get(&mut store, "plain", "f")
        .unwrap()
        .into_func()
        .unwrap();
    assert_eq!(call_i32(&mut store, f)?, 3);

    // A trapping initialiser fails `module` with context.
    let failing = Module::new(
        &engine,
        r#"(module (func (export "_initialize") unreachable))"#,
    )?;
    let err = linker.module(&mut store, "failing", &failing).unwrap_err();
    assert!(err.to_string().contains("Reactor initialization"), "{err}");
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    Ok(())
}

#[test]
fn alias_and_alias_module() -> kiln::Result<()> {
    let engine = Engine::default();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("a", "one", || 1i32)?;
    linker.func_wrap("a", "two", || 2i32)?;
    linker.alias("a", "one", "b", "uno")?;
    let err = linker.alias("a", "nope", "b", "x").err().unwrap();
    assert_eq!(err.to_string(), "no item named `a::nope` defined");
    assert!(linker.alias("a", "two", "b", "uno").is_err());
    linker.alias_module("a", "c")?;
    // `c::one` and `c::two` now exist; aliasing again clashes.
    assert!(linker.alias_module("a", "c").is_err());
    let mut store = Store::new(&engine, ());
    for (module, name, expected) in [("b", "uno", 1), ("c", "one", 1), ("c", "two", 2)] {
        let f = linker
            .get(&mut store, module, name)
            .unwrap()
            .into_func()
            .unwrap();
        assert_eq!(call_i32(&mut store, f)?, expected, "{module}::{name}");
    }
    // An alias is the same definition: the same function in a store.
    let a = linker
        .get(&mut store, "a", "one")
        .unwrap()
        .into_func()
        .unwrap();
    let b = linker
        .get(&mut store, "b", "uno")
        .unwrap()
        .into_func()
        .unwrap();
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    // Aliasing an unknown module is a no-op.
    linker.alias_module("nothing", "d")?;
    Ok(())
}

#[test]
fn iter_get_get_by_import_and_get_default() -> kiln::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("m", "f", || 1i32)?;
    linker.func_wrap("m", "", || 9i32)?;
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    linker.define(&store, "n", "mem", memory)?;

    let mut items: Vec<(String, String, &str)> = linker
        .iter(&mut store)
        .map(|(module, name, item)| {
            let kind = match item {
                Extern::Func(_) => "func",
                Extern::Memory(_) => "memory",
                _ => "other",
            };
            (module.to_string(), name.to_string(), kind)
        })
        .collect();
    items.sort();
    assert_eq!(
        items,
        [
            ("m".into(), "".into(), "func"),
            ("m".into(), "f".into(), "func"),
            ("n".into(), "mem".into(), "memory"),
        ]
    );

    assert!(
        linker
            .get(&mut store, "n", "mem")
            .unwrap()
            .into_memory()
            .is_some()
    );
    assert!(linker.get(&mut store, "n", "nope").is_err());
    assert!(linker.get(&mut store, "nope", "mem").is_err());

    let module = Module::new(
        &engine,
        r#"(module (import "m" "f" (func (result i32))) (import "x" "y" (memory 1)))"#,
    )?;
    let imports: Vec<_> = module.imports().collect();
    let f = linker.get_by_import(&mut store, &imports[0]).unwrap();
    assert_eq!(call_i32(&mut store, f.into_func().unwrap())?, 1);
    assert!(linker.get_by_import(&mut store, &imports[1]).is_none());

    // `get_default`: the "" export first, then `_start`, else a no-op.
    let default = linker.get_default(&mut store, "m")?;
    assert_eq!(call_i32(&mut store, default)?, 9);
    let noop = linker.get_default(&mut store, "nobody")?;
    noop.typed::<(), ()>(&store)?.call(&mut store, ())?;
    linker.define(&store, "n", "_start", memory)?;
    let err = linker.get_default(&mut store, "n").unwrap_err();
    assert_eq!(err.to_string(), "`_start` in 'n' is not a function");
    linker.define(&store, "n", "", memory)?;
    let err = linker.get_default(&mut store, "n").unwrap_err();
    assert_eq!(err.to_string(), "default export in 'n' is not a function");
    Ok(())
}

#[test]
fn missing_and_mismatched_imports_are_clear_errors() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func (param i32))) (import "env" "m" (memory 2)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    let unknown = err.downcast_ref::<UnknownImportError>().unwrap();
    assert_eq!((unknown.module(), unknown.name()), ("env", "f"));
    assert!(matches!(unknown.ty(), ExternType::Func(_)));

    linker.func_wrap("env", "f", |_: i64| {})?;
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(err.to_string(), "incompatible import type for `env::f`");
    let chain = format!("{err:#}");
    assert!(chain.contains("function types incompatible"), "{chain}");

    linker
        .allow_shadowing(true)
        .func_wrap("env", "f", |_: i32| {})?;
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    linker.define(&store, "env", "m", memory)?;
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    let chain = format!("{err:#}");
    assert!(
        chain.contains("incompatible import type for `env::m`"),
        "{chain}"
    );
    assert!(chain.contains("minimum size mismatch"), "{chain}");
    // The memory's current size counts: after growing it fits.
    memory.grow(&mut store, 1)?;
    linker.instantiate(&mut store, &module)?;

    // A definition of the wrong kind.
    let g = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(0),
    )?;
    linker.define(&store, "env", "f", g)?;
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(
        format!("{err:#}").contains("expected func, but found global"),
        "{err:#}"
    );

    // A module of another engine.
    let foreign = Module::new(&Engine::default(), "(module)")?;
    let err = linker.instantiate(&mut store, &foreign).unwrap_err();
    assert!(err.to_string().contains("cross-`Engine`"), "{err}");
    Ok(())
}

#[test]
fn linker_host_functions_are_placed_in_a_store_once() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func $f (result i32)))
             (func (export "f") (result i32) call $f))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", || 4i32)?;
    let mut store = Store::new(&engine, ());
    let first = linker
        .get(&mut store, "env", "f")
        .unwrap()
        .into_func()
        .unwrap();
    for _ in 0..10 {
        let again = linker
            .get(&mut store, "env", "f")
            .unwrap()
            .into_func()
            .unwrap();
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        let instance = linker.instantiate(&mut store, &module)?;
        assert_eq!(run_i32(&mut store, instance, "f")?, 4);
    }
    // Another store gets its own copy.
    let mut other = Store::new(&engine, ());
    let theirs = linker
        .get(&mut other, "env", "f")
        .unwrap()
        .into_func()
        .unwrap();
    assert_eq!(call_i32(&mut other, theirs)?, 4);
    assert!(first.typed::<(), i32>(&other).is_err());
    Ok(())
}
