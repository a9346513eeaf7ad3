//! The verifier's groups of loads through one unchanged pointer
//! (`analysis::access_groups`): which loads form one, and each member's
//! suffix group (the later members that reach further, in order). Their
//! behaviour at run time is `loader/tests/access_groups.rs`.

use kwo_verifier::analysis::{FuncGroups, MAX_MEMBERS};
use kwo_verifier::{verify, Policy, VerifiedModule};

fn module(wat: &str) -> VerifiedModule {
    verify(&wat::parse_str(wat).unwrap(), &Policy::kernel()).unwrap()
}

/// Each function's suffix groups as (reach of every entry) lists, in the
/// order of their first loads.
fn reaches(groups: &FuncGroups) -> Vec<Vec<u64>> {
    groups.suffixes.iter().map(|s| s.entries.iter().map(|e| e.end).collect()).collect()
}

#[test]
fn suffix_groups_keep_only_the_loads_that_reach_further() {
    let m = module(
        r#"(module (memory 1)
          (func (param $p i32) (result i32)
            (i32.add (i32.add (i32.load offset=8 (local.get $p)) (i32.load offset=0 (local.get $p)))
                     (i32.add (i32.load offset=4 (local.get $p)) (i32.load offset=12 (local.get $p))))))"#,
    );
    let g = &m.access_groups[0];
    // p+8 (12), p+0 (4), p+4 (8), p+12 (16): from the first, p+0 and p+4
    // cannot fail first; from p+0 every later one reaches further.
    assert_eq!(reaches(g), [vec![12, 16], vec![4, 8, 16], vec![8, 16]]);
    assert_eq!(g.saved, 1, "the first load's check covers the last");
    let first = &g.suffixes[0];
    assert_eq!(g.suffix_at(first.access as usize), Some(first));
    assert_eq!(first.reach(), 16);
}

#[test]
fn a_teed_pointer_groups_and_a_changed_one_does_not() {
    let m = module(
        r#"(module (memory 1)
          (func (param $p i32) (param $q i32) (result i32)
            (i32.add (i32.load (local.tee $p (i32.add (local.get $q) (i32.const 8))))
                     (i32.load offset=4 (local.get $p))))
          (func (param $p i32) (param $q i32) (result i32)
            local.get $p
            i32.load
            local.get $p
            local.get $q
            local.set $p
            i32.load offset=4
            i32.add))"#,
    );
    assert_eq!(reaches(&m.access_groups[0]), [vec![4, 8]]);
    // The second load reads the old `p` from the stack, but `local.set`
    // of the pointer ends the group.
    assert!(m.access_groups[1].suffixes.is_empty());
}

#[test]
fn proven_loads_do_not_end_a_group_but_other_loads_and_branches_do() {
    let m = module(
        r#"(module (memory 1)
          (func (param $p i32) (result i32)
            (i32.add (i32.load (local.get $p))
              (i32.add (i32.load (i32.const 16)) (i32.load offset=4 (local.get $p)))))
          (func (param $p i32) (param $q i32) (result i32)
            (i32.add (i32.load (local.get $p))
              (i32.add (i32.load (local.get $q)) (i32.load offset=4 (local.get $p)))))
          (func (param $p i32) (result i32) (local $a i32)
            (local.set $a (i32.load (local.get $p)))
            (block (br_if 0 (local.get $a)))
            (i32.add (local.get $a) (i32.load offset=4 (local.get $p)))))"#,
    );
    assert_eq!(m.accesses[0].proven.len(), 1, "the load at 16 is proven");
    assert_eq!(reaches(&m.access_groups[0]), [vec![4, 8]]);
    assert!(m.access_groups[1].suffixes.is_empty(), "an unproven load of q may trap");
    assert!(m.access_groups[2].suffixes.is_empty(), "the block ends the stretch");
}

#[test]
fn a_long_run_starts_a_new_group_after_the_largest() {
    let loads: String = (0..MAX_MEMBERS as u32 + 4)
        .map(|i| format!("(drop (i32.load offset={} (local.get $p)))", 4 * i))
        .collect();
    let m = module(&format!("(module (memory 1) (func (param $p i32) {loads}))"));
    let g = &m.access_groups[0];
    assert_eq!(g.suffixes[0].entries.len(), MAX_MEMBERS);
    // The members after the first sixteen form a group of their own.
    let second = &g.suffixes[MAX_MEMBERS - 1];
    assert_eq!(second.entries.len(), 4);
    assert_eq!(second.entries[0].end, 4 * MAX_MEMBERS as u64 + 4);
    assert_eq!(g.saved, (MAX_MEMBERS - 1 + 3) as u32);
}
