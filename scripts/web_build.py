"""Builds the capture page for one deployment: web/ plus the two things only a deploy knows.

    python3 scripts/web_build.py --api https://api.quickdumpnow.com \
        --bucket-origin https://qdn-uploads.s3.us-east-1.amazonaws.com --out target/web

- qdn-capture.config.js: the API base and the bucket's origin. The module reads nothing else to
  find them, so no page URL can point it (and its bearer token) at another server.
- index.html's Content-Security-Policy: scripts, styles and the service worker from the page's own
  origin only, network connections to the API and the bucket only, images from the bucket only.
- sw.js: the file list it keeps for offline use, and a version that changes with any file.
- Content-named files for CDNs that cache hard (QDN's dashboard is behind CloudFront): every module
  and stylesheet is written as `name.HASH.ext`, its imports rewritten to its dependencies' new names,
  so a change gives new names down to the entry module and nothing needs invalidating. Files of
  earlier builds in --out are kept: pages still holding the old names keep working.
  `qdn-capture.snippet.html` is what the dashboard pastes: the stylesheet and an import map naming
  `qdn-capture` (so the dashboard's `import { mountCapture } from "qdn-capture"` never changes),
  with Subresource Integrity hashes (sha384) for every file; `qdn-capture.manifest.json` lists them.
  Only index.html, sw.js and those two keep fixed names (serve them `no-cache`).

Both addresses must be plain http(s) origins (the API may add a path): anything that could close
a CSP directive or a JavaScript string is refused rather than escaped.
"""
import argparse
import base64
import hashlib
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "web"
HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])"
ORIGIN = re.compile(rf"^(https?://{HOST}(?::[0-9]{{1,5}})?)$")
API = re.compile(rf"^(https?://{HOST}(?::[0-9]{{1,5}})?)((?:/[A-Za-z0-9._~-]+)*)/?$")
# Files the page needs; the example config is documentation, not part of a deployment.
SKIP = {"qdn-capture.config.example.js"}
# Fixed names: the page, its service worker (registered by URL), and what the dashboard pastes.
FIXED = {"index.html", "sw.js"}
SNIPPET = "qdn-capture.snippet.html"
MANIFEST = "qdn-capture.manifest.json"
# A relative module specifier: `from "./x.js"` (also across lines, `} from "./x.js"`).
IMPORT = re.compile(r"""(\bfrom\s*)(["'])(\.{1,2}/[^"']+)\2""")
# The demo page's own references: href="qdn-capture.css", src="demo.js".
HTML_REF = re.compile(r"""((?:href|src)=")([A-Za-z0-9_./-]+\.(?:js|css))(")""")


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


def integrity(data):
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def content_named(root):
    """Renames each module and stylesheet under `root` to `name.HASH.ext`, dependencies first, with
    the relative imports that name them rewritten; returns {old path: new path} (relative)."""
    renamed = {}
    pending = {p.relative_to(root).as_posix(): p for p in root.rglob("*")
               if p.is_file() and p.suffix in (".js", ".css") and p.name not in FIXED}

    def target(path, spec):
        return (path.parent / spec).resolve().relative_to(root.resolve()).as_posix()

    def deps(path):
        return {target(path, m.group(3)) for m in IMPORT.finditer(path.read_text())} if path.suffix == ".js" else set()

    while pending:
        ready = [name for name, path in pending.items() if not deps(path) & set(pending)]
        if not ready:
            raise ValueError(f"an import cycle among {sorted(pending)}")
        for name in sorted(ready):
            path = pending.pop(name)

            def renamed_spec(m):
                new = renamed.get(target(path, m.group(3)))
                if new is None:
                    raise ValueError(f"{name} imports {m.group(3)}, which is not part of the page")
                return m.group(1) + m.group(2) + m.group(3).rsplit("/", 1)[0] + "/" + new.rsplit("/", 1)[-1] + m.group(2)

            text = IMPORT.sub(renamed_spec, path.read_text()) if path.suffix == ".js" else path.read_text()
            digest = hashlib.sha256(text.encode()).hexdigest()[:12]
            new_path = path.with_name(f"{path.stem}.{digest}{path.suffix}")
            new_path.write_text(text)
            path.unlink()
            renamed[name] = new_path.relative_to(root).as_posix()
    return renamed


