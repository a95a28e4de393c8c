//! A JPEG decoded at 1/8 scale from its DC coefficients alone: one pixel per 8×8 block, the
//! block's average, which is exactly what a 1/8-scale IDCT computes.
//!
//! - **Baseline** (SOF0/SOF1, one interleaved scan): every AC coefficient must still be
//!   entropy-decoded (Huffman codes carry no lengths of their own), but none is dequantized,
//!   transformed or stored: what remains is the entropy-decoding floor of a JPEG.
//! - **Progressive** (SOF2): the DC coefficients travel in scans of their own (a first scan and
//!   successive-approximation refinements, a bit per block). Only those are decoded; an AC scan
//!   is skipped to its end without decoding a bit, so however many AC scans a file has, they
//!   cost a byte search. What phones and encoders write puts the DC scans first.
//!
//! 8-bit Huffman frames of 1 or 3 components, any sampling factors, restart intervals. Anything
//! else (arithmetic coding, lossless, CMYK, 12-bit) is `None`, and the caller falls back to a
//! general decoder. No `unsafe`.

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

    /// One raw bit (a DC refinement).
    #[inline]
    fn bit(&mut self) -> bool {
        if self.count < 1 {
            self.refill();
        }
        let set = self.acc >> 63 == 1;
        self.acc <<= 1;
        self.count -= 1;
        set
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

/// The block grid of a frame: whole MCUs across and down, and the largest sampling factors.
#[derive(Clone, Copy)]
struct Grid {
    width: usize,
    height: usize,
    mcus_x: usize,
    mcus_y: usize,
    h_max: usize,
    v_max: usize,
}

impl Grid {
    fn new(width: usize, height: usize, components: &[Component]) -> Option<Grid> {
        let h_max = components.iter().map(|c| c.h).max()?;
        let v_max = components.iter().map(|c| c.v).max()?;
        Some(Grid {
            width,
            height,
            mcus_x: width.div_ceil(8 * h_max),
            mcus_y: height.div_ceil(8 * v_max),
            h_max,
            v_max,
        })
    }

    /// Blocks per row of a component's plane (whole MCUs: what an interleaved scan covers).
    fn stride(&self, c: &Component) -> usize {
        self.mcus_x * c.h
    }

    fn plane_len(&self, c: &Component) -> usize {
        self.stride(c) * self.mcus_y * c.v
    }

    /// The blocks a scan of `c` alone covers: its own samples, not whole MCUs (T.81 A.2.2).
    fn own_blocks(&self, c: &Component) -> (usize, usize) {
        (
            (self.width * c.h).div_ceil(self.h_max).div_ceil(8),
            (self.height * c.v).div_ceil(self.v_max).div_ceil(8),
        )
    }
}

/// Past this a frame is no photo (the pipeline's own budget is far lower); refused before any
/// plane is sized from it.
const MAX_PIXELS: usize = 1 << 28;

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
    let mut grid: Option<Grid> = None;
    let mut progressive = false;
    // A progressive frame's DC coefficients, per component, as its scans fill them in.
    let mut coefficients: Vec<Vec<i32>> = Vec::new();
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
        if marker == 0xD9 {
            // The end of the image: a progressive frame is complete; a baseline one never got here.
            let grid = grid.filter(|_| progressive)?;
            let planes = components
                .iter()
                .zip(&coefficients)
                .map(|(c, plane)| {
                    let q0 = i32::from(quant[c.quant][0]);
                    plane.iter().map(|&dc| block_average(dc, q0)).collect()
                })
                .collect::<Vec<Vec<u8>>>();
            return to_rgb(&planes, &components, grid);
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
            // Baseline, extended-Huffman sequential and progressive Huffman frames, 8-bit.
            0xC0..=0xC2 => {
                // One frame: a second header would change the image under a scan already sized.
                if !components.is_empty() || *segment.first()? != 8 {
                    return None;
                }
                components = frame_components(segment)?;
                let dims = segment.get(1..5)?;
                let height = usize::from(u16::from_be_bytes([dims[0], dims[1]]));
                let width = usize::from(u16::from_be_bytes([dims[2], dims[3]]));
                if width == 0 || height == 0 || width * height > MAX_PIXELS {
                    return None;
                }
                let frame = Grid::new(width, height, &components)?;
                progressive = marker == 0xC2;
                if progressive {
                    coefficients = components
                        .iter()
                        .map(|c| vec![0; frame.plane_len(c)])
                        .collect();
                }
                grid = Some(frame);
            }
            // Lossless, arithmetic, hierarchical: not here.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xDD => {
                restart_interval =
                    usize::from(u16::from_be_bytes([*segment.first()?, *segment.get(1)?]))
            }
            0xDA => {
                let grid = grid?;
                let n = usize::from(*segment.first()?);
                let selectors = segment.get(1..1 + 2 * n)?;
                let start = pos + len;
                if !progressive {
                    // One scan holding every component, in frame order: sequential baseline.
                    if n != components.len() {
                        return None;
                    }
                    for (c, spec) in components.iter_mut().zip(selectors.chunks_exact(2)) {
                        if spec[0] != c.id {
                            return None;
                        }
                        c.dc_table = usize::from(spec[1] >> 4);
                        c.ac_table = usize::from(spec[1] & 15);
                    }
                    return baseline_scan(
                        data.get(start..)?,
                        grid,
                        &components,
                        &quant,
                        &dc_tables,
                        &ac_tables,
                        restart_interval,
                    );
                }
                let end = scan_end(data, start);
                let &[ss, se, approximation] = segment.get(1 + 2 * n..4 + 2 * n)? else {
                    return None;
                };
                // An AC scan (Ss > 0) is passed over unread: the 1/8 scale needs none of it.
                if ss == 0 {
                    if se != 0 {
                        return None;
                    }
                    // Its components, by index into the frame, in frame order.
                    let mut in_scan = Vec::with_capacity(n);
                    for spec in selectors.chunks_exact(2) {
                        let ci = components.iter().position(|c| c.id == spec[0])?;
                        if in_scan.last().is_some_and(|&last| last >= ci) {
                            return None;
                        }
                        components[ci].dc_table = usize::from(spec[1] >> 4);
                        in_scan.push(ci);
                    }
                    let pass = DcPass {
                        refine: approximation >> 4 != 0,
                        shift: u32::from(approximation & 15).min(13),
                    };
                    dc_scan(
                        data.get(start..end)?,
                        grid,
                        &components,
                        &in_scan,
                        &dc_tables,
                        restart_interval,
                        pass,
                        &mut coefficients,
                    )?;
                }
                pos = end;
                continue;
            }
            _ => {}
        }
        pos += len;
    }
}

