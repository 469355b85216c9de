//! `TypedFunc`: typed calls and type-mismatch errors.

use kiln::{Engine, Instance, Module, Store};

const ADD: &str = r#"(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "wide") (param i64 f32 f64) (result f64)
    local.get 0 f64.convert_i64_s local.get 1 f64.promote_f32 f64.add local.get 2 f64.add))"#;

#[test]
fn typed_calls_round_trip_values() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, ADD)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
    assert_eq!(add.call(&mut store, (i32::MAX, 1))?, i32::MIN);
    let wide = instance.get_typed_func::<(i64, f32, f64), f64>(&mut store, "wide")?;
    assert_eq!(wide.call(&mut store, (1, 0.5, 0.25))?, 1.75);
    Ok(())
}

#[test]
fn typed_func_with_wrong_signature_is_an_error() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, ADD)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let Err(err) = instance.get_typed_func::<(i64, i32), i32>(&mut store, "add") else {
        panic!("a typed func with the wrong params must be refused");
    };
    let msg = format!("{err:#}");
    assert!(msg.contains("type mismatch"), "{msg}");
    assert!(
        instance
            .get_typed_func::<(i32, i32), i64>(&mut store, "add")
            .is_err()
    );
    assert!(
        instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "missing")
            .is_err()
    );
    Ok(())
}

#[test]
fn handle_from_another_store_is_rejected() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, ADD)?;
    let mut store1 = Store::new(&engine, ());
    let mut store2 = Store::new(&engine, ());
    let instance = Instance::new(&mut store1, &module, &[])?;
    let add = instance.get_func(&mut store1, "add").unwrap();
    let mut out = [kiln::Val::I32(0)];
    assert!(
        add.call(
            &mut store2,
            &[kiln::Val::I32(1), kiln::Val::I32(2)],
            &mut out
        )
        .is_err()
    );
    Ok(())
}
