//! A dependency of `generic-impls` whose impls name no type of its own: a blanket impl, impls for a
//! tuple, an array and a function pointer, and its trait for a foreign type. Their symbols read
//! `<T as gdep::Describe>::describe`, `<(A,B) as gdep::Pairwise>::pair`,
//! `<[u8; 4] as gdep::Pairwise>::pair`, `<fn(u8) .> u8 as gdep::Pairwise>::pair`,
//! `<alloc::string::String as gdep::Shout>::shout`; what they allocate belongs to module `gdep`.

use std::fmt::{Debug, Display};

pub trait Describe {
    fn describe(&self) -> String;
}

impl<T: Debug> Describe for T {
    #[inline(never)]
    fn describe(&self) -> String {
        format!("<{self:?}>")
    }
}

pub trait Pairwise {
    fn pair(&self) -> String;
}

impl<A: Display, B: Display> Pairwise for (A, B) {
    #[inline(never)]
    fn pair(&self) -> String {
        format!("{}+{}", self.0, self.1)
    }
}

impl Pairwise for [u8; 4] {
    #[inline(never)]
    fn pair(&self) -> String {
        format!("{}..{}", self[0], self[3])
    }
}

impl Pairwise for fn(u8) -> u8 {
    #[inline(never)]
    fn pair(&self) -> String {
        format!("f(1)={}", self(1))
    }
}

pub trait Shout {
    fn shout(&self) -> String;
}

impl Shout for String {
    #[inline(never)]
    fn shout(&self) -> String {
        self.to_uppercase()
    }
}