def snippet(files, base_url):
    """What the dashboard pastes: the stylesheet and the import map, each file with its SRI hash."""
    at = (base_url.rstrip("/") + "/") if base_url else "./"
    modules = {at + new: sri for old, (new, sri) in files.items() if new.endswith(".js") and old != "demo.js"}
    css = files["qdn-capture.css"]
    imports = {"imports": {"qdn-capture": at + files["qdn-capture.js"][0]}, "integrity": modules}
    return (
        "<!-- qdn-capture (scripts/web_build.py): paste into the page; then\n"
        "     import { mountCapture } from \"qdn-capture\"; (docs/capture.md) -->\n"
        f'<link rel="stylesheet" href="{at}{css[0]}" integrity="{css[1]}" crossorigin="anonymous">\n'
        f'<script type="importmap">{json.dumps(imports, indent=2)}</script>\n'
        + "".join(f'<link rel="modulepreload" href="{url}" integrity="{sri}" crossorigin="anonymous">\n'
                  for url, sri in sorted(modules.items()))
    )


def build(api, bucket_origin, out, base_url="", source=WEB):
    api_match = origin_of(api, API, "--api")
    api_base = api_match.group(1) + api_match.group(2)
    bucket = origin_of(bucket_origin, ORIGIN, "--bucket-origin").group(1)
    if base_url:
        origin_of(base_url, API, "--base-url")
    final = Path(out)
    # Built apart, then added to --out: an earlier build's content-named files stay valid.
    out = Path(tempfile.mkdtemp(prefix="web_build-"))
    files = sorted(p for p in Path(source).rglob("*") if p.is_file() and p.name not in SKIP)
    for src in files:
        dest = out / src.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    config = {"api": api_base, "bucketOrigin": bucket}
    (out / "qdn-capture.config.js").write_text(
        "// Written by scripts/web_build.py for this deployment.\n"
        f"export default {json.dumps(config, indent=2)};\n"
    )
    renamed = content_named(out)
    index = out / "index.html"
    html = index.read_text().replace("__CSP__", content_security_policy(api_match.group(1), bucket))
    index.write_text(HTML_REF.sub(lambda m: m.group(1) + renamed.get(m.group(2), m.group(2)) + m.group(3), html))
    named = {old: (new, integrity((out / new).read_bytes())) for old, new in renamed.items()}
    (out / SNIPPET).write_text(snippet(named, base_url))
    (out / MANIFEST).write_text(json.dumps({old: {"file": new, "integrity": sri} for old, (new, sri) in named.items()},
                                           indent=2, sort_keys=True) + "\n")
    shell = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file() and p.name not in ("sw.js", SNIPPET, MANIFEST))
    digest = hashlib.sha256()
    for name in shell:
        digest.update(name.encode() + b"\0" + (out / name).read_bytes())
    sw = out / "sw.js"
    sw.write_text(
        sw.read_text()
        .replace("__VERSION__", f"qdn-capture-{digest.hexdigest()[:16]}")
        .replace("__SHELL__", json.dumps(["./"] + shell))
    )
    shutil.copytree(out, final, dirs_exist_ok=True)
    shutil.rmtree(out)
    return config


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", required=True, help="the API's base URL, e.g. https://api.quickdumpnow.com")
    parser.add_argument("--bucket-origin", required=True, help="where browsers reach the bucket")
    parser.add_argument("--out", required=True, help="the folder to write (earlier content-named files are kept)")
    parser.add_argument("--base-url", default="", help="where --out will be served, for the snippet (default: relative)")
    args = parser.parse_args(argv)
    try:
        config = build(args.api, args.bucket_origin, args.out, args.base_url)
    except ValueError as err:
        sys.exit(f"web_build: {err}")
    print(f"web_build: {args.out} for API {config['api']}, bucket {config['bucketOrigin']}; "
          f"paste {args.out}/{SNIPPET} into the page")


if __name__ == "__main__":
    main(sys.argv[1:])
