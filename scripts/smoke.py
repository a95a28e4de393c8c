#!/usr/bin/env python3
"""`make smoke`: one photo through a deployment, from outside, as the dashboard and a phone do it.

    QDN_TOKEN=… python3 scripts/smoke.py --api https://api.example.com --job JOB \
        [--origin https://dashboard.example.com] [--wait 120] [--photo FILE]

Steps, each printed as one line (`ok` or `FAIL`), stopping with exit 1 at the first failure:

  preflight     the API answers the dashboard origin's CORS preflight for GET /upload-url
  grant         GET /upload-url?job_id=JOB: a presigned POST for one new key
  s3-preflight  the bucket answers the origin's preflight for the POST
  upload        the form POSTed to S3 as a browser sends it: 201
  report        POST /upload-url with the key: 201, recorded
  verified      GET /photos?include=pending until the pipeline lists it (at most --wait s);
                a rejection or the time running out fails, naming what to look at
  thumbnail     the listed thumbnail URL downloads a JPEG
  original      the listed photo URL downloads exactly the bytes uploaded

The preflights need --origin (a browser's); without it they are skipped, as for curl and Shortcuts.
The token comes from QDN_TOKEN, not the command line (which `ps` shows). Python's standard
library only: an operator runs it from anywhere.
"""
import argparse
import base64
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

# A 96×64 JPEG (1,190 bytes): small enough to upload on any link, a real image for the pipeline.
PHOTO = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYW"
    "ICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgo"
    "KCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCABAAGADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcI"
    "CQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRol"
    "JicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ip"
    "qrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAA"
    "AAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLR"
    "ChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaX"
    "mJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEA"
    "PwD5ojt/arMdv7VoR23tVmO29q6JVzChiRkdv7VYjt/atCO29qsx23tX1Uq56NDEmDHb+1WY7f2rQjtvarEdt7V8LKuf"
    "QUMSMjt/arMdv7VoR23tVmO29q+qlXPQoYkwY7f2qxHb+1aKW3tViO29q+ElXPoaGJGR2/tVmO39q0I7b2qzHbe1fVSr"
    "noUMSedpbe1WI7b2rRjtvarEdt7V6Mq5/M9DEmDHbe1WY7b2rQjtvarMdt7V8LKufQUMSRx23tVmO29q0I7b2qzHbe1f"
    "VSrnoUMSYMdt7VZjtvatCO29qsx23tXwkq59DQxJHHbe1WY7b2rQjtvarMdt7V9VKuehQxJgx23tViO29q0Y7b2qxHbe"
    "1fCyrn0FDEnncdt7VZjtvatCO29qsx23tXoyrn8z0MSMjtvarEdt7Vox23tViO29q+qlXPQoYkwUtvarMdt7VoR23tVm"
    "O29q+ElXPoaGJGR23tViO29q0Y7b2qxHbe1fVSrnoUMSYMdt7VZjtvatCO29qsx23tXwsq59BQxJHHbe1WY7b2rQjtva"
    "rMdt7V9VKuejQxJ53Hbe1WI7b2rRjtvarEdt7V6Mq5/M1DEmDHbe1WY7b2rQjtvarMdt7V8JKufQ0MSMjtvarEdt7Vop"
    "be1WI7b2r6qVc9ChiTBjtvarMdt7VoR23tVmO29q+FlXPoaGJGJbe1WI7b2rRjtvarEdt7V9VKuehQxJgx23tVmO29q0"
    "I7b2qzHbe1fCSrn0FDEn/9k="
)
TIMEOUT = 30


class Failed(Exception):
    pass


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise Failed(f"{self.status}, not JSON: {self.body[:120]!r}")

    def error(self):
        try:
            e = json.loads(self.body)["error"]
            return f"{self.status} {e['code']}: {e['message']}"
        except (ValueError, KeyError, TypeError):
            return f"{self.status} {self.body[:120]!r}"


