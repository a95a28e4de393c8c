//! The checked-in hostile corpus, `tests/hostile/`: the review's files, written by
//! `qdn-photos hostile-corpus tests/hostile` from their definitions (`dev::hostile_images`). The
//! files are what the fuzzers start from and what `make bench` measures the release binary on;
//! here each must be exactly what its definition builds, and be refused by the pipeline.

use std::path::Path;

use qdn_photos::dev::hostile_images::corpus;
use qdn_photos::domain::image_type::ImageType;
use qdn_photos::pipeline::thumbnail::{make, ThumbnailSpec};

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile"))
}

#[test]
fn the_checked_in_corpus_is_what_its_definitions_build() {
    let built = corpus();
    for (name, bytes) in &built {
        let on_disk = std::fs::read(dir().join(name))
            .unwrap_or_else(|_| panic!("{name}: run qdn-photos hostile-corpus tests/hostile"));
        assert!(on_disk == *bytes, "{name} differs from its definition");
    }
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<String> = built.iter().map(|(n, _)| (*n).to_owned()).collect();
    expected.sort();
    assert_eq!(names, expected, "every file has a definition");
}

#[test]
fn every_checked_in_hostile_file_is_refused_by_the_pipeline() {
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let ext = path.extension().unwrap().to_str().unwrap();
        let kind = ImageType::by_ext(ext).unwrap();
        let refused = make(&bytes, kind, 1, &ThumbnailSpec::DEFAULT).unwrap_err();
        assert!(refused.outcome().is_err(), "{}: {refused}", path.display());
    }
}
