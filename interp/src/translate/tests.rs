//! Translator tests: exact instruction sequences for the patterns the design
//! depends on, validation errors, robustness on garbage, and execution of
//! translated code by a small reference evaluator (so tricky cases are
//! checked for meaning, not only for shape).

use super::translate_function;
use crate::ModuleTypes;
use crate::bytecode::{
    AddBr, AddBrImm, AddCopy, AddPair, Bin, BrCmp, CompiledFunc, Load, LoadStep, MulAdd, Op,
    ShiftAdd, Store, Un, load_idx,
};
use crate::vm::TrapCode;
use wasmparser::{
    FuncValidatorAllocations, Parser, Payload, TypeRef, ValidPayload, Validator, WasmFeatures,
};

/// Validates and translates every function of a module (text format).
/// Each body is also translated without a validator, which must give the
/// same bytecode.
fn try_compile(wat: &str) -> anyhow::Result<Vec<CompiledFunc>> {
    let bytes = wat::parse_str(wat)?;
    let mut validator = Validator::new_with_features(WasmFeatures::WASM2);
    let mut types = ModuleTypes::default();
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        let payload = payload?;
        match &payload {
            Payload::TypeSection(reader) => {
                for group in reader.clone() {
                    for ty in group?.into_types() {
                        types.types.push(ty.unwrap_func().clone());
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    if let TypeRef::Func(ty) = import?.ty {
                        types.funcs.push(ty);
                        types.num_imported_funcs += 1;
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader.clone() {
                    types.funcs.push(ty?);
                }
            }
            _ => {}
        }
        if let ValidPayload::Func(func, body) = validator.payload(&payload)? {
            let mut func = func.into_validator(FuncValidatorAllocations::default());
            let index = func.index();
            let compiled = translate_function(&types, index, &body, Some(&mut func))?;
            let trusted = translate_function(&types, index, &body, None)?;
            assert_eq!(
                plain(&compiled),
                plain(&trusted),
                "translation differs without a validator"
            );
            assert_eq!(compiled.frame_size, trusted.frame_size);
            out.push(compiled);
        }
    }
    Ok(out)
}

fn compile(wat: &str) -> Vec<CompiledFunc> {
    try_compile(wat).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The bytecode of the last function of `(module <funcs>)`.
fn ops_of(funcs: &str) -> Vec<Op> {
    plain(
        &compile(&format!("(module {funcs})"))
            .pop()
            .expect("no function"),
    )
}

/// `f`'s instructions as the translator wrote them, before pairs were
/// fused (`pairs.rs` tests that) and the executor linked its branches:
/// what the expected listings here spell out. (An `I32AddPair` and the
/// `I32XorShl`/`I32XorShrU` steps stay: their constants no longer name
/// their slots.)
fn plain(f: &CompiledFunc) -> Vec<Op> {
    let ops: Vec<Op> = f.ops().collect();
    (0..ops.len())
        .map(|pc| match ops[pc] {
            Op::Br { offset, .. } => Op::br(offset),
            Op::Copy2 { dst0, src0, .. } | Op::Copy2Br { dst0, src0, .. } => Op::Copy {
                dst: dst0,
                src: src0,
            },
            Op::CopyBr { dst, src, .. } => Op::Copy { dst, src },
            Op::I32AddCopy(c) => Op::I32Add(bin(c.dst, c.lhs, c.rhs)),
            Op::I32MulAdd(m) | Op::I32MulAddAccL(m) => {
                // The product went to the slot the skipped add reads.
                let Op::I32AddAccL(add) = ops[pc + 1] else {
                    panic!("{:?} skips {:?}", ops[pc], ops[pc + 1]);
                };
                let mul = bin(add.lhs, m.lhs, m.rhs);
                match ops[pc] {
                    Op::I32MulAdd(_) => Op::I32Mul(mul),
                    _ => Op::I32MulAccL(mul),
                }
            }
            load_idx!(l) => {
                // The sum went to the slot the skipped load reads.
                let (_, load) = super::pairs::load_from_acc(ops[pc + 1])
                    .unwrap_or_else(|| panic!("{:?} skips {:?}", ops[pc], ops[pc + 1]));
                Op::I32Add(bin(load.addr, l.base, l.index))
            }
            op => op,
        })
        .collect()
}

fn bin(dst: u16, lhs: u16, rhs: u16) -> Bin {
    Bin::new(dst, lhs, rhs)
}

// ----- fusion and locals -----

#[test]
fn add_then_set_is_one_instruction() {
    let f = compile(
        "(module (func (param i32 i32) (local i32)
            local.get 0 local.get 1 i32.add local.set 2))",
    );
    assert_eq!(plain(&f[0]), [Op::I32Add(bin(2, 0, 1)), Op::Return]);
    assert_eq!(
        (f[0].num_params, f[0].num_locals, f[0].num_results),
        (2, 3, 0)
    );
}

#[test]
fn constants_and_locals_go_straight_to_the_local() {
    assert_eq!(
        ops_of("(func (local i32 i64) i32.const 5 local.set 0 i64.const -1 local.set 1)"),
        [
            Op::Const32 { dst: 0, value: 5 },
            Op::Const64 {
                dst: 1,
                value: u64::MAX
            },
            Op::Return
        ]
    );
    assert_eq!(
        ops_of("(func (param i32) (local i32) local.get 0 local.set 1)"),
        [Op::Copy { dst: 1, src: 0 }, Op::Return]
    );
    // Setting a local to itself is nothing at all.
    assert_eq!(
        ops_of("(func (param i32) local.get 0 local.set 0)"),
        [Op::Return]
    );
}

#[test]
fn tee_retargets_and_leaves_the_local() {
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32) (local i32) local.get 0 i32.const 1 i32.add local.tee 1)"
        ),
        // The constant 1 lives in pool slot 2, read directly by the add.
        [
            Op::I32Add(bin(1, 0, 2)),
            Op::Copy { dst: 0, src: 1 },
            Op::Return
        ]
    );
}

#[test]
fn single_result_is_computed_into_slot_zero() {
    assert_eq!(
        ops_of("(func (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)"),
        [Op::I32Add(bin(0, 0, 1)), Op::Return]
    );
    // Also across the end of a block nothing branches to.
    assert_eq!(
        ops_of(
            "(func (param i32 i32) (result i32) (block (result i32) local.get 0 local.get 1 i32.add))"
        ),
        [Op::I32Add(bin(0, 0, 1)), Op::Return]
    );
}

#[test]
fn set_keeps_pending_gets_of_the_old_value() {
    // The result is the *old* local 0, so it is saved before the store.
    assert_eq!(
        ops_of("(func (param i32) (result i32) local.get 0 i32.const 1 local.set 0)"),
        [
            Op::Copy { dst: 1, src: 0 },
            Op::Const32 { dst: 0, value: 1 },
            Op::Copy { dst: 0, src: 1 },
            Op::Return
        ]
    );
    // With a pending get, the save is emitted before the producer, which
    // then still writes the local directly.
    assert_eq!(
        ops_of(
            "(func (param i32 i32) (result i32)
                local.get 0 local.get 0 local.get 1 i32.add local.set 0 local.get 0 i32.add)"
        ),
        [
            Op::Copy { dst: 2, src: 0 },
            Op::I32Add(bin(0, 0, 1)),
            // Reads the local just written from the accumulator (operands
            // swapped to put it on the left).
            Op::I32AddAccL(bin(0, 0, 2)),
            Op::Return
        ]
    );
}

