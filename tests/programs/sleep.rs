//! A Rust program that sleeps (`std::thread::sleep`, WASI `poll_oneoff`)
//! between two lines of output.

fn main() {
    println!("before sleep");
    std::thread::sleep(std::time::Duration::from_millis(20));
    println!("after sleep");
}
