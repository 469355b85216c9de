//! `WasiCtx`, the state behind one guest's WASI imports, and the builder
//! that decides what the guest is given.

use crate::abi::rights;
use crate::stdio::{HostOutput, InputStream, MemoryInputPipe, MemoryOutputPipe, OutputStream};
use crate::table::{Descriptor, DirObject, Object, Table};
use anyhow::{Context as _, bail};
use std::ffi::OsStr;
use std::fmt;
use std::ops::BitOr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What a guest may do with a preopened directory itself.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DirPerms(u8);

impl DirPerms {
    /// Look up, open, list and stat what is inside.
    pub const READ: DirPerms = DirPerms(1);
    /// Create, rename, link, unlink and remove entries; set times.
    pub const MUTATE: DirPerms = DirPerms(2);

    /// No permission at all.
    pub const fn empty() -> DirPerms {
        DirPerms(0)
    }

    /// `READ | MUTATE`.
    pub const fn all() -> DirPerms {
        DirPerms(3)
    }

    /// Are all of `other`'s permissions in `self`?
    pub const fn contains(self, other: DirPerms) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for DirPerms {
    type Output = DirPerms;
    fn bitor(self, rhs: DirPerms) -> DirPerms {
        DirPerms(self.0 | rhs.0)
    }
}

/// What a guest may do with the files it opens under a preopened
/// directory.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct FilePerms(u8);

impl FilePerms {
    /// Read and stat files.
    pub const READ: FilePerms = FilePerms(1);
    /// Write, truncate, allocate and set times of files.
    pub const WRITE: FilePerms = FilePerms(2);

    /// No permission at all.
    pub const fn empty() -> FilePerms {
        FilePerms(0)
    }

    /// `READ | WRITE`.
    pub const fn all() -> FilePerms {
        FilePerms(3)
    }

    /// Are all of `other`'s permissions in `self`?
    pub const fn contains(self, other: FilePerms) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for FilePerms {
    type Output = FilePerms;
    fn bitor(self, rhs: FilePerms) -> FilePerms {
        FilePerms(self.0 | rhs.0)
    }
}

/// The rights of a preopened directory with these permissions: its own
/// (`base`) and those of what is opened through it (`inheriting`).
fn preopen_rights(dir: DirPerms, file: FilePerms) -> (u64, u64) {
    let mut base = 0;
    if dir.contains(DirPerms::READ) {
        base |= rights::DIR_READ;
    }
    if dir.contains(DirPerms::MUTATE) {
        base |= rights::DIR_MUTATE;
    }
    let mut inheriting = base;
    if file.contains(FilePerms::READ) {
        inheriting |= rights::FILE_READ;
    }
    if file.contains(FilePerms::WRITE) {
        inheriting |= rights::FILE_WRITE;
    }
    (base, inheriting)
}

/// The WASI state of one guest: its arguments, environment and file
/// descriptors. Put it in the store's data and hand
/// [`add_to_linker`](crate::add_to_linker) a closure that finds it.
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) table: Table,
}

impl WasiCtx {
    /// A builder; the same as [`WasiCtxBuilder::new`].
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }
}

impl fmt::Debug for WasiCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WasiCtx")
            .field("args", &self.args.len())
            .field("env", &self.env.len())
            .finish_non_exhaustive()
    }
}

/// Configures a [`WasiCtx`]: arguments, environment variables, standard
/// streams and preopened directories. By default the guest gets nothing:
/// no arguments, no variables, an empty stdin, discarded stdout and
/// stderr, no directories.
///
/// ```no_run
/// # fn main() -> anyhow::Result<()> {
/// use kiln_wasi::{DirPerms, FilePerms, MemoryOutputPipe, WasiCtxBuilder};
/// let stdout = MemoryOutputPipe::new(1 << 20);
/// let ctx = WasiCtxBuilder::new()
///     .args(&["prog.wasm", "--verbose"])
///     .env("LANG", "C")
///     .stdout(stdout.clone())
///     .inherit_stderr()
///     .preopened_dir("data", "/data", DirPerms::READ, FilePerms::READ)?
///     .build();
/// # let _ = ctx;
/// # Ok(())
/// # }
/// ```
#[derive(Default)]
pub struct WasiCtxBuilder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdin: InputStream,
    stdout: OutputStream,
    stderr: OutputStream,
    preopens: Vec<(cap_std::fs::Dir, String, DirPerms, FilePerms)>,
}

impl WasiCtxBuilder {
    /// A builder that gives the guest nothing.
    pub fn new() -> WasiCtxBuilder {
        WasiCtxBuilder::default()
    }

    /// Appends one argument (the first is the program name, `argv[0]`).
    pub fn arg(&mut self, arg: impl AsRef<str>) -> &mut Self {
        self.args.push(arg.as_ref().as_bytes().to_vec());
        self
    }

    /// Appends arguments.
    pub fn args(&mut self, args: &[impl AsRef<str>]) -> &mut Self {
        for arg in args {
            self.arg(arg);
        }
        self
    }

    /// Passes the host process's own arguments.
    pub fn inherit_args(&mut self) -> &mut Self {
        self.args = std::env::args_os()
            .map(|a| OsStr::as_bytes(&a).to_vec())
            .collect();
        self
    }