#[test]
fn extend_u_and_reinterpret() {
    assert_eq!(
        ops_of("(func (param i32) (result i64) local.get 0 i64.extend_i32_u)"),
        [Op::I64ExtendI32U(Un { dst: 0, src: 0 }), Op::Return]
    );
    // Reinterpretations keep the bits and the slot encoding: nothing to do.
    assert_eq!(
        ops_of("(func (param f32) (result i32) local.get 0 i32.reinterpret_f32)"),
        [Op::Return]
    );
}

#[test]
fn references() {
    assert_eq!(
        ops_of("(func (result i32) ref.null func ref.is_null)"),
        // The null reference is the pool constant 0 in slot 1.
        [Op::I64Eqz(Un { dst: 0, src: 1 }), Op::Return]
    );
}

#[test]
fn loads_and_stores() {
    assert_eq!(
        ops_of(
            "(memory 1) (func (param i32) (result i32)
                local.get 0 i32.const 7 i32.store offset=4
                local.get 0 i32.load8_u offset=1)"
        ),
        [
            Op::I32Store(Store {
                addr: 0,
                value: 1,
                offset: 4
            }),
            Op::I32Load8U(Load {
                dst: 0,
                addr: 0,
                offset: 1
            }),
            Op::Return
        ]
    );
}

#[test]
fn select_reads_operands_in_place() {
    assert_eq!(
        ops_of(
            "(func (param i32 i32 i32) (result i32) local.get 0 local.get 1 local.get 2 select)"
        ),
        [
            Op::Select {
                dst: 0,
                cond: 2,
                if_true: 0,
                if_false: 1
            },
            Op::Return
        ]
    );
}

// ----- control flow -----

#[test]
fn block_result_carried_by_br() {
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32)
                (block (result i32) local.get 0 br 0)
                i32.const 1 i32.add)"
        ),
        // Pool slot 1 holds the constant; the block result's home is slot 2.
        [
            Op::Copy { dst: 2, src: 0 },
            Op::br(1),
            Op::I32Add(bin(0, 2, 1)),
            Op::Return
        ]
    );
}

#[test]
fn br_if_without_copies() {
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32)
                (block (result i32) local.get 0 local.get 0 br_if 0 drop i32.const 7))"
        ),
        [
            Op::Copy { dst: 1, src: 0 },
            Op::BrIfNez { cond: 0, offset: 2 },
            Op::Const32 { dst: 1, value: 7 },
            Op::Copy { dst: 0, src: 1 },
            Op::Return
        ]
    );
    // Nothing carried: nothing is flushed, the `local.get` stays pending.
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32) (local i32) (block local.get 0 local.get 0 br_if 0 local.set 1) local.get 1)"
        ),
        [
            Op::BrIfNez { cond: 0, offset: 2 },
            Op::Copy { dst: 1, src: 0 },
            Op::Copy { dst: 0, src: 1 },
            Op::Return
        ]
    );
}

#[test]
fn br_if_with_copies() {
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32)
                (block (result i32) i32.const 1 local.get 0 local.get 0 br_if 0 drop))"
        ),
        [
            Op::BrIfEqz { cond: 0, offset: 3 },
            Op::Copy { dst: 1, src: 0 },
            Op::br(2),
            Op::Const32 { dst: 1, value: 1 },
            Op::Copy { dst: 0, src: 1 },
            Op::Return
        ]
    );
}

#[test]
fn br_if_to_the_function_returns() {
    assert_eq!(
        ops_of("(func (param i32) (result i32) i32.const 9 local.get 0 br_if 0 drop i32.const 3)"),
        [
            Op::BrIfEqz { cond: 0, offset: 3 },
            Op::Const32 { dst: 0, value: 9 },
            Op::Return,
            Op::Const32 { dst: 0, value: 3 },
            Op::Return
        ]
    );
}

#[test]
fn br_table_direct_entries() {
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32)
                (block (block local.get 0 br_table 0 1 0) i32.const 10 return)
                i32.const 20)"
        ),
        [
            Op::BrTable { index: 0, len: 2 },
            Op::br(3),
            Op::br(4),
            Op::br(1),
            Op::Const32 { dst: 0, value: 10 },
            Op::Return,
            Op::Const32 { dst: 0, value: 20 },
            Op::Return
        ]
    );
}

#[test]
fn br_table_stubs() {
    // Entry 0 needs no copy, entry 1 moves the value down a slot, the
    // default returns it.
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32)
                (block (result i32)
                    i32.const 5
                    (block (result i32) i32.const 7 local.get 0 br_table 0 1 2)
                    drop))"
        ),
        [
            Op::Const32 { dst: 1, value: 5 },
            Op::Const32 { dst: 2, value: 7 },
            Op::BrTable { index: 0, len: 2 },
            Op::br(7),
            Op::br(2),
            Op::br(3),
            Op::Copy { dst: 1, src: 2 },
            Op::br(3),
            Op::Copy { dst: 0, src: 2 },
            Op::Return,
            Op::Copy { dst: 0, src: 1 },
            Op::Return
        ]
    );
}

#[test]
fn if_else_with_results() {
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32) local.get 0 (if (result i32) (then i32.const 1) (else i32.const 2)))"
        ),
        [
            Op::BrIfEqz { cond: 0, offset: 3 },
            Op::Const32 { dst: 1, value: 1 },
            Op::br(2),
            Op::Const32 { dst: 1, value: 2 },
            Op::Copy { dst: 0, src: 1 },
            Op::Return
        ]
    );
}

#[test]
fn if_without_else() {
    assert_eq!(
        ops_of("(func (param i32) (local i32) local.get 0 (if (then i32.const 4 local.set 1)))"),
        [
            Op::BrIfEqz { cond: 0, offset: 2 },
            Op::Const32 { dst: 1, value: 4 },
            Op::Return
        ]
    );
}

#[test]
fn loop_with_params() {
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32)
                local.get 0
                (loop (param i32) (result i32)
                    i32.const 1 i32.sub local.tee 0 local.get 0 br_if 0))"
        ),
        // Pool slot 1 holds the constant 1; the loop parameter's home is slot 2.
        [
            Op::Copy { dst: 2, src: 0 },
            Op::I32Sub(bin(0, 2, 1)),
            Op::Copy { dst: 2, src: 0 },
            Op::BrIfNez {
                cond: 0,
                offset: -2
            },
            Op::Copy { dst: 0, src: 2 },
            Op::Return
        ]
    );
}

