//! Wire types of the DynamoDB JSON 1.0 protocol, named and shaped as in the service model
//! (`dynamodb/2012-08-10/service-2.json`). Server, CLI and tests share them.
//!
//! Every member is optional on the wire: inputs keep required members as `Option` so that a
//! missing one becomes DynamoDB's `ValidationException` rather than a parse error, and outputs
//! skip members that are `None`. Enumerations stay strings so that an unknown value is reported
//! as DynamoDB does ("Member must satisfy enum value set").

mod items;
mod partiql;
mod streams;
mod tables;
mod transact;

pub use items::*;
pub use partiql::*;
pub use streams::*;
pub use tables::*;
pub use transact::*;

/// Declares wire structs whose members are all `Option`, PascalCase on the wire, omitted
/// when `None`.
///
/// Deserializing goes through a private copy of the struct with one more member, which no
/// request sends and which has no default: serde accepts a JSON list for a struct, reading its
/// members by position, and that member makes a list fail ("invalid length", named as
/// DynamoDB does by `parse.rs`) where DynamoDB refuses a list.
macro_rules! wire_structs {
    ($(
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty, )*
        }
    )*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> std::result::Result<Self, D::Error> {
                // Same name, so that serde's messages name the wire struct.
                #[derive(serde::Deserialize)]
                #[serde(rename_all = "PascalCase")]
                struct $name {
                    #[serde(rename = "\u{0}")]
                    _not_a_list: Option<nimbus_tables_model::wire::NotAList>,
                    $(
                        $(#[$field_meta])*
                        #[serde(default)]
                        $field: Option<$ty>,
                    )*
                }
                let _wire = <$name as serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self { $($field: _wire.$field,)* })
            }
        }
    )*};
}
pub(crate) use wire_structs;
