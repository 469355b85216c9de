//! Serialised modules: what `Module::serialize` writes and
//! `Module::deserialize` reads.
//!
//! A serialised module saves the work `Module::new` did, so that loading it
//! again costs less: the function bodies are not validated a second time
//! (they were when the module was first created) and, with
//! `Strategy::Cranelift`, nothing is compiled — the machine code is mapped
//! as it was written. The code needs no relocation: it reaches everything
//! through the vmctx and its own pc-relative calls, so the same bytes run
//! at any address.
//!
//! Because the bytes are trusted (native code is executed as it is, and
//! bodies are not validated), `Module::deserialize` is `unsafe`, as in
//! wasmtime: only load what Kiln itself wrote. The header still refuses
//! anything written by another Kiln version, for another machine or
//! configuration, or damaged (a checksum), with an error saying which.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! magic        8 bytes  "\0kilnmod"
//! format       u32      FORMAT_VERSION
//! kiln         str      the Kiln version that wrote it
//! engine       str      Engine::compatibility: features, strategy, target
//! checksum     u64      FNV-1a of everything after it
//! wasm         bytes    the module binary (validated)
//! native       u8       0, or 1 followed by the native code:
//!   image      bytes    all the machine code
//!   funcs      u32 n, n × (opt u64 body, opt u64 trampoline)
//!   adapters   u32 n, n × opt u64
//!   fallbacks  u32 n, n × (u32 function, str why)
//! ```
//!
//! (`str` and `bytes` are a u64 length and the bytes; `opt` is a u8 0 or 1
//! followed by the value when 1.)

use anyhow::{Context, Result, bail};

/// The first bytes of every serialised module.
pub(crate) const MAGIC: &[u8; 8] = b"\0kilnmod";

/// Bumped whenever the layout above changes.
const FORMAT_VERSION: u32 = 1;

/// The Kiln version written into (and required of) serialised modules.
const KILN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A serialised module's contents.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Artifact {
    /// The module binary.
    pub(crate) wasm: Vec<u8>,
    /// Its native code, if the engine compiled it up front.
    pub(crate) native: Option<NativeParts>,
}

/// A module's native code, as `kiln-jit` hands it out for serialising
/// (its `ModuleParts`; kept here as plain data so that every build reads
/// the format, and one without the native tier refuses it with a clear
/// error).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NativeParts {
    /// All the machine code.
    pub(crate) image: Vec<u8>,
    /// Per defined function: its body's and trampoline's offsets.
    pub(crate) funcs: Vec<Option<(usize, Option<usize>)>>,
    /// Per module type: its adapter's offset.
    pub(crate) adapters: Vec<Option<usize>>,
    /// The functions left to the interpreter, with why.
    pub(crate) fallbacks: Vec<(u32, String)>,
}

/// Whether `bytes` start like a serialised module.
pub(crate) fn is_serialized(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Writes `artifact` for an engine whose compatibility string is `engine`.
pub(crate) fn write(engine: &str, artifact: &Artifact) -> Vec<u8> {
    let mut payload = Writer::default();
    payload.bytes(&artifact.wasm);
    match &artifact.native {
        None => payload.u8(0),
        Some(parts) => {
            payload.u8(1);
            payload.bytes(&parts.image);
            payload.u32(parts.funcs.len() as u32);
            for func in &parts.funcs {
                match func {
                    None => {
                        payload.opt(None);
                        payload.opt(None);
                    }
                    Some((body, trampoline)) => {
                        payload.opt(Some(*body));
                        payload.opt(*trampoline);
                    }
                }
            }
            payload.u32(parts.adapters.len() as u32);
            for adapter in &parts.adapters {
                payload.opt(*adapter);
            }
            payload.u32(parts.fallbacks.len() as u32);
            for (func, why) in &parts.fallbacks {
                payload.u32(*func);
                payload.bytes(why.as_bytes());
            }
        }
    }

    let mut out = Writer::default();
    out.0.extend_from_slice(MAGIC);
    out.u32(FORMAT_VERSION);
    out.bytes(KILN_VERSION.as_bytes());
    out.bytes(engine.as_bytes());
    out.u64(fnv1a(&payload.0));
    out.0.extend_from_slice(&payload.0);
    out.0
}

/// Reads a serialised module for an engine whose compatibility string is
/// `engine`, refusing one written for anything else.
pub(crate) fn read(engine: &str, bytes: &[u8]) -> Result<Artifact> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(MAGIC.len()).ok() != Some(&MAGIC[..]) {
        bail!("not a serialised Kiln module (it does not start with the `\\0kilnmod` magic)");
    }
    let format = r.u32()?;
    if format != FORMAT_VERSION {
        bail!(
            "this serialised module has format {format}; this Kiln reads format {FORMAT_VERSION}"
        );
    }
    let version = r.str()?;
    if version != KILN_VERSION {
        bail!(
            "module was serialised by Kiln {version}, and this is Kiln {KILN_VERSION}: \
             compile it again (`Module::new` or `kiln compile`)"
        );
    }
    let written_for = r.str()?;
    if written_for != engine {
        bail!(
            "module was serialised for an incompatible engine configuration or machine\n  \
             module: {written_for}\n  engine: {engine}"
        );
    }
    let checksum = r.u64()?;
    if fnv1a(&bytes[r.at..]) != checksum {
        bail!("serialised module is damaged (its checksum does not match)");
    }
    let wasm = r.bytes()?.to_vec();
    let native = match r.u8()? {
        0 => None,
        1 => Some(read_native(&mut r)?),
        other => bail!("serialised module: bad native-code tag {other}"),
    };
    if r.at != bytes.len() {
        bail!(
            "serialised module: {} unexpected bytes at its end",
            bytes.len() - r.at
        );
    }
    Ok(Artifact { wasm, native })
}