#[test]
fn call_base_and_results() {
    let f = compile(
        "(module
            (func $f (param i32 i32) (result i32 i64) local.get 0 i64.const 9)
            (func (param i32) (result i64) (local i32)
                i32.const 3 local.get 0 i32.const 2 call $f
                drop i32.add local.set 1
                i64.const 1))",
    );
    assert_eq!(plain(&f[0]), [Op::Const64 { dst: 1, value: 9 }, Op::Return]);
    // The constant below the arguments stays pending across the call and is
    // then read from pool slot 2; an argument constant is materialised into
    // its argument slot, since arguments must be consecutive.
    assert_eq!(
        plain(&f[1]),
        &[
            Op::Copy { dst: 4, src: 0 },
            Op::Const32 { dst: 5, value: 2 },
            Op::Call { func: 0, base: 4 },
            Op::I32Add(bin(1, 2, 4)),
            Op::Const64 { dst: 0, value: 1 },
            Op::Return
        ]
    );
    assert_eq!(&*f[1].consts, &[3]);
    assert_eq!(f[1].frame_size, 6);
}

#[test]
fn call_indirect_index_is_separate() {
    assert_eq!(
        ops_of(
            "(type $t (func (param i32) (result i32))) (table 1 funcref)
             (func (param i32) (result i32) local.get 0 i32.const 0 call_indirect (type $t))"
        ),
        [
            Op::Copy { dst: 2, src: 0 },
            Op::CallIndirect {
                type_index: 0,
                table: 0,
                index: 1,
                base: 2
            },
            Op::Copy { dst: 0, src: 2 },
            Op::Return
        ]
    );
}

#[test]
fn return_two_values() {
    assert_eq!(
        ops_of("(func (result i32 i32) i32.const 1 i32.const 2 return)"),
        [
            Op::Const32 { dst: 0, value: 1 },
            Op::Const32 { dst: 1, value: 2 },
            Op::Return
        ]
    );
    // A swap: local 0 is saved before slot 0 receives local 1.
    assert_eq!(
        ops_of("(func (param i32 i32) (result i32 i32) local.get 1 local.get 0 return)"),
        [
            Op::Copy { dst: 3, src: 0 },
            Op::Copy { dst: 0, src: 1 },
            Op::Copy { dst: 1, src: 3 },
            Op::Return
        ]
    );
}

#[test]
fn dead_code_is_skipped() {
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32)
                (block
                    br 0
                    i32.const 1 drop
                    (block (result i32) unreachable)
                    drop)
                local.get 0)"
        ),
        [Op::br(1), Op::Return]
    );
    // Nothing reaches the end of a block whose body traps: the rest is dead.
    assert_eq!(
        ops_of("(func (result i32) (block unreachable) i32.const 1)"),
        [Op::Trap {
            code: TrapCode::UnreachableCodeReached
        }]
    );
    // The else arm of a dead then-arm is live, and as the only way to the
    // end its result can stay virtual.
    assert_eq!(
        ops_of(
            "(func (param i32) (result i32) local.get 0 (if (result i32) (then unreachable) (else i32.const 2)))"
        ),
        [
            Op::BrIfEqz { cond: 0, offset: 2 },
            Op::Trap {
                code: TrapCode::UnreachableCodeReached
            },
            Op::Const32 { dst: 0, value: 2 },
            Op::Return
        ]
    );
}

#[test]
fn frame_size() {
    let f = compile(
        "(module
            (func (param i32) (local i64 i64) i32.const 1 i32.const 2 i32.const 3 i32.add i32.add drop)
            (func (result i32 i32 i32) unreachable)
            (func))",
    );
    // Three locals, three pooled constants, three operand slots. `2 + 3`
    // takes 3 as an immediate, `1 + _` reads 1 from its slot: only that
    // constant is copied into a new frame.
    assert_eq!(
        (f[0].num_locals, f[0].consts.len(), f[0].frame_size),
        (3, 1, 9)
    );
    assert_eq!((f[1].num_results, f[1].frame_size), (3, 3));
    assert_eq!(f[2].frame_size, 0);
}

#[test]
fn frames_over_the_limit_are_rejected() {
    let wat = format!(
        "(module (func (local {}) {} {}))",
        "i32 ".repeat(50_000),
        "i32.const 0 ".repeat(20_000),
        "drop ".repeat(20_000)
    );
    let err = try_compile(&wat).unwrap_err();
    assert_eq!(
        err.to_string(),
        "function 0 needs 70000 frame slots; Kiln's limit is 65535"
    );
}

// ----- errors and robustness -----

#[test]
fn invalid_bodies_report_wasmparsers_error() {
    for (body, expected) in [
        ("(func (result i32) i64.const 0)", "type mismatch"),
        ("(func local.get 3 drop)", "unknown local"),
        ("(func br 1)", "unknown label"),
        ("(func (block (result i32)))", "type mismatch"),
    ] {
        let wat = format!("(module {body})");
        let err = try_compile(&wat).unwrap_err();
        let ours = err
            .downcast_ref::<wasmparser::BinaryReaderError>()
            .expect("a wasmparser error");
        assert!(ours.message().contains(expected), "{body}: {ours}");
        // Exactly what wasmparser's own whole-module validation says.
        let theirs = Validator::new_with_features(WasmFeatures::WASM2)
            .validate_all(&wat::parse_str(&wat).unwrap())
            .err()
            .expect("wasmparser rejects it too");
        assert_eq!(
            (ours.message(), ours.offset()),
            (theirs.message(), theirs.offset()),
            "{body}"
        );
    }
}

#[test]
fn garbage_never_panics() {
    let types = ModuleTypes {
        types: vec![
            wasmparser::FuncType::new([wasmparser::ValType::I32], [wasmparser::ValType::I32]),
            wasmparser::FuncType::new([], []),
            wasmparser::FuncType::new([wasmparser::ValType::I64; 3], [wasmparser::ValType::F64; 2]),
        ],
        funcs: vec![0, 1, 2, 0],
        num_imported_funcs: 0,
        ..ModuleTypes::default()
    };
    // Opcodes that parse, with small immediates, so bodies get past the
    // first byte often and reach deep into the translator.
    const PLAUSIBLE: &[u8] = &[
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0b, 0x0b, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
        0x1a, 0x1b, 0x20, 0x21, 0x22, 0x23, 0x24, 0x28, 0x36, 0x3f, 0x40, 0x41, 0x42, 0x45, 0x6a,
        0x6b, 0x7c, 0xad, 0xd0, 0xd1, 0xd2, 0x40, 0x7f, 0x7e, 0x00, 0x01, 0x02, 0x03,
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..600 {
        let len = (next() % 64) as usize;
        let mut bytes: Vec<u8> = Vec::with_capacity(len + 1);
        if round % 2 == 0 {
            bytes.push(0); // no locals
            bytes.extend((0..len).map(|_| PLAUSIBLE[(next() % PLAUSIBLE.len() as u64) as usize]));
        } else {
            bytes.extend((0..len).map(|_| next() as u8));
        }
        let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(&bytes, 0));
        for func in 0..5 {
            // Ok or Err, both are fine; a panic fails the test.
            let _ = translate_function(&types, func, &body, None);
        }
    }
    // Operators outside Wasm 2.0 are errors, not panics, even unvalidated.
    let body_bytes = [0x00, 0x12, 0x00, 0x0b]; // return_call 0
    let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(&body_bytes, 0));
    let err = translate_function(&types, 1, &body, None).unwrap_err();
    assert!(format!("{err:#}").contains("not supported"), "{err:#}");
}

