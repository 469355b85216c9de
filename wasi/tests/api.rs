//! `kiln-wasi` through the embedding API, with no C toolchain: a generated
//! module imports every preview 1 function (so instantiating it checks
//! every signature) and exports a `call_NAME` wrapper for each, which the
//! tests call with chosen — often hostile — arguments.

use kiln::{Engine, Instance, Linker, Memory, Module, Store, Val, ValType};
use kiln_wasi::{
    DirPerms, Errno, FilePerms, I32Exit, MemoryInputPipe, MemoryOutputPipe, WasiCtx,
    WasiCtxBuilder, abi,
};
use std::path::{Path, PathBuf};
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

/// A guest given `dir` read-write as its preopen `.` (descriptor 3).
fn guest_in(dir: &Path) -> Guest {
    Guest::new(
        WasiCtxBuilder::new()
            .preopened_dir(dir, ".", DirPerms::all(), FilePerms::all())
            .unwrap()
            .build(),
    )
}

/// An escape from the sandbox must be refused with one of the errnos the
/// WASI contract allows for it, `ENOTCAPABLE` or `EPERM`; a success or any
/// other errno fails.
fn assert_refused(errno: u16, what: &str) {
    assert!(
        errno == Errno::Notcapable as u16 || errno == Errno::Perm as u16,
        "{what}: errno {errno}, not ENOTCAPABLE ({}) or EPERM ({})",
        Errno::Notcapable as u16,
        Errno::Perm as u16
    );
}

/// The fields of a `filestat` the tests look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    ino: u64,
    filetype: u8,
    nlink: u64,
    size: u64,
    atim: u64,
    mtim: u64,
}

/// A host file's access and modification times, in WASI's nanoseconds.
fn host_times(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let ns = |secs: i64, nsecs: i64| secs as u64 * 1_000_000_000 + nsecs as u64;
    (
        ns(meta.atime(), meta.atime_nsec()),
        ns(meta.mtime(), meta.mtime_nsec()),
    )
}

/// A clock subscription (`subscription_clock`, 48 bytes).
fn clock_subscription(userdata: u64, clock: u32, timeout: u64, flags: u16) -> Vec<u8> {
    let mut sub = vec![0u8; 48];
    sub[0..8].copy_from_slice(&userdata.to_le_bytes());
    sub[8] = abi::eventtype::CLOCK;
    sub[16..20].copy_from_slice(&clock.to_le_bytes());
    sub[24..32].copy_from_slice(&timeout.to_le_bytes());
    sub[40..42].copy_from_slice(&flags.to_le_bytes());
    sub
}

/// A subscription to `fd` being readable or writable.
fn fd_subscription(userdata: u64, kind: u8, fd: u32) -> Vec<u8> {
    let mut sub = vec![0u8; 48];
    sub[0..8].copy_from_slice(&userdata.to_le_bytes());
    sub[8] = kind;
    sub[16..20].copy_from_slice(&fd.to_le_bytes());
    sub
}

/// An event `poll_oneoff` reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    nbytes: u64,
}

impl Guest {
    /// Writes `bytes` to `fd` at its position, checking all of them went.
    fn write_fd(&mut self, fd: u32, bytes: &[u8]) {
        self.write(BUF, bytes);
        self.iovec(IOV, BUF, bytes.len() as u32);
        assert_eq!(
            self.call("fd_write", &[fd.into(), IOV.into(), 1, OUT.into()]),
            SUCCESS
        );
        assert_eq!(self.u32_at(OUT), bytes.len() as u32);
    }

    /// Reads up to `len` bytes from `fd` at its position.
    fn read_fd(&mut self, fd: u32, len: u32) -> Vec<u8> {
        self.iovec(IOV, BUF, len);
        assert_eq!(
            self.call("fd_read", &[fd.into(), IOV.into(), 1, OUT.into()]),
            SUCCESS
        );
        self.read(BUF, self.u32_at(OUT) as usize)
    }

