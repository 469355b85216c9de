//! `ModuleInfo`: everything instantiation needs to know about a module,
//! extracted once by the parser so instantiating never re-reads the binary.

use crate::types::registry::FuncSig;
use crate::types::{GlobalType, MemoryType, TableType};
use anyhow::{Result, bail};
use kiln_vm::ModuleCounts;
use std::collections::HashMap;
use std::ops::Range;

/// A constant expression, as WebAssembly 2.0 allows them: one instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ConstExpr {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `f32.const`, as bits.
    F32(u32),
    /// `f64.const`, as bits.
    F64(u64),
    /// `ref.null` of either reference type.
    RefNull,
    /// `ref.func`.
    RefFunc(u32),
    /// `global.get` (of an imported global, in WebAssembly 2.0).
    GlobalGet(u32),
}

impl ConstExpr {
    /// Reads a validated constant expression.
    pub(crate) fn parse(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr> {
        use wasmparser::Operator;
        let mut reader = expr.get_operators_reader();
        let value = match reader.read()? {
            Operator::I32Const { value } => ConstExpr::I32(value),
            Operator::I64Const { value } => ConstExpr::I64(value),
            Operator::F32Const { value } => ConstExpr::F32(value.bits()),
            Operator::F64Const { value } => ConstExpr::F64(value.bits()),
            Operator::RefNull { .. } => ConstExpr::RefNull,
            Operator::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
            Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
            other => bail!("unsupported instruction in a constant expression: {other:?}"),
        };
        match reader.read()? {
            Operator::End => Ok(value),
            other => {
                bail!("unsupported constant expression: more than one instruction ({other:?})")
            }
        }
    }
}

/// An index into one of a module's index spaces.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum EntityIndex {
    /// Function index (imports first).
    Func(u32),
    /// Table index.
    Table(u32),
    /// Memory index.
    Memory(u32),
    /// Global index.
    Global(u32),
}

/// One import: names and the index it occupies in its index space.
#[derive(Debug)]
pub(crate) struct ImportDecl {
    pub(crate) module: String,
    pub(crate) name: String,
    pub(crate) index: EntityIndex,
}

/// One export.
#[derive(Debug)]
pub(crate) struct ExportDecl {
    pub(crate) name: String,
    pub(crate) index: EntityIndex,
}

/// How an element segment is used.
#[derive(Debug)]
pub(crate) enum ElemKind {
    /// Only through `table.init`.
    Passive,
    /// Copied into `table` at `offset` during instantiation, then dropped.
    Active { table: u32, offset: ConstExpr },
    /// Only declares functions for `ref.func`; dropped at instantiation.
    Declared,
}

/// An element segment.
#[derive(Debug)]
pub(crate) struct ElemSegment {
    pub(crate) kind: ElemKind,
    /// One constant expression per element.
    pub(crate) items: Box<[ConstExpr]>,
}

/// How a data segment is used.
#[derive(Debug)]
pub(crate) enum DataKind {
    /// Only through `memory.init`.
    Passive,
    /// Copied into `memory` at `offset` during instantiation, then dropped.
    Active { memory: u32, offset: ConstExpr },
}

/// A data segment; its bytes are `range` of the module's binary.
#[derive(Debug)]
pub(crate) struct DataSegment {
    pub(crate) kind: DataKind,
    pub(crate) range: Range<usize>,
}

/// The parsed, validated shape of a module.
#[derive(Debug, Default)]
pub(crate) struct ModuleInfo {
    /// The type section.
    pub(crate) sigs: Vec<FuncSig>,
    /// Type index of every function, imports first.
    pub(crate) funcs: Vec<u32>,
    /// Every table's type, imports first.
    pub(crate) tables: Vec<TableType>,
    /// Every memory's type, imports first.
    pub(crate) memories: Vec<MemoryType>,
    /// Every global's type, imports first.
    pub(crate) globals: Vec<GlobalType>,
    /// Initialisers of the defined globals.
    pub(crate) global_inits: Vec<ConstExpr>,
    pub(crate) num_imported_funcs: u32,
    pub(crate) num_imported_tables: u32,
    pub(crate) num_imported_memories: u32,
    pub(crate) num_imported_globals: u32,
    pub(crate) imports: Vec<ImportDecl>,
    pub(crate) exports: Vec<ExportDecl>,
    /// Export name → position in `exports`.
    pub(crate) export_map: HashMap<String, usize>,
    pub(crate) start: Option<u32>,
    pub(crate) elems: Vec<ElemSegment>,
    /// The data section's contents in the binary. Its segments are read
    /// when the segment plan is built (`SegmentPlan::new`), not by
    /// `Module::new`: a module can have 100,000 of them.
    pub(crate) data_section: Option<Range<usize>>,
    /// The number of data segments.
    pub(crate) data_count: u32,
    /// Byte range of each defined function's body in the binary.
    pub(crate) bodies: Vec<Range<usize>>,
    /// Function names from the `name` section.
    pub(crate) func_names: HashMap<u32, String>,
    /// The module name from the `name` section.
    pub(crate) name: Option<String>,
}

impl ModuleInfo {
    /// Entity counts, for `VMOffsets`.
    pub(crate) fn counts(&self) -> Result<ModuleCounts> {
        let count = |n: usize, what: &str| {
            u32::try_from(n).map_err(|_| anyhow::anyhow!("too many {what} in module"))
        };
        Ok(ModuleCounts {
            types: count(self.sigs.len(), "types")?,
            funcs: count(self.funcs.len(), "functions")?,
            imported_funcs: self.num_imported_funcs,
            tables: count(self.tables.len(), "tables")?,
            memories: count(self.memories.len(), "memories")?,
            globals: count(self.globals.len(), "globals")?,
            imported_globals: self.num_imported_globals,
            data: self.data_count,
            elems: count(self.elems.len(), "element segments")?,
        })
    }

    /// The export named `name`.
    pub(crate) fn export(&self, name: &str) -> Option<&ExportDecl> {
        self.export_map.get(name).map(|&i| &self.exports[i])
    }
}