// ----- meaning: run translated code -----

/// A reference evaluator for the subset of the bytecode these tests use.
struct Eval<'a> {
    funcs: &'a [CompiledFunc],
    slots: Vec<u64>,
}

/// What the evaluator writes into operand slots on entry, so code that
/// reads a slot nobody wrote produces visible garbage.
const POISON: u64 = 0xdead_beef_dead_beef;

impl Eval<'_> {
    fn call(&mut self, func: usize, base: usize) -> Result<(), TrapCode> {
        let funcs = self.funcs;
        let f = &funcs[func];
        let frame_end = base + usize::from(f.frame_size);
        if self.slots.len() < frame_end {
            self.slots.resize(frame_end, POISON);
        }
        for slot in
            &mut self.slots[base + usize::from(f.num_params)..base + usize::from(f.num_locals)]
        {
            *slot = 0;
        }
        for slot in &mut self.slots[base + usize::from(f.num_locals)..frame_end] {
            *slot = POISON;
        }
        let consts = base + usize::from(f.num_locals);
        self.slots[consts..consts + f.consts.len()].copy_from_slice(&f.consts);
        let mut pc = 0usize;
        loop {
            let s = &mut self.slots[base..];
            let i32_of = |s: &[u64], slot: u16| s[usize::from(slot)] as u32;
            let mut next = pc + 1;
            // An immediate operand is the constant its slot would hold.
            let mut inst_op = f.code[pc].op.in_instructions();
            if crate::exec::takes_immediate(&f.code[pc])
                && let Some((rhs, imm, wide)) = inst_op.immediate_mut()
            {
                s[usize::from(*rhs)] = if wide {
                    *imm as i32 as i64 as u64
                } else {
                    u64::from(*imm)
                };
            }
            // An accumulator variant computes what its base instruction does.
            let op = super::acc::base_form(inst_op);
            match op {
                Op::Trap { code } => return Err(code),
                Op::Return => return Ok(()),
                Op::Br { offset, .. } => next = pc.wrapping_add_signed(offset as isize),
                Op::BrIfNez { cond, offset } if i32_of(s, cond) != 0 => {
                    next = pc.wrapping_add_signed(offset as isize)
                }
                Op::BrIfEqz { cond, offset } if i32_of(s, cond) == 0 => {
                    next = pc.wrapping_add_signed(offset as isize)
                }
                Op::BrIfNez { .. } | Op::BrIfEqz { .. } => {}
                Op::BrIfI32AndNez(b)
                | Op::BrIfI32AndEqz(b)
                | Op::BrIfI64AndNez(b)
                | Op::BrIfI64AndEqz(b) => {
                    let bits = s[usize::from(b.lhs)] & s[usize::from(b.rhs)];
                    let bits = match op {
                        Op::BrIfI32AndNez(_) | Op::BrIfI32AndEqz(_) => bits as u32 as u64,
                        _ => bits,
                    };
                    let taken = match op {
                        Op::BrIfI32AndNez(_) | Op::BrIfI64AndNez(_) => bits != 0,
                        _ => bits == 0,
                    };
                    if taken {
                        next = pc.wrapping_add_signed(b.offset as isize);
                    }
                }
                Op::BrIfI32Eq(b)
                | Op::BrIfI32Ne(b)
                | Op::BrIfI32LtS(b)
                | Op::BrIfI32GtS(b)
                | Op::BrIfI32LeS(b)
                | Op::BrIfI32GeS(b)
                | Op::BrIfI32LtU(b)
                | Op::BrIfI32GeU(b) => {
                    let (l, r) = (i32_of(s, b.lhs), i32_of(s, b.rhs));
                    let taken = match op {
                        Op::BrIfI32Eq(_) => l == r,
                        Op::BrIfI32Ne(_) => l != r,
                        Op::BrIfI32LtS(_) => (l as i32) < (r as i32),
                        Op::BrIfI32GtS(_) => (l as i32) > (r as i32),
                        Op::BrIfI32LeS(_) => (l as i32) <= (r as i32),
                        Op::BrIfI32GeS(_) => (l as i32) >= (r as i32),
                        Op::BrIfI32LtU(_) => l < r,
                        _ => l >= r,
                    };
                    if taken {
                        next = pc.wrapping_add_signed(b.offset as isize);
                    }
                }
                Op::BrTable { index, len } => next = pc + 1 + i32_of(s, index).min(len) as usize,
                Op::CopyBr { dst, src, offset } => {
                    s[usize::from(dst)] = s[usize::from(src)];
                    next = pc.wrapping_add_signed(offset as isize);
                }
                Op::Copy2Br {
                    dst0,
                    src0,
                    dst1,
                    src1,
                    offset,
                } => {
                    s[usize::from(dst0)] = s[usize::from(src0)];
                    s[usize::from(dst1)] = s[usize::from(src1)];
                    next = pc.wrapping_add_signed(offset as isize);
                }
                Op::I32AddCopy(o) => {
                    let v = u64::from(i32_of(s, o.lhs).wrapping_add(i32_of(s, o.rhs)));
                    s[usize::from(o.dst)] = v;
                    s[usize::from(o.copy)] = v;
                    next = pc + 2;
                }
                Op::I32MulAdd(o) => {
                    let product = i32_of(s, o.lhs).wrapping_mul(i32_of(s, o.rhs));
                    s[usize::from(o.dst)] = u64::from(product.wrapping_add(i32_of(s, o.add)));
                    next = pc + 2;
                }
                Op::I32XorShl(o) | Op::I32XorShrU(o) => {
                    let x = i32_of(s, o.src);
                    let shifted = match op {
                        Op::I32XorShl(_) => x << o.shift,
                        _ => x >> o.shift,
                    };
                    s[usize::from(o.dst)] = u64::from(x ^ shifted);
                    next = pc + 2;
                }
                Op::I32AddPair(o) => {
                    s[usize::from(o.a)] = u64::from(i32_of(s, o.a).wrapping_add(o.step_a));
                    s[usize::from(o.b)] = u64::from(i32_of(s, o.b).wrapping_add(o.step_b));
                    next = pc + 2;
                }
                Op::I32ShlAdd(o) => {
                    let v = (i32_of(s, o.lhs) << o.shift).wrapping_add(i32_of(s, o.rhs));
                    s[usize::from(o.dst)] = u64::from(v);
                    next = pc + 2;
                }
                Op::I32AddBrNe(AddBr {
                    var, step, offset, ..
                })
                | Op::I32AddBrNez(AddBr {
                    var, step, offset, ..
                })
                | Op::I32AddBrNeImm(AddBrImm {
                    var, step, offset, ..
                }) => {
                    let v = i32_of(s, var).wrapping_add(step as i32 as u32);
                    s[usize::from(var)] = u64::from(v);
                    let bound = match op {
                        Op::I32AddBrNe(a) => i32_of(s, a.rhs),
                        Op::I32AddBrNeImm(a) => a.bound,
                        _ => 0,
                    };
                    next = if v != bound {
                        pc.wrapping_add_signed(offset as isize)
                    } else {
                        pc + 2
                    };
                }
                Op::Call { func, base: callee } => {
                    self.call(func as usize, base + usize::from(callee))?
                }
                Op::Copy { dst, src } => s[usize::from(dst)] = s[usize::from(src)],
                Op::Copy2 {
                    dst0,
                    src0,
                    dst1,
                    src1,
                } => {
                    s[usize::from(dst0)] = s[usize::from(src0)];
                    s[usize::from(dst1)] = s[usize::from(src1)];
                    next = pc + 2;
                }
                Op::Const32 { dst, value } => s[usize::from(dst)] = u64::from(value),
                Op::Const64 { dst, value } => s[usize::from(dst)] = value,
                Op::Select {
                    dst,
                    cond,
                    if_true,
                    if_false,
                } => {
                    let pick = if i32_of(s, cond) != 0 {
                        if_true
                    } else {
                        if_false
                    };
                    s[usize::from(dst)] = s[usize::from(pick)];
                }
                Op::I32Eqz(Un { dst, src }) => s[usize::from(dst)] = u64::from(i32_of(s, src) == 0),
                Op::I64ExtendI32U(Un { dst, src }) => {
                    s[usize::from(dst)] = u64::from(i32_of(s, src))
                }
                Op::I32Add(b)
                | Op::I32Sub(b)
                | Op::I32Mul(b)
                | Op::I32And(b)
                | Op::I32LtS(b)
                | Op::I32GtS(b)
                | Op::I32Eq(b) => {
                    let (l, r) = (i32_of(s, b.lhs), i32_of(s, b.rhs));
                    let v = match op {
                        Op::I32Add(_) => l.wrapping_add(r),
                        Op::I32Sub(_) => l.wrapping_sub(r),
                        Op::I32Mul(_) => l.wrapping_mul(r),
                        Op::I32And(_) => l & r,
                        Op::I32LtS(_) => u32::from((l as i32) < (r as i32)),
                        Op::I32GtS(_) => u32::from((l as i32) > (r as i32)),
                        _ => u32::from(l == r),
                    };
                    s[usize::from(b.dst)] = u64::from(v);
                }
                Op::I64Add(b) => {
                    s[usize::from(b.dst)] =
                        s[usize::from(b.lhs)].wrapping_add(s[usize::from(b.rhs)])
                }
                other => panic!("the test evaluator does not implement {other:?}"),
            }
            pc = next;
        }
    }
}

