//! The pipeline's thumbnail of a 12-megapixel camera photo (4032×3024, EXIF orientation 6) to a
//! 320-px JPEG, saved baseline (quality 90) and progressive (quality 85): decode at 1/8 in the DCT
//! domain, turn upright, fit, encode. `make bench` runs sharp (libvips) and Pillow on the same
//! files beside it (scripts/bench_thumbnail.py).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use qdn_photos::dev::test_images::photo_like_jpeg;
use qdn_photos::domain::image_type::ImageType;
use qdn_photos::pipeline::thumbnail::{make, ThumbnailSpec};

fn thumbnail(c: &mut Criterion) {
    let baseline = match std::env::var("BENCH_PHOTO") {
        Ok(path) => std::fs::read(path).expect("BENCH_PHOTO is readable"),
        Err(_) => photo_like_jpeg(4032, 3024, 6, 90),
    };
    let mut photos = vec![("baseline", baseline)];
    if let Ok(path) = std::env::var("BENCH_PROGRESSIVE_PHOTO") {
        let file = std::fs::read(path).expect("BENCH_PROGRESSIVE_PHOTO is readable");
        photos.push(("progressive", file));
    }
    let spec = ThumbnailSpec::DEFAULT;
    let jpeg = ImageType::by_ext("jpg").unwrap();
    let mut group = c.benchmark_group("thumbnail");
    group.sample_size(20);
    // The pipeline hashes every version it reads whole (the record's SHA-256).
    group.bench_function("SHA-256 of the baseline photo", |b| {
        b.iter(|| qdn_photos::domain::content_hash::ContentHash::of(black_box(&photos[0].1)))
    });
    for (kind, photo) in &photos {
        group.bench_function(
            format!("ours, 12 MP {kind} JPEG ({} bytes) to 320 px", photo.len()),
            |b| b.iter(|| make(black_box(photo), jpeg, 6, &spec).unwrap()),
        );
        // The decode alone: ours (DC coefficients only: a baseline's AC coefficients
        // entropy-decoded and dropped, a progressive's AC scans skipped unread) beside
        // jpeg-decoder's 1/8-scale decode.
        group.bench_function(format!("decode only, {kind}: ours, DC-only at 1/8"), |b| {
            b.iter(|| qdn_photos::pipeline::jpeg_dc::decode(black_box(photo)).unwrap())
        });
        group.bench_function(format!("decode only, {kind}: jpeg-decoder at 1/8"), |b| {
            b.iter(|| {
                let mut d = jpeg_decoder::Decoder::new(black_box(&photo[..]));
                d.scale(320, 320).unwrap();
                d.decode().unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, thumbnail);
criterion_main!(benches);