fn read_native(r: &mut Reader<'_>) -> Result<NativeParts> {
    let image = r.bytes()?.to_vec();
    let n = r.count()?;
    let mut funcs = Vec::with_capacity(n);
    for _ in 0..n {
        let body = r.opt()?;
        let trampoline = r.opt()?;
        funcs.push(match body {
            Some(body) => Some((body, trampoline)),
            None if trampoline.is_none() => None,
            None => bail!("serialised module: a trampoline without a body"),
        });
    }
    let n = r.count()?;
    let adapters = (0..n).map(|_| r.opt()).collect::<Result<Vec<_>>>()?;
    let n = r.count()?;
    let mut fallbacks = Vec::with_capacity(n);
    for _ in 0..n {
        let func = r.u32()?;
        fallbacks.push((func, r.str()?.to_owned()));
    }
    Ok(NativeParts {
        image,
        funcs,
        adapters,
        fallbacks,
    })
}

/// The 64-bit FNV-1a hash: catches truncation and corruption (not
/// tampering — loading a serialised module is trusted anyway).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.0.extend_from_slice(v);
    }
    fn opt(&mut self, v: Option<usize>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u64(v as u64);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .context("serialised module is truncated")?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = usize::try_from(self.u64()?).context("serialised module is truncated")?;
        self.take(len)
    }
    fn str(&mut self) -> Result<&'a str> {
        std::str::from_utf8(self.bytes()?).context("serialised module: a string is not UTF-8")
    }
    /// A length of a list whose items take at least a byte each (so a
    /// damaged count cannot make us allocate more than the input's size).
    fn count(&mut self) -> Result<usize> {
        let n = self.u32()? as usize;
        if n > self.bytes.len() - self.at {
            bail!("serialised module is truncated");
        }
        Ok(n)
    }
    fn opt(&mut self) -> Result<Option<usize>> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(
                usize::try_from(self.u64()?).context("serialised module: offset too large")?,
            )),
            other => bail!("serialised module: bad option tag {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact() -> Artifact {
        Artifact {
            wasm: b"\0asm\x01\0\0\0".to_vec(),
            native: Some(NativeParts {
                image: vec![0xc3; 40],
                funcs: vec![Some((0, Some(16))), None, Some((8, None))],
                adapters: vec![Some(24), None],
                fallbacks: vec![(1, "why not".into())],
            }),
        }
    }

    #[test]
    fn round_trips() {
        let bytes = write("engine A", &artifact());
        assert!(is_serialized(&bytes));
        assert_eq!(read("engine A", &bytes).unwrap(), artifact());
    }

    #[test]
    fn refuses_another_engine_version_or_damage() {
        let bytes = write("engine A", &artifact());
        let err = read("engine B", &bytes).unwrap_err().to_string();
        assert!(err.contains("incompatible engine"), "{err}");

        let mut damaged = bytes.clone();
        *damaged.last_mut().unwrap() ^= 1;
        let err = read("engine A", &damaged).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");

        let mut other_version = bytes.clone();
        other_version[12 + 8] ^= 0x20; // the first byte of the version
        let err = read("engine A", &other_version).unwrap_err().to_string();
        assert!(err.contains("serialised by Kiln"), "{err}");

        for len in 0..bytes.len() {
            assert!(read("engine A", &bytes[..len]).is_err(), "{len} bytes");
        }
        let err = read("engine A", b"\0asm\x01\0\0\0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("magic"), "{err}");
    }
}