/// Compiles `(module <funcs>)` and runs its last function.
fn run(funcs: &str, args: &[u64]) -> Result<Vec<u64>, TrapCode> {
    let compiled = compile(&format!("(module {funcs})"));
    let func = compiled.len() - 1;
    let mut eval = Eval {
        funcs: &compiled,
        slots: args.to_vec(),
    };
    eval.call(func, 0)?;
    Ok(eval.slots[..usize::from(compiled[func].num_results)].to_vec())
}

#[test]
fn runs_loops_and_locals() {
    let factorial = "(func (param i32) (result i32) (local i32)
        i32.const 1 local.set 1
        (block (loop
            local.get 0 i32.eqz br_if 1
            local.get 1 local.get 0 i32.mul local.set 1
            local.get 0 i32.const 1 i32.sub local.set 0
            br 0))
        local.get 1)";
    assert_eq!(run(factorial, &[5]), Ok(vec![120]));
    assert_eq!(run(factorial, &[0]), Ok(vec![1]));
    // A loop carrying (sum, counter) as params: 1 + 2 + ... + n.
    let sum = "(func (param i32) (result i32)
        i32.const 0 local.get 0
        (loop (param i32 i32) (result i32 i32)
            local.tee 0 i32.add
            local.get 0 i32.const 1 i32.sub
            local.get 0 i32.const 1 i32.gt_s br_if 0)
        drop)";
    assert_eq!(run(sum, &[4]), Ok(vec![10]));
    assert_eq!(run(sum, &[1]), Ok(vec![1]));
}

#[test]
fn runs_value_shuffles() {
    let swap = "(func (param i32 i32) (result i32 i32) local.get 1 local.get 0)";
    assert_eq!(run(swap, &[1, 2]), Ok(vec![2, 1]));
    let rotate =
        "(func (param i32 i32 i32) (result i32 i32 i32) local.get 2 local.get 0 local.get 1)";
    assert_eq!(run(rotate, &[1, 2, 3]), Ok(vec![3, 1, 2]));
    let old_value = "(func (param i32) (result i32 i32)
        local.get 0 local.get 0 i32.const 10 i32.add local.set 0 local.get 0)";
    assert_eq!(run(old_value, &[5]), Ok(vec![5, 15]));
    let swap_locals = "(func (param i32 i32) (result i32 i32)
        local.get 0 local.get 1 local.set 0 local.set 1 local.get 0 local.get 1)";
    assert_eq!(run(swap_locals, &[7, 8]), Ok(vec![8, 7]));
    let tee_chain = "(func (param i32) (result i32) (local i32 i32)
        local.get 0 i32.const 1 i32.add local.tee 1 local.tee 2 local.get 1 i32.add local.get 2 i32.add)";
    assert_eq!(run(tee_chain, &[1]), Ok(vec![6]));
}

#[test]
fn runs_branches_with_values() {
    let switch = "(func (param i32) (result i32)
        (block (result i32)
            (block (result i32)
                (block (result i32)
                    i32.const 100
                    i32.const 7 local.get 0 br_table 0 1 2 3)
                i32.const 1 i32.add return)
            i32.const 2 i32.add return)
        drop i32.const 1000)";
    // Selector 0: +1; 1: +2; 2: the outer block, whose value is dropped;
    // 3 and out of range: returned as is.
    assert_eq!(run(switch, &[0]), Ok(vec![8]));
    assert_eq!(run(switch, &[1]), Ok(vec![9]));
    assert_eq!(run(switch, &[2]), Ok(vec![1000]));
    assert_eq!(run(switch, &[3]), Ok(vec![7]));
    assert_eq!(run(switch, &[99]), Ok(vec![7]));

    let conditional_return = "(func (param i32) (result i32 i32)
        i32.const 4 i32.const 5 local.get 0 br_if 0 drop drop i32.const 6 i32.const 7)";
    assert_eq!(run(conditional_return, &[1]), Ok(vec![4, 5]));
    assert_eq!(run(conditional_return, &[0]), Ok(vec![6, 7]));

    let block_params = "(func (param i32) (result i32)
        i32.const 1 local.get 0
        (block (param i32 i32) (result i32)
            i32.add i32.const 5 local.get 0 br_if 0 i32.add))";
    assert_eq!(run(block_params, &[0]), Ok(vec![6]));
    assert_eq!(run(block_params, &[4]), Ok(vec![5]));

    let if_params = "(func (param i32) (result i32)
        i32.const 10 local.get 0
        (if (param i32) (result i32) (then i32.const 1 i32.add) (else i32.const 2 i32.sub)))";
    assert_eq!(run(if_params, &[1]), Ok(vec![11]));
    assert_eq!(run(if_params, &[0]), Ok(vec![8]));

    let br_if_keeps_pending = "(func (param i32) (result i32)
        local.get 0 (block local.get 0 br_if 0) i32.const 2 i32.add)";
    assert_eq!(run(br_if_keeps_pending, &[5]), Ok(vec![7]));
}

