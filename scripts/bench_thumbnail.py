"""The thumbnail anchors for `make bench`: one 12-megapixel camera-like scene (4032x3024, EXIF
orientation 6) saved as a baseline JPEG (quality 90) and as a progressive one (quality 85, libjpeg's
progression: DC first, ten scans), then sharp (libvips, concurrency 1) and Pillow (draft +
exif_transpose + thumbnail) making the same 320-px JPEG of each. Prints medians; the Rust side runs
in benches/thumbnail.rs on the same files (BENCH_PHOTO, BENCH_PROGRESSIVE_PHOTO).

    python scripts/bench_thumbnail.py target/bench/photo-12mp.jpg target/bench/photo-12mp-progressive.jpg [runs]
"""
import io
import json
import os
import statistics
import subprocess
import sys
import time

from PIL import Image, ImageOps


def camera_photo(path, **save):
    """Smooth scene-like gradients with sensor-like noise: compresses like a phone photo (~4 MB)."""
    w, h = 4032, 3024
    base = Image.linear_gradient("L").resize((w, h))
    red = base
    green = base.rotate(90, expand=False).resize((w, h))
    blue = Image.radial_gradient("L").resize((w, h))
    scene = Image.merge("RGB", (red, green, blue))
    noise = Image.effect_noise((w, h), 24).convert("RGB")
    photo = Image.blend(scene, noise, 0.30)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    exif[0x0110] = "QDN Bench Camera"
    photo.save(path, "JPEG", exif=exif.tobytes(), **save)


def pillow_thumbnail(data):
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (320, 320))
    image = ImageOps.exif_transpose(image)
    image.thumbnail((320, 320))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


SHARP = """
const sharp = require('sharp');
sharp.concurrency(1);
sharp.cache(false);
const data = require('fs').readFileSync(process.argv[1]);
const runs = Number(process.argv[2]);
(async () => {
  const times = [];
  for (let i = 0; i < runs + 2; i++) {
    const t = process.hrtime.bigint();
    await sharp(data).rotate().resize(320, 320, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer();
    if (i >= 2) times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ median_ms: times[times.length >> 1], rss_mb: process.resourceUsage().maxRSS / 1024 }));
})();
"""


def bench(path, runs):
    data = open(path, "rb").read()
    print(f"photo: {path}, {len(data)} bytes, 4032x3024, EXIF orientation 6")
    for _ in range(2):
        pillow_thumbnail(data)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        pillow_thumbnail(data)
        times.append((time.perf_counter() - t) * 1000)
    print(f"  Pillow {Image.__version__}: median {statistics.median(times):.1f} ms over {runs}")

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(["node", "-e", SHARP, path, str(runs)], cwd=root, check=True,
                         capture_output=True, text=True).stdout
    sharp = json.loads(out)
    print(f"  sharp (libvips, concurrency 1): median {sharp['median_ms']:.1f} ms over {runs}, "
          f"peak RSS {sharp['rss_mb']:.0f} MB (node included)")


def main():
    baseline, progressive = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    for path, save in ((baseline, {"quality": 90}), (progressive, {"quality": 85, "progressive": True})):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        if not os.path.exists(path):
            camera_photo(path, **save)
        bench(path, runs)


if __name__ == "__main__":
    main()