    /// Sets environment variable `name` to `value` (a later setting of the
    /// same name replaces an earlier one).
    pub fn env(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> &mut Self {
        self.env_bytes(name.as_ref().as_bytes(), value.as_ref().as_bytes());
        self
    }

    /// Sets several environment variables.
    pub fn envs(&mut self, vars: &[(impl AsRef<str>, impl AsRef<str>)]) -> &mut Self {
        for (name, value) in vars {
            self.env(name, value);
        }
        self
    }

    /// Passes the host process's environment.
    pub fn inherit_env(&mut self) -> &mut Self {
        for (name, value) in std::env::vars_os() {
            self.env_bytes(name.as_bytes(), value.as_bytes());
        }
        self
    }

    fn env_bytes(&mut self, name: &[u8], value: &[u8]) {
        let mut prefix = name.to_vec();
        prefix.push(b'=');
        self.env.retain(|entry| !entry.starts_with(&prefix));
        let mut entry = prefix;
        entry.extend_from_slice(value);
        self.env.push(entry);
    }

    /// Reads stdin from `pipe`.
    pub fn stdin(&mut self, pipe: MemoryInputPipe) -> &mut Self {
        self.stdin = InputStream::Memory(pipe);
        self
    }

    /// Writes stdout to `pipe`.
    pub fn stdout(&mut self, pipe: MemoryOutputPipe) -> &mut Self {
        self.stdout = OutputStream::Memory(pipe);
        self
    }

    /// Writes stderr to `pipe`.
    pub fn stderr(&mut self, pipe: MemoryOutputPipe) -> &mut Self {
        self.stderr = OutputStream::Memory(pipe);
        self
    }

    /// Reads stdin from the host process's stdin.
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = InputStream::Inherit;
        self
    }

    /// Writes stdout to the host process's stdout.
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout = OutputStream::Inherit(HostOutput::Stdout);
        self
    }

    /// Writes stderr to the host process's stderr.
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = OutputStream::Inherit(HostOutput::Stderr);
        self
    }

    /// Inherits all three standard streams.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Gives the guest the host directory `host_path` under the name
    /// `guest_path` (what the guest's libc matches paths against: `.`,
    /// `/data`, ...). The guest reaches nothing outside it. Fails if the
    /// directory cannot be opened now.
    pub fn preopened_dir(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl AsRef<str>,
        dir_perms: DirPerms,
        file_perms: FilePerms,
    ) -> anyhow::Result<&mut Self> {
        let host_path = host_path.as_ref();
        let guest_path = guest_path.as_ref();
        if guest_path.is_empty() || guest_path.contains('\0') {
            bail!("invalid guest path {guest_path:?} for preopened directory");
        }
        let dir = cap_std::fs::Dir::open_ambient_dir(host_path, cap_std::ambient_authority())
            .with_context(|| format!("failed to open directory {}", host_path.display()))?;
        self.preopens
            .push((dir, guest_path.to_string(), dir_perms, file_perms));
        Ok(self)
    }

    /// Builds the context, leaving the builder empty.
    pub fn build(&mut self) -> WasiCtx {
        let builder = std::mem::take(self);
        let mut table = Table::default();
        table.insert_at(0, Descriptor::input(builder.stdin));
        table.insert_at(1, Descriptor::output(builder.stdout));
        table.insert_at(2, Descriptor::output(builder.stderr));
        for (fd, (dir, name, dir_perms, file_perms)) in (3u32..).zip(builder.preopens) {
            let (base, inheriting) = preopen_rights(dir_perms, file_perms);
            table.insert_at(
                fd,
                Descriptor {
                    object: Object::Dir(DirObject { dir, listing: None }),
                    rights_base: base,
                    rights_inheriting: inheriting,
                    flags: 0,
                    preopen: Some(name),
                },
            );
        }
        WasiCtx {
            args: builder.args,
            env: builder.env,
            table,
        }
    }

    /// Builds the context as a [`WasiP1Ctx`](crate::p1::WasiP1Ctx), the
    /// type wasmtime-wasi's preview 1 names use
    /// ([`p1::add_to_linker_sync`](crate::p1::add_to_linker_sync)); the
    /// same as [`build`](WasiCtxBuilder::build) otherwise, leaving the
    /// builder empty.
    pub fn build_p1(&mut self) -> crate::p1::WasiP1Ctx {
        crate::p1::WasiP1Ctx::new(self.build())
    }
}

impl fmt::Debug for WasiCtxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WasiCtxBuilder")
            .field("args", &self.args.len())
            .field("env", &self.env.len())
            .field("preopens", &self.preopens.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_preopens_cannot_create_or_write() {
        let (base, inheriting) = preopen_rights(DirPerms::READ, FilePerms::READ);
        assert_eq!(base & rights::PATH_CREATE_FILE, 0);
        assert_eq!(inheriting & rights::FD_WRITE, 0);
        assert_ne!(base & rights::PATH_OPEN, 0);
        let (base, inheriting) = preopen_rights(DirPerms::all(), FilePerms::all());
        assert_ne!(base & rights::PATH_UNLINK_FILE, 0);
        assert_ne!(inheriting & rights::FD_WRITE, 0);
    }

    #[test]
    fn later_env_settings_replace_earlier_ones() {
        let ctx = WasiCtxBuilder::new()
            .env("A", "1")
            .env("AB", "2")
            .env("A", "3")
            .build();
        assert_eq!(ctx.env, vec![b"AB=2".to_vec(), b"A=3".to_vec()]);
    }
}