    /// `fd_seek`; the new position.
    fn seek(&mut self, fd: u32, offset: i64, whence: u8) -> u64 {
        assert_eq!(
            self.call("fd_seek", &[fd.into(), offset, whence.into(), OUT.into()]),
            SUCCESS
        );
        self.u64_at(OUT)
    }

    /// `fd_tell`.
    fn tell(&mut self, fd: u32) -> u64 {
        assert_eq!(self.call("fd_tell", &[fd.into(), OUT.into()]), SUCCESS);
        self.u64_at(OUT)
    }

    /// The `filestat` at `at`.
    fn stat_at(&self, at: u32) -> Stat {
        Stat {
            ino: self.u64_at(at + 8),
            filetype: self.read(at + 16, 1)[0],
            nlink: self.u64_at(at + 24),
            size: self.u64_at(at + 32),
            atim: self.u64_at(at + 40),
            mtim: self.u64_at(at + 48),
        }
    }

    /// `fd_filestat_get`.
    fn fd_stat(&mut self, fd: u32) -> Stat {
        assert_eq!(
            self.call("fd_filestat_get", &[fd.into(), OUT.into()]),
            SUCCESS
        );
        self.stat_at(OUT)
    }

    /// `path_filestat_get` under `dir`, following a final symlink or not.
    fn path_stat(&mut self, dir: u32, follow: bool, path: &str) -> Stat {
        self.write(PATH, path.as_bytes());
        let flags = if follow {
            abi::lookupflags::SYMLINK_FOLLOW
        } else {
            0
        };
        assert_eq!(
            self.call(
                "path_filestat_get",
                &[
                    dir.into(),
                    flags.into(),
                    PATH.into(),
                    path.len() as i64,
                    OUT.into()
                ]
            ),
            SUCCESS,
            "{path}"
        );
        self.stat_at(OUT)
    }

    /// `fd_fdstat_get`: (errno, file type, fdflags).
    fn fdstat(&mut self, fd: u32) -> (u16, u8, u16) {
        let errno = self.call("fd_fdstat_get", &[fd.into(), OUT.into()]);
        let bytes = self.read(OUT, 4);
        (errno, bytes[0], u16::from_le_bytes([bytes[2], bytes[3]]))
    }

    /// `clock_time_get`.
    fn now(&mut self, clock: u32) -> u64 {
        assert_eq!(
            self.call("clock_time_get", &[clock.into(), 1, OUT.into()]),
            SUCCESS
        );
        self.u64_at(OUT)
    }

