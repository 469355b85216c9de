//! The older `wasi_unstable` module (WASI snapshot 0) through the embedding
//! API: `programs/unstable.wat` writes to stdout, seeks and reads
//! filestats and waits on a clock with snapshot 0's numbers and layouts,
//! linked the wasmtime-wasi way (`p0`/`p1::add_to_linker_sync` over a
//! `WasiP1Ctx`) and Kiln's way (`add_wasi_unstable_to_linker` over a
//! `WasiCtx`). No C toolchain needed.

use kiln::{Engine, Instance, Linker, Module, Store};
use kiln_wasi::p1::{self, WasiP1Ctx};
use kiln_wasi::{DirPerms, FilePerms, MemoryOutputPipe, WasiCtx, WasiCtxBuilder, p0};
use std::path::{Path, PathBuf};

const UNSTABLE: &str = include_str!("programs/unstable.wat");

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("wasi-unstable")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A builder writing stdout to `stdout` and preopening `dir` as `.`.
fn builder(stdout: &MemoryOutputPipe, dir: &Path) -> WasiCtxBuilder {
    let mut builder = WasiCtxBuilder::new();
    builder
        .stdout(stdout.clone())
        .preopened_dir(dir, ".", DirPerms::all(), FilePerms::all())
        .unwrap();
    builder
}

/// Runs `UNSTABLE`'s `_start` and checks everything it left behind: its
/// output, the file it wrote and the structures in its memory.
fn run_and_check<T: 'static>(
    mut store: Store<T>,
    linker: &Linker<T>,
    stdout: &MemoryOutputPipe,
    dir: &Path,
) {
    let module = Module::new(store.engine(), UNSTABLE).unwrap();
    let instance: Instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    if let Err(e) = start.call(&mut store, ()) {
        // A failed check exits with its number.
        panic!("the program failed: {e:#}");
    }
    assert_eq!(
        String::from_utf8(stdout.contents()).unwrap(),
        "hello from wasi_unstable\nchecks passed\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("data.txt")).unwrap(),
        "0123456789"
    );

    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let mem = memory.data(&store);
    let u64_at = |at: usize| u64::from_le_bytes(mem[at..at + 8].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(mem[at..at + 4].try_into().unwrap());
    // Seeks with whence set (2), cur (0), end (1).
    assert_eq!([u64_at(24), u64_at(32), u64_at(40)], [2, 5, 9]);
    let meta = std::fs::metadata(dir.join("data.txt")).unwrap();
    for stat in [64, 128] {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(u64_at(stat), meta.dev(), "dev at {stat}");
        assert_eq!(u64_at(stat + 8), meta.ino(), "ino at {stat}");
        assert_eq!(mem[stat + 16], kiln_wasi::abi::filetype::REGULAR_FILE);
        assert_eq!(u32_at(stat + 20), 1, "32-bit nlink at {stat} + 20");
        assert_eq!(u64_at(stat + 24), 10, "size at {stat} + 24");
        let mtim = meta.mtime() as u64 * 1_000_000_000 + meta.mtime_nsec() as u64;
        assert_eq!(u64_at(stat + 40), mtim, "mtim at {stat} + 40");
        // 56 bytes: nothing written past the structure.
        assert!(mem[stat + 56..stat + 64].iter().all(|&b| b == 0));
    }
    // The event: userdata, errno 0, type clock; one event.
    assert_eq!(u64_at(256), 0x1234);
    assert_eq!(&mem[264..267], &[0, 0, 0]);
    assert_eq!(u32_at(288), 1);
}

#[test]
fn wasmtime_wasi_names_link_wasi_unstable_beside_preview1() {
    // As a wasmtime-wasi host links a command for wasmtime's CLI.
    struct Host {
        wasi: WasiP1Ctx,
    }
    let engine = Engine::default();
    let mut linker: Linker<Host> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |host| &mut host.wasi).unwrap();
    p0::add_to_linker_sync(&mut linker, |host| &mut host.wasi).unwrap();
    let stdout = MemoryOutputPipe::new(4096);
    let dir = scratch("p0");
    let wasi = builder(&stdout, &dir).build_p1();
    let store = Store::new(&engine, Host { wasi });
    run_and_check(store, &linker, &stdout, &dir);
}

