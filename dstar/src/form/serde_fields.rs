//! The field names serde's derive declares for a struct, read by a deserializer that records
//! them and stops: how a [`Form`](super::Form) knows every field, with or without a message.

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

/// The field names serde's derive declares for `T` (renames applied, skipped fields left out):
/// `None` when `T` is not a plain struct (a map, or a struct with `#[serde(flatten)]`).
pub(crate) fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut fields = None;
    let _ = T::deserialize(FieldsProbe(&mut fields));
    fields
}

/// A deserializer that only records the fields a struct asks for, then stops.
struct FieldsProbe<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldsProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("fields recorded"))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::struct_fields;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Plain {
        email: String,
        #[serde(rename = "pass")]
        password: String,
        #[serde(skip)]
        hidden: String,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Wrapper(Plain);

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Flat {
        #[serde(flatten)]
        rest: serde_json::Map<String, serde_json::Value>,
    }

    #[test]
    fn form_fields_come_from_serde() {
        assert_eq!(struct_fields::<Plain>(), Some(&["email", "pass"][..]));
        assert_eq!(struct_fields::<Wrapper>(), Some(&["email", "pass"][..]));
        assert_eq!(struct_fields::<Flat>(), None);
        assert_eq!(struct_fields::<serde_json::Value>(), None);
    }
}
