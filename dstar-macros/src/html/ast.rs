//! The template's syntax tree.

use proc_macro2::{Span, TokenStream};

pub(crate) enum Markup {
    /// Escaped at expansion time.
    Text(String),
    /// `(expr)`
    Splice(TokenStream),
    Element(Element),
    Block(Vec<Markup>),
    If {
        /// tokens after `@if` up to the block (may be `let pat = expr`)
        cond: TokenStream,
        then: Vec<Markup>,
        otherwise: Option<Box<Markup>>,
    },
    For {
        head: TokenStream,
        body: Vec<Markup>,
    },
    While {
        cond: TokenStream,
        body: Vec<Markup>,
    },
    Match {
        expr: TokenStream,
        arms: Vec<(TokenStream, Vec<Markup>)>,
    },
    Let(TokenStream),
}

pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) classes: Vec<(ClassName, Option<TokenStream>)>,
    pub(crate) id: Option<AttrValue>,
    pub(crate) attrs: Vec<Attr>,
    /// `None` for a void element (`br;`).
    pub(crate) body: Option<Vec<Markup>>,
    #[allow(dead_code)]
    pub(crate) span: Span,
}

pub(crate) enum ClassName {
    Static(String),
    Splice(TokenStream),
}

pub(crate) enum AttrValue {
    Static(String),
    Splice(TokenStream),
}

pub(crate) enum Attr {
    /// `name="…"` or `name=(expr)`
    Value(String, AttrValue),
    /// `name=[option]`
    Optional(String, TokenStream),
    /// `name` or `name[toggle]`
    Empty(String, Option<TokenStream>),
}
