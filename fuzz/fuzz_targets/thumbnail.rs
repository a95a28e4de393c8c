//! The pipeline's whole thumbnail step on arbitrary bytes, as each image type the service
//! stores (the first byte picks it): never a panic, and, run by scripts/fuzz.sh with libFuzzer's
//! `-rss_limit_mb=256 -timeout=2`, never past issue 22's budgets (256 MB, 2 s) on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qdn_photos::domain::image_type::ImageType;
use qdn_photos::pipeline::thumbnail::{make, ThumbnailSpec};

const DECODED: [ImageType; 4] = [
    ImageType::Jpeg,
    ImageType::Png,
    ImageType::Gif,
    ImageType::Webp,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let kind = DECODED[usize::from(pick) % DECODED.len()];
    let orientation = u16::from(pick / 4 % 9);
    if let Ok(thumb) = make(bytes, kind, orientation, &ThumbnailSpec::DEFAULT) {
        assert!(thumb.width.max(thumb.height) <= ThumbnailSpec::DEFAULT.max_edge);
        assert!(thumb.jpeg.starts_with(&[0xFF, 0xD8]));
    }
});
