//! The verifier's single pass over a module: validation, policy, limits and
//! collection of the [`VerifiedModule`].
//!
//! Payloads go through wasmparser's validator in order. A structural
//! (module-level) error stops the pass: later sections can't be interpreted
//! safely once one is wrong. Function bodies are validated one by one and
//! their errors collected, and policy and limit violations never stop the
//! pass, so one run reports every body-level, policy and limit problem up to
//! the first structural error.

use crate::analysis::{analyze_ranges, CallGraph, Checkpoints};
use crate::consts::{fold, FoldError};
use crate::diag::{DiagKind, Diagnostics};
use crate::features::{guess_missing, unsupported_message, KWO_FEATURES};
use crate::module::*;
use crate::limits::Limits;
use crate::policy::Policy;
use std::mem;
use wasmparser::{
    BinaryReaderError, CompositeInnerType, CustomSectionReader, DataKind, DataSectionReader,
    ElementItems, ElementKind, ElementSectionReader, ExportSectionReader, ExternalKind,
    FuncToValidate, FuncValidatorAllocations, FunctionBody, FunctionSectionReader,
    GlobalSectionReader, ImportSectionReader, KnownCustom, MemorySectionReader, Name, Parser,
    Payload, RefType, TableInit, TableSectionReader, TypeRef, TypeSectionReader, ValidPayload,
    Validator, ValidatorResources, WasmFeatures,
};

/// State of one verification.
pub(crate) struct Verifier<'a> {
    wasm: &'a [u8],
    policy: &'a Policy,
    diags: Diagnostics,
    module: VerifiedModule,
    /// Value of every global in the index space, `None` if imported.
    globals: Vec<Option<ConstValue>>,
    elem_items: u64,
    data_bytes: u64,
    allocs: FuncValidatorAllocations,
    /// How many more errors may be explained by [`guess_missing`].
    guesses_left: u32,
}

impl<'a> Verifier<'a> {
    pub(crate) fn new(wasm: &'a [u8], policy: &'a Policy) -> Self {
        Verifier {
            wasm,
            policy,
            diags: Diagnostics::default(),
            module: VerifiedModule {
                wasm: Vec::new(),
                types: Vec::new(),
                imports: Vec::new(),
                funcs: Vec::new(),
                bodies: Vec::new(),
                tables: Vec::new(),
                memory: None,
                globals: Vec::new(),
                exports: Vec::new(),
                start: None,
                elems: Vec::new(),
                data: Vec::new(),
                func_names: Vec::new(),
                call_graph: Default::default(),
                checkpoints: Default::default(),
                accesses: Vec::new(),
                access_groups: Vec::new(),
            },
            globals: Vec::new(),
            elem_items: 0,
            data_bytes: 0,
            allocs: FuncValidatorAllocations::default(),
            guesses_left: 4,
        }
    }

    pub(crate) fn run(mut self) -> Result<VerifiedModule, Diagnostics> {
        let mut validator = Validator::new_with_features(KWO_FEATURES);
        // The reader's features matter too: e.g. with memory64 on it reads
        // memory limits as u64 and accepts overlong u32 encodings.
        let mut parser = Parser::new(0);
        parser.set_features(KWO_FEATURES);
        for payload in parser.parse_all(self.wasm) {
            if let Err(e) = self.payload(&mut validator, payload) {
                self.wasm_error(None, &e);
                break;
            }
        }
        self.diags.name_functions(&self.module.func_names);
        if !self.diags.is_empty() {
            return Err(self.diags);
        }
        self.module.wasm = self.wasm.to_vec();
        match CallGraph::build(&self.module) {
            Ok(graph) => self.module.call_graph = graph,
            Err(e) => {
                self.wasm_error(None, &e);
                return Err(self.diags);
            }
        }
        // Before the checkpoints: which loops are short decides which
        // functions may run without an entry checkpoint.
        match analyze_ranges(&self.module) {
            Ok((accesses, groups)) => {
                self.module.accesses = accesses;
                self.module.access_groups = groups;
            }
            Err(e) => {
                self.wasm_error(None, &e);
                return Err(self.diags);
            }
        }
        match Checkpoints::analyze(&self.module) {
            Ok(checkpoints) => self.module.checkpoints = checkpoints,
            Err(e) => {
                self.wasm_error(None, &e);
                return Err(self.diags);
            }
        }
        Ok(self.module)
    }

