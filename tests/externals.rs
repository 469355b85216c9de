//! The host reading and writing memories, tables and globals, and growth.

use kiln::{
    CompilationMode, Config, Engine, Extern, Func, Instance, Module, Ref, Store, Trap, Val,
};

const MODULE: &str = r#"(module
  (memory (export "mem") 1 4)
  (table (export "tab") 2 10 funcref)
  (global (export "counter") (mut i64) (i64.const 5))
  (global (export "konst") f32 (f32.const 1.5))
  (func $seven (export "seven") (result i32) i32.const 7)
  (elem (i32.const 1) $seven)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "call_slot") (param i32) (result i32) local.get 0 call_indirect (result i32))
  (func (export "bump") global.get 0 i64.const 1 i64.add global.set 0)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
)"#;

fn setup(mode: CompilationMode) -> (Store<()>, Instance) {
    let mut config = Config::new();
    config.compilation_mode(mode);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, MODULE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn host_reads_and_writes_memory() -> kiln::Result<()> {
    for mode in [CompilationMode::Lazy, CompilationMode::Eager] {
        let (mut store, instance) = setup(mode);
        let mem = instance.get_memory(&mut store, "mem").unwrap();
        let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
        mem.write(&mut store, 100, &0xdead_beefu32.to_le_bytes())?;
        assert_eq!(load.call(&mut store, 100)? as u32, 0xdead_beef);
        mem.data_mut(&mut store)[200] = 0x2a;
        assert_eq!(load.call(&mut store, 200)?, 0x2a);
        let mut buf = [0u8; 4];
        mem.read(&store, 100, &mut buf)?;
        assert_eq!(u32::from_le_bytes(buf), 0xdead_beef);
        assert!(mem.write(&mut store, 65_535, &[1, 2]).is_err());
        assert_eq!(mem.data_size(&store), 65_536);
        assert!(!mem.data_ptr(&store).is_null());

        // Growth from the host and from wasm, bounded by the maximum.
        assert_eq!(mem.size(&store), 1);
        assert_eq!(mem.grow(&mut store, 1)?, 1);
        let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
        assert_eq!(grow.call(&mut store, 2)?, 2);
        assert_eq!(grow.call(&mut store, 1)?, -1);
        assert!(mem.grow(&mut store, 1).is_err());
        assert_eq!(mem.size(&store), 4);
        // The new pages are zeroed and addressable from wasm.
        assert_eq!(load.call(&mut store, 4 * 65_536 - 4)?, 0);
        let err = load.call(&mut store, 4 * 65_536 - 3).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    }
    Ok(())
}

#[test]
fn host_reads_and_writes_tables() -> kiln::Result<()> {
    let (mut store, instance) = setup(CompilationMode::Lazy);
    let tab = instance.get_table(&mut store, "tab").unwrap();
    let call_slot = instance.get_typed_func::<i32, i32>(&mut store, "call_slot")?;
    assert_eq!(tab.size(&store), 2);
    assert!(matches!(tab.get(&mut store, 0), Some(Ref::Func(None))));
    assert!(matches!(tab.get(&mut store, 1), Some(Ref::Func(Some(_)))));
    assert!(tab.get(&mut store, 2).is_none());
    assert_eq!(call_slot.call(&mut store, 1)?, 7);

    let forty_two = Func::wrap(&mut store, || 42i32);
    tab.set(&mut store, 0, Ref::Func(Some(forty_two)))?;
    assert_eq!(call_slot.call(&mut store, 0)?, 42);
    assert_eq!(tab.grow(&mut store, 3, Ref::Func(Some(forty_two)))?, 2);
    assert_eq!(call_slot.call(&mut store, 4)?, 42);
    assert!(tab.grow(&mut store, 100, Ref::Func(None)).is_err());
    assert!(tab.set(&mut store, 5, Ref::Func(None)).is_err());

    // A function taken out of the table is the same callable function.
    let Some(Ref::Func(Some(f))) = tab.get(&mut store, 1) else {
        panic!("slot 1 empty")
    };
    assert_eq!(f.typed::<(), i32>(&store)?.call(&mut store, ())?, 7);
    Ok(())
}

#[test]
fn host_reads_and_writes_globals() -> kiln::Result<()> {
    let (mut store, instance) = setup(CompilationMode::Eager);
    let counter = instance.get_global(&mut store, "counter").unwrap();
    let konst = instance.get_global(&mut store, "konst").unwrap();
    let bump = instance.get_typed_func::<(), ()>(&mut store, "bump")?;
    assert_eq!(counter.get(&mut store).unwrap_i64(), 5);
    bump.call(&mut store, ())?;
    assert_eq!(counter.get(&mut store).unwrap_i64(), 6);
    counter.set(&mut store, Val::I64(100))?;
    bump.call(&mut store, ())?;
    assert_eq!(counter.get(&mut store).unwrap_i64(), 101);
    assert_eq!(konst.get(&mut store).unwrap_f32(), 1.5);
    assert!(
        konst.set(&mut store, Val::F32(0)).is_err(),
        "immutable global"
    );
    assert!(counter.set(&mut store, Val::I32(1)).is_err(), "wrong type");
    Ok(())
}

#[test]
fn exports_are_listed_in_order() -> kiln::Result<()> {
    let (mut store, instance) = setup(CompilationMode::Lazy);
    let names: Vec<String> = instance
        .exports(&mut store)
        .map(|e| e.name().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "mem",
            "tab",
            "counter",
            "konst",
            "seven",
            "load",
            "call_slot",
            "bump",
            "grow"
        ]
    );
    assert!(matches!(
        instance.get_export(&mut store, "seven"),
        Some(Extern::Func(_))
    ));
    assert!(instance.get_export(&mut store, "nope").is_none());
    Ok(())
}
