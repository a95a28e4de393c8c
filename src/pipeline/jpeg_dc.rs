//! A baseline JPEG decoded at 1/8 scale from its DC coefficients alone: one pixel per 8×8 block,
//! the block's average, which is exactly what a 1/8-scale IDCT computes. Every AC coefficient
//! must still be entropy-decoded (Huffman codes carry no lengths of their own), but none is
//! dequantized, transformed or stored: what remains is the entropy-decoding floor of a JPEG.
//!
//! Only what phones write is handled here: baseline or extended-Huffman frames (SOF0/SOF1),
//! 8-bit, one interleaved scan of 1 or 3 components, any sampling factors, restart intervals.
//! Anything else (progressive, arithmetic coding, CMYK, several scans) is `None`, and the caller
//! falls back to a general decoder. No `unsafe`.

/// An RGB image at 1/8 scale: `width` × `height` = the source's dimensions / 8, rounded up.
pub struct DcImage {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

/// Lookahead bits of the fast Huffman table: codes up to this long decode in one lookup.
const FAST_BITS: u32 = 11;

struct Huffman {
    /// `(length << 8) | symbol` for codes of at most FAST_BITS bits; 0 when longer.
    fast: Vec<u16>,
    /// For AC tables: `(code length + extra bits) << 8 | symbol` where both fit in FAST_BITS,
    /// so a coefficient is consumed with one lookup and one shift; 0 otherwise.
    fast_ac: Vec<u16>,
    /// For the slow path: largest code of each length (-1 where none), and the offset from a
    /// code of that length to its symbol's index.
    max_code: [i32; 18],
    val_offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
        let mut fast = vec![0u16; 1 << FAST_BITS];
        let mut fast_ac = vec![0u16; 1 << FAST_BITS];
        let mut max_code = [-1i32; 18];
        let mut val_offset = [0i32; 17];
        let mut code = 0i32;
        let mut k = 0usize;
        for len in 1..=16usize {
            let n = usize::from(counts[len - 1]);
            val_offset[len] = k as i32 - code;
            for _ in 0..n {
                let symbol = *symbols.get(k)?;
                if len as u32 <= FAST_BITS {
                    let shift = FAST_BITS - len as u32;
                    let first = (code as usize) << shift;
                    for entry in fast.get_mut(first..first + (1 << shift))? {
                        *entry = ((len as u16) << 8) | u16::from(symbol);
                    }
                    let total = len as u32 + u32::from(symbol & 15);
                    if total <= FAST_BITS {
                        for entry in &mut fast_ac[first..first + (1 << shift)] {
                            *entry = ((total as u16) << 8) | u16::from(symbol);
                        }
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                max_code[len] = code - 1;
            }
            code <<= 1;
        }
        max_code[17] = i32::MAX;
        Some(Huffman {
            fast,
            fast_ac,
            max_code,
            val_offset,
            symbols: symbols.to_vec(),
        })
    }
}

/// The entropy-coded segment as bits: `0xFF 0x00` is a data byte 0xFF, and a marker ends the
/// data (reads past it are zeros, and the marker is left for the restart check).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    count: u32,
    marker: Option<u8>,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            pos: 0,
            acc: 0,
            count: 0,
            marker: None,
        }
    }

    #[inline]
    fn refill(&mut self) {
        // Eight bytes at once where none of them is 0xFF (no stuffing, no marker): most of them.
        if self.marker.is_none() {
            if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
                let chunk = u64::from_be_bytes(chunk.try_into().unwrap_or_default());
                let inverted = !chunk;
                let has_ff = inverted.wrapping_sub(0x0101_0101_0101_0101)
                    & !inverted
                    & 0x8080_8080_8080_8080;
                if has_ff == 0 {
                    let n = (64 - self.count) / 8;
                    let add = if n == 8 { chunk } else { chunk >> (64 - 8 * n) };
                    self.acc |= add << (64 - self.count - 8 * n);
                    self.pos += n as usize;
                    self.count += 8 * n;
                    return;
                }
            }
        }
        while self.count <= 56 {
            let mut byte = 0u8;
            if self.marker.is_none() {
                if let Some(&b) = self.data.get(self.pos) {
                    if b == 0xFF {
                        match self.data.get(self.pos + 1) {
                            Some(0x00) => {
                                byte = 0xFF;
                                self.pos += 2;
                            }
                            Some(&m) => self.marker = Some(m),
                            None => self.marker = Some(0xD9),
                        }
                    } else {
                        byte = b;
                        self.pos += 1;
                    }
                } else {
                    self.marker = Some(0xD9);
                }
            }
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// Decodes one AC symbol and skips its extra bits: `(run << 4) | size`.
    #[inline]
    fn skip_ac(&mut self, table: &Huffman) -> Option<u8> {
        if self.count < 32 {
            self.refill();
        }
        let entry = table.fast_ac[(self.acc >> (64 - FAST_BITS)) as usize];
        if entry != 0 {
            let total = u32::from(entry >> 8);
            self.acc <<= total;
            self.count -= total;
            return Some(entry as u8);
        }
        let rs = self.decode(table)?;
        self.skip(u32::from(rs & 15));
        Some(rs)
    }

    #[inline]
    fn decode(&mut self, table: &Huffman) -> Option<u8> {
        if self.count < 16 {
            self.refill();
        }
        let entry = table.fast[(self.acc >> (64 - FAST_BITS)) as usize];
        if entry != 0 {
            let len = u32::from(entry >> 8);
            self.acc <<= len;
            self.count -= len;
            return Some(entry as u8);
        }
        // Longer than FAST_BITS: the canonical-code walk.
        let mut len = FAST_BITS as usize + 1;
        loop {
            let code = (self.acc >> (64 - len)) as i32;
            if code <= table.max_code[len] {
                self.acc <<= len;
                self.count -= len as u32;
                return table
                    .symbols
                    .get((code + table.val_offset[len]) as usize)
                    .copied();
            }
            len += 1;
            if len > 16 {
                return None;
            }
        }
    }

    /// `n` bits as JPEG's signed magnitude (`n` ≤ 16).
    #[inline]
    fn receive_extend(&mut self, n: u32) -> i32 {
        if n == 0 {
            return 0;
        }
        if self.count < n {
            self.refill();
        }
        let v = (self.acc >> (64 - n)) as i32;
        self.acc <<= n;
        self.count -= n;
        if v < 1 << (n - 1) {
            v - (1 << n) + 1
        } else {
            v
        }
    }

    #[inline]
    fn skip(&mut self, n: u32) {
        if self.count < n {
            self.refill();
        }
        self.acc <<= n;
        self.count -= n;
    }

    /// At a restart interval's end: the bits left are padding, and the reader has already met
    /// the marker (an interval ends less than a byte before it, and reads run up to 8 bytes
    /// ahead). Anything else is a corrupt stream.
    fn restart(&mut self, expected: u8) -> bool {
        if self.marker != Some(expected) {
            return false;
        }
        self.pos += 2;
        self.marker = None;
        self.acc = 0;
        self.count = 0;
        true
    }
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
    dc_table: usize,
    ac_table: usize,
}

