//! Table instructions and `ref.func`.

use super::harness::*;
use crate::bytecode::Op;
use crate::vm::TrapCode;

#[test]
fn table_get_set_size_and_ref_func() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let table = m.table(3, 3);
    let t_get = m.ty(&[I32], &[I64]);
    let get = m.func(
        t_get,
        0,
        1,
        vec![
            Op::TableGet {
                dst: 0,
                index: 0,
                table,
            },
            Op::Return,
        ],
    );
    let t_set = m.ty(&[I32], &[]);
    // table[i] = ref.func get
    let set = m.func(
        t_set,
        0,
        2,
        vec![
            Op::RefFunc { dst: 1, func: get },
            Op::TableSet {
                index: 0,
                value: 1,
                table,
            },
            Op::Return,
        ],
    );
    let t_size = m.ty(&[], &[I32]);
    let size = m.func(
        t_size,
        0,
        1,
        vec![Op::TableSize { dst: 0, table }, Op::Return],
    );
    let inst = m.build(&s);

    assert_eq!(inst.call1(size, &[]).unwrap(), 3);
    assert_eq!(inst.call1(get, &[2]).unwrap(), 0);
    assert!(inst.call(set, &[2]).is_ok());
    assert_eq!(inst.call1(get, &[2]).unwrap(), inst.func_ref(get) as u64);
    assert_eq!(inst.table(table), vec![0, 0, inst.func_ref(get) as u64]);
    assert_eq!(
        inst.call1(get, &[3]).unwrap_err().trap(),
        TrapCode::TableOutOfBounds
    );
    assert_eq!(
        inst.call(set, &[u32::MAX as u64]).unwrap_err().trap(),
        TrapCode::TableOutOfBounds
    );
}

#[test]
fn table_grow_uses_the_builtin() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let table = m.table(1, 4);
    let t = m.ty(&[I64, I32], &[I32]);
    let grow = m.func(
        t,
        0,
        2,
        vec![
            Op::TableGrow {
                dst: 0,
                init: 0,
                delta: 1,
                table,
            },
            Op::Return,
        ],
    );
    let inst = m.build(&s);
    assert_eq!(inst.call1(grow, &[7, 2]).unwrap(), 1);
    assert_eq!(inst.table(table), vec![0, 7, 7]);
    assert_eq!(inst.call1(grow, &[9, 2]).unwrap(), 0xffff_ffff);
    assert_eq!(inst.call1(grow, &[9, 0]).unwrap(), 3);
    assert_eq!(inst.call1(grow, &[9, 1]).unwrap(), 3);
    assert_eq!(inst.table(table), vec![0, 7, 7, 9]);
}

#[test]
fn table_fill_copy_init_and_elem_drop() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t0 = m.table(5, 5);
    let t1 = m.table(2, 2);
    let t_void = m.ty(&[], &[]);
    let nop = m.func(t_void, 0, 0, vec![Op::Return]);
    let elem = m.elem(&[Some(nop), None, Some(nop)]);
    let t_fill = m.ty(&[I32, I64, I32], &[]);
    let fill = m.func(
        t_fill,
        0,
        3,
        vec![
            Op::TableFill {
                table: t0,
                dst: 0,
                value: 1,
                len: 2,
            },
            Op::Return,
        ],
    );
    let t3 = m.ty(&[I32, I32, I32], &[]);
    let copy = m.func(
        t3,
        0,
        3,
        vec![
            Op::TableCopy {
                dst_table: t0,
                src_table: t0,
                dst: 0,
                src: 1,
                len: 2,
            },
            Op::Return,
        ],
    );
    let copy_across = m.func(
        t3,
        0,
        3,
        vec![
            Op::TableCopy {
                dst_table: t1,
                src_table: t0,
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
            Op::TableInit {
                table: t0,
                elem,
                dst: 0,
                src: 1,
                len: 2,
            },
            Op::Return,
        ],
    );
    let drop = m.func(t_void, 0, 0, vec![Op::ElemDrop { elem }, Op::Return]);
    let inst = m.build(&s);
    let oob = TrapCode::TableOutOfBounds;
    let f = inst.func_ref(nop) as u64;

    assert!(inst.call(fill, &[1, 11, 3]).is_ok());
    assert_eq!(inst.table(t0), vec![0, 11, 11, 11, 0]);
    assert!(inst.call(fill, &[5, 12, 0]).is_ok());
    assert_eq!(inst.call(fill, &[6, 12, 0]).unwrap_err().trap(), oob);
    assert_eq!(inst.call(fill, &[4, 12, 2]).unwrap_err().trap(), oob);
    assert_eq!(
        inst.table(t0),
        vec![0, 11, 11, 11, 0],
        "nothing written by a trapping fill"
    );

    // Overlapping copies in both directions.
    assert!(inst.call(fill, &[0, 1, 1]).is_ok());
    assert!(inst.call(fill, &[4, 5, 1]).is_ok());
    assert!(inst.call(copy, &[1, 0, 4]).is_ok());
    assert_eq!(inst.table(t0), vec![1, 1, 11, 11, 11]);
    assert!(inst.call(copy, &[0, 2, 3]).is_ok());
    assert_eq!(inst.table(t0), vec![11, 11, 11, 11, 11]);
    assert_eq!(inst.call(copy, &[4, 0, 2]).unwrap_err().trap(), oob);
    assert!(inst.call(copy, &[5, 5, 0]).is_ok());
    assert_eq!(inst.call(copy, &[0, 6, 0]).unwrap_err().trap(), oob);
    assert!(inst.call(copy_across, &[0, 3, 2]).is_ok());
    assert_eq!(inst.table(t1), vec![11, 11]);
    assert_eq!(inst.call(copy_across, &[1, 0, 2]).unwrap_err().trap(), oob);

    assert!(inst.call(init, &[2, 0, 3]).is_ok());
    assert_eq!(inst.table(t0), vec![11, 11, f, 0, f]);
    assert!(inst.call(init, &[0, 3, 0]).is_ok());
    assert_eq!(inst.call(init, &[0, 4, 0]).unwrap_err().trap(), oob);
    assert_eq!(inst.call(init, &[0, 2, 2]).unwrap_err().trap(), oob);
    assert_eq!(inst.call(init, &[4, 0, 2]).unwrap_err().trap(), oob);
    assert!(inst.call(drop, &[]).is_ok());
    assert!(inst.call(init, &[0, 0, 0]).is_ok());
    assert_eq!(inst.call(init, &[0, 0, 1]).unwrap_err().trap(), oob);
}
