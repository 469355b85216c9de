//! Loads, stores and the memory instructions.

use super::harness::*;
use crate::bytecode::{Bin, Load, LoadIdx, LoadStep, Op, Store, Un};
use crate::vm::TrapCode;
use wasmparser::ValType;

const PAGE: usize = 65_536;

/// Runs a single load `op` with static `offset` at `addr` on a one-page
/// memory whose first bytes are `init`.
fn load(
    op: fn(Load) -> Op,
    result: ValType,
    init: &[u8],
    addr: u32,
    offset: u32,
) -> Result<u64, TrapCode> {
    let store = TestStore::new(1 << 16);
    let mut m = Builder::new();
    m.memory(1, 1);
    let t = m.ty(&[I32], &[result]);
    let f = m.func(t, 0, 1, vec![op(ld(0, 0, offset)), Op::Return]);
    let inst = m.build(&store);
    inst.write_memory(0, init);
    inst.write_memory(PAGE - init.len(), init);
    inst.call1(f, &[addr as u64]).map_err(|e| e.trap())
}

/// Runs a single store `op` of `value` at `addr` on a zeroed one-page memory
/// and returns the 8 bytes at `window` afterwards.
fn store(
    op: fn(Store) -> Op,
    ty: ValType,
    addr: u32,
    value: u64,
    window: usize,
) -> Result<[u8; 8], TrapCode> {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    m.memory(1, 1);
    let t = m.ty(&[I32, ty], &[]);
    let f = m.func(t, 0, 2, vec![op(st(0, 1, 0)), Op::Return]);
    let inst = m.build(&s);
    let r = inst.call(f, &[addr as u64, value]).map_err(|e| e.trap());
    let bytes: [u8; 8] = inst.read_memory(window, 8).try_into().unwrap();
    r.map(|_| bytes)
}

const BYTES: [u8; 9] = [0x80, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x87];

#[test]
fn loads_are_little_endian_unaligned_and_extend_correctly() {
    assert_eq!(load(Op::I32Load, I32, &BYTES, 0, 0), Ok(0x0201_ff80));
    assert_eq!(load(Op::I32Load, I32, &BYTES, 0, 1), Ok(0x0302_01ff));
    assert_eq!(load(Op::F32Load, F32, &BYTES, 1, 0), Ok(0x0302_01ff));
    assert_eq!(
        load(Op::I64Load, I64, &BYTES, 1, 0),
        Ok(0x8706_0504_0302_01ff)
    );
    assert_eq!(
        load(Op::F64Load, F64, &BYTES, 0, 0),
        Ok(0x0605_0403_0201_ff80)
    );
    assert_eq!(load(Op::I32Load8S, I32, &BYTES, 0, 0), Ok(0xffff_ff80));
    assert_eq!(load(Op::I32Load8U, I32, &BYTES, 0, 0), Ok(0x80));
    assert_eq!(load(Op::I32Load16S, I32, &BYTES, 0, 0), Ok(0xffff_ff80));
    assert_eq!(load(Op::I32Load16U, I32, &BYTES, 0, 0), Ok(0xff80));
    assert_eq!(
        load(Op::I64Load8S, I64, &BYTES, 8, 0),
        Ok(0xffff_ffff_ffff_ff87)
    );
    assert_eq!(load(Op::I64Load8U, I64, &BYTES, 8, 0), Ok(0x87));
    assert_eq!(
        load(Op::I64Load16S, I64, &BYTES, 0, 0),
        Ok(0xffff_ffff_ffff_ff80)
    );
    assert_eq!(load(Op::I64Load16U, I64, &BYTES, 1, 0), Ok(0x01ff));
    assert_eq!(
        load(Op::I64Load32S, I64, &BYTES, 5, 0),
        Ok(0xffff_ffff_8706_0504)
    );
    assert_eq!(load(Op::I64Load32U, I64, &BYTES, 5, 0), Ok(0x8706_0504));
}

/// Runs `op` (a load that steps its address slot, 0) at `addr` on a
/// one-page memory starting with `BYTES` and ending with them, then
/// returns the loaded value plus 2^32 times the stepped address (the next
/// instruction reads the address from the accumulator).
fn load_step(op: fn(LoadStep) -> Op, addr: u32, offset: u32, step: u32) -> Result<u64, TrapCode> {
    let store = TestStore::new(1 << 16);
    let mut m = Builder::new();
    m.memory(1, 1);
    let t = m.ty(&[I32], &[I64]);
    let fused = op(LoadStep {
        dst: 1,
        addr: 0,
        offset,
        step,
    });
    let ops = vec![
        fused,
        Op::Trap {
            code: TrapCode::UnreachableCodeReached,
        },
        // `(addr << 32) | value`, the address from the accumulator.
        Op::I64ExtendI32UAcc(Un { dst: 2, src: 0 }),
        Op::Const64 { dst: 3, value: 32 },
        Op::I64Shl(Bin::new(2, 2, 3)),
        Op::I64Or(Bin::new(0, 2, 1)),
        Op::Return,
    ];
    let f = m.func(t, 3, 4, ops);
    let inst = m.build(&store);
    inst.write_memory(0, &BYTES);
    inst.write_memory(PAGE - BYTES.len(), &BYTES);
    inst.call1(f, &[addr as u64]).map_err(|e| e.trap())
}

