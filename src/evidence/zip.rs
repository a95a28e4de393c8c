//! A ZIP archive of stored (uncompressed) entries, written one entry at a time to any `Write`
//! and read back entry by entry from any `Read + Seek`: what an evidence export needs (photos do
//! not compress; every reader opens it), and nothing held in memory but one entry and the
//! directory. No ZIP64: an archive is at most 4 GiB and 65,535 entries, refused past that.

use std::io::{self, Read, Seek, SeekFrom, Write};

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
/// Version 2.0, UTF-8 names (bit 11), stored.
const VERSION: u16 = 20;
const UTF8: u16 = 1 << 11;
/// 1980-01-01 00:00 in DOS time: entries carry no time of their own (the manifest has the times).
const DOS_DATE: u16 = (1 << 5) | 1;

struct Entry {
    name: String,
    crc: u32,
    size: u32,
    offset: u32,
}

pub struct ZipWriter<W: Write> {
    out: W,
    offset: u64,
    entries: Vec<Entry>,
}

fn too_large() -> io::Error {
    io::Error::other("the export would pass 4 GiB or 65,535 files, which needs ZIP64")
}

impl<W: Write> ZipWriter<W> {
    pub fn new(out: W) -> Self {
        ZipWriter {
            out,
            offset: 0,
            entries: Vec::new(),
        }
    }

    /// Appends `name` holding `data`.
    pub fn add(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        let size = u32::try_from(data.len()).map_err(|_| too_large())?;
        let offset = u32::try_from(self.offset).map_err(|_| too_large())?;
        if self.entries.len() >= usize::from(u16::MAX) {
            return Err(too_large());
        }
        let name_len = u16::try_from(name.len()).map_err(|_| too_large())?;
        let crc = crc32fast::hash(data);
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&LOCAL.to_le_bytes());
        for v in [VERSION, UTF8, 0, 0, DOS_DATE] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, size, size] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        header.extend_from_slice(&name_len.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(name.as_bytes());
        self.out.write_all(&header)?;
        self.out.write_all(data)?;
        self.offset += (header.len() + data.len()) as u64;
        self.entries.push(Entry {
            name: name.to_owned(),
            crc,
            size,
            offset,
        });
        Ok(())
    }

    /// Writes the central directory and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        let start = u32::try_from(self.offset).map_err(|_| too_large())?;
        let mut directory = Vec::new();
        for e in &self.entries {
            directory.extend_from_slice(&CENTRAL.to_le_bytes());
            for v in [VERSION, VERSION, UTF8, 0, 0, DOS_DATE] {
                directory.extend_from_slice(&v.to_le_bytes());
            }
            for v in [e.crc, e.size, e.size] {
                directory.extend_from_slice(&v.to_le_bytes());
            }
            directory.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            directory.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            directory.extend_from_slice(&e.offset.to_le_bytes());
            directory.extend_from_slice(e.name.as_bytes());
        }
        let size = u32::try_from(directory.len()).map_err(|_| too_large())?;
        u32::try_from(self.offset + u64::from(size)).map_err(|_| too_large())?;
        let count = self.entries.len() as u16;
        directory.extend_from_slice(&END.to_le_bytes());
        directory.extend_from_slice(&[0; 4]); // disks
        for v in [count, count] {
            directory.extend_from_slice(&v.to_le_bytes());
        }
        directory.extend_from_slice(&size.to_le_bytes());
        directory.extend_from_slice(&start.to_le_bytes());
        directory.extend_from_slice(&0u16.to_le_bytes());
        self.out.write_all(&directory)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// An entry as the central directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub crc: u32,
    pub size: u32,
    offset: u32,
    method: u16,
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("not a readable ZIP: {what}"),
    )
}

fn u16_at(b: &[u8], at: usize) -> io::Result<u16> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| bad("cut short"))
}

fn u32_at(b: &[u8], at: usize) -> io::Result<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| bad("cut short"))
}

