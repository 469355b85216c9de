//! Host functions: `Func::wrap` and `Func::new`, `Caller`, store data, and
//! errors crossing the wasm boundary.

use kiln::{Caller, Engine, Extern, Func, FuncType, Instance, Linker, Module, Store, Val, ValType};

#[test]
fn wrapped_host_function_sees_caller_and_store_data() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "add_to_total" (func $add (param i32) (result i32)))
             (memory (export "memory") 1)
             (func (export "run") (result i32)
               i32.const 40 call $add drop
               i32.const 2 call $add))"#,
    )?;
    let mut store = Store::new(&engine, 0i64);
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "host",
        "add_to_total",
        |mut caller: Caller<'_, i64>, x: i32| -> i32 {
            assert!(
                caller
                    .get_export("memory")
                    .and_then(Extern::into_memory)
                    .is_some()
            );
            *caller.data_mut() += i64::from(x);
            *caller.data() as i32
        },
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 42);
    assert_eq!(*store.data(), 42);
    Ok(())
}

#[test]
fn host_function_returning_tuple_and_taking_sixteen_params() -> kiln::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let sum16 = Func::wrap(
        &mut store,
        |a: i32,
         b: i32,
         c: i32,
         d: i32,
         e: i32,
         f: i32,
         g: i32,
         h: i32,
         i: i32,
         j: i32,
         k: i32,
         l: i32,
         m: i32,
         n: i32,
         o: i32,
         p: i64| {
            let s = [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o]
                .iter()
                .map(|v| i64::from(*v))
                .sum::<i64>();
            (s + p, s as f64 * 0.5)
        },
    );
    let module = Module::new(
        &engine,
        r#"(module
             (import "" "f" (func $f (param i32 i32 i32 i32 i32 i32 i32 i32
                                            i32 i32 i32 i32 i32 i32 i32 i64)
                                     (result i64 f64)))
             (func (export "run") (result i64 f64)
               i32.const 1 i32.const 2 i32.const 3 i32.const 4
               i32.const 5 i32.const 6 i32.const 7 i32.const 8
               i32.const 9 i32.const 10 i32.const 11 i32.const 12
               i32.const 13 i32.const 14 i32.const 15 i64.const 1000
               call $f))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[sum16.into()])?;
    let run = instance.get_typed_func::<(), (i64, f64)>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, (1120, 60.0));
    // The host function is callable from the host too, with dynamic values.
    let mut results = [Val::I32(0), Val::I32(0)];
    let args: Vec<Val> = (0..15).map(Val::I32).chain([Val::I64(5)]).collect();
    sum16.call(&mut store, &args, &mut results)?;
    assert_eq!(results[0].unwrap_i64(), 110);
    assert_eq!(results[1].unwrap_f64(), 52.5);
    Ok(())
}

#[derive(Debug)]
struct HostFailure(u32);
impl std::fmt::Display for HostFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "host failure {}", self.0)
    }
}
impl std::error::Error for HostFailure {}

#[test]
fn host_error_passes_through_wasm_unchanged() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "fail" (func $fail (param i32)))
             (func (export "run") (param i32) local.get 0 call $fail))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "fail", |code: i32| -> kiln::Result<()> {
        Err(HostFailure(code as u32).into())
    })?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, ()>(&mut store, "run")?;
    let err = run.call(&mut store, 7).unwrap_err();
    let failure = err
        .downcast_ref::<HostFailure>()
        .expect("host error type preserved");
    assert_eq!(failure.0, 7);
    Ok(())
}

#[test]
fn func_new_checks_result_types() -> kiln::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new(&engine, [ValType::I32], [ValType::I32]);
    let double = Func::new(&mut store, ty.clone(), |_caller, args, results| {
        results[0] = Val::I32(args[0].unwrap_i32() * 2);
        Ok(())
    });
    let mut out = [Val::I32(0)];
    double.call(&mut store, &[Val::I32(21)], &mut out)?;
    assert_eq!(out[0].unwrap_i32(), 42);

    // A host function that produces a value of the wrong type is an error, not UB.
    let liar = Func::new(&mut store, ty, |_caller, _args, results| {
        results[0] = Val::I64(1);
        Ok(())
    });
    assert!(liar.call(&mut store, &[Val::I32(1)], &mut out).is_err());

    // Wrong argument types or counts are errors too.
    assert!(double.call(&mut store, &[Val::I64(1)], &mut out).is_err());
    assert!(double.call(&mut store, &[], &mut out).is_err());
    Ok(())
}

#[test]
fn host_can_reenter_wasm_through_caller() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "bounce" (func $bounce (param i32) (result i32)))
             (func $down (export "down") (param i32) (result i32)
               local.get 0 i32.eqz
               if (result i32) i32.const 0
               else local.get 0 i32.const 1 i32.sub call $bounce i32.const 1 i32.add end))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "host",
        "bounce",
        |mut caller: Caller<'_, ()>, n: i32| -> kiln::Result<i32> {
            let down = caller
                .get_export("down")
                .and_then(Extern::into_func)
                .unwrap();
            down.typed::<i32, i32>(&caller)?.call(&mut caller, n)
        },
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let down = instance.get_typed_func::<i32, i32>(&mut store, "down")?;
    assert_eq!(down.call(&mut store, 50)?, 50);
    Ok(())
}