#[test]
fn loads_that_step_their_address_load_then_step() {
    let both = |value: u64, addr: u32| Ok(value | (u64::from(addr) << 32));
    assert_eq!(load_step(Op::I32LoadStep, 0, 0, 4), both(0x0201_ff80, 4));
    assert_eq!(load_step(Op::I32LoadStep, 1, 0, 4), both(0x0302_01ff, 5));
    assert_eq!(load_step(Op::I32Load8UStep, 0, 1, 1), both(0xff, 1));
    assert_eq!(load_step(Op::I32Load8UStep, 8, 0, u32::MAX), both(0x87, 7));
    // The step wraps; the load before it still sees the old address.
    let end = PAGE as u32;
    assert_eq!(
        load_step(Op::I32Load8UStep, end - 1, 0, 2),
        both(0x87, end + 1)
    );
    assert_eq!(
        load_step(Op::I32Load8UStep, 0, 0, u32::MAX),
        both(0x80, u32::MAX)
    );
    // A load past the end traps before the step.
    let oob = Err(TrapCode::MemoryOutOfBounds);
    assert_eq!(load_step(Op::I32LoadStep, end - 3, 0, 4), oob);
    assert_eq!(load_step(Op::I32Load8UStep, end, 0, 1), oob);
}

#[test]
fn loads_trap_exactly_past_the_end() {
    let oob = Err(TrapCode::MemoryOutOfBounds);
    let end = PAGE as u32;
    // The last bytes of memory hold BYTES too, so in-bounds edge loads are checked.
    assert_eq!(load(Op::I32Load, I32, &BYTES, end - 4, 0), Ok(0x8706_0504));
    assert_eq!(load(Op::I32Load, I32, &BYTES, end - 3, 0), oob);
    assert_eq!(load(Op::I32Load, I32, &BYTES, end - 8, 5), oob);
    assert_eq!(
        load(Op::I64Load, I64, &BYTES, end - 8, 0),
        Ok(0x8706_0504_0302_01ff)
    );
    assert_eq!(load(Op::I64Load, I64, &BYTES, end - 7, 0), oob);
    assert_eq!(load(Op::I32Load8U, I32, &BYTES, end - 1, 0), Ok(0x87));
    assert_eq!(load(Op::I32Load8U, I32, &BYTES, end, 0), oob);
    // The effective address does not wrap at 4 GiB.
    assert_eq!(load(Op::I32Load8U, I32, &BYTES, u32::MAX, 1), oob);
    assert_eq!(load(Op::I64Load, I64, &BYTES, 0, u32::MAX), oob);
}