    /// `poll_oneoff` on `subs`; the events it reported.
    fn poll(&mut self, subs: &[Vec<u8>]) -> Vec<Event> {
        self.write(BUF, &subs.concat());
        assert_eq!(
            self.call(
                "poll_oneoff",
                &[BUF.into(), OUT.into(), subs.len() as i64, PATH.into()]
            ),
            SUCCESS
        );
        let n = self.u32_at(PATH);
        assert!(n as usize <= subs.len(), "{n} events");
        (0..n)
            .map(|i| {
                let at = OUT + 32 * i;
                let bytes = self.read(at, 32);
                Event {
                    userdata: self.u64_at(at),
                    error: u16::from_le_bytes([bytes[8], bytes[9]]),
                    kind: bytes[10],
                    nbytes: self.u64_at(at + 16),
                }
            })
            .collect()
    }
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
fn escapes_through_the_api_are_refused() {
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
    let read = abi::rights::FD_READ;
    for path in ["../secret", "/etc/passwd", "up", "./../box/../secret"] {
        assert_refused(guest.open(3, path, 0, read, 0).0, path);
    }
    guest.write(PATH, b"../made");
    assert_refused(
        guest.call("path_create_directory", &[3, PATH.into(), 7]),
        "mkdir ../made",
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

#[test]
fn the_refusal_check_accepts_only_enotcapable_or_eperm() {
    assert_refused(Errno::Notcapable as u16, "ENOTCAPABLE");
    assert_refused(Errno::Perm as u16, "EPERM");
    for errno in [Errno::Success, Errno::Acces, Errno::Noent, Errno::Inval] {
        let refused = std::panic::catch_unwind(|| assert_refused(errno as u16, "other"));
        assert!(refused.is_err(), "{errno:?} accepted as a refusal");
    }
}

#[test]
fn fd_pwrite_writes_at_its_offset_and_leaves_the_position_alone() {
    let dir = scratch("pwrite");
    std::fs::write(dir.join("f.txt"), "0123456789").unwrap();
    let mut guest = guest_in(&dir);
    let rights =
        abi::rights::FD_READ | abi::rights::FD_WRITE | abi::rights::FD_SEEK | abi::rights::FD_TELL;
    let (errno, fd) = guest.open(3, "f.txt", 0, rights, 0);
    assert_eq!(errno, SUCCESS);
    assert_eq!(guest.seek(fd, 2, abi::whence::SET), 2);
    // Two iovecs, written one after the other from offset 6.
    guest.write(BUF, b"AB");
    guest.iovec(IOV, BUF, 1);
    guest.iovec(IOV + 8, BUF + 1, 1);
    assert_eq!(
        guest.call("fd_pwrite", &[fd.into(), IOV.into(), 2, 6, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.u32_at(OUT), 2);
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"012345AB89");
    assert_eq!(guest.tell(fd), 2);
    // Past the end: the file grows, the gap reads as zeros.
    guest.write(BUF, b"XY");
    guest.iovec(IOV, BUF, 2);
    assert_eq!(
        guest.call("fd_pwrite", &[fd.into(), IOV.into(), 1, 12, OUT.into()]),
        SUCCESS
    );
    assert_eq!(guest.u32_at(OUT), 2);
    assert_eq!(
        std::fs::read(dir.join("f.txt")).unwrap(),
        b"012345AB89\0\0XY"
    );
    // The position never moved: fd_write and fd_read carry on from 2.
    assert_eq!(guest.tell(fd), 2);
    guest.write_fd(fd, b"cd");
    assert_eq!(guest.read_fd(fd, 4), b"45AB");
    assert_eq!(
        std::fs::read(dir.join("f.txt")).unwrap(),
        b"01cd45AB89\0\0XY"
    );
}

#[test]
fn fd_allocate_extends_the_file_and_never_shrinks_it() {
    let dir = scratch("allocate");
    std::fs::write(dir.join("f.txt"), "0123456789").unwrap();
    let mut guest = guest_in(&dir);
    let rights = abi::rights::FD_READ
        | abi::rights::FD_WRITE
        | abi::rights::FD_ALLOCATE
        | abi::rights::FD_FILESTAT_GET
        | abi::rights::FD_TELL;
    let (errno, fd) = guest.open(3, "f.txt", 0, rights, 0);
    assert_eq!(errno, SUCCESS);
    assert_eq!(guest.call("fd_allocate", &[fd.into(), 5, 100]), SUCCESS);
    assert_eq!(guest.fd_stat(fd).size, 105);
    let contents = std::fs::read(dir.join("f.txt")).unwrap();
    assert_eq!(contents.len(), 105);
    assert_eq!(&contents[..10], b"0123456789");
    assert!(contents[10..].iter().all(|&b| b == 0));
    // A range already inside the file changes nothing.
    assert_eq!(guest.call("fd_allocate", &[fd.into(), 0, 10]), SUCCESS);
    assert_eq!(guest.fd_stat(fd).size, 105);
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), contents);
    // Nor does it move the position.
    assert_eq!(guest.tell(fd), 0);
}

#[test]
fn fd_advise_fd_sync_and_fd_datasync_succeed_and_reach_the_host() {
    let dir = scratch("sync");
    std::fs::write(dir.join("f.txt"), "0123456789").unwrap();
    let mut guest = guest_in(&dir);
    let rights = abi::rights::FD_READ
        | abi::rights::FD_WRITE
        | abi::rights::FD_SEEK
        | abi::rights::FD_TELL
        | abi::rights::FD_ADVISE
        | abi::rights::FD_SYNC
        | abi::rights::FD_DATASYNC;
    let (errno, fd) = guest.open(3, "f.txt", 0, rights, 0);
    assert_eq!(errno, SUCCESS);
    assert_eq!(guest.seek(fd, 4, abi::whence::SET), 4);
    // Every advice value is accepted (it is only a hint)...
    for advice in 0..=5 {
        assert_eq!(
            guest.call("fd_advise", &[fd.into(), 0, 10, advice]),
            SUCCESS,
            "advice {advice}"
        );
    }
    assert_eq!(
        guest.call("fd_advise", &[fd.into(), 0, 10, 6]),
        Errno::Inval as u16
    );
    // ...and syncing a written file succeeds; none of them touches the
    // data or the position.
    guest.write_fd(fd, b"ab");
    assert_eq!(guest.call("fd_datasync", &[fd.into()]), SUCCESS);
    assert_eq!(guest.call("fd_sync", &[fd.into()]), SUCCESS);
    assert_eq!(guest.tell(fd), 6);
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"0123ab6789");
    // A directory can be synced too.
    assert_eq!(guest.call("fd_sync", &[3]), SUCCESS);
    assert_eq!(guest.call("fd_datasync", &[3]), SUCCESS);
    // Each needs its right.
    let (errno, read_only) = guest.open(3, "f.txt", 0, abi::rights::FD_READ, 0);
    assert_eq!(errno, SUCCESS);
    let cap = Errno::Notcapable as u16;
    assert_eq!(guest.call("fd_advise", &[read_only.into(), 0, 10, 0]), cap);
    assert_eq!(guest.call("fd_sync", &[read_only.into()]), cap);
    assert_eq!(guest.call("fd_datasync", &[read_only.into()]), cap);
    // The sync really is the host's: fsync of a FIFO fails on Linux with
    // EINVAL, and a sync that did nothing would report success.
    #[cfg(target_os = "linux")]
    {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.join("fifo"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        // Read and write, so that opening it does not wait for a peer.
        let (errno, fifo) = guest.open(3, "fifo", 0, rights, 0);
        assert_eq!(errno, SUCCESS);
        assert_eq!(guest.call("fd_sync", &[fifo.into()]), Errno::Inval as u16);
        assert_eq!(
            guest.call("fd_datasync", &[fifo.into()]),
            Errno::Inval as u16
        );
    }
}

#[test]
fn fd_renumber_moves_a_descriptor_over_another() {
    let dir = scratch("renumber");
    std::fs::write(dir.join("a.txt"), "aaa").unwrap();
    std::fs::write(dir.join("b.txt"), "bbb").unwrap();
    let stdout = MemoryOutputPipe::new(1024);
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .preopened_dir(&dir, ".", DirPerms::all(), FilePerms::all())
            .unwrap()
            .build(),
    );
    let read = abi::rights::FD_READ | abi::rights::FD_SEEK;
    assert_eq!(guest.open(3, "a.txt", 0, read, 0), (SUCCESS, 4));
    assert_eq!(guest.open(3, "b.txt", 0, read, 0), (SUCCESS, 5));
    assert_eq!(guest.call("fd_renumber", &[4, 5]), SUCCESS);
    // The old number is gone; the new one is a.txt (b.txt was closed).
    let badf = Errno::Badf as u16;
    assert_eq!(guest.fdstat(4).0, badf);
    guest.iovec(IOV, BUF, 10);
    assert_eq!(guest.call("fd_read", &[4, IOV.into(), 1, OUT.into()]), badf);
    assert_eq!(guest.read_fd(5, 10), b"aaa");
    // The freed number is the lowest free one again.
    assert_eq!(guest.open(3, "b.txt", 0, read, 0), (SUCCESS, 4));
    assert_eq!(guest.read_fd(4, 10), b"bbb");
    // Onto itself: nothing changes.
    assert_eq!(guest.call("fd_renumber", &[5, 5]), SUCCESS);
    assert_eq!(guest.seek(5, 0, abi::whence::SET), 0);
    assert_eq!(guest.read_fd(5, 10), b"aaa");
    // Onto stdout: what the guest writes to 1 now lands in the file.
    let (errno, out) = guest.open(3, "out.txt", abi::oflags::CREAT, abi::rights::FD_WRITE, 0);
    assert_eq!(errno, SUCCESS);
    assert_eq!(guest.call("fd_renumber", &[out.into(), 1]), SUCCESS);
    assert_eq!(guest.fdstat(out).0, badf);
    let (errno, filetype, _) = guest.fdstat(1);
    assert_eq!(errno, SUCCESS);
    assert_eq!(filetype, abi::filetype::REGULAR_FILE);
    guest.write_fd(1, b"to the file");
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "to the file"
    );
    assert_eq!(stdout.contents(), b"");
}

