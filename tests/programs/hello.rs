//! A small Rust program for wasm32-wasip1 that exercises what std pulls in on
//! WASI: argument passing, allocation (a sorted Vec), float formatting,
//! stdout and a non-zero exit code through `std::process::exit`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut numbers = vec![42, 7, 19, 3, 11];
    numbers.sort_unstable();
    let mean = numbers.iter().sum::<i32>() as f64 / numbers.len() as f64;
    println!("Hello from Rust on kwo!");
    println!("args: {}", args.join(" "));
    println!("sorted: {numbers:?}");
    println!("mean: {mean:.2}, sqrt(2): {:.6}", 2f64.sqrt());
    std::process::exit(3);
}
