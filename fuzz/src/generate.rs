//! From a seed to a module and to the arguments of every call.
//!
//! wasm-smith turns a byte string into a valid module; the bytes come from
//! the seed's [`Rng`] stream, so a seed names one module forever (for a
//! given wasm-smith version and [`Options`]). wasm-smith is configured for
//! exactly what Kiln supports — WebAssembly 2.0 without SIMD — with no
//! imports and every item exported, so that everything a module does can be
//! observed from the host. A few knobs (how many functions, whether traps
//! are avoided, whether floats appear) are drawn per seed from a separate
//! stream ("swarm testing": some seeds stress one corner, others another).

use crate::Options;
use crate::rng::Rng;
use arbitrary::Unstructured;
use kiln::{Val, ValType};

/// The [`Rng`] stream of the module's bytes.
const STREAM_MODULE: u64 = 0;
/// The stream of the per-seed wasm-smith knobs.
const STREAM_KNOBS: u64 = 1;
/// The stream of the call arguments.
pub(crate) const STREAM_ARGS: u64 = 2;

/// WebAssembly pages of 64 KiB.
const PAGE: u64 = 65536;

/// The wasm-smith configuration of `seed`: Kiln's feature set, bounded
/// sizes, and this seed's swarm knobs.
pub fn smith_config(seed: u64, opts: &Options) -> wasm_smith::Config {
    let mut knobs = Rng::stream(seed, STREAM_KNOBS);
    let mut c = wasm_smith::Config::default();

    // Kiln's feature set: WebAssembly 2.0 (multi-value, bulk memory,
    // reference types, sign extension, saturating conversions, mutable
    // globals), no SIMD and nothing newer.
    c.multi_value_enabled = true;
    c.bulk_memory_enabled = true;
    c.reference_types_enabled = true;
    c.sign_extension_ops_enabled = true;
    c.saturating_float_to_int_enabled = true;
    c.simd_enabled = false;
    c.relaxed_simd_enabled = false;
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.tail_call_enabled = false;
    c.exceptions_enabled = false;
    c.gc_enabled = false;
    c.memory64_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.wide_arithmetic_enabled = false;
    c.extended_const_enabled = false;
    c.compact_imports_enabled = false;
    c.custom_descriptors_enabled = false;
    c.acquire_release_atomics_enabled = false;
    c.multibyte_array_access_enabled = false;
    c.max_memories = 1; // no multi-memory
    c.generate_custom_sections = false;
    // The tiers must agree on NaN bits exactly, so NaNs stay as they come
    // (unless asked otherwise, to look past NaN differences).
    c.canonicalize_nans = opts.canonicalize_nans;
    c.allow_invalid_funcs = false;

    // Everything observable: no imports (nothing both tiers would need to
    // be given identically), every function, memory, global and table
    // exported.
    c.max_imports = 0;
    c.min_imports = 0;
    c.export_everything = true;
    c.allow_start_export = true;

    // Bounded sizes: small memories and tables, each with a maximum, so a
    // whole memory can be compared after every call.
    c.max_memory32_bytes = opts.max_memory_pages * PAGE;
    c.memory_max_size_required = true;
    c.max_tables = 3;
    c.max_table_elements = 64;
    c.table_max_size_required = true;
    c.max_types = 16;
    c.max_globals = 12;
    c.max_data_segments = 8;
    c.max_element_segments = 8;
    c.max_elements = 16;
    c.max_type_size = 200;
    c.max_instructions = opts.max_instructions;

    // Swarm knobs.
    // wasm-smith adds items past the minimum while a coin comes up heads,
    // so minimums are what make modules with many functions.
    c.min_types = 1;
    c.max_funcs = knobs.range(1, opts.max_funcs.max(1) as u64) as usize;
    c.min_funcs = knobs.range(1, c.max_funcs.div_ceil(2) as u64) as usize;
    c.disallow_traps = knobs.chance(1, 4);
    c.allow_floats = knobs.chance(9, 10);
    if knobs.chance(1, 5) {
        c.min_memories = 1;
    }
    // A third of the seeds use a random subset of the instruction kinds:
    // without control flow or memory, say, the numeric operators run far
    // more often before a trap or the fuel ends a call.
    if knobs.chance(1, 3) {
        use wasm_smith::{InstructionKind as K, InstructionKinds};
        let mut kinds = vec![K::Variable];
        kinds.push(if c.allow_floats && knobs.chance(3, 4) {
            K::Numeric
        } else {
            K::NumericInt
        });
        for kind in [K::Parametric, K::Reference, K::Table, K::Control] {
            if knobs.chance(1, 2) {
                kinds.push(kind);
            }
        }
        if knobs.chance(1, 2) {
            kinds.push(if knobs.chance(1, 2) {
                K::Memory
            } else {
                K::MemoryInt
            });
        }
        c.allowed_instructions = InstructionKinds::new(&kinds);
    }
    c
}

/// The module of `seed`, as a binary. Fails only if wasm-smith gives up on
/// its input (which does not happen with the configuration above, but the
/// API allows it).
pub fn generate(seed: u64, opts: &Options) -> arbitrary::Result<Vec<u8>> {
    let config = smith_config(seed, opts);
    let mut rng = Rng::stream(seed, STREAM_MODULE);
    // The input's length bounds the module's size; vary it per seed.
    let len = rng.range((opts.input_len / 4) as u64, opts.input_len as u64) as usize;
    let mut input = vec![0u8; len];
    rng.fill(&mut input);
    let module = wasm_smith::Module::new(config, &mut Unstructured::new(&input))?;
    Ok(module.to_bytes())
}

