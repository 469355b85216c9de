//! `kiln-wasi` through the embedding API, with no C toolchain: a generated
//! module imports every preview 1 function (so instantiating it checks
//! every signature) and exports a `call_NAME` wrapper for each, which the
//! tests call with chosen — often hostile — arguments.

use kiln::{Engine, Instance, Linker, Memory, Module, Store, Val, ValType};
use kiln_wasi::{
    DirPerms, Errno, FilePerms, I32Exit, MemoryInputPipe, MemoryOutputPipe, WasiCtx,
    WasiCtxBuilder, abi,
};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Every preview 1 function and its parameter types (all return an errno,
/// except `proc_exit`, which returns nothing).
const SIGNATURES: &[(&str, &str)] = &[
    ("args_get", "i32 i32"),
    ("args_sizes_get", "i32 i32"),
    ("environ_get", "i32 i32"),
    ("environ_sizes_get", "i32 i32"),
    ("clock_res_get", "i32 i32"),
    ("clock_time_get", "i32 i64 i32"),
    ("fd_advise", "i32 i64 i64 i32"),
    ("fd_allocate", "i32 i64 i64"),
    ("fd_close", "i32"),
    ("fd_datasync", "i32"),
    ("fd_fdstat_get", "i32 i32"),
    ("fd_fdstat_set_flags", "i32 i32"),
    ("fd_fdstat_set_rights", "i32 i64 i64"),
    ("fd_filestat_get", "i32 i32"),
    ("fd_filestat_set_size", "i32 i64"),
    ("fd_filestat_set_times", "i32 i64 i64 i32"),
    ("fd_pread", "i32 i32 i32 i64 i32"),
    ("fd_prestat_get", "i32 i32"),
    ("fd_prestat_dir_name", "i32 i32 i32"),
    ("fd_pwrite", "i32 i32 i32 i64 i32"),
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("fd_renumber", "i32 i32"),
    ("fd_seek", "i32 i64 i32 i32"),
    ("fd_sync", "i32"),
    ("fd_tell", "i32 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("path_create_directory", "i32 i32 i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32"),
    ("path_filestat_set_times", "i32 i32 i32 i32 i64 i64 i32"),
    ("path_link", "i32 i32 i32 i32 i32 i32 i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("path_readlink", "i32 i32 i32 i32 i32 i32"),
    ("path_remove_directory", "i32 i32 i32"),
    ("path_rename", "i32 i32 i32 i32 i32 i32"),
    ("path_symlink", "i32 i32 i32 i32 i32"),
    ("path_unlink_file", "i32 i32 i32"),
    ("poll_oneoff", "i32 i32 i32 i32"),
    ("proc_exit", "i32"),
    ("proc_raise", "i32"),
    ("sched_yield", ""),
    ("random_get", "i32 i32"),
    ("sock_accept", "i32 i32 i32"),
    ("sock_recv", "i32 i32 i32 i32 i32 i32"),
    ("sock_send", "i32 i32 i32 i32 i32"),
    ("sock_shutdown", "i32 i32"),
];

/// The module: one page of exported memory, every import, a wrapper each.
fn module_text(with_memory: bool) -> String {
    let mut wat = String::from("(module\n");
    for (name, params) in SIGNATURES {
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        wat += &format!(
            "  (import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {params}) {result}))\n"
        );
    }
    if with_memory {
        wat += "  (memory (export \"memory\") 1)\n";
    }
    for (name, params) in SIGNATURES {
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        let gets: String = (0..params.split_whitespace().count())
            .map(|i| format!("local.get {i} "))
            .collect();
        wat += &format!(
            "  (func (export \"call_{name}\") (param {params}) {result} {gets} call ${name})\n"
        );
    }
    wat + ")"
}

struct State {
    wasi: WasiCtx,
}

/// A guest with the given WASI context.
struct Guest {
    store: Store<State>,
    instance: Instance,
    memory: Memory,
}

impl Guest {
    fn new(wasi: WasiCtx) -> Guest {
        let engine = Engine::default();
        let module = Module::new(&engine, module_text(true)).unwrap();
        let mut linker = Linker::new(&engine);
        kiln_wasi::add_to_linker(&mut linker, |s: &mut State| &mut s.wasi).unwrap();
        let mut store = Store::new(&engine, State { wasi });
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        Guest {
            store,
            instance,
            memory,
        }
    }

    /// Calls `name` with `args` (each converted to the parameter's type).
    fn try_call(&mut self, name: &str, args: &[i64]) -> anyhow::Result<i32> {
        let func = self
            .instance
            .get_func(&mut self.store, &format!("call_{name}"))
            .unwrap();
        let ty = func.ty(&self.store);
        let params: Vec<Val> = ty
            .params()
            .zip(args)
            .map(|(ty, &v)| match ty {
                ValType::I64 => Val::I64(v),
                _ => Val::I32(v as i32),
            })
            .collect();
        assert_eq!(params.len(), args.len(), "argument count for {name}");
        let mut results = vec![Val::I32(0); ty.results().len()];
        func.call(&mut self.store, &params, &mut results)?;
        Ok(results.first().map(|v| v.unwrap_i32()).unwrap_or(0))
    }

    /// Calls `name` and returns its errno.
    fn call(&mut self, name: &str, args: &[i64]) -> u16 {
        self.try_call(name, args).unwrap() as u16
    }

    fn write(&mut self, at: u32, bytes: &[u8]) {
        self.memory
            .write(&mut self.store, at as usize, bytes)
            .unwrap();
    }

    fn read(&self, at: u32, len: usize) -> Vec<u8> {
        let mut buf = vec![0; len];
        self.memory
            .read(&self.store, at as usize, &mut buf)
            .unwrap();
        buf
    }

    fn u32_at(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.read(at, 4).try_into().unwrap())
    }

    fn u64_at(&self, at: u32) -> u64 {
        u64::from_le_bytes(self.read(at, 8).try_into().unwrap())
    }

    /// Writes an iovec {buf, len} at `at`.
    fn iovec(&mut self, at: u32, buf: u32, len: u32) {
        let mut bytes = buf.to_le_bytes().to_vec();
        bytes.extend_from_slice(&len.to_le_bytes());
        self.write(at, &bytes);
    }

    /// Opens `path` under `dir` with the given flags; (errno, new fd).
    fn open(&mut self, dir: u32, path: &str, oflags: u16, rights: u64, fdflags: u16) -> (u16, u32) {
        self.write(PATH, path.as_bytes());
        let errno = self.call(
            "path_open",
            &[
                dir.into(),
                abi::lookupflags::SYMLINK_FOLLOW.into(),
                PATH.into(),
                path.len() as i64,
                oflags.into(),
                rights as i64,
                rights as i64,
                fdflags.into(),
                OUT.into(),
            ],
        );
        (errno, self.u32_at(OUT))
    }
}

/// Scratch addresses in the guest's memory.
const PATH: u32 = 1024;
const PATH2: u32 = 1536;
const IOV: u32 = 2048;
const BUF: u32 = 4096;
const OUT: u32 = 8192;

const SUCCESS: u16 = Errno::Success as u16;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-wasi-api-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_function_is_defined_with_its_signature() {
    assert_eq!(SIGNATURES.len(), 46);
    assert_eq!(kiln_wasi::FUNCTIONS.len(), SIGNATURES.len());
    for (name, _) in SIGNATURES {
        assert!(kiln_wasi::FUNCTIONS.contains(name), "{name}");
    }
    // Instantiating the module that imports them all checks the types.
    let mut guest = Guest::new(WasiCtxBuilder::new().build());
    assert_eq!(guest.call("sched_yield", &[]), SUCCESS);
}

#[test]
fn stdout_goes_to_a_memory_pipe_and_proc_exit_is_an_i32_exit() {
    let stdout = MemoryOutputPipe::new(1024);
    let stderr = MemoryOutputPipe::new(1024);
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build(),
    );
    guest.write(BUF, b"hello, world\n");
    guest.iovec(IOV, BUF, 7);
    guest.iovec(IOV + 8, BUF + 7, 6);
    assert_eq!(
        guest.call("fd_write", &[1, IOV.into(), 2, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.u32_at(OUT), 13);
    assert_eq!(
        guest.call("fd_write", &[2, IOV.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(stdout.contents(), b"hello, world\n");
    assert_eq!(stderr.contents(), b"hello, ");

    let err = guest.try_call("proc_exit", &[7]).unwrap_err();
    assert_eq!(err.downcast_ref::<I32Exit>(), Some(&I32Exit(7)));
}

#[test]
fn stdin_reads_from_a_memory_pipe_until_end_of_file() {
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new("abcdef"))
            .build(),
    );
    guest.iovec(IOV, BUF, 4);
    assert_eq!(
        guest.call("fd_read", &[0, IOV.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.u32_at(OUT), 4);
    assert_eq!(guest.read(BUF, 4), b"abcd");
    assert_eq!(
        guest.call("fd_read", &[0, IOV.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.u32_at(OUT), 2);
    assert_eq!(
        guest.call("fd_read", &[0, IOV.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.u32_at(OUT), 0);
    // stdout cannot be read, stdin cannot be written or seeked.
    assert_eq!(
        guest.call("fd_read", &[1, IOV.into(), 1, OUT.into()]),
        Errno::Notcapable as u16
    );
    assert_eq!(
        guest.call("fd_write", &[0, IOV.into(), 1, OUT.into()]),
        Errno::Notcapable as u16
    );
    assert_eq!(
        guest.call("fd_seek", &[0, 0, 0, OUT.into()]),
        Errno::Spipe as u16
    );
}

#[test]
fn arguments_and_environment_are_what_the_builder_gave() {
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .args(&["prog", "a b"])
            .env("K", "v")
            .build(),
    );
    assert_eq!(
        guest.call("args_sizes_get", &[OUT.into(), (OUT + 4).into()]),
        SUCCESS
    );
    assert_eq!((guest.u32_at(OUT), guest.u32_at(OUT + 4)), (2, 9));
    assert_eq!(guest.call("args_get", &[IOV.into(), BUF.into()]), SUCCESS);
    assert_eq!(guest.u32_at(IOV), BUF);
    assert_eq!(guest.u32_at(IOV + 4), BUF + 5);
    assert_eq!(guest.read(BUF, 9), b"prog\0a b\0");
    assert_eq!(
        guest.call("environ_sizes_get", &[OUT.into(), (OUT + 4).into()]),
        SUCCESS
    );
    assert_eq!((guest.u32_at(OUT), guest.u32_at(OUT + 4)), (1, 4));
    assert_eq!(
        guest.call("environ_get", &[IOV.into(), BUF.into()]),
        SUCCESS
    );
    assert_eq!(guest.read(BUF, 4), b"K=v\0");
}

#[test]
fn bad_pointers_lengths_flags_and_utf8_are_errnos_not_panics() {
    let dir = scratch("hostile");
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .args(&["prog"])
            .stdin(MemoryInputPipe::new("data"))
            .preopened_dir(&dir, ".", DirPerms::all(), FilePerms::all())
            .unwrap()
            .build(),
    );
    let fault = Errno::Fault as u16;
    let end = 65536i64;
    // Result pointers outside memory, or straddling its end.
    assert_eq!(guest.call("args_sizes_get", &[end, 0]), fault);
    assert_eq!(guest.call("args_sizes_get", &[end - 2, 0]), fault);
    assert_eq!(guest.call("args_get", &[-1, 0]), fault);
    assert_eq!(guest.call("clock_time_get", &[0, 0, end - 4]), fault);
    assert_eq!(guest.call("fd_fdstat_get", &[1, end - 8]), fault);
    assert_eq!(guest.call("random_get", &[end - 10, 100]), fault);
    assert_eq!(guest.call("random_get", &[-1, -1]), fault);
    // An iovec array or an iovec's buffer outside memory; a huge count.
    assert_eq!(guest.call("fd_write", &[1, end - 4, 1, OUT.into()]), fault);
    guest.iovec(IOV, 65000, 1000);
    assert_eq!(
        guest.call("fd_write", &[1, IOV.into(), 1, OUT.into()]),
        fault
    );
    assert_eq!(
        guest.call("fd_read", &[0, IOV.into(), 0x7fff_ffff, OUT.into()]),
        fault
    );
    assert_eq!(
        guest.call("fd_read", &[0, IOV.into(), -1, OUT.into()]),
        fault
    );
    // A bad result pointer is reported before the read consumes input.
    guest.iovec(IOV, BUF, 2);
    assert_eq!(guest.call("fd_read", &[0, IOV.into(), 1, end]), fault);
    assert_eq!(
        guest.call("fd_read", &[0, IOV.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.read(BUF, 2), b"da");
    // Paths: outside memory, invalid UTF-8, NUL bytes.
    assert_eq!(guest.call("path_create_directory", &[3, end - 1, 5]), fault);
    assert_eq!(guest.call("path_create_directory", &[3, 0, -1]), fault);
    guest.write(PATH, &[b'a', 0xff, 0xfe]);
    assert_eq!(
        guest.call("path_create_directory", &[3, PATH.into(), 3]),
        Errno::Ilseq as u16
    );
    guest.write(PATH, b"a\0b");
    assert_eq!(
        guest.call("path_create_directory", &[3, PATH.into(), 3]),
        Errno::Ilseq as u16
    );
    // A bad `fd_out` is reported before anything is created.
    guest.write(PATH, b"new.txt");
    let creat = abi::oflags::CREAT as i64;
    let write = abi::rights::FD_WRITE as i64;
    assert_eq!(
        guest.call(
            "path_open",
            &[3, 0, PATH.into(), 7, creat, write, 0, 0, end]
        ),
        fault
    );
    assert!(!dir.join("new.txt").exists());
    // Unknown flag bits, enum values and clocks.
    assert_eq!(
        guest.call("fd_fdstat_set_flags", &[1, 0x1_0000]),
        Errno::Inval as u16
    );
    assert_eq!(
        guest.call("fd_fdstat_set_flags", &[1, 0x100]),
        Errno::Inval as u16
    );
    assert_eq!(
        guest.call(
            "path_open",
            &[3, 0, PATH.into(), 7, 0x40, 0, 0, 0, OUT.into()]
        ),
        Errno::Inval as u16
    );
    assert_eq!(
        guest.call("clock_time_get", &[99, 0, OUT.into()]),
        Errno::Inval as u16
    );
    assert_eq!(
        guest.call("clock_res_get", &[-1, OUT.into()]),
        Errno::Inval as u16
    );
    assert_eq!(
        guest.call("poll_oneoff", &[0, OUT.into(), 0, OUT.into()]),
        Errno::Inval as u16
    );
    assert_eq!(
        guest.call("poll_oneoff", &[0, OUT.into(), 0x7fff_ffff, OUT.into()]),
        fault
    );
    assert_eq!(
        guest.call("fd_filestat_set_times", &[3, 0, 0, 0x3]),
        Errno::Inval as u16
    );
    // Unknown descriptors.
    assert_eq!(guest.call("fd_close", &[99]), Errno::Badf as u16);
    assert_eq!(guest.call("fd_close", &[-1]), Errno::Badf as u16);
    assert_eq!(
        guest.call("fd_prestat_get", &[1, OUT.into()]),
        Errno::Badf as u16
    );
    assert_eq!(guest.call("fd_renumber", &[1, 50]), Errno::Badf as u16);
    // The guest is still fine.
    assert_eq!(guest.call("sched_yield", &[]), SUCCESS);
}

#[test]
fn a_module_without_memory_gets_an_error_not_a_panic() {
    let engine = Engine::default();
    let module = Module::new(&engine, module_text(false)).unwrap();
    let mut linker = Linker::new(&engine);
    kiln_wasi::add_to_linker(&mut linker, |s: &mut State| &mut s.wasi).unwrap();
    let mut store = Store::new(
        &engine,
        State {
            wasi: WasiCtxBuilder::new().build(),
        },
    );
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let func = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "call_args_sizes_get")
        .unwrap();
    let err = func.call(&mut store, (0, 4)).unwrap_err();
    assert!(err.to_string().contains("memory"), "{err}");
    // Functions without pointers still work.
    let close = instance
        .get_typed_func::<i32, i32>(&mut store, "call_fd_close")
        .unwrap();
    assert_eq!(close.call(&mut store, 1).unwrap(), 0);
}

#[test]
fn a_read_only_preopen_refuses_every_change() {
    let dir = scratch("read-only");
    std::fs::write(dir.join("data.txt"), "contents").unwrap();
    std::fs::create_dir(dir.join("subdir")).unwrap();
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .preopened_dir(&dir, "/ro", DirPerms::READ, FilePerms::READ)
            .unwrap()
            .build(),
    );
    let cap = Errno::Notcapable as u16;
    let read = abi::rights::FD_READ | abi::rights::FD_SEEK;
    // Reading works.
    let (errno, fd) = guest.open(3, "data.txt", 0, read, 0);
    assert_eq!(errno, SUCCESS);
    guest.iovec(IOV, BUF, 100);
    assert_eq!(
        guest.call("fd_read", &[fd.into(), IOV.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.read(BUF, guest.u32_at(OUT) as usize), b"contents");
    // ...but the descriptor cannot write, truncate or change times.
    guest.write(BUF, b"x");
    guest.iovec(IOV, BUF, 1);
    assert_eq!(
        guest.call("fd_write", &[fd.into(), IOV.into(), 1, OUT.into()]),
        cap
    );
    assert_eq!(guest.call("fd_filestat_set_size", &[fd.into(), 0]), cap);
    assert_eq!(
        guest.call("fd_filestat_set_times", &[fd.into(), 0, 0, 2]),
        cap
    );
    assert_eq!(guest.call("fd_allocate", &[fd.into(), 0, 100]), cap);
    // Opening for writing, creating, truncating or appending is refused.
    let write = abi::rights::FD_WRITE;
    assert_eq!(guest.open(3, "data.txt", 0, write, 0).0, cap);
    assert_eq!(
        guest.open(3, "data.txt", 0, read, abi::fdflags::APPEND).0,
        cap
    );
    assert_eq!(guest.open(3, "new.txt", abi::oflags::CREAT, read, 0).0, cap);
    assert_eq!(
        guest.open(3, "data.txt", abi::oflags::TRUNC, read, 0).0,
        cap
    );
    // And so is every change to the tree, also through a subdirectory.
    guest.write(PATH, b"data.txt");
    guest.write(PATH2, b"moved.txt");
    assert_eq!(guest.call("path_unlink_file", &[3, PATH.into(), 8]), cap);
    assert_eq!(
        guest.call("path_create_directory", &[3, PATH2.into(), 9]),
        cap
    );
    assert_eq!(
        guest.call("path_rename", &[3, PATH.into(), 8, 3, PATH2.into(), 9]),
        cap
    );
    assert_eq!(
        guest.call("path_symlink", &[PATH.into(), 8, 3, PATH2.into(), 9]),
        cap
    );
    assert_eq!(
        guest.call("path_link", &[3, 0, PATH.into(), 8, 3, PATH2.into(), 9]),
        cap
    );
    assert_eq!(
        guest.call("path_filestat_set_times", &[3, 0, PATH.into(), 8, 0, 0, 2]),
        cap
    );
    let (errno, sub) = guest.open(3, "subdir", abi::oflags::DIRECTORY, abi::rights::ALL, 0);
    assert_eq!(errno, SUCCESS);
    assert_eq!(
        guest.call("path_create_directory", &[sub.into(), PATH2.into(), 9]),
        cap
    );
    assert_eq!(
        guest.open(sub, "new.txt", abi::oflags::CREAT, read, 0).0,
        cap
    );
    // A descriptor can give up rights, never gain them.
    assert_eq!(
        guest.call(
            "fd_fdstat_set_rights",
            &[fd.into(), abi::rights::ALL as i64, 0]
        ),
        cap
    );
    assert_eq!(
        guest.call(
            "fd_fdstat_set_rights",
            &[fd.into(), abi::rights::FD_SEEK as i64, 0]
        ),
        SUCCESS
    );
    assert_eq!(
        guest.call("fd_read", &[fd.into(), IOV.into(), 1, OUT.into()]),
        cap
    );

    assert_eq!(
        std::fs::read_to_string(dir.join("data.txt")).unwrap(),
        "contents"
    );
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["data.txt", "subdir"]);
}

#[test]
fn a_read_write_preopen_creates_lists_and_removes() {
    let dir = scratch("read-write");
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .preopened_dir(&dir, "/rw", DirPerms::all(), FilePerms::all())
            .unwrap()
            .build(),
    );
    // The preopen is described by fd_prestat_*.
    assert_eq!(guest.call("fd_prestat_get", &[3, OUT.into()]), SUCCESS);
    assert_eq!(guest.read(OUT, 1), [abi::PREOPENTYPE_DIR]);
    assert_eq!(guest.u32_at(OUT + 4), 3);
    assert_eq!(
        guest.call("fd_prestat_dir_name", &[3, BUF.into(), 2]),
        Errno::Nametoolong as u16
    );
    assert_eq!(
        guest.call("fd_prestat_dir_name", &[3, BUF.into(), 3]),
        SUCCESS
    );
    assert_eq!(guest.read(BUF, 3), b"/rw");
    assert_eq!(
        guest.call("fd_prestat_get", &[4, OUT.into()]),
        Errno::Badf as u16
    );

    // Create and write a file, then stat it by descriptor and by path.
    let rights = abi::rights::FD_READ
        | abi::rights::FD_WRITE
        | abi::rights::FD_SEEK
        | abi::rights::FD_TELL
        | abi::rights::FD_FILESTAT_GET;
    let (errno, fd) = guest.open(
        3,
        "made.txt",
        abi::oflags::CREAT | abi::oflags::EXCL,
        rights,
        0,
    );
    assert_eq!(errno, SUCCESS);
    assert_eq!(
        guest
            .open(
                3,
                "made.txt",
                abi::oflags::CREAT | abi::oflags::EXCL,
                rights,
                0
            )
            .0,
        Errno::Exist as u16
    );
    guest.write(BUF, b"0123456789");
    guest.iovec(IOV, BUF, 10);
    assert_eq!(
        guest.call("fd_write", &[fd.into(), IOV.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.call("fd_tell", &[fd.into(), OUT.into()]), SUCCESS);
    assert_eq!(guest.u64_at(OUT), 10);
    assert_eq!(
        guest.call(
            "fd_seek",
            &[fd.into(), -3, abi::whence::END.into(), OUT.into()]
        ),
        SUCCESS
    );
    assert_eq!(guest.u64_at(OUT), 7);
    assert_eq!(
        guest.call(
            "fd_seek",
            &[fd.into(), -1, abi::whence::SET.into(), OUT.into()]
        ),
        Errno::Inval as u16
    );
    assert_eq!(
        guest.call("fd_seek", &[fd.into(), 0, 9, OUT.into()]),
        Errno::Inval as u16
    );
    guest.iovec(IOV, BUF + 100, 4);
    assert_eq!(
        guest.call("fd_pread", &[fd.into(), IOV.into(), 1, 2, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.read(BUF + 100, 4), b"2345");
    assert_eq!(
        guest.call("fd_filestat_get", &[fd.into(), OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.read(OUT + 16, 1), [abi::filetype::REGULAR_FILE]);
    assert_eq!(guest.u64_at(OUT + 32), 10);
    guest.write(PATH, b"made.txt");
    assert_eq!(
        guest.call("path_filestat_get", &[3, 1, PATH.into(), 8, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.u64_at(OUT + 32), 10);
    assert_eq!(
        guest.call("fd_fdstat_get", &[fd.into(), OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.read(OUT, 1), [abi::filetype::REGULAR_FILE]);
    assert_eq!(guest.u64_at(OUT + 8), rights);
    assert_eq!(guest.call("fd_close", &[fd.into()]), SUCCESS);
    assert_eq!(
        std::fs::read_to_string(dir.join("made.txt")).unwrap(),
        "0123456789"
    );

    // Make several entries and list them a few bytes at a time.
    for name in ["d1", "d2", "a-much-longer-directory-name"] {
        guest.write(PATH, name.as_bytes());
        assert_eq!(
            guest.call(
                "path_create_directory",
                &[3, PATH.into(), name.len() as i64]
            ),
            SUCCESS
        );
    }
    // A reader that, like wasi-libc, grows its buffer when one entry does
    // not fit.
    let mut names = Vec::new();
    let mut cookie = 0u64;
    let mut buf_len = 40u32;
    loop {
        assert_eq!(
            guest.call(
                "fd_readdir",
                &[3, BUF.into(), buf_len.into(), cookie as i64, OUT.into()]
            ),
            SUCCESS
        );
        let used = guest.u32_at(OUT);
        let data = guest.read(BUF, used as usize);
        let mut at = 0usize;
        let mut progressed = false;
        while at + 24 <= data.len() {
            let next = u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
            let len = u32::from_le_bytes(data[at + 16..at + 20].try_into().unwrap()) as usize;
            if at + 24 + len > data.len() {
                break;
            }
            names.push(String::from_utf8(data[at + 24..at + 24 + len].to_vec()).unwrap());
            cookie = next;
            progressed = true;
            at += 24 + len;
        }
        if used < buf_len {
            break;
        }
        if !progressed {
            buf_len *= 2;
            assert!(buf_len < 4096, "an entry never fits");
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            ".",
            "..",
            "a-much-longer-directory-name",
            "d1",
            "d2",
            "made.txt"
        ]
    );

    // Rename, unlink, remove.
    guest.write(PATH, b"made.txt");
    guest.write(PATH2, b"d1/moved.txt");
    assert_eq!(
        guest.call("path_rename", &[3, PATH.into(), 8, 3, PATH2.into(), 12]),
        SUCCESS
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("d1/moved.txt")).unwrap(),
        "0123456789"
    );
    guest.write(PATH, b"d1");
    assert_eq!(
        guest.call("path_remove_directory", &[3, PATH.into(), 2]),
        Errno::Notempty as u16
    );
    assert_eq!(
        guest.call("path_unlink_file", &[3, PATH2.into(), 12]),
        SUCCESS
    );
    assert_eq!(
        guest.call("path_remove_directory", &[3, PATH.into(), 2]),
        SUCCESS
    );
    assert!(!dir.join("d1").exists());

    // Symbolic links inside the sandbox work and read back.
    guest.write(PATH, b"d2");
    guest.write(PATH2, b"link");
    assert_eq!(
        guest.call("path_symlink", &[PATH.into(), 2, 3, PATH2.into(), 4]),
        SUCCESS
    );
    assert_eq!(
        guest.call(
            "path_readlink",
            &[3, PATH2.into(), 4, BUF.into(), 64, OUT.into()]
        ),
        SUCCESS
    );
    assert_eq!(guest.read(BUF, guest.u32_at(OUT) as usize), b"d2");
    let (errno, _) = guest.open(
        3,
        "link",
        abi::oflags::DIRECTORY,
        abi::rights::FD_READDIR,
        0,
    );
    assert_eq!(errno, SUCCESS);
}

#[test]
fn escapes_through_the_api_are_not_capable() {
    let outer = scratch("escape");
    std::fs::write(outer.join("secret"), "secret").unwrap();
    std::fs::create_dir(outer.join("box")).unwrap();
    std::os::unix::fs::symlink("../secret", outer.join("box/up")).unwrap();
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .preopened_dir(outer.join("box"), ".", DirPerms::all(), FilePerms::all())
            .unwrap()
            .build(),
    );
    let cap = Errno::Notcapable as u16;
    let read = abi::rights::FD_READ;
    for path in ["../secret", "/etc/passwd", "up", "./../box/../secret"] {
        assert_eq!(guest.open(3, path, 0, read, 0).0, cap, "{path}");
    }
    guest.write(PATH, b"../made");
    assert_eq!(
        guest.call("path_create_directory", &[3, PATH.into(), 7]),
        cap
    );
    assert!(!outer.join("made").exists());
}

#[test]
fn poll_oneoff_waits_for_clocks_and_reports_ready_descriptors() {
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new("xyz"))
            .build(),
    );
    // One relative 30 ms timer on the monotonic clock.
    let mut sub = vec![0u8; 48];
    sub[0..8].copy_from_slice(&77u64.to_le_bytes());
    sub[8] = abi::eventtype::CLOCK;
    sub[16..20].copy_from_slice(&abi::clockid::MONOTONIC.to_le_bytes());
    sub[24..32].copy_from_slice(&30_000_000u64.to_le_bytes());
    guest.write(BUF, &sub);
    let started = Instant::now();
    assert_eq!(
        guest.call("poll_oneoff", &[BUF.into(), OUT.into(), 1, PATH.into()]),
        SUCCESS
    );
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert_eq!(guest.u32_at(PATH), 1);
    assert_eq!(guest.u64_at(OUT), 77);
    assert_eq!(guest.read(OUT + 8, 3), [0, 0, abi::eventtype::CLOCK]);

    // A long timer and a readable stdin: stdin wins at once, with the
    // number of bytes available; an unknown descriptor reports EBADF.
    sub[24..32].copy_from_slice(&60_000_000_000u64.to_le_bytes());
    let mut read = vec![0u8; 48];
    read[0..8].copy_from_slice(&5u64.to_le_bytes());
    read[8] = abi::eventtype::FD_READ;
    read[16..20].copy_from_slice(&0u32.to_le_bytes());
    let mut bad = read.clone();
    bad[0..8].copy_from_slice(&6u64.to_le_bytes());
    bad[16..20].copy_from_slice(&42u32.to_le_bytes());
    guest.write(BUF, &[sub, read, bad].concat());
    let started = Instant::now();
    assert_eq!(
        guest.call("poll_oneoff", &[BUF.into(), OUT.into(), 3, PATH.into()]),
        SUCCESS
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(guest.u32_at(PATH), 2);
    let first = guest.read(OUT, 32);
    let second = guest.read(OUT + 32, 32);
    let events = [first, second];
    let stdin_event = events.iter().find(|e| e[0] == 5).expect("stdin event");
    assert_eq!(stdin_event[8..11], [0, 0, abi::eventtype::FD_READ]);
    assert_eq!(
        u64::from_le_bytes(stdin_event[16..24].try_into().unwrap()),
        3
    );
    let bad_event = events.iter().find(|e| e[0] == 6).expect("bad fd event");
    assert_eq!(
        u16::from_le_bytes([bad_event[8], bad_event[9]]),
        Errno::Badf as u16
    );
}

#[test]
fn clocks_random_and_the_unimplemented_functions() {
    let mut guest = Guest::new(WasiCtxBuilder::new().build());
    assert_eq!(guest.call("clock_time_get", &[0, 1, OUT.into()]), SUCCESS);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(guest.u64_at(OUT).abs_diff(now) < 10_000_000_000);
    assert_eq!(guest.call("clock_res_get", &[1, OUT.into()]), SUCCESS);
    assert!(guest.u64_at(OUT) > 0);
    assert_eq!(guest.call("random_get", &[BUF.into(), 64]), SUCCESS);
    assert_ne!(guest.read(BUF, 64), vec![0; 64]);

    assert_eq!(guest.call("proc_raise", &[6]), Errno::Nosys as u16);
    let notsock = Errno::Notsock as u16;
    let badf = Errno::Badf as u16;
    assert_eq!(guest.call("sock_accept", &[1, 0, OUT.into()]), notsock);
    assert_eq!(guest.call("sock_recv", &[0, 0, 0, 0, 0, 0]), notsock);
    assert_eq!(guest.call("sock_send", &[1, 0, 0, 0, 0]), notsock);
    assert_eq!(guest.call("sock_shutdown", &[9, 0]), badf);
}