#[test]
fn fd_fdstat_set_flags_append_makes_writes_append() {
    let dir = scratch("set-flags");
    std::fs::write(dir.join("f.txt"), "0123").unwrap();
    let mut guest = guest_in(&dir);
    let rights = abi::rights::FD_WRITE
        | abi::rights::FD_SEEK
        | abi::rights::FD_TELL
        | abi::rights::FD_FDSTAT_SET_FLAGS;
    let (errno, fd) = guest.open(3, "f.txt", 0, rights, 0);
    assert_eq!(errno, SUCCESS);
    assert_eq!(guest.fdstat(fd), (SUCCESS, abi::filetype::REGULAR_FILE, 0));
    let append = abi::fdflags::APPEND;
    assert_eq!(
        guest.call("fd_fdstat_set_flags", &[fd.into(), append.into()]),
        SUCCESS
    );
    assert_eq!(guest.fdstat(fd).2, append);
    // A write after seeking to the start still goes to the end.
    assert_eq!(guest.seek(fd, 0, abi::whence::SET), 0);
    guest.write_fd(fd, b"xy");
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"0123xy");
    assert_eq!(guest.tell(fd), 6);
    // Clearing the flag makes writes go at the position again.
    assert_eq!(guest.call("fd_fdstat_set_flags", &[fd.into(), 0]), SUCCESS);
    assert_eq!(guest.fdstat(fd).2, 0);
    assert_eq!(guest.seek(fd, 0, abi::whence::SET), 0);
    guest.write_fd(fd, b"AB");
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"AB23xy");
    // ...also for a descriptor opened in append mode.
    let (errno, opened_appending) = guest.open(3, "f.txt", 0, rights, append);
    assert_eq!(errno, SUCCESS);
    assert_eq!(guest.fdstat(opened_appending).2, append);
    guest.write_fd(opened_appending, b"!");
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"AB23xy!");
    assert_eq!(
        guest.call("fd_fdstat_set_flags", &[opened_appending.into(), 0]),
        SUCCESS
    );
    assert_eq!(guest.seek(opened_appending, 1, abi::whence::SET), 1);
    guest.write_fd(opened_appending, b"?");
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"A?23xy!");
    // The right is needed.
    let (errno, plain) = guest.open(3, "f.txt", 0, abi::rights::FD_WRITE, 0);
    assert_eq!(errno, SUCCESS);
    assert_eq!(
        guest.call("fd_fdstat_set_flags", &[plain.into(), append.into()]),
        Errno::Notcapable as u16
    );
    assert_eq!(guest.fdstat(plain).2, 0);
}

