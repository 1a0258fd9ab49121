//! # `ovsp-derive`: derive macros for the compact OVSP wire codec
//!
//! `#[derive(Wire)]` implements `ovsp::json::FromWire` and `ovsp::json::ToWire` for a struct
//! or enum; `#[derive(FromWire)]` and `#[derive(ToWire)]` implement one direction only. The
//! macros read the same `#[serde(...)]` attributes serde's derives read, so one set of
//! attributes describes the wire shape for both codecs. For a struct with named fields the
//! macro emits no decoding or encoding code of its own: it builds a static table of the
//! fields (key, byte offset, the field type's decoder or encoder, default, skip condition)
//! that two shared routines of `ovsp::json::wire` read. Enums get a short match that calls
//! small helpers of that module.
//!
//! Supported serde attributes:
//! - container: `transparent`, `rename_all = "..."`, `tag = "..."` (enums);
//! - field: `default`, `default = "path"`, `rename = "..."`, `skip_serializing_if = "path"`,
//!   `flatten`, `skip`;
//! - variant: `rename = "..."`, `other`.
//!
//! Any other serde attribute is a compile error, so the two codecs cannot silently disagree.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, ToTokens};
use syn::{
    parse_macro_input, Attribute, Data, DeriveInput, Error, Fields, Ident, LitStr, Path, Result,
};

/// Implements `ovsp::json::FromWire` and `ovsp::json::ToWire` from the type's fields and its
/// `#[serde(...)]` attributes.
#[proc_macro_derive(Wire, attributes(serde))]
pub fn derive_wire(input: TokenStream) -> TokenStream {
    expand(parse_macro_input!(input as DeriveInput), true, true)
}

/// Implements `ovsp::json::FromWire` only.
#[proc_macro_derive(FromWire, attributes(serde))]
pub fn derive_from_wire(input: TokenStream) -> TokenStream {
    expand(parse_macro_input!(input as DeriveInput), true, false)
}

/// Implements `ovsp::json::ToWire` only.
#[proc_macro_derive(ToWire, attributes(serde))]
pub fn derive_to_wire(input: TokenStream) -> TokenStream {
    expand(parse_macro_input!(input as DeriveInput), false, true)
}

