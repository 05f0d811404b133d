//! Turns the template into statements that append to one `String`; static text is escaped at
//! expansion time and merged into as few `push_str` calls as possible.

use super::ast::{Attr, AttrValue, ClassName, Element, Markup};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

struct Builder {
    out: Ident,
    stmts: TokenStream,
    pending: String,
}

impl Builder {
    fn new(out: Ident) -> Self {
        Builder {
            out,
            stmts: TokenStream::new(),
            pending: String::new(),
        }
    }

    fn text(&mut self, s: &str) {
        self.pending.push_str(s);
    }

    fn escaped(&mut self, s: &str) {
        escape(s, &mut self.pending);
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let text = std::mem::take(&mut self.pending);
            let out = &self.out;
            self.stmts.extend(quote!(#out.push_str(#text);));
        }
    }

    fn stmt(&mut self, stmt: TokenStream) {
        self.flush();
        self.stmts.extend(stmt);
    }

    fn splice(&mut self, expr: &TokenStream) {
        let out = &self.out;
        self.stmt(
            quote!(::dstar::__private::maud::macro_private::render_to!(&(#expr), &mut #out);),
        );
    }

    /// Builds nested markup into a block of statements sharing the same buffer.
    fn nested(&mut self, markups: &[Markup]) -> TokenStream {
        let mut inner = Builder::new(self.out.clone());
        for m in markups {
            inner.markup(m);
        }
        inner.flush();
        let stmts = inner.stmts;
        quote!({ #stmts })
    }

    fn markup(&mut self, markup: &Markup) {
        match markup {
            Markup::Text(text) => self.escaped(text),
            Markup::Splice(expr) => self.splice(expr),
            Markup::Block(items) => {
                for m in items {
                    self.markup(m);
                }
            }
            Markup::Element(el) => self.element(el),
            Markup::If { .. } => {
                let stmt = self.if_chain(markup);
                self.stmt(stmt);
            }
            Markup::For { head, body } => {
                let body = self.nested(body);
                self.stmt(quote!(for #head #body));
            }
            Markup::While { cond, body } => {
                let body = self.nested(body);
                self.stmt(quote!(while #cond #body));
            }
            Markup::Match { expr, arms } => {
                let arms: Vec<TokenStream> = arms
                    .iter()
                    .map(|(pat, body)| {
                        let body = self.nested(body);
                        quote!(#pat => #body,)
                    })
                    .collect();
                self.stmt(quote!(match #expr { #(#arms)* }));
            }
            Markup::Let(stmt) => self.stmt(quote!(let #stmt;)),
        }
    }

    fn if_chain(&mut self, markup: &Markup) -> TokenStream {
        match markup {
            Markup::If {
                cond,
                then,
                otherwise,
            } => {
                let then = self.nested(then);
                let rest = otherwise.as_ref().map(|o| match &**o {
                    Markup::If { .. } => {
                        let chain = self.if_chain(o);
                        quote!(else #chain)
                    }
                    other => {
                        let block = self.nested(std::slice::from_ref(other));
                        quote!(else #block)
                    }
                });
                quote!(if #cond #then #rest)
            }
            other => self.nested(std::slice::from_ref(other)),
        }
    }

    fn attr_value(&mut self, value: &AttrValue) {
        match value {
            AttrValue::Static(s) => self.escaped(s),
            AttrValue::Splice(expr) => self.splice(expr),
        }
    }

    fn element(&mut self, el: &Element) {
        self.text("<");
        self.text(&el.name);
        self.classes(el);
        if let Some(id) = &el.id {
            self.text(" id=\"");
            self.attr_value(id);
            self.text("\"");
        }
        for attr in &el.attrs {
            match attr {
                Attr::Value(name, value) => {
                    self.text(&format!(" {name}=\""));
                    self.attr_value(value);
                    self.text("\"");
                }
                Attr::Empty(name, None) => self.text(&format!(" {name}")),
                Attr::Empty(name, Some(cond)) => {
                    let out = &self.out;
                    let text = format!(" {name}");
                    self.stmt(quote!(if #cond { #out.push_str(#text); }));
                }
                Attr::Optional(name, expr) => {
                    let out = self.out.clone();
                    let open = format!(" {name}=\"");
                    self.stmt(quote! {
                        if let ::std::option::Option::Some(__dstar_value) = (#expr) {
                            #out.push_str(#open);
                            ::dstar::__private::maud::macro_private::render_to!(&__dstar_value, &mut #out);
                            #out.push_str("\"");
                        }
                    });
                }
            }
        }
        self.text(">");
        if let Some(body) = &el.body {
            for m in body {
                self.markup(m);
            }
            self.text(&format!("</{}>", el.name));
        }
    }

    fn classes(&mut self, el: &Element) {
        if el.classes.is_empty() {
            return;
        }
        let all_static = el
            .classes
            .iter()
            .all(|(c, t)| t.is_none() && matches!(c, ClassName::Static(_)));
        if all_static {
            let names: Vec<&str> = el
                .classes
                .iter()
                .filter_map(|(c, _)| match c {
                    ClassName::Static(s) => Some(s.as_str()),
                    ClassName::Splice(_) => None,
                })
                .collect();
            self.text(" class=\"");
            self.escaped(&names.join(" "));
            self.text("\"");
            return;
        }
        // Toggles or splices: build the list at run time, write the attribute only if non-empty.
        let list = Ident::new("__dstar_classes", Span::mixed_site());
        let pushes: Vec<TokenStream> = el
            .classes
            .iter()
            .map(|(class, toggle)| {
                let push = match class {
                    ClassName::Static(s) => {
                        let mut escaped = String::new();
                        escape(s, &mut escaped);
                        quote! {
                            if !#list.is_empty() { #list.push(' '); }
                            #list.push_str(#escaped);
                        }
                    }
                    ClassName::Splice(expr) => quote! {
                        if !#list.is_empty() { #list.push(' '); }
                        ::dstar::__private::maud::macro_private::render_to!(&(#expr), &mut #list);
                    },
                };
                match toggle {
                    Some(cond) => quote!(if #cond { #push }),
                    None => push,
                }
            })
            .collect();
        let out = self.out.clone();
        self.stmt(quote! {
            let mut #list = ::std::string::String::new();
            #(#pushes)*
            if !#list.is_empty() {
                #out.push_str(" class=\"");
                #out.push_str(&#list);
                #out.push_str("\"");
            }
        });
    }
}

/// maud's escaping: `&`, `<`, `>` and `"`.
fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

pub(crate) fn generate(markups: &[Markup], size_hint: usize) -> TokenStream {
    let out = Ident::new("__dstar_html", Span::mixed_site());
    let mut b = Builder::new(out.clone());
    for m in markups {
        b.markup(m);
    }
    b.flush();
    let stmts = b.stmts;
    quote! {{
        let mut #out = ::std::string::String::with_capacity(#size_hint);
        #stmts
        ::dstar::__private::maud::PreEscaped(#out)
    }}
}