#[test]
fn runs_calls() {
    let fib = "(func $fib (param i32) (result i32)
            local.get 0 i32.const 2 i32.lt_s
            (if (result i32) (then local.get 0)
                (else local.get 0 i32.const 1 i32.sub call $fib
                      local.get 0 i32.const 2 i32.sub call $fib i32.add)))
        (func (param i32) (result i32) local.get 0 call $fib)";
    assert_eq!(run(fib, &[10]), Ok(vec![55]));
    let multi =
        "(func $pair (param i32) (result i32 i32) local.get 0 local.get 0 i32.const 1 i32.add)
        (func (param i32) (result i32) i32.const 100 local.get 0 call $pair i32.sub i32.add)";
    assert_eq!(run(multi, &[5]), Ok(vec![99]));
    assert_eq!(
        run("(func (result i32) unreachable)", &[]),
        Err(TrapCode::UnreachableCodeReached)
    );
}

// ----- constant pool and fused compare-and-branch -----

#[test]
fn comparison_folds_into_br_if() {
    assert_eq!(
        ops_of("(func (param i32 i32) (block local.get 0 local.get 1 i32.lt_s br_if 0))"),
        [Op::BrIfI32LtS(BrCmp::new(0, 1, 1)), Op::Return]
    );
    // `i32.eqz; br_if` branches on zero directly.
    assert_eq!(
        ops_of("(func (param i32) (block local.get 0 i32.eqz br_if 0))"),
        [Op::BrIfEqz { cond: 0, offset: 1 }, Op::Return]
    );
}

#[test]
fn if_folds_the_negated_comparison() {
    // `if` skips its then-arm when the condition is false: `ge_u` becomes
    // a `lt_u` branch to the else-arm, reading the constant from the pool.
    let f = compile(
        "(module (func (param i64) (result i32)
            local.get 0 i64.const 10 i64.ge_u
            if (result i32) i32.const 1 else i32.const 2 end))",
    );
    // The branch carries 10 as an immediate: the pool keeps nothing.
    assert!(f[0].consts.is_empty());
    assert_eq!(
        f[0].code[0].op.in_instructions(),
        Op::BrIfI64LtU(BrCmp::new(0, 1, 3))
    );
    assert!(crate::exec::takes_immediate(&f[0].code[0]));
    assert!(matches!(
        f[0].code[0].op,
        Op::BrIfI64LtU(BrCmp { imm: 10, .. })
    ));
    // `i32.eqz; if` enters the then-arm on zero: it skips it on non-zero.
    assert_eq!(
        ops_of("(func (param i32) local.get 0 i32.eqz if nop end)")[0],
        Op::BrIfNez { cond: 0, offset: 1 }
    );
}

#[test]
fn float_comparisons_are_not_folded() {
    // Negating a float comparison is wrong for NaN, so it stays a compare.
    let ops = ops_of("(func (param f32 f32) local.get 0 local.get 1 f32.lt if nop end)");
    assert!(matches!(ops[0], Op::F32Lt(_)), "{ops:?}");
    // (The branch takes the comparison's result from the accumulator.)
    assert!(matches!(ops[1], Op::BrIfEqzAcc { .. }), "{ops:?}");
}

#[test]
fn constants_are_pooled_once_and_the_pool_is_bounded() {
    let f = compile(
        "(module (func (param i32) (result i32)
            local.get 0 i32.const 5 i32.add i32.const 5 i32.mul))",
    );
    // One slot for both 5s; both readers carry it as an immediate, so
    // the pool a frame is entered with is empty.
    assert_eq!(
        plain(&f[0]),
        &[
            Op::I32Add(bin(2, 0, 1)),
            Op::I32MulAccL(bin(0, 2, 1)),
            Op::Return
        ]
    );
    assert!(f[0].consts.is_empty());
    assert!(f[0].code[..2].iter().all(crate::exec::takes_immediate));
    // Past the pool's capacity, constants are materialised where used; the
    // sum must be the same either way.
    let adds: String = (1..=100)
        .map(|k| format!("i32.const {} i32.add ", k * 1000))
        .collect();
    let wat = format!("(func (param i32) (result i32) local.get 0 {adds})");
    let f = compile(&format!("(module {wat})"));
    // 64 pooled (and carried as immediates), the other 36 materialised.
    let consts = f[0].ops().filter(|op| matches!(op, Op::Const32 { .. }));
    assert_eq!(consts.count(), 36);
    let expected = 7 + (1..=100).map(|k| k * 1000).sum::<u64>();
    assert_eq!(run(&wat, &[7]), Ok(vec![expected]));
}

#[test]
fn i64_eqz_folds_into_a_compare_with_zero() {
    // `i64.eqz; br_if` branches on `x == 0`, `i64.eqz; if` skips the arm
    // on `x != 0`; both compare with a pooled 0, carried as an immediate.
    let f = compile(
        "(module (func (param i64) (result i32)
            (block local.get 0 i64.eqz br_if 0)
            local.get 0 i64.eqz if (result i32) i32.const 1 else i32.const 2 end))",
    );
    let ops: Vec<Op> = f[0].ops().collect();
    assert_eq!(ops[0], Op::BrIfI64Eq(BrCmp::new(0, 1, 1)), "{ops:?}");
    assert_eq!(ops[1], Op::BrIfI64Ne(BrCmp::new(0, 1, 3)), "{ops:?}");
    assert!(f[0].code[..2].iter().all(crate::exec::takes_immediate));
    assert!(f[0].consts.is_empty());
}

#[test]
fn copies_before_a_branch_fuse_into_it() {
    // A local updated from another right before the back edge: the
    // `Copy` and the `Br` become one instruction.
    let wat = "(func (param i32) (result i32) (local i32 i32)
        (loop $l
            (block $b
                local.get 0 i32.eqz br_if $b
                local.get 1 local.get 0 i32.add local.set 2
                local.get 0 i32.const 1 i32.sub local.set 0
                local.get 2 local.set 1
                br $l))
        local.get 1)";
    let f = compile(&format!("(module {wat})"));
    let fused = f[0]
        .ops()
        .filter(|op| matches!(op, Op::CopyBr { .. } | Op::Copy2Br { .. }))
        .count();
    assert!(fused > 0, "{:?}", f[0].ops().collect::<Vec<_>>());
    assert_eq!(run(wat, &[4]), Ok(vec![10]));
    assert_eq!(run(wat, &[0]), Ok(vec![0]));
}