#[test]
fn stores_write_their_width_and_trap_without_partial_writes() {
    assert_eq!(
        store(Op::I32Store, I32, 1, 0x0403_0201, 0),
        Ok([0, 1, 2, 3, 4, 0, 0, 0])
    );
    assert_eq!(
        store(Op::F32Store, F32, 0, 0x0403_0201, 0),
        Ok([1, 2, 3, 4, 0, 0, 0, 0])
    );
    assert_eq!(
        store(Op::I64Store, I64, 0, 0x0807_0605_0403_0201, 0),
        Ok([1, 2, 3, 4, 5, 6, 7, 8])
    );
    assert_eq!(
        store(Op::F64Store, F64, 0, 0x0807_0605_0403_0201, 0),
        Ok([1, 2, 3, 4, 5, 6, 7, 8])
    );
    assert_eq!(
        store(Op::I32Store8, I32, 2, 0x1234, 0),
        Ok([0, 0, 0x34, 0, 0, 0, 0, 0])
    );
    assert_eq!(
        store(Op::I32Store16, I32, 0, 0x12_3456, 0),
        Ok([0x56, 0x34, 0, 0, 0, 0, 0, 0])
    );
    assert_eq!(
        store(Op::I64Store8, I64, 0, u64::MAX, 0),
        Ok([0xff, 0, 0, 0, 0, 0, 0, 0])
    );
    assert_eq!(
        store(Op::I64Store16, I64, 0, u64::MAX, 0),
        Ok([0xff, 0xff, 0, 0, 0, 0, 0, 0])
    );
    assert_eq!(
        store(Op::I64Store32, I64, 0, u64::MAX, 0),
        Ok([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])
    );
    let end = PAGE as u32;
    assert_eq!(
        store(Op::I64Store, I64, end - 8, u64::MAX, PAGE - 8),
        Ok([0xff; 8])
    );
    // A store straddling the end traps and leaves memory untouched.
    assert_eq!(
        store(Op::I64Store, I64, end - 7, u64::MAX, PAGE - 8),
        Err(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        store(Op::I32Store8, I32, end, 1, PAGE - 8),
        Err(TrapCode::MemoryOutOfBounds)
    );
}

#[test]
fn memory_grow_uses_the_builtin_and_refreshes_the_cached_view() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    m.memory(1, 3);
    let t = m.ty(&[I32], &[I32, I32]);
    // (old, load) = (memory.grow delta, store+load of the last word of page 2)
    let grow = m.func(
        t,
        0,
        4,
        vec![
            Op::MemoryGrow {
                dst: 1,
                delta: 0,
                memory: 0,
            },
            Op::Const32 {
                dst: 2,
                value: 2 * PAGE as u32 - 4,
            },
            Op::Const32 {
                dst: 3,
                value: 0x1234_5678,
            },
            Op::I32Store(st(2, 3, 0)),
            Op::Copy { dst: 0, src: 1 },
            Op::I32Load(ld(1, 2, 0)),
            Op::Return,
        ],
    );
    let ts = m.ty(&[], &[I32]);
    let size = m.func(
        ts,
        0,
        1,
        vec![Op::MemorySize { dst: 0, memory: 0 }, Op::Return],
    );
    let inst = m.build(&s);

    assert_eq!(inst.call1(size, &[]).unwrap(), 1);
    // Without growth the store to page 2 traps.
    assert_eq!(
        inst.call(grow, &[0]).unwrap_err().trap(),
        TrapCode::MemoryOutOfBounds
    );
    assert_eq!(inst.call(grow, &[1]).unwrap(), vec![1, 0x1234_5678]);
    assert_eq!(inst.memory_len(), 2 * PAGE);
    assert_eq!(
        inst.read_memory(2 * PAGE - 4, 4),
        vec![0x78, 0x56, 0x34, 0x12]
    );
    assert_eq!(inst.call1(size, &[]).unwrap(), 2);
    // Past the maximum: -1, memory unchanged.
    assert_eq!(
        inst.call(grow, &[2]).unwrap(),
        vec![0xffff_ffff, 0x1234_5678]
    );
    assert_eq!(inst.call(grow, &[u32::MAX as u64]).unwrap()[0], 0xffff_ffff);
    assert_eq!(inst.call(grow, &[1]).unwrap()[0], 2);
    assert_eq!(inst.call1(size, &[]).unwrap(), 3);
}

#[test]
fn memory_grow_trap_from_the_builtin_is_propagated() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    m.memory(1, 1).trap_on_grow_failure();
    let t = m.ty(&[I32], &[I32]);
    let grow = m.func(
        t,
        0,
        1,
        vec![
            Op::MemoryGrow {
                dst: 0,
                delta: 0,
                memory: 0,
            },
            Op::Return,
        ],
    );
    let inst = m.build(&s);
    assert_eq!(inst.call1(grow, &[0]).unwrap(), 1);
    let err = inst.call1(grow, &[1]).unwrap_err();
    assert_eq!(err.host_message(), "memory limit exceeded");
    assert_eq!(err.backtrace.len(), 1);
    assert_eq!(
        (err.backtrace[0].func_index, err.backtrace[0].pc),
        (grow, 0)
    );
}

