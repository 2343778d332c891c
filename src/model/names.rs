//! Host and VM names. Windows compares computer names and Hyper-V compares VM names without
//! regard to case: `GCSHOSTA`, `gcshosta` and `GcsHostA` are one host. A bare `String`
//! compared with `==` in one place and without case in another would see two hosts where
//! there is one, so names are these types, whose equality, order and hash ignore ASCII case
//! everywhere. They keep the spelling they were given, for display.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Defines a name type: a `String` that compares as Windows does. One definition for both
/// kinds of name, so that they cannot drift apart.
macro_rules! windows_name {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(name: impl Into<String>) -> Self {
                Self(name.into())
            }

            /// The name as it was spelled.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The name lower-cased: a key for file names and ids that must not depend on
            /// how the name happened to be spelled.
            pub fn key(&self) -> String {
                self.0.to_ascii_lowercase()
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.eq_ignore_ascii_case(&other.0)
            }
        }

        impl Eq for $name {}

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0.eq_ignore_ascii_case(other)
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0.eq_ignore_ascii_case(other)
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0.eq_ignore_ascii_case(other)
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self.eq_ignore_ascii_case(&other.0)
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                self.eq_ignore_ascii_case(&other.0)
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                self.0
                    .bytes()
                    .map(|b| b.to_ascii_lowercase())
                    .cmp(other.0.bytes().map(|b| b.to_ascii_lowercase()))
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                for b in self.0.bytes() {
                    state.write_u8(b.to_ascii_lowercase());
                }
                state.write_u8(0xff);
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Honours width and alignment (`{:<12}`), as a `str` does.
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(&self.0)
            }
        }

        /// As the string it holds, so that logs and test output read as before.
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl From<String> for $name {
            fn from(name: String) -> Self {
                Self(name)
            }
        }

        impl From<&str> for $name {
            fn from(name: &str) -> Self {
                Self(name.to_string())
            }
        }

        impl From<&String> for $name {
            fn from(name: &String) -> Self {
                Self(name.clone())
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        /// A string in the schema, exactly as before the type existed.
        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> Cow<'static, str> {
                "String".into()
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                String::json_schema(generator)
            }
        }
    };
}

windows_name!(
    /// A Hyper-V host's computer name (`GCSHOSTA`).
    HostName
);

windows_name!(
    /// A virtual machine's name in Hyper-V Manager (`SG-SERVER`, a replica's display name).
    VmName
);

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use super::*;

    #[test]
    fn names_that_differ_only_in_case_are_one_name_everywhere() {
        let a = HostName::new("GCSHOSTA");
        let b = HostName::new("gcsHostA");
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert_eq!(HashSet::from([a.clone(), b.clone()]).len(), 1);
        assert_eq!(BTreeSet::from([a.clone(), b.clone()]).len(), 1);
        assert!(a == "gcshosta" && "GcsHostA" == a);
        assert_ne!(a, HostName::new("GCSHOSTB"));
        assert!(HostName::new("a") < HostName::new("B"));
        // The spelling given is kept, for display and for the documents written.
        assert_eq!(b.to_string(), "gcsHostA");
        assert_eq!(format!("[{b:<10}]"), "[gcsHostA  ]");
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"gcsHostA\"");
        assert_eq!(format!("{b:?}"), "\"gcsHostA\"");
        assert_eq!(b.key(), "gcshosta");
        let back: VmName = serde_json::from_str("\"SG-Server\"").unwrap();
        assert_eq!(back, VmName::new("sg-server"));
    }
}
