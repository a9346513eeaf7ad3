//! The arch entry stub (`kmod/core/arch/*/entry.S`) on its own, and the FP
//! environment a caller sees around calls into the userspace runtime.
//!
//! - `kwo_arch_unwind` restores what a trap raised inside a host function
//!   leaves behind: callee-saved registers, and on aarch64 x18 (the shadow
//!   call stack pointer on kernels built with `CONFIG_SHADOW_CALL_STACK`;
//!   Debian ships none, so this unit test stands in for one) and d8-d15.
//! - Objects using FP run with Wasm's FP control word (MXCSR 0x1f80, FPCR
//!   0) whatever the caller's, and the caller's comes back on return and on
//!   unwind. A caller with round-toward-zero and flush-to-zero still gets
//!   Wasm's results.
//!
//! The probes are written in assembly (the registers involved are out of
//! a Rust caller's reach) and call the stub through the C core's
//! `kwo_arch_enter`, linked into kwo-loader. The aarch64 half runs in the
//! aarch64 stage of `scripts/test` (qemu-aarch64).

mod common;

use kwo_loader::runtime::{Instance, RunError, Val};

/// `struct kwo_jmpbuf`: 24 slots.
#[repr(C, align(16))]
struct JmpBuf([u64; 24]);

/// Probe input/output, in the order the assembly uses it.
#[repr(C)]
#[derive(Default, Debug)]
struct Io {
    fp_ctl_in: u64, // MXCSR / FPCR set before the call
    flags: u64,     // kwo_arch_enter flags (1: KWO_ENTER_FP)
    unwind: u64,    // 1: the callee unwinds with code 7, 0: it returns
    fp_ctl_inside: u64,
    fp_ctl_after: u64,
    reg_after: u64, // aarch64: x18; x86_64: rbx (set before, clobbered inside)
    fp_after: u64,  // aarch64: d8 (set before, clobbered inside); x86_64: 0
    code: u64,      // kwo_arch_enter's result
}

const KWO_ENTER_FP: u64 = 1;
const REG_MAGIC: u64 = 0x1818_2727_3636_4545;
const D8_MAGIC: u64 = 0x4008_d8d8_d8d8_d8d8;

extern "C" {
    fn kwo_t_probe(jb: *mut JmpBuf, io: *mut Io);
}

#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    r#"
    .text
    .p2align 2
    .globl kwo_t_probe
    .type kwo_t_probe, %function
