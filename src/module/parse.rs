//! Reading a module: one pass of wasmparser's `Parser`, every payload fed to
//! the `Validator` first and recorded into a [`ModuleInfo`] only once it is
//! known to be valid.
//!
//! Function bodies are always validated here, so a module that parses never
//! fails later because of bad code. In lazy mode only their byte ranges are
//! kept (the interpreter translates on first call); in eager mode each body
//! is translated in the same pass that validates it.

use super::info::{
    ConstExpr, DataKind, DataSegment, ElemKind, ElemSegment, EntityIndex, ExportDecl, ImportDecl,
    ModuleInfo,
};
use crate::CompilationMode;
use crate::types::registry::FuncSig;
use crate::types::{GlobalType, MemoryType, TableType, ValType};
use anyhow::{Result, bail};
use kiln_interp::ModuleTypes;
use kiln_interp::bytecode::CompiledFunc;
use std::ops::Range;
use std::sync::Arc;
use wasmparser::{
    BinaryReader, CompositeInnerType, DataKind as WpDataKind, DataSectionReader, ElementItems,
    ElementKind, ExternalKind, FuncValidatorAllocations, KnownCustom, Name, NameSectionReader,
    Parser, Payload, TableInit, TypeRef, ValidPayload, Validator, WasmFeatures,
};

/// Parses the module `text` (wat) in lazy mode with the default
/// features, returning its binary too (for tests of what reads it).
#[cfg(test)]
pub(crate) fn parse_wat_keeping_bytes(text: &str) -> Result<(Parsed, Vec<u8>)> {
    let bytes = wat::parse_str(text)?;
    let parsed = parse(
        &bytes,
        crate::Config::new().features(),
        CompilationMode::Lazy,
        Instrument::default(),
    )?;
    Ok((parsed, bytes))
}

/// The data segments of the validated module `bytes`, whose data section
/// is `section` (see [`ModuleInfo::data_section`]).
pub(crate) fn data_segments(bytes: &[u8], section: Range<usize>) -> Result<Vec<DataSegment>> {
    let contents = bytes
        .get(section.clone())
        .ok_or_else(|| anyhow::anyhow!("data section out of the module's bounds"))?;
    let reader = DataSectionReader::new(BinaryReader::new(contents, section.start as u64))?;
    let mut segments = Vec::with_capacity(reader.count() as usize);
    for data in reader {
        let data = data?;
        // The segment's bytes are the tail of its range.
        let end = to_usize(data.range.end)?;
        let range = end - data.data.len()..end;
        let kind = match data.kind {
            WpDataKind::Passive => DataKind::Passive,
            WpDataKind::Active {
                memory_index,
                offset_expr,
            } => DataKind::Active {
                memory: memory_index,
                offset: ConstExpr::parse(&offset_expr)?,
            },
        };
        segments.push(DataSegment { kind, range });
    }
    Ok(segments)
}

/// The result of parsing a module.
pub(crate) struct Parsed {
    /// What instantiation needs.
    pub(crate) info: ModuleInfo,
    /// What the translator needs.
    pub(crate) types: Arc<ModuleTypes>,
    /// Eager mode: the bytecode of every defined function, in order.
    pub(crate) compiled: Vec<CompiledFunc>,
}

/// Checks the translator adds to the code: fuel metering and epoch checks
/// (from the engine's `Config`).
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Instrument {
    /// `Config::consume_fuel`.
    pub(crate) consume_fuel: bool,
    /// `Config::epoch_interruption`.
    pub(crate) epoch_interruption: bool,
    /// With tiered execution, `Config::tier_up_budget`.
    pub(crate) tier_up_budget: Option<u64>,
}

/// Parses and validates `bytes` (a binary module), instrumenting translated
/// code as `instrument` asks.
pub(crate) fn parse(
    bytes: &[u8],
    features: WasmFeatures,
    mode: CompilationMode,
    instrument: Instrument,
) -> Result<Parsed> {
    parse_with(bytes, features, mode, instrument, false)
}