/// Arbitrary past times, to the nanosecond: 2001-09-09 and 2004-01-10.
const ATIM: u64 = 1_000_000_000_123_456_789;
const MTIM: u64 = 1_073_741_824_987_654_321;

/// Now, in WASI's nanoseconds.
fn realtime_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[test]
fn fd_filestat_set_times_changes_what_filestat_and_the_host_see() {
    let dir = scratch("fd-times");
    std::fs::write(dir.join("f.txt"), "data").unwrap();
    let mut guest = guest_in(&dir);
    let rights =
        abi::rights::FD_READ | abi::rights::FD_FILESTAT_GET | abi::rights::FD_FILESTAT_SET_TIMES;
    let (errno, fd) = guest.open(3, "f.txt", 0, rights, 0);
    assert_eq!(errno, SUCCESS);
    let both = abi::fstflags::ATIM | abi::fstflags::MTIM;
    assert_eq!(
        guest.call(
            "fd_filestat_set_times",
            &[fd.into(), ATIM as i64, MTIM as i64, both.into()]
        ),
        SUCCESS
    );
    let stat = guest.fd_stat(fd);
    assert_eq!((stat.atim, stat.mtim), (ATIM, MTIM));
    let host = std::fs::metadata(dir.join("f.txt")).unwrap();
    assert_eq!(host_times(&host), (ATIM, MTIM));
    // MTIM_NOW alone: the modification time becomes now, the access time
    // stays.
    let before = realtime_now();
    assert_eq!(
        guest.call(
            "fd_filestat_set_times",
            &[fd.into(), 0, 0, abi::fstflags::MTIM_NOW.into()]
        ),
        SUCCESS
    );
    let stat = guest.fd_stat(fd);
    assert_eq!(stat.atim, ATIM);
    assert!(
        stat.mtim.abs_diff(before) < 10_000_000_000,
        "mtim {} is not now ({before})",
        stat.mtim
    );
    // ATIM alone: the modification time stays.
    let now_mtim = stat.mtim;
    assert_eq!(
        guest.call(
            "fd_filestat_set_times",
            &[fd.into(), MTIM as i64, 0, abi::fstflags::ATIM.into()]
        ),
        SUCCESS
    );
    let host = std::fs::metadata(dir.join("f.txt")).unwrap();
    assert_eq!(host_times(&host), (MTIM, now_mtim));
    // A directory descriptor's times change the same way.
    assert_eq!(
        guest.call(
            "fd_filestat_set_times",
            &[3, ATIM as i64, MTIM as i64, both.into()]
        ),
        SUCCESS
    );
    assert_eq!(host_times(&std::fs::metadata(&dir).unwrap()), (ATIM, MTIM));
}

