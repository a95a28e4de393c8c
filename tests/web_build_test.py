"""scripts/web_build.py: what a deployment's page is allowed to reach, and what it refuses to build."""
import base64
import hashlib
import importlib.util
import json
import re
import shutil
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("web_build", ROOT / "scripts" / "web_build.py")
web_build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(web_build)

API = "https://api.quickdumpnow.com"
BUCKET = "https://qdn-uploads.s3.us-east-1.amazonaws.com"


def csp_of(out):
    html = (Path(out) / "index.html").read_text()
    return re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)


def manifest(out):
    return json.loads((Path(out) / "qdn-capture.manifest.json").read_text())


def relative_imports(path):
    return re.findall(r"""\bfrom\s*["'](\.{1,2}/[^"']+)["']""", path.read_text())


def directives(csp):
    return {part.split()[0]: part.split()[1:] for part in csp.split("; ")}


class WebBuildTest(unittest.TestCase):
    def build(self, api=API, bucket=BUCKET, out=None, **kw):
        out = out or Path(tempfile.mkdtemp()) / "web"
        web_build.build(api, bucket, out, **kw)
        return out

    def test_every_module_and_stylesheet_is_content_named_and_resolves(self):
        out = self.build()
        files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
        fixed = {"index.html", "sw.js", "qdn-capture.snippet.html", "qdn-capture.manifest.json"}
        for name in files - fixed:
            self.assertRegex(name, r"\.[0-9a-f]{12}\.(js|css)$")
            digest = hashlib.sha256((out / name).read_bytes()).hexdigest()[:12]
            self.assertIn(f".{digest}.", name, "the name is the hash of the bytes served")
            for spec in relative_imports(out / name):
                self.assertTrue(((out / name).parent / spec).is_file(), f"{name} imports {spec}")
        html = (out / "index.html").read_text()
        for old in ("demo.js", "qdn-capture.css"):
            self.assertIn(f'"{manifest(out)[old]["file"]}"', html)

    def test_a_rebuild_after_a_change_renames_what_depends_on_it_and_keeps_the_old_files(self):
        out = self.build()
        first = manifest(out)
        source = Path(tempfile.mkdtemp()) / "web"
        shutil.copytree(web_build.WEB, source)
        strip = source / "capture" / "strip.js"
        strip.write_text(strip.read_text() + "\n// a change\n")
        self.build(out=out, source=source)
        second = manifest(out)
        # The strip, what imports it, and so on up to the entry module and the demo: new names.
        for changed in ("capture/strip.js", "capture/view.js", "qdn-capture.js", "demo.js"):
            self.assertNotEqual(first[changed]["file"], second[changed]["file"], changed)
        for same in ("capture/api.js", "capture/queue.js", "capture/store.js", "qdn-capture.config.js", "qdn-capture.css"):
            self.assertEqual(first[same]["file"], second[same]["file"], same)
        # A page still holding the first build's names keeps working: every first-build file is there.
        for entry in first.values():
            self.assertTrue((out / entry["file"]).is_file(), entry["file"])
        self.assertIn(second["qdn-capture.js"]["file"], (out / "qdn-capture.snippet.html").read_text())

    def test_the_snippet_names_each_file_with_its_integrity_hash(self):
        out = self.build(base_url="https://dashboard.example.com/capture/")
        snippet = (out / "qdn-capture.snippet.html").read_text()
        importmap = json.loads(re.search(r'<script type="importmap">(.*?)</script>', snippet, re.S).group(1))
        entry = manifest(out)["qdn-capture.js"]["file"]
        self.assertEqual(importmap["imports"], {"qdn-capture": f"https://dashboard.example.com/capture/{entry}"})
        modules = {old: e for old, e in manifest(out).items() if old.endswith(".js") and old != "demo.js"}
        self.assertEqual(len(importmap["integrity"]), len(modules))
        for url, sri in importmap["integrity"].items():
            data = (out / url.removeprefix("https://dashboard.example.com/capture/")).read_bytes()
            self.assertEqual(sri, "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode(), url)
        css = manifest(out)["qdn-capture.css"]
        self.assertIn(f'href="https://dashboard.example.com/capture/{css["file"]}" integrity="{css["integrity"]}"', snippet)
        with self.assertRaises(ValueError):
            self.build(base_url='https://x.example.com/"><script>')

    def test_the_page_may_reach_only_its_own_files_the_api_and_the_bucket(self):
        policy = directives(csp_of(self.build()))
        self.assertEqual(policy["default-src"], ["'none'"])
        self.assertEqual(policy["script-src"], ["'self'"])
        self.assertEqual(policy["style-src"], ["'self'"])
        self.assertEqual(policy["img-src"], [BUCKET])
        self.assertEqual(sorted(policy["connect-src"]), sorted([API, BUCKET]))
        self.assertEqual(policy["worker-src"], ["'self'"])
        for closed in ["base-uri", "form-action", "object-src"]:
            self.assertEqual(policy[closed], ["'none'"], closed)
        self.assertEqual(policy["require-trusted-types-for"], ["'script'"])
        self.assertEqual(policy["trusted-types"], ["qdn-capture-sw"], "one policy, the service worker's")

    def test_the_config_names_the_api_and_bucket_and_the_api_keeps_its_path(self):
        out = self.build(api="https://api.example.com/prod/", bucket="http://127.0.0.1:3900")
        config = (out / manifest(out)["qdn-capture.config.js"]["file"]).read_text()
        self.assertIn('"api": "https://api.example.com/prod"', config)
        self.assertIn('"bucketOrigin": "http://127.0.0.1:3900"', config)
        # The CSP names origins: a path would not match the API's other routes.
        self.assertEqual(directives(csp_of(out))["connect-src"], ["https://api.example.com", "http://127.0.0.1:3900"])

    def test_the_service_worker_is_stamped_with_every_file_and_a_version_of_their_bytes(self):
        out = self.build()
        sw = (out / "sw.js").read_text()
        self.assertNotIn("__VERSION__", sw)
        self.assertNotIn("__SHELL__", sw)
        shell = re.search(r"const SHELL = (\[.*\]);", sw).group(1)
        names = {old: entry["file"] for old, entry in manifest(out).items()}
        for name in ["index.html", "demo.js", "qdn-capture.js", "qdn-capture.config.js", "qdn-capture.css",
                     "capture/uploader.js", "capture/queue.js", "capture/transport.js", "capture/sniff.js",
                     "capture/store.js", "capture/api.js", "capture/strip.js", "capture/view.js"]:
            self.assertIn(f'"{names.get(name, name)}"', shell)
        self.assertIn('"./"', shell)
        self.assertNotIn("example", shell)
        version = re.search(r'const VERSION = "([^"]+)"', sw).group(1)
        other = re.search(r'const VERSION = "([^"]+)"', (self.build(api="https://other.example.com") / "sw.js").read_text())
        self.assertNotEqual(version, other.group(1), "another deployment's config is another version")

    def test_addresses_that_could_widen_the_policy_or_break_the_config_are_refused(self):
        for bad in [
            "https://evil.example; script-src *",
            'https://api.example.com"',
            "https://api.example.com' 'unsafe-inline",
            "javascript:alert(1)",
            "https://*.example.com",
            "*",
            "api.example.com",
            "https://api.example.com/?q=1",
            "https://user@api.example.com",
            "https://api.example.com/</script>",
            "",
        ]:
            with self.assertRaises(ValueError, msg=bad):
                self.build(api=bad)
        for bad in [BUCKET + "/qdn-uploads", "https://bucket.example.com;", "ftp://bucket.example.com", "data:"]:
            with self.assertRaises(ValueError, msg=bad):
                self.build(bucket=bad)


if __name__ == "__main__":
    unittest.main()