fn expand(input: DeriveInput, from: bool, to: bool) -> TokenStream {
    match generate(&input, from, to) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

// ------------------------------------------------------------------ attributes

/// How a JSON name is derived from a Rust identifier (`rename_all`).
#[derive(Clone, Copy)]
enum Case {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl Case {
    fn parse(s: &LitStr) -> Result<Case> {
        Ok(match s.value().as_str() {
            "lowercase" => Case::Lower,
            "UPPERCASE" => Case::Upper,
            "PascalCase" => Case::Pascal,
            "camelCase" => Case::Camel,
            "snake_case" => Case::Snake,
            "SCREAMING_SNAKE_CASE" => Case::ScreamingSnake,
            "kebab-case" => Case::Kebab,
            "SCREAMING-KEBAB-CASE" => Case::ScreamingKebab,
            _ => return Err(Error::new(s.span(), "unknown rename_all rule")),
        })
    }

    /// Rename a variant name (written in PascalCase), as serde does.
    fn variant(self, name: &str) -> String {
        let snake = || {
            let mut out = String::new();
            for (i, c) in name.char_indices() {
                if c.is_uppercase() && i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            }
            out
        };
        match self {
            Case::Pascal => name.to_owned(),
            Case::Lower => name.to_ascii_lowercase(),
            Case::Upper => name.to_ascii_uppercase(),
            Case::Camel => {
                let mut c = name.chars();
                match c.next() {
                    Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            }
            Case::Snake => snake(),
            Case::ScreamingSnake => snake().to_ascii_uppercase(),
            Case::Kebab => snake().replace('_', "-"),
            Case::ScreamingKebab => snake().replace('_', "-").to_ascii_uppercase(),
        }
    }

    /// Rename a field name (written in snake_case), as serde does.
    fn field(self, name: &str) -> String {
        let pascal = || {
            let mut out = String::new();
            let mut up = true;
            for c in name.chars() {
                if c == '_' {
                    up = true;
                } else if up {
                    out.push(c.to_ascii_uppercase());
                    up = false;
                } else {
                    out.push(c);
                }
            }
            out
        };
        match self {
            Case::Lower | Case::Snake => name.to_owned(),
            Case::Upper | Case::ScreamingSnake => name.to_ascii_uppercase(),
            Case::Pascal => pascal(),
            Case::Camel => {
                let p = pascal();
                let mut c = p.chars();
                match c.next() {
                    Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            }
            Case::Kebab => name.replace('_', "-"),
            Case::ScreamingKebab => name.replace('_', "-").to_ascii_uppercase(),
        }
    }
}

#[derive(Default)]
struct ContainerAttrs {
    transparent: bool,
    tag: Option<String>,
    rename_all: Option<Case>,
}

enum DefaultKind {
    None,
    Std,
    Path(Path),
}

struct FieldAttrs {
    rename: Option<String>,
    default: DefaultKind,
    skip_if: Option<Path>,
    flatten: bool,
    skip: bool,
}

#[derive(Default)]
struct VariantAttrs {
    rename: Option<String>,
    other: bool,
}

fn serde_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("serde"))
}

fn unsupported(meta: &syn::meta::ParseNestedMeta<'_>) -> Error {
    let name = meta
        .path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_default();
    meta.error(format!(
        "serde attribute `{name}` is not supported by the wire codec derive"
    ))
}

fn container_attrs(attrs: &[Attribute]) -> Result<ContainerAttrs> {
    let mut out = ContainerAttrs::default();
    for attr in serde_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("transparent") {
                out.transparent = true;
            } else if meta.path.is_ident("tag") {
                out.tag = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("rename_all") {
                out.rename_all = Some(Case::parse(&meta.value()?.parse::<LitStr>()?)?);
            } else {
                return Err(unsupported(&meta));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn field_attrs(attrs: &[Attribute]) -> Result<FieldAttrs> {
    let mut out = FieldAttrs {
        rename: None,
        default: DefaultKind::None,
        skip_if: None,
        flatten: false,
        skip: false,
    };
    for attr in serde_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("default") {
                out.default = if meta.input.peek(syn::Token![=]) {
                    DefaultKind::Path(meta.value()?.parse::<LitStr>()?.parse::<Path>()?)
                } else {
                    DefaultKind::Std
                };
            } else if meta.path.is_ident("skip_serializing_if") {
                out.skip_if = Some(meta.value()?.parse::<LitStr>()?.parse::<Path>()?);
            } else if meta.path.is_ident("flatten") {
                out.flatten = true;
            } else if meta.path.is_ident("skip") {
                out.skip = true;
            } else {
                return Err(unsupported(&meta));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn variant_attrs(attrs: &[Attribute]) -> Result<VariantAttrs> {
    let mut out = VariantAttrs::default();
    for attr in serde_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("other") {
                out.other = true;
            } else {
                return Err(unsupported(&meta));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

// ------------------------------------------------------------------ fields

/// One named field with its wire name and attributes.
struct WireField {
    ident: Ident,
    ty: syn::Type,
    name: String,
    attrs: FieldAttrs,
}

fn named_fields(fields: &syn::FieldsNamed, case: Option<Case>) -> Result<Vec<WireField>> {
    fields
        .named
        .iter()
        .map(|f| {
            let ident = f
                .ident
                .clone()
                .ok_or_else(|| Error::new(Span::call_site(), "expected a named field"))?;
            let attrs = field_attrs(&f.attrs)?;
            let raw = ident.to_string();
            let raw = raw.strip_prefix("r#").unwrap_or(&raw).to_owned();
            let name = match (&attrs.rename, case) {
                (Some(r), _) => r.clone(),
                (None, Some(c)) => c.field(&raw),
                (None, None) => raw,
            };
            Ok(WireField {
                ident,
                ty: f.ty.clone(),
                name,
                attrs,
            })
        })
        .collect()
}

fn wire() -> TokenStream2 {
    quote!(::ovsp::json::wire)
}

/// `field: <decode expression>` for each field, reading through the field reader `d`.
fn decode_fields(fields: &[WireField]) -> Vec<TokenStream2> {
    fields
        .iter()
        .map(|f| {
            let ident = &f.ident;
            let name = &f.name;
            let expr = if f.attrs.skip {
                skipped_value(f)
            } else if f.attrs.flatten {
                quote!(d.flatten())
            } else {
                match &f.attrs.default {
                    DefaultKind::None => quote!(d.req(#name)),
                    DefaultKind::Std => quote!(d.dflt(#name)),
                    DefaultKind::Path(p) => quote!(d.or_else(#name, #p)),
                }
            };
            quote!(#ident: #expr)
        })
        .collect()
}

/// The value of a `#[serde(skip)]` field.
fn skipped_value(f: &WireField) -> TokenStream2 {
    match &f.attrs.default {
        DefaultKind::Path(p) => quote!(#p()),
        _ => quote!(::core::default::Default::default()),
    }
}

/// `field: <placeholder>` for each field (the stand-in value of a field that did not decode).
fn placeholder_fields(fields: &[WireField]) -> Vec<TokenStream2> {
    fields
        .iter()
        .map(|f| {
            let ident = &f.ident;
            let expr = if f.attrs.skip {
                skipped_value(f)
            } else {
                quote!(::ovsp::json::FromWire::placeholder())
            };
            quote!(#ident: #expr)
        })
        .collect()
}

/// Statements writing each field into the map `m`; `access` gives a `&T` expression.
fn encode_fields(
    fields: &[WireField],
    access: impl Fn(&Ident) -> TokenStream2,
) -> Vec<TokenStream2> {
    let w = wire();
    fields
        .iter()
        .filter(|f| !f.attrs.skip)
        .map(|f| {
            let acc = access(&f.ident);
            let name = &f.name;
            let put = if f.attrs.flatten {
                quote!(#w::merge(&mut m, ::ovsp::json::ToWire::to_wire(#acc));)
            } else {
                quote!(#w::put(&mut m, #name, #acc);)
            };
            match &f.attrs.skip_if {
                Some(p) => quote!(if !#p(#acc) { #put }),
                None => put,
            }
        })
        .collect()
}

// ------------------------------------------------------------------ generation

fn generate(input: &DeriveInput, from: bool, to: bool) -> Result<TokenStream2> {
    let cattrs = container_attrs(&input.attrs)?;
    let mut table = TokenStream2::new();
    let mut de_const = TokenStream2::new();
    let (from_body, placeholder_body, to_body) = match &input.data {
        Data::Struct(s) => struct_bodies(
            input,
            &cattrs,
            &s.fields,
            (from, to),
            &mut table,
            &mut de_const,
        )?,
        Data::Enum(e) => enum_bodies(input, &cattrs, e)?,
        Data::Union(_) => {
            return Err(Error::new_spanned(
                &input.ident,
                "unions cannot derive the wire codec",
            ))
        }
    };
    let name = &input.ident;
    let mut out = table;
    if from {
        let generics = bounded(&input.generics, quote!(::ovsp::json::FromWire));
        let (ig, tg, wc) = generics.split_for_impl();
        out.extend(quote! {
            impl #ig ::ovsp::json::FromWire for #name #tg #wc {
                #[allow(unused_variables)]
                fn from_wire(v: &::ovsp::json::Value) -> ::core::result::Result<Self, ::ovsp::json::WireError> {
                    #from_body
                }

                fn placeholder() -> Self {
                    #placeholder_body
                }

                #de_const
            }
        });
    }
    if to {
        let generics = bounded(&input.generics, quote!(::ovsp::json::ToWire));
        let (ig, tg, wc) = generics.split_for_impl();
        out.extend(quote! {
            impl #ig ::ovsp::json::ToWire for #name #tg #wc {
                fn to_wire(&self) -> ::ovsp::json::Value {
                    #to_body
                }
            }
        });
    }
    Ok(out)
}

/// The generics with `bound` added to every type parameter.
fn bounded(generics: &syn::Generics, bound: TokenStream2) -> syn::Generics {
    let mut g = generics.clone();
    for p in g.type_params_mut() {
        p.bounds.push(syn::parse_quote!(#bound));
    }
    g
}

type Bodies = (TokenStream2, TokenStream2, TokenStream2);

/// The bodies of a struct's impls; for a struct with named fields, also its field table
/// (into `table`), which the bodies hand to the shared routines.
fn struct_bodies(
    input: &DeriveInput,
    cattrs: &ContainerAttrs,
    fields: &Fields,
    (from, to): (bool, bool),
    table: &mut TokenStream2,
    de_const: &mut TokenStream2,
) -> Result<Bodies> {
    let w = wire();
    let name = &input.ident;
    if cattrs.tag.is_some() {
        return Err(Error::new_spanned(name, "`tag` applies to enums only"));
    }
    match fields {
        Fields::Named(named) => {
            let fields = named_fields(named, cattrs.rename_all)?;
            if cattrs.transparent {
                let [f] = fields.as_slice() else {
                    return Err(Error::new_spanned(
                        name,
                        "transparent needs exactly one field",
                    ));
                };
                let ident = &f.ident;
                return Ok((
                    quote!(::core::result::Result::Ok(#name { #ident: ::ovsp::json::FromWire::from_wire(v)? })),
                    quote!(#name { #ident: ::ovsp::json::FromWire::placeholder() }),
                    quote!(::ovsp::json::ToWire::to_wire(&self.#ident)),
                ));
            }
            if input.attrs.iter().any(|a| {
                a.path().is_ident("repr") && a.to_token_stream().to_string().contains("packed")
            }) {
                return Err(Error::new_spanned(
                    name,
                    "packed structs cannot derive the wire codec",
                ));
            }
            if !input.generics.params.is_empty() {
                return Err(Error::new_spanned(
                    &input.generics,
                    "generic structs cannot derive the wire codec",
                ));
            }
            if fields.len() > 64 {
                return Err(Error::new_spanned(
                    name,
                    "structs with more than 64 fields cannot derive the wire codec",
                ));
            }
            if let Some(f) = fields.iter().find(|f| f.name.len() > 255) {
                return Err(Error::new_spanned(
                    &f.ident,
                    "wire keys longer than 255 bytes are not supported",
                ));
            }
            let expecting = format!("struct {name}");
            let de_names: String = fields
                .iter()
                .filter(|f| !f.attrs.skip)
                .map(|f| f.name.as_str())
                .collect();
            let en_names = de_names.clone();
            let de = fields.iter().map(|f| de_entry(name, f));
            let en = fields.iter().filter_map(|f| en_entry(name, f));
            if from {
                // SAFETY: the table describes every field of this struct (offsets and types
                // from its definition).
                de_const.extend(quote! {
                    const DE: #w::OpsOf<Self> = unsafe { #w::OpsOf::new(&#name::__OVSP_WIRE_OPS) };
                });
                table.extend(quote! {
                    impl #name {
                        #[doc(hidden)]
                        const __OVSP_WIRE_DE: #w::DeTable = #w::DeTable {
                            expecting: #expecting,
                            names: #de_names,
                            fields: &[#(#de,)*],
                        };

                        #[doc(hidden)]
                        const __OVSP_WIRE_OPS: #w::DeOps =
                            unsafe { #w::DeOps::table::<#name>(&#name::__OVSP_WIRE_DE) };
                    }
                });
            }
            if to {
                table.extend(quote! {
                    impl #name {
                        #[doc(hidden)]
                        const __OVSP_WIRE_EN: #w::EnTable = #w::EnTable {
                            names: #en_names,
                            fields: &[#(#en,)*],
                        };
                    }
                });
            }
            let ph = placeholder_fields(&fields);
            Ok((
                quote!(#w::decode_by_ops::<#name>(v)),
                quote!(#name { #(#ph,)* }),
                quote! {
                    // SAFETY: `self` is a valid value of the struct the table describes.
                    #[allow(unsafe_code)]
                    unsafe {
                        #w::encode_fields((self as *const #name).cast(), &#name::__OVSP_WIRE_EN)
                    }
                },
            ))
        }
        Fields::Unnamed(un) if un.unnamed.len() == 1 => Ok((
            quote!(::core::result::Result::Ok(#name(::ovsp::json::FromWire::from_wire(v)?))),
            quote!(#name(::ovsp::json::FromWire::placeholder())),
            quote!(::ovsp::json::ToWire::to_wire(&self.0)),
        )),
        Fields::Unnamed(_) => Err(Error::new_spanned(
            name,
            "tuple structs with several fields cannot derive the wire codec",
        )),
        Fields::Unit => {
            let expecting = format!("unit struct {name}");
            Ok((
                quote! {
                    #w::unit(v, #expecting)?;
                    ::core::result::Result::Ok(#name)
                },
                quote!(#name),
                quote!(::ovsp::json::Value::Null),
            ))
        }
    }
}

/// A struct's entry in its decoding table (see `ovsp::json::wire::DeField`).
fn de_entry(name: &Ident, f: &WireField) -> TokenStream2 {
    let w = wire();
    let ident = &f.ident;
    let ty = &f.ty;
    let kind = if f.attrs.skip {
        quote!(#w::SKIP)
    } else if f.attrs.flatten {
        quote!(#w::FLATTEN)
    } else {
        quote!(#w::FIELD)
    };
    let fill = match (&f.attrs.default, f.attrs.skip) {
        (DefaultKind::Path(p), _) => quote!(::core::option::Option::Some({
            #[allow(unsafe_code)]
            unsafe fn fill(p: *mut u8) {
                // SAFETY: called with the place of this field.
                #[allow(unused_unsafe)]
                unsafe { p.cast::<#ty>().write(#p()) }
            }
            fill as unsafe fn(*mut u8)
        })),
        (DefaultKind::Std, _) | (DefaultKind::None, true) => {
            quote!(::core::option::Option::Some(#w::fill_default::<#ty> as unsafe fn(*mut u8)))
        }
        (DefaultKind::None, false) => quote!(::core::option::Option::None),
    };
    let len = if f.attrs.skip { 0 } else { f.name.len() as u8 };
    quote!(#w::DeField {
        de: <#ty as ::ovsp::json::FromWire>::DE.ops(),
        fill: #fill,
        off: #w::offset(::core::mem::offset_of!(#name, #ident)),
        len: #len,
        kind: #kind,
    })
}

/// A struct's entry in its encoding table (see `ovsp::json::wire::EnField`); none for a
/// skipped field.
fn en_entry(name: &Ident, f: &WireField) -> Option<TokenStream2> {
    if f.attrs.skip {
        return None;
    }
    let w = wire();
    let ident = &f.ident;
    let ty = &f.ty;
    let kind = if f.attrs.flatten {
        quote!(#w::FLATTEN)
    } else {
        quote!(#w::FIELD)
    };
    let skip_if = match &f.attrs.skip_if {
        Some(p) => quote!(::core::option::Option::Some({
            #[allow(unsafe_code)]
            unsafe fn skip(p: *const u8) -> bool {
                // SAFETY: called with the place of this field.
                #[allow(unused_unsafe)]
                unsafe { #p(&*p.cast::<#ty>()) }
            }
            skip as unsafe fn(*const u8) -> bool
        })),
        None => quote!(::core::option::Option::None),
    };
    let len = f.name.len() as u8;
    Some(quote!(#w::EnField {
        en: <#ty as #w::EncodeFn>::EN,
        skip_if: #skip_if,
        off: #w::offset(::core::mem::offset_of!(#name, #ident)),
        len: #len,
        kind: #kind,
    }))
}

/// One enum variant, classified.
struct WireVariant {
    ident: Ident,
    name: String,
    other: bool,
    shape: Shape,
}

enum Shape {
    Unit,
    Newtype,
    Struct(Vec<WireField>),
}

fn enum_bodies(
    input: &DeriveInput,
    cattrs: &ContainerAttrs,
    data: &syn::DataEnum,
) -> Result<Bodies> {
    let w = wire();
    let name = &input.ident;
    if cattrs.transparent {
        return Err(Error::new_spanned(
            name,
            "`transparent` applies to structs only",
        ));
    }
    let mut variants = Vec::new();
    for v in &data.variants {
        let attrs = variant_attrs(&v.attrs)?;
        let raw = v.ident.to_string();
        let vname = match (&attrs.rename, cattrs.rename_all) {
            (Some(r), _) => r.clone(),
            (None, Some(c)) => c.variant(&raw),
            (None, None) => raw,
        };
        let shape = match &v.fields {
            Fields::Unit => Shape::Unit,
            Fields::Unnamed(u) if u.unnamed.len() == 1 => Shape::Newtype,
            Fields::Named(n) => Shape::Struct(named_fields(n, None)?),
            Fields::Unnamed(_) => {
                return Err(Error::new_spanned(
                    &v.ident,
                    "tuple variants with several fields cannot derive the wire codec",
                ))
            }
        };
        if attrs.other && !matches!(shape, Shape::Unit) {
            return Err(Error::new_spanned(&v.ident, "`other` needs a unit variant"));
        }
        variants.push(WireVariant {
            ident: v.ident.clone(),
            name: vname,
            other: attrs.other,
            shape,
        });
    }
    if variants.is_empty() {
        return Err(Error::new_spanned(
            name,
            "enums without variants cannot derive the wire codec",
        ));
    }
    let names: Vec<&String> = variants.iter().map(|v| &v.name).collect();
    let fallback = match variants.iter().find(|v| v.other) {
        Some(v) => {
            let ident = &v.ident;
            quote!(::core::result::Result::Ok(#name::#ident))
        }
        None => quote!(::core::result::Result::Err(#w::unknown_variant(tag, &[#(#names),*]))),
    };

    // Encoding.
    let enc_arms: Vec<TokenStream2> = variants
        .iter()
        .map(|v| {
            let ident = &v.ident;
            let vname = &v.name;
            match (&cattrs.tag, &v.shape) {
                (None, Shape::Unit) => quote!(#name::#ident => #w::string(#vname)),
                (None, Shape::Newtype) => {
                    quote!(#name::#ident(x) => #w::single(#vname, ::ovsp::json::ToWire::to_wire(x)))
                }
                (None, Shape::Struct(fields)) => {
                    let idents = fields.iter().map(|f| &f.ident);
                    let enc = encode_fields(fields, |i| quote!(#i));
                    quote!(#name::#ident { #(#idents,)* } => {
                        let mut m = ::ovsp::json::Map::new();
                        #(#enc)*
                        #w::single(#vname, ::ovsp::json::Value::Object(m))
                    })
                }
                (Some(tag), Shape::Unit) => {
                    quote!(#name::#ident => ::ovsp::json::Value::Object(#w::tag_map(#tag, #vname)))
                }
                (Some(tag), Shape::Newtype) => quote!(#name::#ident(x) => {
                    let mut m = #w::tag_map(#tag, #vname);
                    #w::merge(&mut m, ::ovsp::json::ToWire::to_wire(x));
                    ::ovsp::json::Value::Object(m)
                }),
                (Some(tag), Shape::Struct(fields)) => {
                    let idents = fields.iter().map(|f| &f.ident);
                    let enc = encode_fields(fields, |i| quote!(#i));
                    quote!(#name::#ident { #(#idents,)* } => {
                        let mut m = #w::tag_map(#tag, #vname);
                        #(#enc)*
                        ::ovsp::json::Value::Object(m)
                    })
                }
            }
        })
        .collect();
    let to_body = quote!(match self { #(#enc_arms,)* });

    // Decoding.
    let dec_arms: Vec<TokenStream2> = variants
        .iter()
        .filter(|v| !v.other)
        .map(|v| {
            let ident = &v.ident;
            let vname = &v.name;
            let expecting = format!("struct variant {name}::{ident}");
            match (&cattrs.tag, &v.shape) {
                (None, Shape::Unit) => quote!(#vname => {
                    #w::no_content(inner)?;
                    ::core::result::Result::Ok(#name::#ident)
                }),
                (Some(_), Shape::Unit) => quote!(#vname => ::core::result::Result::Ok(#name::#ident)),
                (None, Shape::Newtype) => quote!(#vname => ::core::result::Result::Ok(
                    #name::#ident(::ovsp::json::FromWire::from_wire(#w::content(inner, #vname)?)?))),
                (None, Shape::Struct(fields)) => {
                    let dec = decode_fields(fields);
                    quote!(#vname => {
                        let v = #w::content(inner, #vname)?;
                        let mut d = #w::Fields::new(v, #expecting);
                        let value = #name::#ident { #(#dec,)* };
                        d.finish(value)
                    })
                }
                (Some(_), Shape::Newtype) => quote!(#vname => ::core::result::Result::Ok(
                    #name::#ident(::ovsp::json::FromWire::from_wire(v)?))),
                (Some(_), Shape::Struct(fields)) => {
                    let dec = decode_fields(fields);
                    quote!(#vname => {
                        let mut d = #w::Fields::new(v, #expecting);
                        let value = #name::#ident { #(#dec,)* };
                        d.finish(value)
                    })
                }
            }
        })
        .collect();
    let from_body = match &cattrs.tag {
        None => quote! {
            let (tag, inner) = #w::variant(v)?;
            match tag {
                #(#dec_arms,)*
                _ => #fallback,
            }
        },
        Some(tag_field) => {
            let expecting = format!("internally tagged enum {name}");
            quote! {
                let o = #w::obj(v, #expecting)?;
                let tag = #w::tag(o, #tag_field)?;
                match tag {
                    #(#dec_arms,)*
                    _ => #fallback,
                }
            }
        }
    };
    // The stand-in value of a field that did not decode: the first variant.
    let first = &variants[0];
    let ident = &first.ident;
    let placeholder_body = match &first.shape {
        Shape::Unit => quote!(#name::#ident),
        Shape::Newtype => quote!(#name::#ident(::ovsp::json::FromWire::placeholder())),
        Shape::Struct(fields) => {
            let ph = placeholder_fields(fields);
            quote!(#name::#ident { #(#ph,)* })
        }
    };
    Ok((from_body, placeholder_body, to_body))
}