kwo_t_probe:
    stp x29, x30, [sp, #-48]!
    mov x29, sp
    stp x18, x19, [sp, #16]
    str d8, [sp, #32]
    mov x19, x1
    ldr x9, [x19, #0]
    msr fpcr, x9
    movz x18, #0x4545
    movk x18, #0x3636, lsl #16
    movk x18, #0x2727, lsl #32
    movk x18, #0x1818, lsl #48
    movz x9, #0xd8d8
    movk x9, #0xd8d8, lsl #16
    movk x9, #0xd8d8, lsl #32
    movk x9, #0x4008, lsl #48
    fmov d8, x9
    mov x1, x0
    adrp x2, kwo_t_tramp
    add x2, x2, :lo12:kwo_t_tramp
    mov x3, x19
    ldr x4, [x19, #8]
    bl kwo_arch_enter
    sxtw x0, w0
    str x0, [x19, #56]
    mrs x9, fpcr
    str x9, [x19, #32]
    str x18, [x19, #40]
    fmov x9, d8
    str x9, [x19, #48]
    ldp x18, x19, [sp, #16]
    ldr d8, [sp, #32]
    ldp x29, x30, [sp], #48
    ret
    .size kwo_t_probe, . - kwo_t_probe

    .p2align 2
    .type kwo_t_tramp, %function
kwo_t_tramp:
    hint #34
    stp x29, x30, [sp, #-16]!
    mov x29, sp
    mrs x9, fpcr
    str x9, [x1, #24]
    ldr x9, [x1, #16]
    cbz x9, 1f
    // A host function on a shadow-call-stack kernel has pushed return
    // addresses (x18 moved); generated code may hold a value in d8.
    add x18, x18, #64
    fmov d8, xzr
    mov w1, #7
    b kwo_arch_unwind
1:  ldp x29, x30, [sp], #16
    ret
    .size kwo_t_tramp, . - kwo_t_tramp
"#
);

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    r#"
    .text
    .p2align 4
    .globl kwo_t_probe
    .type kwo_t_probe, @function
kwo_t_probe:
    push %rbp
    mov %rsp, %rbp
    push %rbx
    push %r12
    mov %rsi, %r12
    ldmxcsr 0(%r12)
    movabs $0x1818272736364545, %rbx
    mov %rdi, %rsi
    lea kwo_t_tramp(%rip), %rdx
    mov %r12, %rcx
    mov 8(%r12), %r8
    call kwo_arch_enter@PLT
    movslq %eax, %rax
    mov %rax, 56(%r12)
    stmxcsr 32(%r12)
    mov %rbx, 40(%r12)
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size kwo_t_probe, . - kwo_t_probe

    .p2align 4
    .type kwo_t_tramp, @function
kwo_t_tramp:
    push %rbp
    mov %rsp, %rbp
    stmxcsr 24(%rsi)
    cmpq $0, 16(%rsi)
    je 1f
    xor %ebx, %ebx
    mov $7, %esi
    jmp kwo_arch_unwind@PLT
1:  pop %rbp
    ret
    .size kwo_t_tramp, . - kwo_t_tramp
"#,
    options(att_syntax)
);

/// The caller's odd FP mode: round toward zero and flush to zero (x86_64:
/// also denormals-are-zero; aarch64: also default NaN).
#[cfg(target_arch = "x86_64")]
const ODD_MODE: u64 = 0x1f80 | 0x6000 | 0x8000 | 0x40;
#[cfg(target_arch = "x86_64")]
const WASM_MODE: u64 = 0x1f80;
#[cfg(target_arch = "aarch64")]
const ODD_MODE: u64 = (3 << 22) | (1 << 24) | (1 << 25);
#[cfg(target_arch = "aarch64")]
const WASM_MODE: u64 = 0;

/// Exception flag bits of MXCSR, which Wasm code may set; FPSR holds
/// aarch64's separately.
#[cfg(target_arch = "x86_64")]
const FLAG_BITS: u64 = 0x3f;
#[cfg(target_arch = "aarch64")]
const FLAG_BITS: u64 = 0;

fn probe(fp_ctl_in: u64, flags: u64, unwind: bool) -> Io {
    let mut jb = JmpBuf([0; 24]);
    let mut io = Io {
        fp_ctl_in,
        flags,
        unwind: unwind as u64,
        ..Io::default()
    };
    let saved = fp_ctl();
    unsafe { kwo_t_probe(&mut jb, &mut io) };
    set_fp_ctl(saved);
    io
}

#[test]
fn unwind_restores_callee_saved_and_platform_registers() {
    let io = probe(WASM_MODE, 0, true);
    assert_eq!(io.code, 7, "{io:x?}");
    assert_eq!(io.reg_after, REG_MAGIC, "{io:x?}");
    if cfg!(target_arch = "aarch64") {
        assert_eq!(io.fp_after, D8_MAGIC, "d8 after the unwind: {io:x?}");
    }
    let io = probe(WASM_MODE, 0, false);
    assert_eq!(io.code, 0, "{io:x?}");
    assert_eq!(io.reg_after, REG_MAGIC, "{io:x?}");
}

#[test]
fn fp_objects_run_with_wasm_fp_control_and_give_the_callers_back() {
    for unwind in [false, true] {
        let io = probe(ODD_MODE, KWO_ENTER_FP, unwind);
        assert_eq!(io.code, if unwind { 7 } else { 0 });
        assert_eq!(io.fp_ctl_inside & !FLAG_BITS, WASM_MODE, "inside: {io:x?}");
        assert_eq!(io.fp_ctl_after & !FLAG_BITS, ODD_MODE, "after: {io:x?}");
    }
    // Objects without FP leave the caller's mode alone (and never read it
    // in the kernel).
    let io = probe(ODD_MODE, 0, false);
    assert_eq!(io.fp_ctl_inside & !FLAG_BITS, ODD_MODE, "{io:x?}");
    assert_eq!(io.fp_ctl_after & !FLAG_BITS, ODD_MODE, "{io:x?}");
}

#[cfg(target_arch = "x86_64")]
fn fp_ctl() -> u64 {
    let mut v: u32 = 0;
    unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut v, options(nostack)) };
    v as u64
}

#[cfg(target_arch = "x86_64")]
fn set_fp_ctl(v: u64) {
    let v = v as u32;
    unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &v, options(nostack)) };
}

#[cfg(target_arch = "aarch64")]
fn fp_ctl() -> u64 {
    let v: u64;
    unsafe { std::arch::asm!("mrs {}, fpcr", out(reg) v, options(nomem, nostack)) };
    v
}

#[cfg(target_arch = "aarch64")]
fn set_fp_ctl(v: u64) {
    unsafe { std::arch::asm!("msr fpcr, {}", in(reg) v, options(nomem, nostack)) };
}

const FP_MODULE: &str = r#"(module
  (func (export "add") (param f64 f64) (result f64) (f64.add (local.get 0) (local.get 1)))
  (func (export "mul") (param f64 f64) (result f64) (f64.mul (local.get 0) (local.get 1)))
  (func (export "add_then_trap") (param f64 f64) (result f64)
    (drop (f64.add (local.get 0) (local.get 1)))
    unreachable))"#;

/// (export, a, b, Wasm's result): 1 + 0.75 ulp rounds up to nearest (down
/// toward zero); 2^-1022 * 0.5 is the subnormal 2^-1023 (0 when flushed);
/// the smallest subnormal + 0 stays (0 with denormals-are-zero).
const FP_CASES: [(&str, u64, u64, u64); 3] = [
    ("add", 0x3ff0_0000_0000_0000, 0x3ca8_0000_0000_0000, 0x3ff0_0000_0000_0001),
    ("mul", 0x0010_0000_0000_0000, 0x3fe0_0000_0000_0000, 0x0008_0000_0000_0000),
    ("add", 0x0000_0000_0000_0001, 0x0000_0000_0000_0000, 0x0000_0000_0000_0001),
];

fn fp_instance() -> Instance {
    common::instance_of(FP_MODULE)
}

/// Run f with the caller's FP mode odd; returns f's value and the mode
/// seen right after it.
fn in_odd_mode<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let saved = fp_ctl();
    set_fp_ctl(ODD_MODE);
    let r = f();
    let after = fp_ctl();
    set_fp_ctl(saved);
    (r, after)
}

#[test]
fn odd_caller_fp_mode_does_not_change_wasm_results() {
    let mut inst = fp_instance();
    for (export, a, b, want) in FP_CASES {
        let (got, after) = in_odd_mode(|| inst.invoke(export, &[Val::F64(a), Val::F64(b)]));
        assert_eq!(
            got.unwrap(),
            vec![Val::F64(want)],
            "{export}({a:#x}, {b:#x}) with the caller in mode {ODD_MODE:#x}"
        );
        assert_eq!(after & !FLAG_BITS, ODD_MODE, "the caller's mode after {export}");
    }
    let (r, after) = in_odd_mode(|| {
        inst.invoke("add_then_trap", &[Val::F64(FP_CASES[0].1), Val::F64(FP_CASES[0].2)])
    });
    assert!(matches!(r, Err(RunError::Trap(_))), "{r:?}");
    assert_eq!(after & !FLAG_BITS, ODD_MODE, "the caller's mode after a trap");
}
