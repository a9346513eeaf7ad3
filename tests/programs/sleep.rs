//! A Rust program that sleeps (`std::thread::sleep`, WASI `poll_oneoff`)
//! between two lines of output, for the milliseconds given as its argument
//! (20 by default).

fn main() {
    let ms = std::env::args().nth(1).map_or(20, |a| a.parse().expect("milliseconds"));
    println!("before sleep");
    std::thread::sleep(std::time::Duration::from_millis(ms));
    println!("after sleep");
}
