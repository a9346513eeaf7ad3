//! Rust `std::fs` in the current directory, as `kwo run --dir DIR::.` gives
//! it: write, read_to_string, create_dir, read_dir, metadata, rename,
//! remove_file, remove_dir, and the errors of a missing file and of a path
//! out of the directory. Expects input.txt; leaves data/moved.txt.

use std::fs;
use std::io::{ErrorKind, Read, Seek, SeekFrom};

fn main() -> std::io::Result<()> {
    let input = fs::read_to_string("input.txt")?;
    print!("input.txt: {input}");
    fs::create_dir("data")?;
    fs::write("data/new.txt", "written by std::fs\n")?;
    let meta = fs::metadata("data/new.txt")?;
    println!("data/new.txt: file {}, {} bytes", meta.is_file(), meta.len());
    println!("data: dir {}", fs::metadata("data")?.is_dir());
    let mut f = fs::File::open("data/new.txt")?;
    f.seek(SeekFrom::Start(11))?;
    let mut tail = String::new();
    f.read_to_string(&mut tail)?;
    print!("from offset 11: {tail}");
    fs::rename("data/new.txt", "data/moved.txt")?;
    fs::write("data/scratch.txt", "x")?;
    fs::remove_file("data/scratch.txt")?;
    fs::create_dir("data/empty")?;
    fs::remove_dir("data/empty")?;
    let mut names: Vec<String> = fs::read_dir(".")?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.sort();
    println!("read_dir .: {names:?}");
    let entries: Vec<String> = fs::read_dir("data")?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    println!("read_dir data: {entries:?}");
    match fs::read("missing.txt") {
        Err(e) if e.kind() == ErrorKind::NotFound => println!("missing.txt: not found"),
        other => println!("missing.txt: {other:?}"),
    }
    match fs::read("../outside.txt") {
        Err(e) => println!("../outside.txt: refused, errno {:?}", e.raw_os_error()),
        Ok(_) => println!("../outside.txt: read!"),
    }
    Ok(())
}
