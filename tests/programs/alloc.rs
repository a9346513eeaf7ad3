//! Allocation-heavy: a hash map of formatted strings and one long string,
//! built an element at a time, so the allocator grows linear memory a few
//! pages per `memory.grow`, thousands of times. Prints the map's size, the
//! total length of its values and the string's length; the test computes
//! the same numbers natively. Usage: alloc [N] (default 200000).
use std::collections::HashMap;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let mut map = HashMap::new();
    let mut text = String::new();
    for i in 0..n {
        map.insert(i, format!("value-{i}"));
        text.push_str(&i.to_string());
    }
    let total: usize = map.values().map(String::len).sum();
    println!("{} {} {}", map.len(), total, text.len());
}
