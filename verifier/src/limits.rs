//! Every hard limit the verifier enforces, in one place.
//!
//! Each limit has a flag name (`--limit NAME=VALUE` on the command line), a
//! default and a one-line description; `docs/policy.md` lists the same table.
//! These are policy limits on top of the WebAssembly spec's own ones (and on
//! top of wasmparser's implementation limits, which are larger): they keep a
//! module small enough that compiling it, loading it into the kernel and
//! instantiating it stays cheap. Runtime resources that can grow (memory,
//! tables) are checked here only for what the module demands up front; the
//! runtime caps growth itself.

use std::fmt;

/// Declares [`Limits`], its defaults and its name table from one list, so
/// that a limit can't exist without a flag name, default and description.
macro_rules! limits {
    ($($field:ident: $flag:literal = $default:expr, $doc:literal;)*) => {
        /// The verifier's hard limits; see the module documentation.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Limits {
            $(#[doc = $doc] pub $field: u64,)*
        }

        impl Default for Limits {
            fn default() -> Self {
                Limits { $($field: $default,)* }
            }
        }

        /// Flag name, default and description of every limit, in
        /// declaration order.
        pub const LIMIT_TABLE: &[LimitInfo] = &[
            $(LimitInfo { name: $flag, default: $default, doc: $doc },)*
        ];

        impl Limits {
            fn slot(&mut self, name: &str) -> Option<&mut u64> {
                match name {
                    $($flag => Some(&mut self.$field),)*
                    _ => None,
                }
            }

            /// The value of the limit called `name` (the flag name).
            pub fn get(&self, name: &str) -> Option<u64> {
                match name {
                    $($flag => Some(self.$field),)*
                    _ => None,
                }
            }
        }
    };
}

limits! {
    max_memory_pages: "max-memory-pages" = 16384,
        "Initial size of linear memory, in 64 KiB pages (16384 = 1 GiB); set lower, also its recorded maximum.";
    max_table_elements: "max-table-elements" = 1 << 20,
        "Initial size of a table, in elements; set lower, also its recorded maximum.";
    max_tables: "max-tables" = 16,
        "Number of tables.";
    max_imports: "max-imports" = 1000,
        "Number of imports.";
    max_functions: "max-functions" = 100_000,
        "Number of functions, imported and defined.";
    max_function_size: "max-function-size" = 1 << 20,
        "Size of one function body in bytes (locals and code).";
    max_locals: "max-locals" = 50_000,
        "Locals of one function, parameters included.";
    max_params: "max-params" = 1000,
        "Parameters or results of one function type.";
    max_types: "max-types" = 100_000,
        "Number of function types.";
    max_globals: "max-globals" = 100_000,
        "Number of globals.";
    max_exports: "max-exports" = 100_000,
        "Number of exports.";
    max_elem_segments: "max-elem-segments" = 100_000,
        "Number of element segments.";
    max_elem_items: "max-elem-items" = 1 << 20,
        "Items of all element segments together.";
    max_data_segments: "max-data-segments" = 100_000,
        "Number of data segments.";
    max_data_bytes: "max-data-bytes" = 16 << 20,
        "Bytes of all data segments together (16 MiB).";
}

/// Description of one limit, for `--help` output and documentation.
#[derive(Debug, Clone, Copy)]
pub struct LimitInfo {
    /// The flag name, e.g. `max-memory-pages`.
    pub name: &'static str,
    pub default: u64,
    pub doc: &'static str,
}

/// A bad `--limit` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError(String);

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitError {}

impl Limits {
    /// Sets the limit called `name` (its flag name) to `value`.
    pub fn set(&mut self, name: &str, value: u64) -> Result<(), LimitError> {
        match self.slot(name) {
            Some(slot) => {
                *slot = value;
                Ok(())
            }
            None => Err(LimitError(format!(
                "unknown limit `{name}` (known: {})",
                LIMIT_TABLE
                    .iter()
                    .map(|l| l.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Applies a `NAME=VALUE` flag, e.g. `max-memory-pages=65536`. The value
    /// is decimal or `0x` hexadecimal.
    pub fn apply_flag(&mut self, flag: &str) -> Result<(), LimitError> {
        let Some((name, value)) = flag.split_once('=') else {
            return Err(LimitError(format!("limit `{flag}` is not NAME=VALUE")));
        };
        let value = value.trim();
        let parsed = match value.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => value.parse(),
        };
        let value =
            parsed.map_err(|_| LimitError(format!("limit `{name}`: `{value}` is not a number")))?;
        self.set(name.trim(), value)
    }
}