/// [`parse`], except that with `trusted` the function bodies are not
/// validated (every section still is): for a module Kiln serialised itself
/// after validating it (`Module::deserialize`).
pub(crate) fn parse_with(
    bytes: &[u8],
    features: WasmFeatures,
    mode: CompilationMode,
    instrument: Instrument,
    trusted: bool,
) -> Result<Parsed> {
    let mut validator = Validator::new_with_features(features);
    let mut allocs = FuncValidatorAllocations::default();
    let mut info = ModuleInfo::default();
    let mut types = ModuleTypes {
        consume_fuel: instrument.consume_fuel,
        epoch_interruption: instrument.epoch_interruption,
        tier_up_budget: instrument.tier_up_budget,
        ..ModuleTypes::default()
    };
    // Eager mode freezes the types when the code section starts (every
    // section the translator needs comes before it).
    let mut frozen: Option<Arc<ModuleTypes>> = None;
    let mut compiled = Vec::new();

    // The parser must know the features too: some encodings (e.g. 64-bit
    // memory limits) are only well-formed when a proposal is enabled.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(bytes) {
        let payload = payload?;
        if let ValidPayload::Func(to_validate, body) = validator.payload(&payload)? {
            let func_index = to_validate.index;
            let mut func_validator = to_validate.into_validator(std::mem::take(&mut allocs));
            match mode {
                CompilationMode::Lazy if trusted => {}
                CompilationMode::Lazy => func_validator.validate(&body)?,
                CompilationMode::Eager => {
                    let types = frozen.get_or_insert_with(|| Arc::new(std::mem::take(&mut types)));
                    let validator = (!trusted).then_some(&mut func_validator);
                    let func = kiln_interp::translate::translate_function(
                        types, func_index, &body, validator,
                    )?;
                    compiled.push(func);
                }
            }
            allocs = func_validator.into_allocations();
            let range = body.range();
            info.bodies
                .push(to_usize(range.start)?..to_usize(range.end)?);
            continue;
        }
        record(&payload, &mut info, &mut types)?;
    }

    let types = match frozen {
        Some(types) => types,
        None => Arc::new(types),
    };
    Ok(Parsed {
        info,
        types,
        compiled,
    })
}