/// A frame header's components: 1 (grey) or 3 (YCbCr), sampling factors 1 to 4.
fn frame_components(segment: &[u8]) -> Option<Vec<Component>> {
    let n = usize::from(*segment.get(5)?);
    if !(n == 1 || n == 3) {
        return None;
    }
    segment
        .get(6..6 + 3 * n)?
        .chunks_exact(3)
        .map(|c| {
            let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
            ((1..=4).contains(&h) && (1..=4).contains(&v) && c[2] <= 3).then_some(Component {
                id: c[0],
                h,
                v,
                quant: usize::from(c[2]),
                dc_table: 0,
                ac_table: 0,
            })
        })
        .collect()
}

/// Where the entropy-coded data that starts at `start` ends: the first marker that is neither a
/// stuffed `FF 00` nor a restart (`RSTn`); the data's end if there is none.
fn scan_end(data: &[u8], start: usize) -> usize {
    let Some(rest) = data.get(start..) else {
        return data.len();
    };
    for at in memchr::memchr_iter(0xFF, rest) {
        match rest.get(at + 1) {
            Some(0x00 | 0xD0..=0xD7) => {}
            _ => return start + at,
        }
    }
    data.len()
}

/// The block's average: a 1/8-scale IDCT of the DC term alone.
#[inline]
fn block_average(dc: i32, q0: i32) -> u8 {
    (dc.wrapping_mul(q0).wrapping_add(4) >> 3)
        .wrapping_add(128)
        .clamp(0, 255) as u8
}

/// Which pass over the DC coefficients a progressive scan is (T.81 G.1.2.1).
#[derive(Clone, Copy)]
struct DcPass {
    /// A refinement: one more bit of each coefficient; else the first pass, Huffman-coded.
    refine: bool,
    /// The successive-approximation bit position (`Al`).
    shift: u32,
}

