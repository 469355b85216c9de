//! [`UnknownImportError`]: the error for an import a linker cannot resolve.

use crate::{ExternType, ImportType};
use std::fmt;

/// An import that is not defined in the [`Linker`](crate::Linker) used to
/// instantiate its module.
///
/// Returned inside an [`Error`](crate::Error) by
/// [`Linker::instantiate`](crate::Linker::instantiate),
/// [`Linker::instantiate_pre`](crate::Linker::instantiate_pre) and
/// [`Linker::module`](crate::Linker::module); get it back with
/// `err.downcast_ref::<UnknownImportError>()`. Calling a function defined
/// by [`Linker::define_unknown_imports_as_traps`](crate::Linker::define_unknown_imports_as_traps)
/// fails with one too, as the cause of a
/// [`Trap::UnknownImport`](crate::Trap::UnknownImport).
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Engine, Linker, Module, Store, UnknownImportError};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module (import "env" "log" (func (param i32))))"#)?;
/// let linker = Linker::<()>::new(&engine);
/// let err = linker.instantiate(&mut Store::new(&engine, ()), &module).unwrap_err();
/// let unknown = err.downcast_ref::<UnknownImportError>().unwrap();
/// assert_eq!((unknown.module(), unknown.name()), ("env", "log"));
/// assert!(unknown.ty().func().is_some());
/// assert_eq!(err.to_string(), "unknown import: `env::log` has not been defined");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct UnknownImportError {
    module: String,
    name: String,
    ty: ExternType,
}

impl UnknownImportError {
    /// The error for `import`.
    pub(crate) fn new(import: &ImportType<'_>) -> UnknownImportError {
        UnknownImportError {
            module: import.module().to_string(),
            name: import.name().to_string(),
            ty: import.ty(),
        }
    }

    /// The module name of the missing import.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// # let engine = kiln::Engine::default();
    /// # let module = kiln::Module::new(&engine, r#"(module (import "env" "f" (func)))"#)?;
    /// let err = kiln::Linker::<()>::new(&engine).instantiate_pre(&module).unwrap_err();
    /// assert_eq!(err.downcast_ref::<kiln::UnknownImportError>().unwrap().module(), "env");
    /// # Ok(())
    /// # }
    /// ```
    pub fn module(&self) -> &str {
        &self.module
    }

    /// The item name of the missing import.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// # let engine = kiln::Engine::default();
    /// # let module = kiln::Module::new(&engine, r#"(module (import "env" "f" (func)))"#)?;
    /// let err = kiln::Linker::<()>::new(&engine).instantiate_pre(&module).unwrap_err();
    /// assert_eq!(err.downcast_ref::<kiln::UnknownImportError>().unwrap().name(), "f");
    /// # Ok(())
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The type the module expects for the missing import.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// # let engine = kiln::Engine::default();
    /// # let module = kiln::Module::new(&engine, r#"(module (import "env" "m" (memory 1)))"#)?;
    /// let err = kiln::Linker::<()>::new(&engine).instantiate_pre(&module).unwrap_err();
    /// let ty = err.downcast_ref::<kiln::UnknownImportError>().unwrap().ty();
    /// assert_eq!(ty.memory().unwrap().minimum(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

impl fmt::Display for UnknownImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown import: `{}::{}` has not been defined",
            self.module, self.name
        )
    }
}

impl std::error::Error for UnknownImportError {}
