//! Our JPEG readers against `jpeg-decoder` on the same bytes. The structure walk
//! (`jpeg_markers::layout`) must read the frame `jpeg-decoder` reads whenever both accept the
//! headers; the DC-only decoder (`jpeg_dc`) must produce the 1/8-scale size `jpeg-decoder`
//! produces whenever both decode. Ours may refuse more (a second frame, a scan bomb, a frame
//! header cut short), never read another image.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qdn_photos::pipeline::{jpeg_dc, jpeg_markers};

fuzz_target!(|data: &[u8]| {
    let mut reference = jpeg_decoder::Decoder::new(data);
    let theirs = reference.read_info().ok().and_then(|()| reference.info());
    if let (Ok(ours), Some(info)) = (jpeg_markers::layout(data), theirs) {
        assert_eq!(
            (ours.frame.width, ours.frame.height),
            (info.width, info.height),
            "the walk and jpeg-decoder read different frames"
        );
    }
    // Only inputs the pipeline would decode at all (inside the pixel budget).
    let Ok(layout) = jpeg_markers::layout(data) else {
        return;
    };
    if u64::from(layout.frame.width) * u64::from(layout.frame.height) > 4_000_000 {
        return;
    }
    if let Some(dc) = jpeg_dc::decode(data) {
        let mut scaled = jpeg_decoder::Decoder::new(data);
        if scaled.read_info().is_ok() {
            let w = layout.frame.width.div_ceil(8);
            let h = layout.frame.height.div_ceil(8);
            if let (Ok((sw, sh)), Ok(_)) = (scaled.scale(w, h), scaled.decode()) {
                assert_eq!((dc.width, dc.height), (u32::from(sw), u32::from(sh)));
            }
        }
    }
});