/// One progressive DC scan of the components `in_scan`, into `coefficients`.
#[allow(clippy::too_many_arguments)]
fn dc_scan(
    entropy: &[u8],
    grid: Grid,
    components: &[Component],
    in_scan: &[usize],
    dc_tables: &[Option<Huffman>; 4],
    restart_interval: usize,
    pass: DcPass,
    coefficients: &mut [Vec<i32>],
) -> Option<()> {
    let tables = in_scan
        .iter()
        .map(|&ci| match pass.refine {
            true => Some(None),
            false => dc_tables.get(components[ci].dc_table)?.as_ref().map(Some),
        })
        .collect::<Option<Vec<Option<&Huffman>>>>()?;
    let mut bits = Bits::new(entropy);
    let mut pred = vec![0i32; in_scan.len()];
    let mut restarts = Restarts::new(restart_interval);
    let mut block = |bits: &mut Bits, pred: &mut [i32], k: usize, index: usize| -> Option<()> {
        let coefficient = coefficients.get_mut(in_scan[k])?.get_mut(index)?;
        match tables[k] {
            Some(table) => {
                let s = u32::from(bits.decode(table)?);
                if s > 11 {
                    return None;
                }
                pred[k] = pred[k].wrapping_add(bits.receive_extend(s));
                *coefficient = pred[k].wrapping_shl(pass.shift);
            }
            None => {
                if bits.bit() {
                    *coefficient |= 1 << pass.shift;
                }
            }
        }
        Some(())
    };
    if let [ci] = *in_scan {
        // One component: its own blocks in raster order, each an MCU.
        let c = &components[ci];
        let (blocks_x, blocks_y) = grid.own_blocks(c);
        let stride = grid.stride(c);
        for y in 0..blocks_y {
            for x in 0..blocks_x {
                restarts.next(&mut bits, &mut pred)?;
                block(&mut bits, &mut pred, 0, y * stride + x)?;
            }
        }
        return Some(());
    }
    for my in 0..grid.mcus_y {
        for mx in 0..grid.mcus_x {
            restarts.next(&mut bits, &mut pred)?;
            for (k, &ci) in in_scan.iter().enumerate() {
                let c = &components[ci];
                let stride = grid.stride(c);
                for by in 0..c.v {
                    for bx in 0..c.h {
                        block(
                            &mut bits,
                            &mut pred,
                            k,
                            (my * c.v + by) * stride + mx * c.h + bx,
                        )?;
                    }
                }
            }
        }
    }
    Some(())
}

/// Restart intervals: after every `interval` MCUs the data must show the next `RSTn`, and each
/// component's DC prediction starts again from 0.
struct Restarts {
    interval: usize,
    left: usize,
    next_marker: u8,
}

impl Restarts {
    fn new(interval: usize) -> Self {
        Restarts {
            interval,
            left: interval,
            next_marker: 0,
        }
    }

    /// Before each MCU: `None` where a restart was due and its marker is not there.
    #[inline]
    fn next(&mut self, bits: &mut Bits, pred: &mut [i32]) -> Option<()> {
        if self.interval == 0 {
            return Some(());
        }
        if self.left == 0 {
            if !bits.restart(0xD0 + self.next_marker) {
                return None;
            }
            self.next_marker = (self.next_marker + 1) & 7;
            pred.iter_mut().for_each(|p| *p = 0);
            self.left = self.interval;
        }
        self.left -= 1;
        Some(())
    }
}

fn baseline_scan(
    entropy: &[u8],
    grid: Grid,
    components: &[Component],
    quant: &[[u16; 64]; 4],
    dc_tables: &[Option<Huffman>; 4],
    ac_tables: &[Option<Huffman>; 4],
    restart_interval: usize,
) -> Option<DcImage> {
    // One value per block: each component's plane of DC averages, in whole MCUs.
    let mut planes: Vec<Vec<u8>> = components
        .iter()
        .map(|c| vec![0u8; grid.plane_len(c)])
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
    let mut restarts = Restarts::new(restart_interval);
    for my in 0..grid.mcus_y {
        for mx in 0..grid.mcus_x {
            restarts.next(&mut bits, &mut pred)?;
            for (ci, c) in components.iter().enumerate() {
                let (dc, ac, q0) = tables[ci];
                let stride = grid.stride(c);
                for by in 0..c.v {
                    for bx in 0..c.h {
                        let s = u32::from(bits.decode(dc)?);
                        if s > 11 {
                            return None;
                        }
                        pred[ci] = pred[ci].wrapping_add(bits.receive_extend(s));
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
                        let (x, y) = (mx * c.h + bx, my * c.v + by);
                        planes[ci][y * stride + x] = block_average(pred[ci], q0);
                    }
                }
            }
        }
    }
    to_rgb(&planes, components, grid)
}