#[test]
fn shift_then_add_fuses_into_a_scaled_add() {
    // `base + (i << 2)`, with `base` a local and then a constant.
    let wat = "(func (param i32 i32) (result i32)
        local.get 0 i32.const 2 i32.shl local.get 1 i32.add
        local.get 0 i32.const 3 i32.shl i32.const 1024 i32.add
        i32.add)";
    let ops = ops_of(wat);
    assert!(
        matches!(
            ops[0],
            Op::I32ShlAdd(ShiftAdd {
                lhs: 0,
                rhs: 1,
                shift: 2,
                ..
            })
        ),
        "{ops:?}"
    );
    assert!(
        matches!(
            ops[2],
            Op::I32ShlAdd(ShiftAdd {
                lhs: 0,
                shift: 3,
                ..
            })
        ),
        "{ops:?}"
    );
    assert_eq!(run(wat, &[5, 7]), Ok(vec![27 + 40 + 1024]));
    assert_eq!(
        run(wat, &[0x4000_0001, 1]),
        Ok(vec![u64::from(5u32.wrapping_add(8).wrapping_add(1024))])
    );
}

#[test]
fn adds_fuse_with_a_copy_of_their_result_or_a_second_step() {
    // `i = j = i - 1` (the add, then a copy of its result), and a pointer
    // stepped right after its index (two in-place constant adds).
    let count_down = "(func (param i32) (result i32) (local i32 i32)
        (block (loop
            local.get 0 i32.eqz br_if 1
            local.get 0 i32.const -1 i32.add local.tee 1 local.set 0
            local.get 2 local.get 1 i32.add local.set 2
            br 0))
        local.get 2)";
    let stride = "(func (param i32) (result i32) (local i32 i32)
        (block (loop
            local.get 1 local.get 0 i32.ge_u br_if 1
            local.get 1 i32.const 1 i32.add local.set 1
            local.get 2 i32.const 4 i32.add local.set 2
            br 0))
        local.get 2)";
    // The fused listings (`ops_of` shows the instructions before fusion).
    let fused = |wat: &str| -> Vec<Op> {
        let mut f = compile(&format!("(module {wat})"));
        f.pop().expect("a function").ops().collect()
    };
    let ops = fused(count_down);
    assert!(
        ops.iter().any(|op| matches!(
            op,
            Op::I32AddCopy(AddCopy {
                dst: 1,
                lhs: 0,
                copy: 0,
                ..
            })
        )),
        "{ops:?}"
    );
    let ops = fused(stride);
    assert!(
        ops.contains(&Op::I32AddPair(AddPair {
            a: 1,
            b: 2,
            step_a: 1,
            step_b: 4
        })),
        "{ops:?}"
    );
    assert_eq!(run(count_down, &[5]), Ok(vec![10]));
    assert_eq!(run(count_down, &[0]), Ok(vec![0]));
    assert_eq!(run(stride, &[3]), Ok(vec![12]));
}

#[test]
fn multiply_then_add_fuses_into_a_multiply_add() {
    // `x * y + z`, and `(x + 1) * 5 + 7` (the multiplicand from the
    // accumulator, the constants as operands).
    let wat = "(func (param i32 i32 i32) (result i32)
        local.get 0 local.get 1 i32.mul local.get 2 i32.add
        local.get 0 i32.const 1 i32.add i32.const 5 i32.mul i32.const 7 i32.add
        i32.add)";
    let mut f = compile(&format!("(module {wat})"));
    let ops: Vec<Op> = f.pop().expect("a function").ops().collect();
    let fused: Vec<Op> = ops
        .iter()
        .copied()
        .filter(|op| matches!(op, Op::I32MulAdd(_) | Op::I32MulAddAccL(_)))
        .collect();
    assert!(
        matches!(
            fused[..],
            [
                Op::I32MulAdd(MulAdd {
                    lhs: 0,
                    rhs: 1,
                    add: 2,
                    ..
                }),
                Op::I32MulAddAccL(_)
            ]
        ),
        "{ops:?}"
    );
    let expect = |x: u32, y: u32, z: u32| {
        let a = x.wrapping_mul(y).wrapping_add(z);
        let b = x.wrapping_add(1).wrapping_mul(5).wrapping_add(7);
        vec![u64::from(a.wrapping_add(b))]
    };
    for (x, y, z) in [(2, 3, 4), (u32::MAX, 2, 1), (0x8000_0000, 3, 0)] {
        assert_eq!(
            run(wat, &[x.into(), y.into(), z.into()]),
            Ok(expect(x, y, z))
        );
    }
}

#[test]
fn xorshift_steps_fuse() {
    // A xorshift32 step: `x ^= x << 13; x ^= x >> 17; x ^= x << 5`, the
    // later shifts taking `x` from the accumulator.
    let wat = "(func (param i32) (result i32)
        local.get 0 local.get 0 i32.const 13 i32.shl i32.xor local.set 0
        local.get 0 local.get 0 i32.const 17 i32.shr_u i32.xor local.set 0
        local.get 0 local.get 0 i32.const 5 i32.shl i32.xor)";
    let mut f = compile(&format!("(module {wat})"));
    let ops: Vec<Op> = f.pop().expect("a function").ops().collect();
    let fused = ops
        .iter()
        .filter(|op| {
            matches!(
                op,
                Op::I32XorShl(_) | Op::I32XorShlAccL(_) | Op::I32XorShrU(_) | Op::I32XorShrUAccL(_)
            )
        })
        .count();
    assert_eq!(fused, 3, "{ops:?}");
    for x in [1u32, 7, 0x9747_b28c, u32::MAX] {
        let mut y = x;
        y ^= y << 13;
        y ^= y >> 17;
        y ^= y << 5;
        assert_eq!(run(wat, &[x.into()]), Ok(vec![u64::from(y)]), "{x:#x}");
    }
}

#[test]
fn loads_fuse_with_the_step_of_their_address() {
    // `*p++` over bytes and over i32s (the evaluator here has no memory:
    // tests/fused_instructions.rs runs them); not when the load writes
    // the address slot itself.
    let wat = "(memory 1) (func (param i32) (result i32) (local i32 i32)
        local.get 0 i32.load8_u local.set 1
        local.get 0 i32.const 1 i32.add local.set 0
        local.get 0 i32.load offset=4 local.set 2
        local.get 0 i32.const 4 i32.add local.set 0
        local.get 0 i32.load local.set 0
        local.get 0 i32.const 4 i32.add local.set 0
        local.get 1 local.get 2 i32.add)";
    let mut f = compile(&format!("(module {wat})"));
    let ops: Vec<Op> = f.pop().expect("a function").ops().collect();
    let steps: Vec<Op> = ops
        .iter()
        .copied()
        .filter(|op| matches!(op, Op::I32LoadStep(_) | Op::I32Load8UStep(_)))
        .collect();
    assert_eq!(
        steps,
        [
            Op::I32Load8UStep(LoadStep {
                dst: 1,
                addr: 0,
                offset: 0,
                step: 1
            }),
            Op::I32LoadStep(LoadStep {
                dst: 2,
                addr: 0,
                offset: 4,
                step: 4
            })
        ],
        "{ops:?}"
    );
}

