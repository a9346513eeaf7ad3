//! Array-call trampolines: the one native signature the runtime calls,
//! `void tramp(vmctx, u64 *vals)`, adapted to each exported function's wasm
//! signature. Arguments are read from `vals`, results written back to it
//! (i32/f32 in the low half of a slot).

use cranelift_codegen::ir::{
    self, types, AbiParam, ExtFuncData, ExternalName, InstBuilder, MemFlagsData, Signature,
    UserExternalName, UserFuncName,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use kwo_verifier::VerifiedModule;

use crate::translate::{ir_type, wasm_signature, NS_HOST, NS_WASM_FUNC};

/// Namespace of trampoline function names.
pub const NS_TRAMPOLINE: u32 = 2;

/// Builds the trampoline of wasm function `index` (defined or imported).
pub fn build(module: &VerifiedModule, isa: &dyn TargetIsa, index: u32) -> ir::Function {
    let call_conv = isa.default_call_conv();
    let ty = module.func_type(index);
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    let mut func = ir::Function::with_name_signature(UserFuncName::user(NS_TRAMPOLINE, index), sig);
    let mut ctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let (vmctx, vals) = (b.block_params(entry)[0], b.block_params(entry)[1]);
    let flags = MemFlagsData::trusted();

    let mut args = vec![vmctx];
    for (i, p) in ty.params().iter().enumerate() {
        args.push(b.ins().load(ir_type(*p), flags, vals, (i * 8) as i32));
    }
    let callee_name = if index < module.num_imported_funcs() {
        UserExternalName::new(NS_HOST, module.imports[index as usize].host_id)
    } else {
        UserExternalName::new(NS_WASM_FUNC, index)
    };
    let name = b.func.declare_imported_user_function(callee_name);
    let signature = b.import_signature(wasm_signature(call_conv, ty));
    let callee = b.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature,
        colocated: true,
        patchable: false,
    });
    let call = b.ins().call(callee, &args);
    let results = b.inst_results(call).to_vec();
    for (i, r) in results.iter().enumerate() {
        b.ins().store(flags, *r, vals, (i * 8) as i32);
    }
    b.ins().return_(&[]);
    b.finalize(isa.frontend_config());
    func
}
