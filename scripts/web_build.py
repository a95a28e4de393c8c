"""Builds the capture page for one deployment: web/ plus the two things only a deploy knows.

    python3 scripts/web_build.py --api https://api.quickdumpnow.com \
        --bucket-origin https://qdn-uploads.s3.us-east-1.amazonaws.com --out target/web

- qdn-capture.config.js: the API base and the bucket's origin. The module reads nothing else to
  find them, so no page URL can point it (and its bearer token) at another server.
- index.html's Content-Security-Policy: scripts, styles and the service worker from the page's own
  origin only, network connections to the API and the bucket only, images from the bucket only.
- sw.js: the file list it keeps for offline use, and a version that changes with any file.

Both addresses must be plain http(s) origins (the API may add a path): anything that could close
a CSP directive or a JavaScript string is refused rather than escaped.
"""
import argparse
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "web"
HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])"
ORIGIN = re.compile(rf"^(https?://{HOST}(?::[0-9]{{1,5}})?)$")
API = re.compile(rf"^(https?://{HOST}(?::[0-9]{{1,5}})?)((?:/[A-Za-z0-9._~-]+)*)/?$")
# Files the page needs; the example config is documentation, not part of a deployment.
SKIP = {"qdn-capture.config.example.js"}


def origin_of(value, pattern, what):
    match = pattern.match(value)
    if not match:
        raise ValueError(f"{what} must be an http(s) origin like https://host[:port], got {value!r}")
    return match


def content_security_policy(api_origin, bucket_origin):
    connect = api_origin if api_origin == bucket_origin else f"{api_origin} {bucket_origin}"
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {bucket_origin}",
        f"connect-src {connect}",
        "worker-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
        # No HTML or script URL from strings: the page builds its DOM with DOM calls, and the one
        # policy (demo.js) admits sw.js and nothing else.
        "require-trusted-types-for 'script'",
        "trusted-types qdn-capture-sw",
    ])


def build(api, bucket_origin, out):
    api_match = origin_of(api, API, "--api")
    api_base = api_match.group(1) + api_match.group(2)
    bucket = origin_of(bucket_origin, ORIGIN, "--bucket-origin").group(1)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    files = sorted(p for p in WEB.rglob("*") if p.is_file() and p.name not in SKIP)
    for src in files:
        dest = out / src.relative_to(WEB)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    config = {"api": api_base, "bucketOrigin": bucket}
    (out / "qdn-capture.config.js").write_text(
        "// Written by scripts/web_build.py for this deployment.\n"
        f"export default {json.dumps(config, indent=2)};\n"
    )
    index = out / "index.html"
    index.write_text(index.read_text().replace("__CSP__", content_security_policy(api_match.group(1), bucket)))
    shell = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "sw.js")
    digest = hashlib.sha256()
    for name in shell:
        digest.update(name.encode() + b"\0" + (out / name).read_bytes())
    sw = out / "sw.js"
    sw.write_text(
        sw.read_text()
        .replace("__VERSION__", f"qdn-capture-{digest.hexdigest()[:16]}")
        .replace("__SHELL__", json.dumps(["./"] + shell))
    )
    return config


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", required=True, help="the API's base URL, e.g. https://api.quickdumpnow.com")
    parser.add_argument("--bucket-origin", required=True, help="where browsers reach the bucket")
    parser.add_argument("--out", required=True, help="the folder to write (replaced)")
    args = parser.parse_args(argv)
    try:
        config = build(args.api, args.bucket_origin, args.out)
    except ValueError as err:
        sys.exit(f"web_build: {err}")
    print(f"web_build: {args.out} for API {config['api']}, bucket {config['bucketOrigin']}")


if __name__ == "__main__":
    main(sys.argv[1:])
