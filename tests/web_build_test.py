"""scripts/web_build.py: what a deployment's page is allowed to reach, and what it refuses to build."""
import importlib.util
import re
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


def directives(csp):
    return {part.split()[0]: part.split()[1:] for part in csp.split("; ")}


class WebBuildTest(unittest.TestCase):
    def build(self, api=API, bucket=BUCKET):
        out = Path(tempfile.mkdtemp()) / "web"
        web_build.build(api, bucket, out)
        return out

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
        config = (out / "qdn-capture.config.js").read_text()
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
        for name in ["./", "index.html", "demo.js", "qdn-capture.js", "qdn-capture.config.js", "qdn-capture.css",
                     "capture/uploader.js", "capture/queue.js", "capture/transport.js", "capture/sniff.js",
                     "capture/store.js", "capture/api.js", "capture/strip.js", "capture/view.js"]:
            self.assertIn(f'"{name}"', shell)
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