/// The archive's directory: every entry's name, CRC, size and place.
pub fn list<R: Read + Seek>(archive: &mut R) -> io::Result<Vec<Listed>> {
    let len = archive.seek(SeekFrom::End(0))?;
    // The end record is the last 22 bytes, plus a comment of at most 64 KiB.
    let tail_len = len.min(22 + 65_535);
    archive.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0; tail_len as usize];
    archive.read_exact(&mut tail)?;
    let end = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i).is_ok_and(|sig| sig == END))
        .ok_or_else(|| bad("no end of central directory"))?;
    let count = u16_at(&tail, end + 10)?;
    let size = u32_at(&tail, end + 12)?;
    let start = u32_at(&tail, end + 16)?;
    if u64::from(start) + u64::from(size) > len {
        return Err(bad("the directory lies past the end"));
    }
    archive.seek(SeekFrom::Start(u64::from(start)))?;
    let mut dir = vec![0; size as usize];
    archive.read_exact(&mut dir)?;
    let mut entries = Vec::with_capacity(usize::from(count));
    let mut at = 0;
    for _ in 0..count {
        if u32_at(&dir, at)? != CENTRAL {
            return Err(bad("a directory entry without its signature"));
        }
        let name_len = usize::from(u16_at(&dir, at + 28)?);
        let skip = usize::from(u16_at(&dir, at + 30)?) + usize::from(u16_at(&dir, at + 32)?);
        let name = dir
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| bad("cut short"))?;
        entries.push(Listed {
            name: String::from_utf8(name.to_vec()).map_err(|_| bad("a name that is not UTF-8"))?,
            method: u16_at(&dir, at + 10)?,
            crc: u32_at(&dir, at + 16)?,
            size: u32_at(&dir, at + 24)?,
            offset: u32_at(&dir, at + 42)?,
        });
        at += 46 + name_len + skip;
    }
    Ok(entries)
}

/// One stored entry's bytes (whatever its CRC says: the caller checks what matters to it).
pub fn read_entry<R: Read + Seek>(archive: &mut R, entry: &Listed) -> io::Result<Vec<u8>> {
    if entry.method != 0 {
        return Err(bad("a compressed entry (exports store theirs)"));
    }
    archive.seek(SeekFrom::Start(u64::from(entry.offset)))?;
    let mut header = [0; 30];
    archive.read_exact(&mut header)?;
    if u32_at(&header, 0)? != LOCAL {
        return Err(bad("an entry without its header"));
    }
    let skip = i64::from(u16_at(&header, 26)?) + i64::from(u16_at(&header, 28)?);
    archive.seek(SeekFrom::Current(skip))?;
    let mut data = vec![0; entry.size as usize];
    archive.read_exact(&mut data)?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn what_is_written_reads_back_entry_by_entry() {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let files: [(&str, &[u8]); 3] = [
            ("manifest.json", b"{}"),
            ("photos/ä.jpg", &[0xFF, 0xD8, 0xFF, 0x00, 0x01]),
            ("empty", b""),
        ];
        for (name, data) in files {
            zip.add(name, data).unwrap();
        }
        let mut archive = zip.finish().unwrap();
        let listed = list(&mut archive).unwrap();
        assert_eq!(listed.len(), 3);
        for ((name, data), entry) in files.iter().zip(&listed) {
            assert_eq!(&entry.name, name);
            assert_eq!(entry.crc, crc32fast::hash(data));
            assert_eq!(read_entry(&mut archive, entry).unwrap(), *data);
        }
        // What `unzip -l` reads: the end record's counts.
        let bytes = archive.into_inner();
        let end = bytes.len() - 22;
        assert_eq!(u32_at(&bytes, end).unwrap(), END);
        assert_eq!(u16_at(&bytes, end + 10).unwrap(), 3);
    }

    #[test]
    fn a_damaged_archive_is_an_error_never_a_panic() {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.add("a", b"hello").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        for cut in 0..bytes.len() {
            let mut archive = Cursor::new(bytes[..cut].to_vec());
            if let Ok(entries) = list(&mut archive) {
                for entry in &entries {
                    let _ = read_entry(&mut archive, entry);
                }
            }
        }
        let mut flipped = bytes.clone();
        let at = flipped.len() - 6; // the directory's offset
        flipped[at] = 0xFF;
        assert!(list(&mut Cursor::new(flipped)).is_err());
    }
}