#[test]
fn path_filestat_set_times_changes_the_file_or_the_link_itself() {
    let dir = scratch("path-times");
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/data.txt"), "data").unwrap();
    std::os::unix::fs::symlink("sub/data.txt", dir.join("link")).unwrap();
    let mut guest = guest_in(&dir);
    let both = abi::fstflags::ATIM | abi::fstflags::MTIM;
    let follow = i64::from(abi::lookupflags::SYMLINK_FOLLOW);
    let set_times = |guest: &mut Guest, flags: i64, path: &str, atim: u64, mtim: u64| {
        guest.write(PATH, path.as_bytes());
        guest.call(
            "path_filestat_set_times",
            &[
                3,
                flags,
                PATH.into(),
                path.len() as i64,
                atim as i64,
                mtim as i64,
                both.into(),
            ],
        )
    };
    assert_eq!(
        set_times(&mut guest, 0, "sub/data.txt", ATIM, MTIM),
        SUCCESS
    );
    let stat = guest.path_stat(3, false, "sub/data.txt");
    assert_eq!((stat.atim, stat.mtim), (ATIM, MTIM));
    let target_times = || host_times(&std::fs::metadata(dir.join("sub/data.txt")).unwrap());
    let link_times = || host_times(&std::fs::symlink_metadata(dir.join("link")).unwrap());
    assert_eq!(target_times(), (ATIM, MTIM));
    // Through the link, following it: the target changes.
    let link_before = link_times();
    assert_eq!(set_times(&mut guest, follow, "link", MTIM, ATIM), SUCCESS);
    assert_eq!(target_times(), (MTIM, ATIM));
    // (Following the link reads it, which may update its access time.)
    assert_eq!(link_times().1, link_before.1);
    // Not following it: the link itself changes, the target does not.
    assert_eq!(set_times(&mut guest, 0, "link", ATIM, MTIM), SUCCESS);
    assert_eq!(link_times(), (ATIM, MTIM));
    let stat = guest.path_stat(3, false, "link");
    assert_eq!(stat.filetype, abi::filetype::SYMBOLIC_LINK);
    assert_eq!((stat.atim, stat.mtim), (ATIM, MTIM));
    assert_eq!(target_times(), (MTIM, ATIM));
}