#[test]
fn kiln_names_link_wasi_unstable_over_a_wasi_ctx() {
    struct Host {
        wasi: WasiCtx,
    }
    let engine = Engine::default();
    let mut linker: Linker<Host> = Linker::new(&engine);
    kiln_wasi::add_wasi_unstable_to_linker(&mut linker, |host: &mut Host| &mut host.wasi).unwrap();
    let stdout = MemoryOutputPipe::new(4096);
    let dir = scratch("kiln");
    let wasi = builder(&stdout, &dir).build();
    let store = Store::new(&engine, Host { wasi });
    run_and_check(store, &linker, &stdout, &dir);
}

#[test]
fn the_program_fails_under_preview1_layouts() {
    // The same program with its imports renamed to preview 1 must fail its
    // first layout check (seek with whence 2 is `end` there: offset 12),
    // so the checks above do tell the two ABIs apart.
    let engine = Engine::default();
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |cx| cx).unwrap();
    let stdout = MemoryOutputPipe::new(4096);
    let dir = scratch("as-preview1");
    let wasi = builder(&stdout, &dir).build_p1();
    let mut store = Store::new(&engine, wasi);
    let text = UNSTABLE.replace("\"wasi_unstable\"", "\"wasi_snapshot_preview1\"");
    let module = Module::new(&engine, text).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let err = start.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<kiln_wasi::I32Exit>(),
        Some(&kiln_wasi::I32Exit(20)),
        "{err:#}"
    );
}

#[test]
fn wasi_unstable_has_no_sock_accept() {
    let engine = Engine::default();
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |cx| cx).unwrap();
    p0::add_to_linker_sync(&mut linker, |cx| cx).unwrap();
    let importing = |module: &str, name: &str| {
        format!(
            r#"(module (import "{module}" "{name}" (func (param i32 i32 i32) (result i32)))
                 (memory (export "memory") 1))"#
        )
    };
    let mut store = Store::new(&engine, WasiCtxBuilder::new().build_p1());
    let accept = Module::new(&engine, importing("wasi_unstable", "sock_accept")).unwrap();
    let err = linker.instantiate(&mut store, &accept).unwrap_err();
    assert!(
        err.to_string().contains("sock_accept"),
        "unexpected error: {err:#}"
    );
    let accept = Module::new(&engine, importing("wasi_snapshot_preview1", "sock_accept")).unwrap();
    linker.instantiate(&mut store, &accept).unwrap();
    // Every other preview 1 name is in wasi_unstable too.
    for name in kiln_wasi::FUNCTIONS {
        let defined = linker.get(&mut store, "wasi_unstable", name).is_ok();
        assert_eq!(defined, *name != "sock_accept", "{name}");
    }
}

#[test]
fn both_modules_share_one_context() {
    // A descriptor opened through preview 1 is written through
    // wasi_unstable: one context behind both import modules.
    let engine = Engine::default();
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |cx| cx).unwrap();
    p0::add_to_linker_sync(&mut linker, |cx| cx).unwrap();
    let stdout = MemoryOutputPipe::new(4096);
    let wasi = WasiCtxBuilder::new().stdout(stdout.clone()).build_p1();
    let mut store = Store::new(&engine, wasi);
    let module = Module::new(
        &engine,
        r#"(module
             (import "wasi_snapshot_preview1" "fd_renumber" (func $renumber (param i32 i32) (result i32)))
             (import "wasi_unstable" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
             (memory (export "memory") 1)
             (data (i32.const 16) "shared\n")
             (func (export "_start") (result i32)
               ;; stdout moves to descriptor 2 (replacing stderr) in preview 1...
               (drop (call $renumber (i32.const 1) (i32.const 2)))
               (i32.store (i32.const 0) (i32.const 16))
               (i32.store (i32.const 4) (i32.const 7))
               ;; ...and snapshot 0 writes to it there.
               (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8))))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), i32>(&mut store, "_start")
        .unwrap();
    assert_eq!(start.call(&mut store, ()).unwrap(), 0);
    assert_eq!(stdout.contents(), b"shared\n");
}