const I32_EDGES: &[i32] = &[
    0,
    1,
    -1,
    2,
    7,
    8,
    31,
    32,
    63,
    64,
    255,
    65535,
    65536,
    0x7fff_ffff,
    i32::MIN,
    i32::MIN + 1,
    0x8000,
    -65536,
];

const I64_EDGES: &[i64] = &[
    0,
    1,
    -1,
    2,
    31,
    32,
    63,
    64,
    65536,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    i64::MAX,
    i64::MIN,
    i64::MIN + 1,
    -65536,
];

const F32_EDGES: &[u32] = &[
    0x0000_0000, // 0.0
    0x8000_0000, // -0.0
    0x3f80_0000, // 1.0
    0xbf80_0000, // -1.0
    0x3f00_0000, // 0.5
    0x7fc0_0000, // canonical NaN
    0xffc0_0000, // negative canonical NaN
    0x7fa0_0001, // signalling NaN with a payload
    0x7fc0_1234, // quiet NaN with a payload
    0xff80_0001, // negative signalling NaN
    0x7f80_0000, // +inf
    0xff80_0000, // -inf
    0x0000_0001, // smallest subnormal
    0x0080_0000, // smallest normal
    0x7f7f_ffff, // largest finite
    0x4f00_0000, // 2^31
    0xcf00_0000, // -2^31
    0x4f80_0000, // 2^32
    0x5f00_0000, // 2^63
    0xdf00_0000, // -2^63
    0x4effffff,  // just below 2^31
];

const F64_EDGES: &[u64] = &[
    0x0000_0000_0000_0000, // 0.0
    0x8000_0000_0000_0000, // -0.0
    0x3ff0_0000_0000_0000, // 1.0
    0xbff0_0000_0000_0000, // -1.0
    0x3fe0_0000_0000_0000, // 0.5
    0x7ff8_0000_0000_0000, // canonical NaN
    0xfff8_0000_0000_0000, // negative canonical NaN
    0x7ff4_0000_0000_0001, // signalling NaN with a payload
    0x7ff8_0000_0000_1234, // quiet NaN with a payload
    0xfff0_0000_0000_0001, // negative signalling NaN
    0x7ff0_0000_0000_0000, // +inf
    0xfff0_0000_0000_0000, // -inf
    0x0000_0000_0000_0001, // smallest subnormal
    0x0010_0000_0000_0000, // smallest normal
    0x7fef_ffff_ffff_ffff, // largest finite
    0x41e0_0000_0000_0000, // 2^31
    0xc1e0_0000_0000_0000, // -2^31
    0x41df_ffff_ffc0_0000, // 2^31 - 1
    0xc1e0_0000_0020_0000, // -2^31 - 1
    0x41f0_0000_0000_0000, // 2^32
    0x43e0_0000_0000_0000, // 2^63
    0xc3e0_0000_0000_0000, // -2^63
];

/// Deterministic arguments of types `params`: edge values (zero, -1,
/// extremes, NaNs with and without payloads, infinities, conversion
/// boundaries) half of the time, small numbers (likely addresses and
/// indices) or random bits otherwise; references are null (the module
/// has no imports, so the host has no other references to give).
pub fn arguments(rng: &mut Rng, params: &[ValType]) -> Vec<Val> {
    params
        .iter()
        .map(|ty| match ty {
            ValType::I32 => Val::I32(match rng.below(4) {
                0 | 1 => rng.pick(I32_EDGES),
                2 => rng.below(70_000) as i32,
                _ => rng.next_u64() as i32,
            }),
            ValType::I64 => Val::I64(match rng.below(4) {
                0 | 1 => rng.pick(I64_EDGES),
                2 => rng.below(70_000) as i64,
                _ => rng.next_u64() as i64,
            }),
            ValType::F32 => Val::F32(match rng.below(4) {
                0 | 1 => rng.pick(F32_EDGES),
                2 => (rng.below(2001) as f32 - 1000.0).to_bits(),
                _ => rng.next_u64() as u32,
            }),
            ValType::F64 => Val::F64(match rng.below(4) {
                0 | 1 => rng.pick(F64_EDGES),
                2 => (rng.below(2001) as f64 - 1000.0).to_bits(),
                _ => rng.next_u64(),
            }),
            ValType::Ref(r) if r.heap_type() == &kiln::HeapType::Extern => Val::ExternRef(None),
            ValType::Ref(_) => Val::FuncRef(None),
            // Never generated (SIMD is off); Kiln has no `Val` for it.
            ValType::V128 => unreachable!("wasm-smith generates no v128 with SIMD off"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_name_modules() {
        let opts = Options::ci();
        let a = generate(42, &opts).unwrap();
        let b = generate(42, &opts).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, generate(43, &opts).unwrap());
        assert_eq!(&a[..4], b"\0asm");
    }

    #[test]
    fn arguments_are_deterministic_and_typed() {
        let params = [ValType::I32, ValType::I64, ValType::F32, ValType::F64];
        let a = arguments(&mut Rng::stream(5, STREAM_ARGS), &params);
        let b = arguments(&mut Rng::stream(5, STREAM_ARGS), &params);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert!(matches!(
            a[..],
            [Val::I32(_), Val::I64(_), Val::F32(_), Val::F64(_)]
        ));
    }
}