#[test]
fn path_link_gives_the_same_file_a_second_name() {
    let dir = scratch("link");
    std::fs::write(dir.join("orig.txt"), "same").unwrap();
    std::fs::write(dir.join("other.txt"), "other").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    let mut guest = guest_in(&dir);
    let link = |guest: &mut Guest, old_fd: u32, old: &str, new_fd: u32, new: &str| {
        guest.write(PATH, old.as_bytes());
        guest.write(PATH2, new.as_bytes());
        guest.call(
            "path_link",
            &[
                old_fd.into(),
                0,
                PATH.into(),
                old.len() as i64,
                new_fd.into(),
                PATH2.into(),
                new.len() as i64,
            ],
        )
    };
    assert_eq!(link(&mut guest, 3, "orig.txt", 3, "sub/alias.txt"), SUCCESS);
    // One file, two names: same inode, two links, same contents.
    let orig = guest.path_stat(3, false, "orig.txt");
    let alias = guest.path_stat(3, false, "sub/alias.txt");
    assert_eq!(alias.ino, orig.ino);
    assert_eq!((orig.nlink, alias.nlink), (2, 2));
    assert_eq!(alias.filetype, abi::filetype::REGULAR_FILE);
    {
        use std::os::unix::fs::MetadataExt;
        let host_orig = std::fs::metadata(dir.join("orig.txt")).unwrap();
        let host_alias = std::fs::metadata(dir.join("sub/alias.txt")).unwrap();
        assert_eq!(host_alias.ino(), host_orig.ino());
        assert_eq!(host_alias.nlink(), 2);
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/alias.txt")).unwrap(),
        "same"
    );
    // A write through one name shows through the other.
    let (errno, fd) = guest.open(3, "sub/alias.txt", 0, abi::rights::FD_WRITE, 0);
    assert_eq!(errno, SUCCESS);
    guest.write_fd(fd, b"SAME");
    assert_eq!(
        std::fs::read_to_string(dir.join("orig.txt")).unwrap(),
        "SAME"
    );
    // Through a second directory descriptor as the target.
    let (errno, sub) = guest.open(3, "sub", abi::oflags::DIRECTORY, abi::rights::ALL, 0);
    assert_eq!(errno, SUCCESS);
    assert_eq!(link(&mut guest, 3, "orig.txt", sub, "third.txt"), SUCCESS);
    assert_eq!(guest.path_stat(3, false, "orig.txt").nlink, 3);
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/third.txt")).unwrap(),
        "SAME"
    );
    // An existing name is not replaced.
    assert_eq!(
        link(&mut guest, 3, "orig.txt", 3, "other.txt"),
        Errno::Exist as u16
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("other.txt")).unwrap(),
        "other"
    );
    // Removing the first name leaves the file under the others.
    guest.write(PATH, b"orig.txt");
    assert_eq!(
        guest.call("path_unlink_file", &[3, PATH.into(), 8]),
        SUCCESS
    );
    assert_eq!(guest.path_stat(3, false, "sub/alias.txt").nlink, 2);
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/alias.txt")).unwrap(),
        "SAME"
    );
}