/// Each component's plane of block averages → RGB at 1/8 scale (chroma by nearest neighbour).
fn to_rgb(planes: &[Vec<u8>], components: &[Component], grid: Grid) -> Option<DcImage> {
    let (out_w, out_h) = (grid.width.div_ceil(8), grid.height.div_ceil(8));
    let mut rgb = vec![0u8; out_w * out_h * 3];
    let sample = |ci: usize, x: usize, y: usize| {
        let c = components.get(ci)?;
        // Block coordinates of this component under output pixel (x, y): nearest neighbour.
        let (cx, cy) = (x * c.h / grid.h_max, y * c.v / grid.v_max);
        planes.get(ci)?.get(cy * grid.stride(c) + cx).copied()
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

    const PROGRESSIVE: [(&str, &[u8]); 4] = [
        (
            "libjpeg-turbo 4:2:0",
            include_bytes!("../../tests/fixtures/progressive-420.jpg"),
        ),
        (
            "mozjpeg 4:4:4",
            include_bytes!("../../tests/fixtures/progressive-444-mozjpeg.jpg"),
        ),
        (
            "grey (non-interleaved DC scans)",
            include_bytes!("../../tests/fixtures/progressive-grey.jpg"),
        ),
        (
            "restart every 5 MCUs",
            include_bytes!("../../tests/fixtures/progressive-restart.jpg"),
        ),
    ];

    #[test]
    fn progressive_photos_match_a_general_decoders_eighth_scale() {
        for (name, file) in PROGRESSIVE {
            let ours = decode(file).unwrap_or_else(|| panic!("{name}: decoded"));
            let (w, h, rgb) = reference(file);
            assert_eq!((ours.width, ours.height), (w, h), "{name}");
            let diff = mean_abs_diff(&ours.rgb, &rgb);
            assert!(diff < 3.0, "{name}: mean difference {diff:.2}");
        }
    }

    #[test]
    fn a_progressive_photo_decodes_to_exactly_its_baseline_twins_pixels() {
        // Pillow (libjpeg-turbo) saved one picture both ways at the same quality: the same
        // quantized coefficients, sent in one scan or in ten (DC in two passes, Al 1 then 0).
        for (name, progressive, baseline) in [
            (
                "4:2:0",
                PROGRESSIVE[0].1,
                &include_bytes!("../../tests/fixtures/baseline-420.jpg")[..],
            ),
            (
                "grey",
                PROGRESSIVE[2].1,
                &include_bytes!("../../tests/fixtures/baseline-grey.jpg")[..],
            ),
            ("restarts", PROGRESSIVE[3].1, PROGRESSIVE[0].1),
        ] {
            assert_eq!(
                decode(progressive).unwrap().rgb,
                decode(baseline).unwrap().rgb,
                "{name}"
            );
        }
    }

    /// Every scan of `file` with Ss > 0, as (start, end) of its entropy-coded data.
    fn ac_scans(file: &[u8]) -> Vec<(usize, usize)> {
        let layout = crate::pipeline::jpeg_markers::layout(file).unwrap();
        assert!(layout.entropy_bytes > 0);
        let mut scans = Vec::new();
        let mut pos = 2;
        while pos + 4 <= file.len() {
            let marker = file[pos + 1];
            if marker == 0xD9 {
                break;
            }
            let len = usize::from(u16::from_be_bytes([file[pos + 2], file[pos + 3]]));
            let next = pos + 2 + len;
            if marker == 0xDA {
                let n = usize::from(file[pos + 4]);
                let end = scan_end(file, next);
                if file[pos + 5 + 2 * n] > 0 {
                    scans.push((next, end));
                }
                pos = end;
            } else {
                pos = next;
            }
        }
        scans
    }

    #[test]
    fn a_progressive_photos_ac_scans_are_never_decoded() {
        for (name, file) in PROGRESSIVE {
            let scans = ac_scans(file);
            assert!(scans.len() >= 3, "{name}: {} AC scans", scans.len());
            // Their data overwritten with bytes no Huffman table decodes sensibly: the same picture.
            let mut garbled = file.to_vec();
            for (start, end) in scans {
                garbled[start..end].fill(0x5A);
            }
            assert_eq!(
                decode(&garbled).unwrap().rgb,
                decode(file).unwrap().rgb,
                "{name}"
            );
        }
    }

    /// `rounds` copies of `good`, each with a few random bytes changed and its end cut: anything
    /// but a panic, a picture of the right size or `None`.
    fn mutants_never_panic(good: &[u8], rounds: usize, mut seed: u32) {
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize
        };
        for _ in 0..rounds {
            let mut bad = good.to_vec();
            for _ in 0..1 + next() % 8 {
                let at = next() % bad.len();
                bad[at] = next() as u8;
            }
            bad.truncate(bad.len() - next() % 64);
            if let Some(image) = decode(&bad) {
                assert_eq!(image.rgb.len(), (image.width * image.height * 3) as usize);
            }
        }
    }

    #[test]
    fn corrupted_progressive_photos_never_panic() {
        for (_, good) in PROGRESSIVE {
            mutants_never_panic(good, 500, 0x1234_5678);
        }
    }

    #[test]
    fn corrupted_photos_never_panic() {
        mutants_never_panic(&photo_like_jpeg(320, 240, 1, 85), 2000, 0x2545_F491);
    }

    #[test]
    fn what_it_does_not_handle_is_none_never_a_panic() {
        // A progressive frame header and nothing after it.
        let progressive = [
            0xFF, 0xD8, 0xFF, 0xC2, 0, 11, 8, 0, 16, 0, 16, 1, 1, 0x11, 0,
        ];
        assert!(decode(&progressive).is_none());
        let mut lossless = progressive;
        lossless[3] = 0xC3;
        assert!(decode(&lossless).is_none());
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