    /// Validates one payload, then applies policy and collects it. Returns
    /// only structural errors.
    fn payload(
        &mut self,
        validator: &mut Validator,
        payload: Result<Payload<'a>, BinaryReaderError>,
    ) -> Result<(), BinaryReaderError> {
        let payload = payload?;
        match validator.payload(&payload)? {
            ValidPayload::Func(func, body) => self.body(func, &body),
            // Unreachable with the component model off; refuse rather than
            // silently skip a nested module.
            ValidPayload::Parser(_) => {
                self.diags.push(
                    0,
                    DiagKind::Unsupported,
                    "nested modules are not supported".into(),
                );
                Ok(())
            }
            ValidPayload::Ok | ValidPayload::End(_) => self.section(payload),
        }
    }

    fn section(&mut self, payload: Payload<'a>) -> Result<(), BinaryReaderError> {
        match payload {
            Payload::TypeSection(r) => self.types(r),
            Payload::ImportSection(r) => self.imports(r),
            Payload::FunctionSection(r) => self.functions(r),
            Payload::TableSection(r) => self.tables(r),
            Payload::MemorySection(r) => self.memories(r),
            Payload::GlobalSection(r) => self.global_section(r),
            Payload::ExportSection(r) => self.exports(r),
            Payload::StartSection { func, .. } => {
                self.module.start = Some(func);
                Ok(())
            }
            Payload::ElementSection(r) => self.elements(r),
            Payload::DataSection(r) => self.data(r),
            Payload::CustomSection(r) => {
                self.custom(&r);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn types(&mut self, r: TypeSectionReader<'a>) -> Result<(), BinaryReaderError> {
        let limits = &self.policy.limits;
        let (max_types, max_params) = (limits.max_types, limits.max_params);
        self.count_limit(r.range().start, "types", r.count(), max_types, "max-types");
        for item in r.into_iter_with_offsets() {
            let (offset, group) = item?;
            for sub in group.into_types() {
                // Without the GC proposal the validator admits only
                // function types.
                let CompositeInnerType::Func(ty) = sub.composite_type.inner else {
                    let msg = "only function types are supported".to_string();
                    self.diags.push(offset, DiagKind::Unsupported, msg);
                    continue;
                };
                let longest = ty.params().len().max(ty.results().len());
                if longest as u64 > max_params {
                    let msg = format!(
                        "function type has {longest} parameters or results, over the limit of \
                         {max_params} (limit `max-params`)"
                    );
                    self.diags.push(offset, DiagKind::Limit, msg);
                }
                self.module.types.push(ty);
            }
        }
        Ok(())
    }

    fn imports(&mut self, r: ImportSectionReader<'a>) -> Result<(), BinaryReaderError> {
        let max = self.policy.limits.max_imports;
        self.count_limit(r.range().start, "imports", r.count(), max, "max-imports");
        for item in r.into_imports_with_offsets() {
            let (offset, import) = item?;
            let what = match import.ty {
                TypeRef::Func(type_index) | TypeRef::FuncExact(type_index) => {
                    self.import_func(offset, import.module, import.name, type_index);
                    continue;
                }
                TypeRef::Global(_) => {
                    self.globals.push(None);
                    "globals"
                }
                TypeRef::Memory(_) => "memories",
                TypeRef::Table(_) => "tables",
                TypeRef::Tag(_) => "tags",
            };
            let msg = format!(
                "import `{}.{}`: imported {what} are not supported",
                import.module, import.name
            );
            self.diags.push(offset, DiagKind::Policy, msg);
        }
        Ok(())
    }

    fn import_func(&mut self, offset: usize, module: &str, name: &str, type_index: u32) {
        let Some(ty) = self.module.types.get(type_index as usize) else {
            return; // The validator has rejected this already.
        };
        let host_id = match self.policy.imports.resolve(module, name, ty) {
            Ok(id) => id,
            Err(msg) => {
                self.diags.push(offset, DiagKind::Policy, msg);
                // Keep the index space right for later diagnostics; the
                // module is rejected, so the id is never used.
                u32::MAX
            }
        };
        self.module.imports.push(ImportedFunc {
            module: module.to_string(),
            name: name.to_string(),
            type_index,
            host_id,
        });
    }

    fn functions(&mut self, r: FunctionSectionReader<'a>) -> Result<(), BinaryReaderError> {
        let total = u64::from(r.count()) + self.module.imports.len() as u64;
        let max = self.policy.limits.max_functions;
        self.count_limit(r.range().start, "functions", total, max, "max-functions");
        for ty in r {
            self.module.funcs.push(ty?);
        }
        Ok(())
    }

    fn tables(&mut self, r: TableSectionReader<'a>) -> Result<(), BinaryReaderError> {
        let max = self.policy.limits.max_tables;
        self.count_limit(r.range().start, "tables", r.count(), max, "max-tables");
        for item in r.into_iter_with_offsets() {
            let (offset, table) = item?;
            if let TableInit::Expr(_) = table.init {
                let msg = "table initialiser expressions are not supported".to_string();
                self.diags.push(offset, DiagKind::Unsupported, msg);
            }
            let (min, max) = (table.ty.initial, table.ty.maximum);
            let limit = self.policy.limits.max_table_elements;
            self.size_limit(
                offset,
                "table of",
                min,
                "elements",
                limit,
                "max-table-elements",
            );
            let default = Limits::default().max_table_elements;
            self.module.tables.push(TableDesc {
                elem: table.ty.element_type,
                min: clamp_u32(min),
                max: carried_max(max, limit, default),
            });
        }
        Ok(())
    }

    fn memories(&mut self, r: MemorySectionReader<'a>) -> Result<(), BinaryReaderError> {
        for item in r.into_iter_with_offsets() {
            let (offset, mem) = item?;
            let limit = self.policy.limits.max_memory_pages;
            self.size_limit(
                offset,
                "memory of",
                mem.initial,
                "pages",
                limit,
                "max-memory-pages",
            );
            let default = Limits::default().max_memory_pages;
            self.module.memory = Some(MemoryDesc {
                min: clamp_u32(mem.initial),
                max: carried_max(mem.maximum, limit, default),
            });
        }
        Ok(())
    }

    fn global_section(&mut self, r: GlobalSectionReader<'a>) -> Result<(), BinaryReaderError> {
        let total = u64::from(r.count()) + self.globals.len() as u64;
        let max = self.policy.limits.max_globals;
        self.count_limit(r.range().start, "globals", total, max, "max-globals");
        for global in r {
            let global = global?;
            let init = self.fold(&global.init_expr);
            self.globals.push(init);
            self.module.globals.push(GlobalDesc {
                ty: global.ty.content_type,
                mutable: global.ty.mutable,
                init: init.unwrap_or(ConstValue::RefNull),
            });
        }
        Ok(())
    }

    fn exports(&mut self, r: ExportSectionReader<'a>) -> Result<(), BinaryReaderError> {
        let max = self.policy.limits.max_exports;
        self.count_limit(r.range().start, "exports", r.count(), max, "max-exports");
        for item in r.into_iter_with_offsets() {
            let (offset, export) = item?;
            let kind = match export.kind {
                ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                ExternalKind::Table => ExportKind::Table,
                ExternalKind::Memory => ExportKind::Memory,
                ExternalKind::Global => ExportKind::Global,
                ExternalKind::Tag => {
                    let msg = format!("export `{}`: tags are not supported", export.name);
                    self.diags.push(offset, DiagKind::Unsupported, msg);
                    continue;
                }
            };
            self.module.exports.push(Export {
                name: export.name.to_string(),
                kind,
                index: export.index,
            });
        }
        Ok(())
    }

    fn elements(&mut self, r: ElementSectionReader<'a>) -> Result<(), BinaryReaderError> {
        let max = self.policy.limits.max_elem_segments;
        self.count_limit(
            r.range().start,
            "element segments",
            r.count(),
            max,
            "max-elem-segments",
        );
        for elem in r {
            let elem = elem?;
            let offset = elem.range.start;
            let mode = match elem.kind {
                ElementKind::Passive => SegmentMode::Passive,
                ElementKind::Declared => SegmentMode::Declarative,
                ElementKind::Active {
                    table_index,
                    offset_expr,
                } => SegmentMode::Active {
                    index: table_index.unwrap_or(0),
                    offset: self.fold_offset(&offset_expr),
                },
            };
            let (elem_ty, items) = self.elem_items(elem.items)?;
            self.elem_items += items.len() as u64;
            let max = self.policy.limits.max_elem_items;
            if self.elem_items > max {
                let msg = format!(
                    "element segments hold {} items, over the limit of {max} (limit \
                     `max-elem-items`)",
                    self.elem_items
                );
                self.diags.push(offset, DiagKind::Limit, msg);
            }
            self.module.elems.push(ElemSegment {
                mode,
                elem: elem_ty,
                items,
            });
        }
        Ok(())
    }

    fn elem_items(
        &mut self,
        items: ElementItems<'a>,
    ) -> Result<(RefType, Vec<Option<u32>>), BinaryReaderError> {
        match items {
            ElementItems::Functions(r) => {
                let funcs = r
                    .into_iter()
                    .map(|f| f.map(Some))
                    .collect::<Result<_, _>>()?;
                Ok((RefType::FUNCREF, funcs))
            }
            ElementItems::Expressions(ty, r) => {
                let mut out = Vec::with_capacity(r.count() as usize);
                for expr in r {
                    let expr = expr?;
                    out.push(match self.fold(&expr) {
                        Some(ConstValue::RefFunc(f)) => Some(f),
                        Some(ConstValue::RefNull) | None => None,
                        Some(other) => {
                            let offset = expr.get_binary_reader().original_position();
                            let msg = format!("element item folds to {other:?}, not a reference");
                            self.diags.push(offset, DiagKind::Invalid, msg);
                            None
                        }
                    });
                }
                Ok((ty, out))
            }
        }
    }

    fn data(&mut self, r: DataSectionReader<'a>) -> Result<(), BinaryReaderError> {
        let max = self.policy.limits.max_data_segments;
        self.count_limit(
            r.range().start,
            "data segments",
            r.count(),
            max,
            "max-data-segments",
        );
        for data in r {
            let data = data?;
            let mode = match data.kind {
                DataKind::Passive => SegmentMode::Passive,
                DataKind::Active {
                    memory_index,
                    offset_expr,
                } => SegmentMode::Active {
                    index: memory_index,
                    offset: self.fold_offset(&offset_expr),
                },
            };
            // The contents are the last field of a segment.
            let end = data.range.end;
            let range = end - data.data.len()..end;
            self.data_bytes += data.data.len() as u64;
            let max = self.policy.limits.max_data_bytes;
            if self.data_bytes > max {
                let msg = format!(
                    "data segments hold {} bytes, over the limit of {max} (limit `max-data-bytes`)",
                    self.data_bytes
                );
                self.diags.push(data.range.start, DiagKind::Limit, msg);
            }
            self.module.data.push(DataSegment { mode, range });
        }
        Ok(())
    }

    /// Collects function names; a malformed name section is ignored, as the
    /// spec says custom sections must not make a module invalid.
    fn custom(&mut self, r: &CustomSectionReader<'a>) {
        let KnownCustom::Name(names) = r.as_known() else {
            return;
        };
        let mut out = Vec::new();
        for sub in names {
            let Ok(sub) = sub else { return };
            if let Name::Function(map) = sub {
                for naming in map {
                    let Ok(naming) = naming else { return };
                    out.push((naming.index, naming.name.to_string()));
                }
            }
        }
        // Sorted and unique, for binary search; the first name wins.
        out.sort_by_key(|(i, _)| *i);
        out.dedup_by_key(|(i, _)| *i);
        self.module.func_names = out;
    }

    /// Checks the limits of one function body, then validates it.
    fn body(
        &mut self,
        func: FuncToValidate<ValidatorResources>,
        body: &FunctionBody<'a>,
    ) -> Result<(), BinaryReaderError> {
        let index = func.index;
        let range = body.range();
        self.module.bodies.push(FuncBody {
            range: range.clone(),
        });
        if !self.body_limits(index, func.ty, body) {
            return Ok(());
        }
        let mut validator = func.into_validator(mem::take(&mut self.allocs));
        if let Err(e) = validator.validate(body) {
            self.wasm_error(Some(index), &e);
        }
        self.allocs = validator.into_allocations();
        Ok(())
    }

    /// Checks body size and local count; false if over a limit, in which
    /// case the body is not validated (that could be slow).
    fn body_limits(&mut self, index: u32, ty: u32, body: &FunctionBody<'a>) -> bool {
        let limits = &self.policy.limits;
        let (max_size, max_locals) = (limits.max_function_size, limits.max_locals);
        let range = body.range();
        if range.len() as u64 > max_size {
            let msg = format!(
                "function body is {} bytes, over the limit of {max_size} (limit \
                 `max-function-size`)",
                range.len()
            );
            self.diags
                .push_in_func(index, range.start, DiagKind::Limit, msg);
            return false;
        }
        let params = self
            .module
            .types
            .get(ty as usize)
            .map_or(0, |t| t.params().len());
        let locals = params as u64 + count_locals(body);
        if locals > max_locals {
            let msg = format!(
                "function has {locals} locals, over the limit of {max_locals} (limit `max-locals`)"
            );
            self.diags
                .push_in_func(index, range.start, DiagKind::Limit, msg);
            return false;
        }
        true
    }

    /// Folds a constant expression, reporting why if it can't be.
    fn fold(&mut self, expr: &wasmparser::ConstExpr<'a>) -> Option<ConstValue> {
        match fold(expr, &self.globals) {
            Ok(value) => Some(value),
            Err(FoldError { offset, message }) => {
                // Only reads of imported globals get here after validation,
                // and those imports are already refused by the policy.
                self.diags.push(offset, DiagKind::Policy, message);
                None
            }
        }
    }

    /// Folds a segment offset: an i32, stored as its raw u32 value.
    fn fold_offset(&mut self, expr: &wasmparser::ConstExpr<'a>) -> u32 {
        match self.fold(expr) {
            Some(ConstValue::I32(v)) => v as u32,
            Some(other) => {
                let offset = expr.get_binary_reader().original_position();
                let msg = format!("segment offset folds to {other:?}, not an i32");
                self.diags.push(offset, DiagKind::Invalid, msg);
                0
            }
            None => 0,
        }
    }

    fn count_limit(
        &mut self,
        offset: usize,
        what: &str,
        count: impl Into<u64>,
        max: u64,
        flag: &str,
    ) {
        let count = count.into();
        if count > max {
            let msg =
                format!("module has {count} {what}, over the limit of {max} (limit `{flag}`)");
            self.diags.push(offset, DiagKind::Limit, msg);
        }
    }

    fn size_limit(
        &mut self,
        offset: usize,
        what: &str,
        size: u64,
        unit: &str,
        max: u64,
        flag: &str,
    ) {
        if size > max {
            let msg = format!(
                "{what} {size} {unit} initially is over the limit of {max} (limit `{flag}`)"
            );
            self.diags.push(offset, DiagKind::Limit, msg);
        }
    }

    /// Records a wasmparser error, naming the feature if one is missing.
    fn wasm_error(&mut self, func: Option<u32>, e: &BinaryReaderError) {
        let missing = e
            .missing_wasm_feature()
            .or_else(|| self.guess_missing(e.offset()));
        let (kind, message) = match missing {
            Some(f) => (DiagKind::Unsupported, unsupported_message(f)),
            None => (DiagKind::Invalid, e.message().to_string()),
        };
        match func {
            Some(index) => self.diags.push_in_func(index, e.offset(), kind, message),
            None => self.diags.push(e.offset(), kind, message),
        }
    }

    /// Asks [`guess_missing`] for the first few unexplained errors only: it
    /// re-validates the module for every candidate feature.
    fn guess_missing(&mut self, offset: usize) -> Option<WasmFeatures> {
        if self.guesses_left == 0 {
            return None;
        }
        self.guesses_left -= 1;
        guess_missing(self.wasm, offset)
    }
}

/// Declared locals of a body; a malformed declaration stops the count and
/// is left to the validator to report.
fn count_locals(body: &FunctionBody<'_>) -> u64 {
    let Ok(reader) = body.get_locals_reader() else {
        return 0;
    };
    let mut total = 0u64;
    for local in reader {
        match local {
            Ok((count, _)) => total = total.saturating_add(u64::from(count)),
            Err(_) => break,
        }
    }
    total
}

/// Table and memory sizes fit in u32 without memory64/table64, which the
/// validator refuses; saturate rather than wrap should that ever change.
fn clamp_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The maximum a memory or table is compiled with. A size limit lowered
/// below its default (`kwo compile --limit max-memory-pages=N`) bounds
/// growth too: it becomes the maximum recorded in the object (when the
/// module's own is absent or larger), so every runtime that loads the
/// object applies it, under its own cap. At the default, a larger or
/// absent maximum is left to the runtime's cap. An initial size over the
/// limit is refused before this matters, so the result is never below it.
fn carried_max(declared: Option<u64>, limit: u64, default: u64) -> Option<u32> {
    if limit >= default {
        return declared.map(clamp_u32);
    }
    Some(clamp_u32(declared.map_or(limit, |m| m.min(limit))))
}