def request(method, url, headers=None, body=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return Answer(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        return Answer(err.code, err.headers, err.read())
    except (urllib.error.URLError, OSError) as err:
        raise Failed(f"no answer from {urllib.parse.urlsplit(url).netloc}: {err}")


def multipart(fields, file_bytes, content_type):
    """The form as a browser sends it: the policy's fields in order, then the file last."""
    boundary = "----qdn-smoke-" + uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="smoke.jpg"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode() + file_bytes + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def preflight(url, origin, method, headers):
    answer = request("OPTIONS", url, {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    })
    allowed = answer.headers.get("Access-Control-Allow-Origin")
    if answer.status >= 300 or allowed not in (origin, "*"):
        raise Failed(f"{answer.status}, Access-Control-Allow-Origin {allowed!r}: a browser on {origin} would be refused")
    return f"{origin} may {method} ({answer.status})"


class Smoke:
    def __init__(self, args, token):
        self.args, self.token = args, token
        self.api = args.api.rstrip("/")
        self.auth = {"Authorization": f"Bearer {token}"}
        if args.origin:
            self.auth["Origin"] = args.origin
        self.photo = PHOTO if args.photo is None else open(args.photo, "rb").read()

    def steps(self):
        return [
            ("preflight", self.preflight),
            ("grant", self.grant),
            ("s3-preflight", self.s3_preflight),
            ("upload", self.upload),
            ("report", self.report),
            ("verified", self.verified),
            ("thumbnail", self.thumbnail),
            ("original", self.original),
        ]

    def preflight(self):
        if not self.args.origin:
            return None
        return preflight(f"{self.api}/upload-url", self.args.origin, "GET", "authorization")

    def grant(self):
        query = urllib.parse.urlencode({"job_id": self.args.job})
        answer = request("GET", f"{self.api}/upload-url?{query}", self.auth)
        if answer.status != 200:
            raise Failed(answer.error())
        self.granted = answer.json()
        self.key = self.granted["key"]
        return f"{self.key}, a POST policy for {self.granted['url']}"

    def s3_preflight(self):
        if not self.args.origin:
            return None
        return preflight(self.granted["url"], self.args.origin, "POST", "content-type")

    def upload(self):
        fields = list(self.granted["fields"].items())
        content_type = self.granted["fields"].get("Content-Type", "image/jpeg")
        body, form_type = multipart(fields, self.photo, content_type)
        headers = {"Content-Type": form_type}
        if self.args.origin:
            headers["Origin"] = self.args.origin
        answer = request("POST", self.granted["url"], headers, body)
        if answer.status != 201:
            raise Failed(f"S3 answered {answer.status}: {answer.body[:300]!r}")
        return f"{len(self.photo)} bytes stored (201)"

    def report(self):
        body = json.dumps({"job_id": self.args.job, "keys": [self.key]}).encode()
        answer = request("POST", f"{self.api}/upload-url", {**self.auth, "Content-Type": "application/json"}, body)
        if answer.status != 201:
            raise Failed(answer.error())
        return "recorded (201)"

    def verified(self):
        query = urllib.parse.urlencode({
            "job_id": self.args.job, "include": "pending", "order": "newest", "limit": 50,
        })
        deadline = time.monotonic() + self.args.wait
        state = "not reported back yet"
        while True:
            answer = request("GET", f"{self.api}/photos?{query}", self.auth)
            if answer.status != 200:
                raise Failed(answer.error())
            page = answer.json()
            listed = [p for p in page["photos"] if p["key"] == self.key]
            if listed:
                self.listed = listed[0]
                waited = self.args.wait - (deadline - time.monotonic())
                return f"listed after {waited:.1f} s"
            pending = [p for p in page.get("pending", []) if p["key"] == self.key]
            if pending and pending[0]["state"] == "rejected":
                raise Failed(f"the pipeline refused it: {pending[0].get('reason')}: {pending[0].get('message')}")
            state = pending[0]["state"] if pending else state
            if time.monotonic() >= deadline:
                raise Failed(
                    f"not listed after {self.args.wait} s (state: {state}). Is the pipeline running? "
                    "check-bucket (its notification), its logs, and its failure queue (redrive)"
                )
            time.sleep(1)

    def thumbnail(self):
        url = self.listed.get("thumbnail_url")
        if not url:
            raise Failed("the photo is listed without a thumbnail")
        answer = request("GET", url)
        if answer.status != 200 or not answer.body.startswith(b"\xff\xd8"):
            raise Failed(f"{answer.status}, {answer.headers.get('Content-Type')}: not a JPEG")
        return f"{len(answer.body)} bytes of JPEG"

    def original(self):
        answer = request("GET", self.listed["url"])
        if answer.status != 200:
            raise Failed(f"{answer.status}")
        if hashlib.sha256(answer.body).digest() != hashlib.sha256(self.photo).digest():
            raise Failed(f"{len(answer.body)} bytes that are not the {len(self.photo)} uploaded")
        return f"the {len(self.photo)} bytes uploaded"


def main():
    parser = argparse.ArgumentParser(description="One photo through a deployment, step by step.")
    parser.add_argument("--api", required=True, help="the API's base URL (ApiUrl)")
    parser.add_argument("--job", required=True, help="a job id the token may upload to")
    parser.add_argument("--origin", help="the dashboard's origin, for the CORS preflights")
    parser.add_argument("--wait", type=int, default=120, help="seconds to wait for the pipeline")
    parser.add_argument("--photo", help="a JPEG to upload instead of the built-in one")
    args = parser.parse_args()
    token = os.environ.get("QDN_TOKEN", "")
    if not token:
        parser.error("set QDN_TOKEN to a token that may upload to --job")
    smoke = Smoke(args, token)
    for name, step in smoke.steps():
        try:
            said = step()
        except Failed as failure:
            print(f"FAIL  {name:<13} {failure}", flush=True)
            print(f"smoke: failed at {name} against {smoke.api}")
            return 1
        except (KeyError, TypeError) as err:
            print(f"FAIL  {name:<13} an answer without {err}", flush=True)
            print(f"smoke: failed at {name} against {smoke.api}")
            return 1
        print(f"{'ok' if said else 'skip':<5} {name:<13} {said or 'no --origin: not a browser'}", flush=True)
    print(f"smoke: every step passed against {smoke.api}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
