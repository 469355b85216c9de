//! Element and data segments at instantiation: what a trap leaves applied
//! and what it leaves undropped, for the per-segment path (offsets from
//! imported globals) and the merged path (constant offsets), on demand and
//! with the pooling allocator.

use kiln::{
    Config, Engine, Extern, Global, GlobalType, Instance, InstanceAllocationStrategy, Module,
    Mutability, PoolingAllocationConfig, Ref, RefType, Store, Table, TableType, Trap, Val, ValType,
};

fn engines() -> [Engine; 2] {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(1)
        .total_memories(1)
        .total_tables(1);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    [Engine::default(), Engine::new(&config).unwrap()]
}

fn table(store: &mut Store<()>, size: u32) -> Table {
    Table::new(
        store,
        TableType::new(RefType::FUNCREF, size, None),
        Ref::Func(None),
    )
    .unwrap()
}

/// Calls the function in slot `index` of `table`, which takes nothing and
/// returns an `i32`.
fn call_slot(store: &mut Store<()>, table: Table, index: u64) -> kiln::Result<i32> {
    let func = *table
        .get(&mut *store, index)
        .unwrap()
        .unwrap_func()
        .expect("a function in the slot");
    func.typed::<(), i32>(&*store)?.call(store, ())
}

fn trap_of(err: &kiln::Error) -> Option<Trap> {
    err.downcast_ref::<Trap>().copied()
}

/// Probes of a module's data segments, placed in an imported table by its
/// first element segment so they survive a failed instantiation: slot 0
/// reads the byte at 10, slots 1 and 2 `memory.init` one byte of data
/// segment 0 and 1 (trapping once the segment is dropped).
const PROBES: &str = r#"
  (elem (i32.const 0) $byte10 $init0 $init1)
  (func $byte10 (result i32) (i32.load8_u (i32.const 10)))
  (func $init0 (result i32)
    (memory.init 0 (i32.const 200) (i32.const 0) (i32.const 1))
    (i32.load8_u (i32.const 200)))
  (func $init1 (result i32)
    (memory.init 1 (i32.const 201) (i32.const 0) (i32.const 1))
    (i32.load8_u (i32.const 201)))
"#;

#[test]
fn a_data_trap_leaves_earlier_segments_applied_and_later_ones_undropped() -> kiln::Result<()> {
    for engine in engines() {
        let module = Module::new(
            &engine,
            format!(
                r#"(module
                     (import "env" "t" (table 3 funcref))
                     (import "env" "at" (global $at i32))
                     (memory 1)
                     {PROBES}
                     (data (i32.const 10) "first")
                     (data (global.get $at) "second"))"#
            ),
        )?;
        for (at, succeeds) in [(65_536, false), (300, true), (-1, false), (65_530, true)] {
            let mut store = Store::new(&engine, ());
            let slots = table(&mut store, 3);
            let at = Global::new(
                &mut store,
                GlobalType::new(ValType::I32, Mutability::Const),
                Val::I32(at),
            )?;
            let imports: [Extern; 2] = [slots.into(), at.into()];
            let outcome = Instance::new(&mut store, &module, &imports);
            assert_eq!(outcome.is_ok(), succeeds, "{at:?}");
            if let Err(err) = outcome {
                assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds));
            }
            // The first segment was applied and dropped either way.
            assert_eq!(call_slot(&mut store, slots, 0)?, i32::from(b'f'));
            let err = call_slot(&mut store, slots, 1).unwrap_err();
            assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds));
            // The second is undropped only if it trapped.
            match call_slot(&mut store, slots, 2) {
                Ok(byte) => {
                    assert!(!succeeds);
                    assert_eq!(byte, i32::from(b's'));
                }
                Err(err) => {
                    assert!(succeeds);
                    assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn an_element_trap_leaves_every_data_segment_unapplied_and_undropped() -> kiln::Result<()> {
    for engine in engines() {
        // Constant offsets within the memory: the data segments are merged
        // into chunks, which must not be copied when an element segment
        // traps first.
        let module = Module::new(
            &engine,
            format!(
                r#"(module
                     (import "env" "t" (table 3 funcref))
                     (memory 1)
                     {PROBES}
                     (elem (i32.const 3) $byte10)
                     (data (i32.const 10) "first")
                     (data (i32.const 16) "second"))"#
            ),
        )?;
        for (size, succeeds) in [(3, false), (4, true), (3, false)] {
            let mut store = Store::new(&engine, ());
            let slots = table(&mut store, size);
            let outcome = Instance::new(&mut store, &module, &[slots.into()]);
            assert_eq!(outcome.is_ok(), succeeds);
            if let Err(err) = outcome {
                assert_eq!(trap_of(&err), Some(Trap::TableOutOfBounds));
            }
            if succeeds {
                assert_eq!(call_slot(&mut store, slots, 0)?, i32::from(b'f'));
                for slot in [1, 2] {
                    let err = call_slot(&mut store, slots, slot).unwrap_err();
                    assert_eq!(trap_of(&err), Some(Trap::MemoryOutOfBounds));
                }
            } else {
                // Not applied, and both still usable.
                assert_eq!(call_slot(&mut store, slots, 0)?, 0);
                assert_eq!(call_slot(&mut store, slots, 1)?, i32::from(b'f'));
                assert_eq!(call_slot(&mut store, slots, 2)?, i32::from(b's'));
            }
        }
    }
    Ok(())
}

#[test]
fn many_small_segments_initialise_memory_like_one_at_a_time() -> kiln::Result<()> {
    // Hundreds of tiny segments a few bytes apart (as Go emits them), some
    // overlapping an earlier one, and one far away.
    let mut expected = vec![0u8; 1 << 16];
    let mut segments = String::new();
    for i in 0..400usize {
        let at = 1000 + i * 7 + (i / 50) * 100;
        let bytes = [(i % 251) as u8 + 1, (i % 13) as u8 + 1];
        expected[at..at + 2].copy_from_slice(&bytes);
        segments += &format!(
            "(data (i32.const {at}) \"\\{:02x}\\{:02x}\")\n",
            bytes[0], bytes[1]
        );
        if i % 40 == 0 {
            // Overwrites the second byte of the segment just applied.
            expected[at + 1] = 0xEE;
            segments += &format!("(data (i32.const {}) \"\\ee\")\n", at + 1);
        }
    }
    expected[60_000..60_003].copy_from_slice(b"end");
    segments += r#"(data (i32.const 60000) "end")"#;
    for engine in engines() {
        let module = Module::new(
            &engine,
            format!(r#"(module (memory (export "memory") 1) {segments})"#),
        )?;
        for _ in 0..2 {
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[])?;
            let memory = instance.get_memory(&mut store, "memory").unwrap();
            assert!(memory.data(&store) == expected.as_slice());
        }
    }
    Ok(())
}