/// Decodes `data` at 1/8 scale, or `None` for anything outside what this decoder handles (the
/// caller then uses a general decoder).
pub fn decode(data: &[u8]) -> Option<DcImage> {
    if data.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2;
    let mut quant = [[0u16; 64]; 4];
    let mut dc_tables: [Option<Huffman>; 4] = [None, None, None, None];
    let mut ac_tables: [Option<Huffman>; 4] = [None, None, None, None];
    let mut components: Vec<Component> = Vec::new();
    let (mut width, mut height) = (0usize, 0usize);
    let mut restart_interval = 0usize;
    loop {
        while *data.get(pos)? != 0xFF {
            pos += 1;
        }
        while *data.get(pos)? == 0xFF {
            pos += 1;
        }
        let marker = *data.get(pos)?;
        pos += 1;
        if marker == 0x00 {
            continue; // `FF 00` is no marker: junk, as for `jpeg_markers::layout` and decoders
        }
        let len = usize::from(u16::from_be_bytes([*data.get(pos)?, *data.get(pos + 1)?]));
        let segment = data.get(pos + 2..pos + len)?;
        match marker {
            0xDB => {
                let mut s = segment;
                while !s.is_empty() {
                    let (precision, id) = (s[0] >> 4, usize::from(s[0] & 15));
                    let table = quant.get_mut(id)?;
                    if precision == 0 {
                        table
                            .iter_mut()
                            .zip(s.get(1..65)?)
                            .for_each(|(q, &b)| *q = u16::from(b));
                        s = &s[65..];
                    } else {
                        let bytes = s.get(1..129)?;
                        for (q, pair) in table.iter_mut().zip(bytes.chunks_exact(2)) {
                            *q = u16::from_be_bytes([pair[0], pair[1]]);
                        }
                        s = &s[129..];
                    }
                }
            }
            0xC4 => {
                let mut s = segment;
                while !s.is_empty() {
                    let (class, id) = (s[0] >> 4, usize::from(s[0] & 15));
                    let counts: [u8; 16] = s.get(1..17)?.try_into().ok()?;
                    let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let table = Huffman::new(&counts, s.get(17..17 + n)?)?;
                    match class {
                        0 => *dc_tables.get_mut(id)? = Some(table),
                        1 => *ac_tables.get_mut(id)? = Some(table),
                        _ => return None,
                    }
                    s = &s[17 + n..];
                }
            }
            // Baseline and extended-Huffman sequential frames, 8-bit.
            0xC0 | 0xC1 => {
                // One frame: a second header would change the image under a scan already sized.
                if !components.is_empty() || *segment.first()? != 8 {
                    return None;
                }
                let dims = segment.get(1..5)?;
                height = usize::from(u16::from_be_bytes([dims[0], dims[1]]));
                width = usize::from(u16::from_be_bytes([dims[2], dims[3]]));
                let n = usize::from(*segment.get(5)?);
                if !(n == 1 || n == 3) || width == 0 || height == 0 {
                    return None;
                }
                for c in segment.get(6..6 + 3 * n)?.chunks_exact(3) {
                    let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
                    if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
                        return None;
                    }
                    components.push(Component {
                        id: c[0],
                        h,
                        v,
                        quant: usize::from(c[2]),
                        dc_table: 0,
                        ac_table: 0,
                    });
                }
            }
            // Progressive, lossless, arithmetic, hierarchical: not here.
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xDD => {
                restart_interval =
                    usize::from(u16::from_be_bytes([*segment.first()?, *segment.get(1)?]))
            }
            0xDA => {
                let n = usize::from(*segment.first()?);
                // One scan holding every component, in frame order: sequential baseline.
                if components.is_empty() || n != components.len() {
                    return None;
                }
                for (c, spec) in components
                    .iter_mut()
                    .zip(segment.get(1..1 + 2 * n)?.chunks_exact(2))
                {
                    if spec[0] != c.id {
                        return None;
                    }
                    c.dc_table = usize::from(spec[1] >> 4);
                    c.ac_table = usize::from(spec[1] & 15);
                }
                let entropy = data.get(pos + len..)?;
                return scan(
                    entropy,
                    width,
                    height,
                    &components,
                    &quant,
                    &dc_tables,
                    &ac_tables,
                    restart_interval,
                );
            }
            0xD9 => return None,
            _ => {}
        }
        pos += len;
    }
}

