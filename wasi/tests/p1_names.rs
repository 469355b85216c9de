//! Host code written for wasmtime-wasi 48's preview 1 support, with only the
//! crate names changed (`wasmtime` → `kiln`, `wasmtime_wasi` → `kiln_wasi`):
//! `p1::add_to_linker_sync`, `p1::WasiP1Ctx`, `WasiCtxBuilder::build_p1`,
//! the store's data being the context itself or holding it in a field.

use kiln::{Engine, Linker, Module, Result, Store};
use kiln_wasi::p1::{self, WasiP1Ctx};
use kiln_wasi::{I32Exit, MemoryOutputPipe, WasiCtxBuilder};

/// A command that prints its first argument and the value of its first
/// environment variable, each on a line, then exits with its argument
/// count.
const ECHO: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "\n")
  ;; Prints the NUL-terminated string at `s`, then a newline.
  (func $puts (param $s i32)
    (local $n i32)
    (block $done
      (loop $scan
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $s) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $scan)))
    (i32.store (i32.const 16) (local.get $s))
    (i32.store (i32.const 20) (local.get $n))
    (i32.store (i32.const 24) (i32.const 8))
    (i32.store (i32.const 28) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 2) (i32.const 32))))
  (func (export "_start")
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $args_get (i32.const 1024) (i32.const 4096)))
    (call $puts (i32.load (i32.const 1028)))
    (drop (call $environ_get (i32.const 2048) (i32.const 8192)))
    (call $puts (i32.load (i32.const 2048)))
    (call $proc_exit (i32.load (i32.const 0)))))"#;

/// The exit code of a run that ended with `proc_exit`.
fn exit_code(result: Result<()>) -> i32 {
    let err = result.expect_err("the command calls proc_exit");
    err.downcast_ref::<I32Exit>().expect("an exit").0
}

#[test]
fn the_store_data_is_the_context() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, ECHO)?;

    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |t| t)?;
    let pre = linker.instantiate_pre(&module)?;

    let stdout = MemoryOutputPipe::new(1024);
    let args = ["echo.wasm", "first argument", "second"];
    let wasi_ctx = WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .env("GREETING", "hi")
        .args(&args)
        .build_p1();

    let mut store = Store::new(&engine, wasi_ctx);
    let instance = pre.instantiate(&mut store)?;
    let func = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    assert_eq!(exit_code(func.call(&mut store, ())), 3);
    assert_eq!(stdout.contents(), b"first argument\nGREETING=hi\n");
    Ok(())
}

#[test]
fn the_context_is_a_field_of_the_store_data() -> Result<()> {
    struct MyState {
        calls: u32,
        wasi: WasiP1Ctx,
    }

    impl MyState {
        fn new(stdout: &MemoryOutputPipe) -> MyState {
            MyState {
                calls: 0,
                wasi: WasiCtxBuilder::new()
                    .arg("./foo.wasm")
                    .arg("from the field")
                    .env("A", "1")
                    .stdout(stdout.clone())
                    .build_p1(),
            }
        }
    }

    fn add_to_linker(linker: &mut Linker<MyState>) -> Result<()> {
        p1::add_to_linker_sync(linker, |my_state| {
            my_state.calls += 1;
            &mut my_state.wasi
        })?;
        Ok(())
    }

    let engine = Engine::default();
    let mut linker: Linker<MyState> = Linker::new(&engine);
    add_to_linker(&mut linker)?;
    let stdout = MemoryOutputPipe::new(1024);
    let mut store = Store::new(&engine, MyState::new(&stdout));
    let module = Module::new(&engine, ECHO)?;
    let instance = linker.instantiate(&mut store, &module)?;
    let func = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    assert_eq!(exit_code(func.call(&mut store, ())), 2);
    assert_eq!(stdout.contents(), b"from the field\nA=1\n");
    // The projection ran for the calls that use the context (args_sizes_get,
    // args_get, environ_get and two fd_writes; proc_exit needs none).
    assert_eq!(store.data().calls, 5);
    Ok(())
}