/// Records one validated payload.
fn record(payload: &Payload<'_>, info: &mut ModuleInfo, types: &mut ModuleTypes) -> Result<()> {
    match payload {
        Payload::TypeSection(reader) => {
            for group in reader.clone() {
                for sub in group?.into_types() {
                    let CompositeInnerType::Func(ty) = sub.composite_type.inner else {
                        bail!("only function types are supported");
                    };
                    info.sigs.push(FuncSig {
                        params: convert_types(ty.params())?,
                        results: convert_types(ty.results())?,
                    });
                    types.types.push(ty);
                }
            }
        }
        Payload::ImportSection(reader) => {
            for import in reader.clone().into_imports() {
                let import = import?;
                let index = match import.ty {
                    TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                        info.num_imported_funcs += 1;
                        push_func(info, types, ty)
                    }
                    TypeRef::Table(ty) => {
                        info.num_imported_tables += 1;
                        info.tables.push(TableType::from_wasmparser(ty)?);
                        EntityIndex::Table(last_index(info.tables.len()))
                    }
                    TypeRef::Memory(ty) => {
                        info.num_imported_memories += 1;
                        info.memories.push(MemoryType::from_wasmparser(ty)?);
                        EntityIndex::Memory(last_index(info.memories.len()))
                    }
                    TypeRef::Global(ty) => {
                        info.num_imported_globals += 1;
                        info.globals.push(GlobalType::from_wasmparser(ty)?);
                        EntityIndex::Global(last_index(info.globals.len()))
                    }
                    TypeRef::Tag(_) => bail!("tags are not supported"),
                };
                info.imports.push(ImportDecl {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    index,
                });
            }
            types.num_imported_funcs = info.num_imported_funcs;
        }
        Payload::FunctionSection(reader) => {
            for ty in reader.clone() {
                push_func(info, types, ty?);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader.clone() {
                let table = table?;
                if let TableInit::Expr(_) = table.init {
                    bail!("table initialiser expressions are not supported");
                }
                info.tables.push(TableType::from_wasmparser(table.ty)?);
            }
        }
        Payload::MemorySection(reader) => {
            for memory in reader.clone() {
                info.memories.push(MemoryType::from_wasmparser(memory?)?);
            }
        }
        Payload::GlobalSection(reader) => {
            for global in reader.clone() {
                let global = global?;
                info.globals.push(GlobalType::from_wasmparser(global.ty)?);
                info.global_inits.push(ConstExpr::parse(&global.init_expr)?);
            }
        }
        Payload::ExportSection(reader) => {
            for export in reader.clone() {
                let export = export?;
                let index = match export.kind {
                    ExternalKind::Func | ExternalKind::FuncExact => EntityIndex::Func(export.index),
                    ExternalKind::Table => EntityIndex::Table(export.index),
                    ExternalKind::Memory => EntityIndex::Memory(export.index),
                    ExternalKind::Global => EntityIndex::Global(export.index),
                    ExternalKind::Tag => bail!("tags are not supported"),
                };
                info.export_map
                    .insert(export.name.to_string(), info.exports.len());
                info.exports.push(ExportDecl {
                    name: export.name.to_string(),
                    index,
                });
            }
        }
        Payload::StartSection { func, .. } => info.start = Some(*func),
        Payload::ElementSection(reader) => {
            for elem in reader.clone() {
                let elem = elem?;
                let kind = match elem.kind {
                    ElementKind::Passive => ElemKind::Passive,
                    ElementKind::Declared => ElemKind::Declared,
                    ElementKind::Active {
                        table_index,
                        offset_expr,
                    } => ElemKind::Active {
                        table: table_index.unwrap_or(0),
                        offset: ConstExpr::parse(&offset_expr)?,
                    },
                };
                let items = match elem.items {
                    ElementItems::Functions(funcs) => funcs
                        .into_iter()
                        .map(|f| Ok(ConstExpr::RefFunc(f?)))
                        .collect::<Result<_>>()?,
                    ElementItems::Expressions(_, exprs) => exprs
                        .into_iter()
                        .map(|e| ConstExpr::parse(&e?))
                        .collect::<Result<_>>()?,
                };
                info.elems.push(ElemSegment { kind, items });
            }
        }
        Payload::DataSection(reader) => {
            let range = reader.range();
            info.data_section = Some(to_usize(range.start)?..to_usize(range.end)?);
            info.data_count = reader.count();
        }
        Payload::CustomSection(reader) => {
            if let KnownCustom::Name(names) = reader.as_known() {
                // Like other engines, ignore a malformed name section: it is
                // debugging information, not part of the program.
                let _ = record_names(names, info);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Adds a function of type `ty` to both index spaces.
fn push_func(info: &mut ModuleInfo, types: &mut ModuleTypes, ty: u32) -> EntityIndex {
    info.funcs.push(ty);
    types.funcs.push(ty);
    EntityIndex::Func(last_index(info.funcs.len()))
}

/// The index of the last element of a list of `len` entries. Index spaces
/// never exceed wasmparser's limits, which are far below `u32::MAX`.
fn last_index(len: usize) -> u32 {
    (len - 1) as u32
}

fn to_usize(offset: u64) -> Result<usize> {
    usize::try_from(offset).map_err(|_| anyhow::anyhow!("module offset out of range"))
}

fn convert_types(types: &[wasmparser::ValType]) -> Result<Box<[ValType]>> {
    types.iter().map(|&t| ValType::from_wasmparser(t)).collect()
}

/// Reads the module and function names of a `name` section.
fn record_names(names: NameSectionReader<'_>, info: &mut ModuleInfo) -> Result<()> {
    for name in names {
        match name? {
            Name::Module { name, .. } => info.name = Some(name.to_string()),
            Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    info.func_names
                        .insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_wat(text: &str) -> Result<Parsed> {
        parse_wat_keeping_bytes(text).map(|(parsed, _)| parsed)
    }

    #[test]
    fn records_imports_exports_and_segments() {
        let (parsed, bytes) = parse_wat_keeping_bytes(
            r#"(module $m
                (import "env" "f" (func $f (param i32)))
                (import "env" "g" (global i32))
                (import "env" "mem" (memory 1))
                (table 2 funcref)
                (global $x (mut i64) (i64.const 7))
                (func $add (export "add") (param i32 i32) (result i32)
                  local.get 0 local.get 1 i32.add)
                (export "g" (global 0))
                (export "t" (table 0))
                (elem (i32.const 0) $add $f)
                (data (i32.const 16) "hi")
                (data "passive")
                (start $f2)
                (func $f2))"#,
        )
        .unwrap();
        let info = &parsed.info;
        assert_eq!(info.num_imported_funcs, 1);
        assert_eq!(info.funcs.len(), 3);
        assert_eq!(info.imports.len(), 3);
        assert_eq!(info.imports[2].index, EntityIndex::Memory(0));
        assert_eq!(info.export("add").unwrap().index, EntityIndex::Func(1));
        assert_eq!(info.export("g").unwrap().index, EntityIndex::Global(0));
        assert!(info.export("missing").is_none());
        assert_eq!(info.global_inits, vec![ConstExpr::I64(7)]);
        assert_eq!(info.elems.len(), 1);
        assert_eq!(
            &*info.elems[0].items,
            &[ConstExpr::RefFunc(1), ConstExpr::RefFunc(0)]
        );
        assert!(matches!(
            info.elems[0].kind,
            ElemKind::Active {
                table: 0,
                offset: ConstExpr::I32(0)
            }
        ));
        assert_eq!(info.data_count, 2);
        let data = data_segments(&bytes, info.data_section.clone().unwrap()).unwrap();
        assert_eq!(data.len(), 2);
        assert!(matches!(data[1].kind, DataKind::Passive));
        assert_eq!(data[1].range.len(), "passive".len());
        assert_eq!(info.start, Some(2));
        assert_eq!(info.bodies.len(), 2);
        assert_eq!(info.name.as_deref(), Some("m"));
        assert_eq!(info.func_names.get(&1).map(String::as_str), Some("add"));
        assert_eq!(parsed.types.num_imported_funcs, 1);
        assert_eq!(parsed.types.func_type(1).params().len(), 2);

        let counts = info.counts().unwrap();
        assert_eq!(
            (counts.funcs, counts.imported_funcs, counts.globals),
            (3, 1, 2)
        );
        let offsets = kiln_vm::VMOffsets::new(counts);
        assert!(offsets.size >= offsets.elem_segments);
    }

    #[test]
    fn data_ranges_point_at_the_bytes() {
        let (parsed, bytes) =
            parse_wat_keeping_bytes(r#"(module (memory 1) (data (i32.const 0) "kiln!"))"#).unwrap();
        let data = data_segments(&bytes, parsed.info.data_section.unwrap()).unwrap();
        assert_eq!(&bytes[data[0].range.clone()], b"kiln!");
    }

    #[test]
    fn invalid_bodies_fail_with_the_validator_message() {
        let err = parse_wat("(module (func (result i32) i64.const 0))")
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("type mismatch"), "{err:#}");
    }

    #[test]
    fn disabled_features_are_rejected() {
        let bytes =
            wat::parse_str("(module (func (result i32 i32) i32.const 0 i32.const 1))").unwrap();
        let mut config = crate::Config::new();
        config.wasm_multi_value(false);
        assert!(
            parse(
                &bytes,
                config.features(),
                CompilationMode::Lazy,
                Instrument::default()
            )
            .is_err()
        );
        parse(
            &bytes,
            crate::Config::new().features(),
            CompilationMode::Lazy,
            Instrument::default(),
        )
        .unwrap();
    }

    #[test]
    fn overlong_32_bit_limits_are_malformed() {
        // Memory section: no max, minimum 2 encoded in six bytes. Only a
        // 64-bit memory may use that many, and memory64 is not enabled.
        let bytes = b"\0asm\x01\0\0\0\x05\x08\x01\x00\x82\x80\x80\x80\x80\x00";
        let err = parse(
            bytes,
            WasmFeatures::WASM2,
            CompilationMode::Lazy,
            Instrument::default(),
        )
        .err()
        .unwrap();
        assert!(
            format!("{err:#}").contains("integer representation too long"),
            "{err:#}"
        );
    }

    #[test]
    fn malformed_bytes_are_an_error() {
        assert!(
            parse(
                b"\0asm\x01\0\0\0\x01",
                WasmFeatures::WASM2,
                CompilationMode::Lazy,
                Instrument::default(),
            )
            .is_err()
        );
        assert!(
            parse(
                b"nope",
                WasmFeatures::WASM2,
                CompilationMode::Lazy,
                Instrument::default()
            )
            .is_err()
        );
    }
}
