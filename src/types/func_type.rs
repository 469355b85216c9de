//! `FuncType`: a function signature registered in an engine.

use super::ValType;
use super::registry::FuncSig;
use crate::Engine;
use kiln_vm::VMSharedTypeIndex;
use std::fmt;
use std::sync::Arc;

/// The type of a function: its parameter and result types.
///
/// Like wasmtime's, a `FuncType` belongs to an [`Engine`]: creating one
/// interns the signature in the engine's registry, which is what makes type
/// checks at run time a comparison of two integers.
#[derive(Clone)]
pub struct FuncType {
    engine: Engine,
    index: VMSharedTypeIndex,
    sig: Arc<FuncSig>,
}

impl FuncType {
    /// The function type taking `params` and returning `results`,
    /// registered in `engine`.
    pub fn new(
        engine: &Engine,
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        let sig = FuncSig {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        };
        FuncType::from_sig(engine, sig)
    }

    /// Registers `sig` in `engine`.
    pub(crate) fn from_sig(engine: &Engine, sig: FuncSig) -> FuncType {
        let (index, sig) = engine.registry().register(sig);
        FuncType {
            engine: engine.clone(),
            index,
            sig,
        }
    }

    /// The type registered as `index` in `engine`, if there is one.
    pub(crate) fn from_index(engine: &Engine, index: VMSharedTypeIndex) -> Option<FuncType> {
        let sig = engine.registry().lookup(index)?;
        Some(FuncType {
            engine: engine.clone(),
            index,
            sig,
        })
    }

    /// The parameter types, in order.
    pub fn params(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.sig.params.iter().copied()
    }

    /// The result types, in order.
    pub fn results(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.sig.results.iter().copied()
    }

    /// Parameter `i`, if there is one.
    pub fn param(&self, i: usize) -> Option<ValType> {
        self.sig.params.get(i).copied()
    }

    /// Result `i`, if there is one.
    pub fn result(&self, i: usize) -> Option<ValType> {
        self.sig.results.get(i).copied()
    }

    /// The engine this type is registered in.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a function of type `self` may be used where `other` is
    /// expected. In WebAssembly 2.0 that means the same signature.
    pub fn matches(&self, other: &FuncType) -> bool {
        if Engine::same(&self.engine, &other.engine) {
            self.index == other.index
        } else {
            self.sig == other.sig
        }
    }

    /// Whether `a` and `b` are the same signature.
    // wasmtime's name for this associated function; it is not `PartialEq::eq`.
    #[allow(clippy::should_implement_trait)]
    pub fn eq(a: &FuncType, b: &FuncType) -> bool {
        a.matches(b)
    }

    /// The engine-wide index of this signature.
    pub(crate) fn type_index(&self) -> VMSharedTypeIndex {
        self.index
    }

    /// The signature itself.
    pub(crate) fn sig(&self) -> &FuncSig {
        &self.sig
    }

    /// This type as registered in `engine` (itself if it already is).
    pub(crate) fn in_engine(&self, engine: &Engine) -> FuncType {
        if Engine::same(&self.engine, engine) {
            return self.clone();
        }
        FuncType::from_sig(
            engine,
            FuncSig {
                params: self.sig.params.clone(),
                results: self.sig.results.clone(),
            },
        )
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        if !self.sig.params.is_empty() {
            f.write_str(" (param")?;
            for p in self.params() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if !self.sig.results.is_empty() {
            f.write_str(" (result")?;
            for r in self.results() {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

impl fmt::Debug for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FuncType")
            .field("params", &self.sig.params)
            .field("results", &self.sig.results)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_interned_per_engine() {
        let engine = Engine::default();
        let a = FuncType::new(&engine, [ValType::I32, ValType::I32], [ValType::I32]);
        let b = FuncType::new(&engine, [ValType::I32, ValType::I32], [ValType::I32]);
        let c = FuncType::new(&engine, [], [ValType::I32]);
        assert_eq!(a.type_index(), b.type_index());
        assert!(a.matches(&b));
        assert!(!a.matches(&c));
        assert_eq!(a.params().len(), 2);
        assert_eq!(a.to_string(), "(func (param i32 i32) (result i32))");
        assert_eq!(FuncType::new(&engine, [], []).to_string(), "(func)");

        let other = Engine::default();
        let moved = a.in_engine(&other);
        assert!(Engine::same(moved.engine(), &other));
        assert!(moved.matches(&a));
    }
}