#[test]
fn memory_fill_copy_init_and_data_drop() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    m.memory(1, 1);
    let data = m.data(b"hello");
    let t3 = m.ty(&[I32, I32, I32], &[]);
    let fill = m.func(
        t3,
        0,
        3,
        vec![
            Op::MemoryFill {
                dst: 0,
                value: 1,
                len: 2,
            },
            Op::Return,
        ],
    );
    let copy = m.func(
        t3,
        0,
        3,
        vec![
            Op::MemoryCopy {
                dst: 0,
                src: 1,
                len: 2,
            },
            Op::Return,
        ],
    );
    let init = m.func(
        t3,
        0,
        3,
        vec![
            Op::MemoryInit {
                data,
                dst: 0,
                src: 1,
                len: 2,
            },
            Op::Return,
        ],
    );
    let t0 = m.ty(&[], &[]);
    let drop = m.func(t0, 0, 0, vec![Op::DataDrop { data }, Op::Return]);
    let inst = m.build(&s);
    let oob = TrapCode::MemoryOutOfBounds;
    let end = PAGE as u64;

    assert!(inst.call(fill, &[10, 0x1ab, 5]).is_ok());
    assert_eq!(
        inst.read_memory(9, 7),
        vec![0, 0xab, 0xab, 0xab, 0xab, 0xab, 0]
    );
    assert!(inst.call(fill, &[end, 0, 0]).is_ok());
    assert_eq!(inst.call(fill, &[end + 1, 0, 0]).unwrap_err().trap(), oob);
    assert_eq!(inst.call(fill, &[end - 6, 1, 7]).unwrap_err().trap(), oob);
    assert_eq!(
        inst.read_memory(PAGE - 6, 6),
        vec![0; 6],
        "nothing written by a trapping fill"
    );

    inst.write_memory(100, b"0123456789");
    assert!(inst.call(copy, &[102, 100, 5]).is_ok());
    assert_eq!(inst.read_memory(100, 10), b"0101234789");
    assert!(inst.call(copy, &[100, 102, 5]).is_ok());
    assert_eq!(inst.read_memory(100, 10), b"0123434789");
    assert!(inst.call(copy, &[end, 0, 0]).is_ok());
    assert_eq!(inst.call(copy, &[0, end + 1, 0]).unwrap_err().trap(), oob);
    assert_eq!(inst.call(copy, &[end - 1, 0, 2]).unwrap_err().trap(), oob);

    assert!(inst.call(init, &[200, 1, 3]).is_ok());
    assert_eq!(inst.read_memory(199, 5), b"\0ell\0");
    assert!(inst.call(init, &[0, 5, 0]).is_ok());
    assert_eq!(inst.call(init, &[0, 6, 0]).unwrap_err().trap(), oob);
    assert_eq!(inst.call(init, &[0, 3, 3]).unwrap_err().trap(), oob);
    assert_eq!(inst.call(init, &[end - 2, 0, 3]).unwrap_err().trap(), oob);
    assert!(inst.call(drop, &[]).is_ok());
    assert!(inst.call(init, &[0, 0, 0]).is_ok());
    assert_eq!(inst.call(init, &[0, 0, 1]).unwrap_err().trap(), oob);
}

/// Runs a single fused `op` loading from `base + index` (as `i32.add`
/// wraps) plus `offset`, on the memory `load` sets up.
fn load_idx(
    op: fn(LoadIdx) -> Op,
    result: ValType,
    base: u32,
    index: u32,
    offset: u32,
) -> Result<u64, TrapCode> {
    let store = TestStore::new(1 << 16);
    let mut m = Builder::new();
    m.memory(1, 1);
    let t = m.ty(&[I32, I32], &[result]);
    let fused = op(LoadIdx {
        dst: 0,
        base: 0,
        index: 1,
        offset,
    });
    // The fused load skips the instruction after it.
    let skipped = Op::Trap {
        code: TrapCode::UnreachableCodeReached,
    };
    let f = m.func(t, 0, 2, vec![fused, skipped, Op::Return]);
    let inst = m.build(&store);
    inst.write_memory(0, &BYTES);
    inst.write_memory(PAGE - BYTES.len(), &BYTES);
    inst.call1(f, &[base as u64, index as u64])
        .map_err(|e| e.trap())
}

#[test]
fn fused_address_loads_wrap_the_sum_then_add_the_offset() {
    assert_eq!(load_idx(Op::I32LoadIdx, I32, 1, 0, 0), Ok(0x0302_01ff));
    // `0xffff_ffff + 2` wraps to 1, as `i32.add` does.
    assert_eq!(
        load_idx(Op::I32LoadIdx, I32, u32::MAX, 2, 0),
        Ok(0x0302_01ff)
    );
    assert_eq!(load_idx(Op::F32LoadIdx, F32, 0, 0, 1), Ok(0x0302_01ff));
    assert_eq!(
        load_idx(Op::I64LoadIdx, I64, 0, 1, 0),
        Ok(0x8706_0504_0302_01ff)
    );
    assert_eq!(
        load_idx(Op::F64LoadIdx, F64, 0, 0, 0),
        Ok(0x0605_0403_0201_ff80)
    );
    assert_eq!(load_idx(Op::I32Load8SIdx, I32, 4, 4, 0), Ok(0xffff_ff87));
    assert_eq!(load_idx(Op::I32Load8UIdx, I32, 4, 4, 0), Ok(0x87));
    assert_eq!(load_idx(Op::I32Load16SIdx, I32, 0, 0, 0), Ok(0xffff_ff80));
    assert_eq!(load_idx(Op::I32Load16UIdx, I32, 0, 0, 0), Ok(0xff80));
    // The offset is not wrapped: past the end is a trap.
    assert_eq!(
        load_idx(Op::I32LoadIdx, I32, (PAGE - 4) as u32, 0, 1),
        Err(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        load_idx(Op::I32LoadIdx, I32, u32::MAX, 1, PAGE as u32),
        Err(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        load_idx(Op::I32Load8UIdx, I32, (PAGE - 1) as u32, 0, 0),
        Ok(0x87)
    );
}
