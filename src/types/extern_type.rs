//! `ExternType`, and the import/export descriptors a module lists.

use super::{FuncType, GlobalType, MemoryType, TableType};
use std::fmt;

/// The type of something a module can import or export.
#[derive(Clone, Debug)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A global.
    Global(GlobalType),
    /// A table.
    Table(TableType),
    /// A linear memory.
    Memory(MemoryType),
}

macro_rules! extern_type_accessors {
    ($($variant:ident $ty:ty, $get:ident, $unwrap:ident;)*) => {$(
        /// The inner type, if this is that kind of extern.
        pub fn $get(&self) -> Option<&$ty> {
            match self {
                ExternType::$variant(ty) => Some(ty),
                _ => None,
            }
        }

        /// The inner type; panics if this is another kind of extern.
        pub fn $unwrap(&self) -> &$ty {
            self.$get().expect(concat!("ExternType::", stringify!($unwrap), " on another kind"))
        }
    )*};
}

impl ExternType {
    extern_type_accessors! {
        Func FuncType, func, unwrap_func;
        Global GlobalType, global, unwrap_global;
        Table TableType, table, unwrap_table;
        Memory MemoryType, memory, unwrap_memory;
    }

    /// `"func"`, `"global"`, `"table"` or `"memory"`: for error messages.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "func",
            ExternType::Global(_) => "global",
            ExternType::Table(_) => "table",
            ExternType::Memory(_) => "memory",
        }
    }
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternType::Func(t) => t.fmt(f),
            ExternType::Global(t) => write!(f, "(global {t})"),
            ExternType::Table(t) => t.fmt(f),
            ExternType::Memory(t) => t.fmt(f),
        }
    }
}

impl From<FuncType> for ExternType {
    fn from(ty: FuncType) -> ExternType {
        ExternType::Func(ty)
    }
}

impl From<GlobalType> for ExternType {
    fn from(ty: GlobalType) -> ExternType {
        ExternType::Global(ty)
    }
}

impl From<TableType> for ExternType {
    fn from(ty: TableType) -> ExternType {
        ExternType::Table(ty)
    }
}

impl From<MemoryType> for ExternType {
    fn from(ty: MemoryType) -> ExternType {
        ExternType::Memory(ty)
    }
}

/// One import of a module: where it comes from and what it must be.
#[derive(Clone, Debug)]
pub struct ImportType<'module> {
    module: &'module str,
    name: &'module str,
    ty: ExternType,
}

impl<'module> ImportType<'module> {
    pub(crate) fn new(module: &'module str, name: &'module str, ty: ExternType) -> Self {
        ImportType { module, name, ty }
    }

    /// The module name the import is resolved in.
    pub fn module(&self) -> &'module str {
        self.module
    }

    /// The item name within that module.
    pub fn name(&self) -> &'module str {
        self.name
    }

    /// The type the provided item must match.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// One export of a module: its name and type.
#[derive(Clone, Debug)]
pub struct ExportType<'module> {
    name: &'module str,
    ty: ExternType,
}

impl<'module> ExportType<'module> {
    pub(crate) fn new(name: &'module str, ty: ExternType) -> Self {
        ExportType { name, ty }
    }

    /// The export's name.
    pub fn name(&self) -> &'module str {
        self.name
    }

    /// The exported item's type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}