#[test]
fn bit_tests_fold_into_the_branch() {
    // `x & m` tested by `br_if`, by `if`, and through `eqz` (32 and 64
    // bits): each and, eqz and branch become one instruction. Five bits of
    // the result each record one decision on whether `x & m` is zero
    // (disjoint bits, so adding sets them).
    let wat = "(func (param i32 i32 i64 i64) (result i32) (local i32)
        (block local.get 0 local.get 1 i32.and br_if 0
            local.get 4 i32.const 1 i32.add local.set 4)
        local.get 0 local.get 1 i32.and
        if else local.get 4 i32.const 2 i32.add local.set 4 end
        (block local.get 0 local.get 1 i32.and i32.eqz br_if 0
            local.get 4 i32.const 4 i32.add local.set 4)
        (block local.get 2 local.get 3 i64.and i64.eqz br_if 0
            local.get 4 i32.const 8 i32.add local.set 4)
        local.get 2 local.get 3 i64.and i64.eqz
        if local.get 4 i32.const 16 i32.add local.set 4 end
        local.get 4)";
    let mut f = compile(&format!("(module {wat})"));
    let ops: Vec<Op> = f.pop().expect("a function").ops().collect();
    let tests = ops
        .iter()
        .filter(|op| {
            matches!(
                op,
                Op::BrIfI32AndNez(_)
                    | Op::BrIfI32AndEqz(_)
                    | Op::BrIfI64AndNez(_)
                    | Op::BrIfI64AndEqz(_)
            )
        })
        .count();
    assert_eq!(tests, 5, "{ops:?}");
    assert!(
        !ops.iter().any(|op| matches!(
            op,
            Op::I32And(_) | Op::I64And(_) | Op::I32Eqz(_) | Op::I64Eqz(_)
        )),
        "{ops:?}"
    );
    for (x, m) in [
        (6u32, 1u32),
        (6, 2),
        (0, u32::MAX),
        (0x8000_0000, 0x8000_0000),
    ] {
        let (x64, m64) = (u64::from(x) << 32, u64::from(m) << 32);
        let expect = if x & m == 0 { 0b10011 } else { 0b01100 };
        let got = run(wat, &[x.into(), m.into(), x64, m64]);
        assert_eq!(got, Ok(vec![expect]), "{x:#x} & {m:#x}");
    }
}

#[test]
fn bit_tests_do_not_fold_across_a_label_or_a_tee() {
    // The `and` is the block's value, but a branch also brings one to the
    // block end (a label between `and` and `eqz`); and a `local.tee` keeps
    // the `and` in a local. Both keep their `and`.
    let label = "(func (param i32 i32 i32) (result i32)
        (block (result i32)
            local.get 2 local.get 2 br_if 0
            drop
            local.get 0 local.get 1 i32.and)
        i32.eqz)";
    let tee = "(func (param i32 i32) (result i32) (local i32)
        (block local.get 0 local.get 1 i32.and local.tee 2 i32.eqz br_if 0)
        local.get 2)";
    for wat in [label, tee] {
        let mut f = compile(&format!("(module {wat})"));
        let ops: Vec<Op> = f.pop().expect("a function").ops().collect();
        assert!(
            ops.iter()
                .any(|op| matches!(op, Op::I32And(_) | Op::I32AndAccL(_))),
            "{ops:?}"
        );
    }
    assert_eq!(run(label, &[6, 1, 0]), Ok(vec![1]));
    assert_eq!(run(label, &[6, 2, 0]), Ok(vec![0]));
    assert_eq!(run(label, &[6, 1, 5]), Ok(vec![0]));
}

#[test]
fn loop_latches_fuse_and_run() {
    // `i += 1` closing a loop on `i != n`, on `i != 10`, and a count-down
    // on `i != 0`: each add and branch become one latch.
    let up_to_n = "(func (param i32) (result i32) (local i32 i32)
        (loop
            local.get 2 local.get 1 i32.add local.set 2
            local.get 1 i32.const 1 i32.add local.tee 1
            local.get 0 i32.ne br_if 0)
        local.get 2)";
    let up_to_10 = "(func (param i32) (result i32) (local i32)
        (loop
            local.get 0 i32.const 3 i32.add local.set 0
            local.get 1 i32.const 1 i32.add local.tee 1
            i32.const 10 i32.ne br_if 0)
        local.get 0)";
    let down = "(func (param i32) (result i32) (local i32)
        (loop
            local.get 1 i32.const 2 i32.add local.set 1
            local.get 0 i32.const -1 i32.add local.tee 0
            br_if 0)
        local.get 1)";
    let latch = |wat: &str| {
        let ops = ops_of(wat);
        let at = ops
            .iter()
            .position(|op| op.skips_next())
            .unwrap_or_else(|| panic!("no fused latch: {ops:?}"));
        ops[at]
    };
    assert!(matches!(
        latch(up_to_n),
        Op::I32AddBrNe(AddBr {
            var: 1,
            step: 1,
            rhs: 0,
            ..
        })
    ));
    assert!(matches!(
        latch(up_to_10),
        Op::I32AddBrNeImm(AddBrImm {
            var: 1,
            step: 1,
            bound: 10,
            ..
        })
    ));
    assert!(matches!(
        latch(down),
        Op::I32AddBrNez(AddBr {
            var: 0,
            step: -1,
            ..
        })
    ));
    assert_eq!(run(up_to_n, &[5]), Ok(vec![10]));
    assert_eq!(run(up_to_10, &[100]), Ok(vec![130]));
    assert_eq!(run(down, &[4]), Ok(vec![8]));
    assert_eq!(run(down, &[1]), Ok(vec![2]));
}

#[test]
fn runs_fused_branches() {
    // Counts down with `i32.gt_s; br_if` and checks `i32.ne; if` and
    // `i32.ge_u; if` on both arms.
    let count = "(func (param i32) (result i32) (local i32)
        (loop
            local.get 1 i32.const 3 i32.add local.set 1
            local.get 0 i32.const 1 i32.sub local.tee 0
            i32.const 0 i32.gt_s br_if 0)
        local.get 1)";
    assert_eq!(run(count, &[5]), Ok(vec![15]));
    assert_eq!(run(count, &[0]), Ok(vec![3]));
    let pick = "(func (param i32) (result i32)
        local.get 0 i32.const 7 i32.ne
        if (result i32) local.get 0 i32.const 100 i32.ge_u
            if (result i32) i32.const 2 else i32.const 1 end
        else i32.const 0 end)";
    assert_eq!(run(pick, &[7]), Ok(vec![0]));
    assert_eq!(run(pick, &[8]), Ok(vec![1]));
    assert_eq!(run(pick, &[100]), Ok(vec![2]));
    assert_eq!(run(pick, &[u32::MAX as u64]), Ok(vec![2]));
}
