//! The compute kernels: C sources in `bench/kernels/`, built by `build.rs`
//! both to WebAssembly and natively, plus the workload size `n` of each.

/// One kernel as `build.rs` built it.
pub struct KernelBuild {
    /// The file stem of `kernels/<name>.c`.
    pub name: &'static str,
    /// The kernel compiled by `clang --target=wasm32 -O2`; exports `run`.
    pub wasm: &'static [u8],
    /// The same C compiled natively by `clang -O2`.
    pub native: unsafe extern "C" fn(i32) -> i32,
}

include!(concat!(env!("OUT_DIR"), "/kernels_gen.rs"));

/// A kernel with its workload size.
#[derive(Clone, Copy, Debug)]
pub struct Kernel {
    /// The kernel's name (its C file's stem).
    pub name: &'static str,
    /// What the kernel exercises, for the report.
    pub what: &'static str,
    /// The argument passed to `run`.
    pub n: i32,
    /// The argument of a short run (total-time section).
    pub short_n: i32,
    /// The wasm module.
    pub wasm: &'static [u8],
    /// The native build.
    pub native: unsafe extern "C" fn(i32) -> i32,
}

/// Workload sizes: the usual `n`, chosen so the native run takes a few
/// milliseconds and an interpreter at most a few hundred, and the short `n`
/// of the total-time section, chosen so Kiln's interpreter takes about 1–5
/// ms (a short run, where compiling everything first does not pay off).
const SIZES: &[(&str, i32, i32, &str)] = &[
    ("bulk_memory", 200, 100, "memory.copy / memory.fill"),
    ("f32_math", 400, 100, "f32 arithmetic (Mandelbrot)"),
    ("f64_math", 400, 100, "f64 arithmetic (spectral norm)"),
    ("fib", 32, 26, "recursive calls (naive Fibonacci)"),
    ("hash_table", 10, 2, "open-addressing hash table"),
    (
        "i64_math",
        200_000,
        20_000,
        "i64 mul/div/rem (modular exponentiation)",
    ),
    (
        "indirect",
        1_000_000,
        150_000,
        "call_indirect through a table",
    ),
    (
        "int_alu",
        2_000_000,
        300_000,
        "i32 ALU and rotates (hash mixer)",
    ),
    ("memory_loop", 20, 1, "loads/stores (matrix multiply)"),
    ("sort", 8, 1, "quicksort + insertion sort"),
    (
        "strings",
        300,
        15,
        "byte loops (tokenise, substring search)",
    ),
    ("switch_vm", 2_000, 100, "br_table dispatch (a tiny VM)"),
];

/// Every kernel `build.rs` compiled, with its size. A kernel without an entry
/// in the size table runs with `n = 1` (and is flagged by a warning).
pub fn all() -> Vec<Kernel> {
    KERNEL_BUILDS
        .iter()
        .map(|build| {
            let (n, short_n, what) = SIZES
                .iter()
                .find(|(name, _, _, _)| *name == build.name)
                .map(|&(_, n, short_n, what)| (n, short_n, what))
                .unwrap_or_else(|| {
                    eprintln!(
                        "warning: kernel {} has no size in kernels.rs; using n = 1",
                        build.name
                    );
                    (1, 1, "")
                });
            Kernel {
                name: build.name,
                what,
                n,
                short_n,
                wasm: build.wasm,
                native: build.native,
            }
        })
        .collect()
}

impl Kernel {
    /// Runs the native build once.
    pub fn run_native(&self, n: i32) -> i32 {
        // SAFETY: every kernel is freestanding C that only touches its own
        // static arrays, and accepts any `n` (negative sizes do no work,
        // oversized ones are clamped or only take longer).
        unsafe { (self.native)(n) }
    }
}