#[test]
fn poll_oneoff_reports_a_file_ready_at_once() {
    let dir = scratch("poll-file");
    std::fs::write(dir.join("f.txt"), "0123456789").unwrap();
    let mut guest = guest_in(&dir);
    let rights = abi::rights::FD_READ
        | abi::rights::FD_WRITE
        | abi::rights::FD_SEEK
        | abi::rights::POLL_FD_READWRITE;
    let (errno, fd) = guest.open(3, "f.txt", 0, rights, 0);
    assert_eq!(errno, SUCCESS);
    assert_eq!(guest.seek(fd, 3, abi::whence::SET), 3);
    // A one-minute timer, never reached: the file is ready first.
    let timer = clock_subscription(1, abi::clockid::MONOTONIC, 60_000_000_000, 0);
    let read = fd_subscription(2, abi::eventtype::FD_READ, fd);
    let write = fd_subscription(3, abi::eventtype::FD_WRITE, fd);
    let started = Instant::now();
    let mut events = guest.poll(&[timer.clone(), read.clone(), write]);
    assert!(started.elapsed() < Duration::from_secs(5));
    events.sort_by_key(|e| e.userdata);
    assert_eq!(
        events,
        [
            // Readable, with the bytes left after the position.
            Event {
                userdata: 2,
                error: SUCCESS,
                kind: abi::eventtype::FD_READ,
                nbytes: 7
            },
            Event {
                userdata: 3,
                error: SUCCESS,
                kind: abi::eventtype::FD_WRITE,
                nbytes: 0
            },
        ]
    );
    // At the end of the file it is still ready, with nothing to read.
    assert_eq!(guest.seek(fd, 0, abi::whence::END), 10);
    let events = guest.poll(&[timer, read]);
    assert_eq!(
        events,
        [Event {
            userdata: 2,
            error: SUCCESS,
            kind: abi::eventtype::FD_READ,
            nbytes: 0
        }]
    );
}

#[test]
fn poll_oneoff_absolute_clock_times_fire_at_that_time() {
    let mut guest = Guest::new(WasiCtxBuilder::new().build());
    let abstime = abi::subclockflags::SUBSCRIPTION_CLOCK_ABSTIME;
    // A relative 5 s timer alongside each absolute one: if the absolute
    // time were taken as relative (decades), it fires instead, and the
    // test fails rather than hangs.
    let backstop = clock_subscription(9, abi::clockid::MONOTONIC, 5_000_000_000, 0);
    let fired = |userdata| Event {
        userdata,
        error: SUCCESS,
        kind: abi::eventtype::CLOCK,
        nbytes: 0,
    };
    for clock in [abi::clockid::REALTIME, abi::clockid::MONOTONIC] {
        // A second in the past: at once.
        let past = guest.now(clock).saturating_sub(1_000_000_000);
        let started = Instant::now();
        let events = guest.poll(&[
            clock_subscription(1, clock, past, abstime),
            backstop.clone(),
        ]);
        assert_eq!(events, [fired(1)], "clock {clock}, past");
        assert!(started.elapsed() < Duration::from_secs(2), "clock {clock}");
        // 150 ms in the future: not before then.
        let target = guest.now(clock) + 150_000_000;
        let events = guest.poll(&[
            clock_subscription(2, clock, target, abstime),
            backstop.clone(),
        ]);
        let after = guest.now(clock);
        assert_eq!(events, [fired(2)], "clock {clock}, future");
        assert!(
            after >= target,
            "clock {clock}: returned {} ns before the time",
            target - after
        );
    }
}