#[allow(clippy::too_many_arguments)]
fn scan(
    entropy: &[u8],
    width: usize,
    height: usize,
    components: &[Component],
    quant: &[[u16; 64]; 4],
    dc_tables: &[Option<Huffman>; 4],
    ac_tables: &[Option<Huffman>; 4],
    restart_interval: usize,
) -> Option<DcImage> {
    let h_max = components.iter().map(|c| c.h).max()?;
    let v_max = components.iter().map(|c| c.v).max()?;
    let mcus_x = width.div_ceil(8 * h_max);
    let mcus_y = height.div_ceil(8 * v_max);
    // One value per block: each component's plane of DC averages, in whole MCUs.
    let mut planes: Vec<Vec<u8>> = components
        .iter()
        .map(|c| vec![0u8; mcus_x * c.h * mcus_y * c.v])
        .collect();
    let tables: Vec<(&Huffman, &Huffman, i32)> = components
        .iter()
        .map(|c| {
            Some((
                dc_tables.get(c.dc_table)?.as_ref()?,
                ac_tables.get(c.ac_table)?.as_ref()?,
                i32::from(quant[c.quant][0]),
            ))
        })
        .collect::<Option<_>>()?;
    let mut bits = Bits::new(entropy);
    let mut pred = vec![0i32; components.len()];
    let mut until_restart = restart_interval;
    let mut next_rst = 0u8;
    for my in 0..mcus_y {
        for mx in 0..mcus_x {
            if restart_interval > 0 {
                if until_restart == 0 {
                    if !bits.restart(0xD0 + next_rst) {
                        return None;
                    }
                    next_rst = (next_rst + 1) & 7;
                    pred.iter_mut().for_each(|p| *p = 0);
                    until_restart = restart_interval;
                }
                until_restart -= 1;
            }
            for (ci, c) in components.iter().enumerate() {
                let (dc, ac, q0) = tables[ci];
                let stride = mcus_x * c.h;
                for by in 0..c.v {
                    for bx in 0..c.h {
                        let s = u32::from(bits.decode(dc)?);
                        if s > 11 {
                            return None;
                        }
                        pred[ci] += bits.receive_extend(s);
                        // Every AC coefficient decoded and dropped.
                        let mut k = 1;
                        while k < 64 {
                            let rs = bits.skip_ac(ac)?;
                            if rs & 15 == 0 {
                                if rs != 0xF0 {
                                    break;
                                }
                                k += 16;
                            } else {
                                k += usize::from(rs >> 4) + 1;
                            }
                        }
                        // The block's average: a 1/8-scale IDCT of the DC term alone.
                        let value = ((pred[ci] * q0 + 4) >> 3) + 128;
                        let (x, y) = (mx * c.h + bx, my * c.v + by);
                        planes[ci][y * stride + x] = value.clamp(0, 255) as u8;
                    }
                }
            }
        }
    }
    let (out_w, out_h) = (width.div_ceil(8), height.div_ceil(8));
    let mut rgb = vec![0u8; out_w * out_h * 3];
    let sample = |ci: usize, x: usize, y: usize| {
        let c = components.get(ci)?;
        // Block coordinates of this component under output pixel (x, y): nearest neighbour.
        let (cx, cy) = (x * c.h / h_max, y * c.v / v_max);
        planes.get(ci)?.get(cy * mcus_x * c.h + cx).copied()
    };
    for y in 0..out_h {
        for x in 0..out_w {
            let i = (y * out_w + x) * 3;
            let luma = i32::from(sample(0, x, y)?);
            if components.len() == 1 {
                rgb[i..i + 3].fill(luma as u8);
                continue;
            }
            let cb = i32::from(sample(1, x, y)?) - 128;
            let cr = i32::from(sample(2, x, y)?) - 128;
            // JFIF YCbCr → RGB, 16.16 fixed point.
            let r = luma + ((91_881 * cr + 32_768) >> 16);
            let g = luma - ((22_554 * cb + 46_802 * cr - 32_768) >> 16);
            let b = luma + ((116_130 * cb + 32_768) >> 16);
            rgb[i] = r.clamp(0, 255) as u8;
            rgb[i + 1] = g.clamp(0, 255) as u8;
            rgb[i + 2] = b.clamp(0, 255) as u8;
        }
    }
    Some(DcImage {
        width: out_w as u32,
        height: out_h as u32,
        rgb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::test_images::{camera_jpeg, photo_like_jpeg};

    /// The reference: jpeg-decoder's own 1/8-scale decode of the same file.
    fn reference(data: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut d = jpeg_decoder::Decoder::new(data);
        d.read_info().unwrap();
        let (w, h) = d.scale(1, 1).unwrap();
        let pixels = d.decode().unwrap();
        let rgb = match d.info().unwrap().pixel_format {
            jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
            _ => pixels,
        };
        (u32::from(w), u32::from(h), rgb)
    }

    fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / a.len() as f64
    }

    #[test]
    fn matches_a_general_decoders_eighth_scale_on_camera_like_photos() {
        for (name, file) in [
            ("quadrants 640x480", camera_jpeg(640, 480, 1, None, 90)),
            ("quadrants sideways", camera_jpeg(600, 410, 6, None, 75)),
            ("photo-like 1001x333", photo_like_jpeg(1001, 333, 1, 90)),
        ] {
            let ours = decode(&file).unwrap_or_else(|| panic!("{name}: decoded"));
            let (w, h, rgb) = reference(&file);
            assert_eq!((ours.width, ours.height), (w, h), "{name}");
            let diff = mean_abs_diff(&ours.rgb, &rgb);
            assert!(diff < 3.0, "{name}: mean difference {diff:.2}");
        }
    }

    #[test]
    fn grey_and_restart_intervals_decode_too() {
        let grey = image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(300, 200, |x, y| {
            image::Luma([((x + y) % 256) as u8])
        }));
        let mut file = Vec::new();
        grey.write_to(
            &mut std::io::Cursor::new(&mut file),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        let ours = decode(&file).unwrap();
        let (_, _, rgb) = reference(&file);
        assert!(mean_abs_diff(&ours.rgb, &rgb) < 2.0);

        let restarts = include_bytes!("../../tests/fixtures/restart-markers.jpg");
        assert!(
            restarts.windows(2).any(|w| w == [0xFF, 0xDD]),
            "the fixture has a DRI segment"
        );
        let ours = decode(restarts).expect("restart intervals are followed");
        // Pillow (libjpeg) saved the same picture with a restart marker every 3 MCUs and
        // without: the markers change nothing decoded.
        let plain = include_bytes!("../../tests/fixtures/no-restart-markers.jpg");
        assert_eq!(ours.rgb, decode(plain).unwrap().rgb);
        let (w, h, rgb) = reference(restarts);
        assert_eq!((ours.width, ours.height), (w, h));
        assert!(mean_abs_diff(&ours.rgb, &rgb) < 3.0);
    }

    #[test]
    fn corrupted_photos_never_panic() {
        let good = photo_like_jpeg(320, 240, 1, 85);
        let mut seed = 0x2545_F491u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize
        };
        for _ in 0..2000 {
            let mut bad = good.clone();
            for _ in 0..1 + next() % 8 {
                let at = next() % bad.len();
                bad[at] = next() as u8;
            }
            bad.truncate(bad.len() - next() % 64);
            // Anything but a panic: a picture of the right size, or None.
            if let Some(image) = decode(&bad) {
                assert_eq!(image.rgb.len(), (image.width * image.height * 3) as usize);
            }
        }
    }

    #[test]
    fn what_it_does_not_handle_is_none_never_a_panic() {
        let mut progressive = Vec::new();
        progressive.extend_from_slice(&[
            0xFF, 0xD8, 0xFF, 0xC2, 0, 11, 8, 0, 16, 0, 16, 1, 1, 0x11, 0,
        ]);
        assert!(decode(&progressive).is_none());
        let good = camera_jpeg(64, 64, 1, None, 90);
        for cut in [0, 2, 10, 100, good.len() / 2, good.len() - 3] {
            let _ = decode(&good[..cut]);
        }
        let mut corrupt = good.clone();
        let len = corrupt.len();
        for b in &mut corrupt[len / 2..len - 2] {
            *b = 0xA5;
        }
        let _ = decode(&corrupt);
        assert!(decode(b"not a jpeg").is_none());
    }
}
