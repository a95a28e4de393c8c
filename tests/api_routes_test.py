"""scripts/api_routes.py against moto's API Gateway v2 (the local stack's moto server): the
runbook's hand-over of the routes onto QDN's API and its rollback. Run by `make test` once the
stack is up (it needs AWS_ENDPOINT_URL_DYNAMODB, where moto serves every service).
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOTO = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]


def run(*args):
    env = {**os.environ, "AWS_ENDPOINT_URL_APIGATEWAYV2": MOTO}
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "api_routes.py"), *args],
                          capture_output=True, text=True, env=env)


class HandOverTest(unittest.TestCase):
    def setUp(self):
        self.api = boto3.client("apigatewayv2", endpoint_url=MOTO)
        self.api_id = self.api.create_api(Name="qdn-dashboard", ProtocolType="HTTP")["ApiId"]
        self.dashboard = self.integration("qdn-dashboard")
        self.auth = self.api.create_authorizer(
            ApiId=self.api_id, Name="jwt", AuthorizerType="JWT", IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Issuer": "https://issuer.example.com", "Audience": ["qdn"]})["AuthorizerId"]
        # QDN's API: the dashboard Lambda serves uploads and everything else.
        self.old = {
            "GET /upload-url": self.route("GET /upload-url", self.dashboard),
            "POST /upload-url": self.route("POST /upload-url", self.dashboard, jwt=True),
            "GET /photos": self.route("GET /photos", self.dashboard),
        }
        self.others = {key: self.route(key, self.dashboard) for key in ("GET /jobs", "ANY /{proxy+}")}
        self.saved = os.path.join(tempfile.mkdtemp(), "qdn-routes.json")

    def integration(self, function):
        return self.api.create_integration(
            ApiId=self.api_id, IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0",
            IntegrationUri=f"arn:aws:lambda:us-east-1:123456789012:function:{function}")["IntegrationId"]

    def route(self, key, integration, jwt=False):
        auth = {"AuthorizationType": "JWT", "AuthorizerId": self.auth} if jwt else {"AuthorizationType": "NONE"}
        return self.api.create_route(ApiId=self.api_id, RouteKey=key, Target=f"integrations/{integration}", **auth)

    def routes(self):
        return {r["RouteKey"]: r for r in self.api.get_routes(ApiId=self.api_id)["Items"]}

    def test_the_routes_are_handed_over_and_back_and_nothing_else_moves(self):
        out = run("save", "--api-id", self.api_id, "--saved", self.saved)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("saved 3 route(s)", out.stdout)
        with open(self.saved) as f:
            self.assertEqual(sorted(r["RouteKey"] for r in json.load(f)["routes"]), sorted(self.old))
        again = run("save", "--api-id", self.api_id, "--saved", self.saved)
        self.assertEqual(again.returncode, 1, "a second save never overwrites the first")

        out = run("remove", "--api-id", self.api_id, "--saved", self.saved)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(sorted(self.routes()), sorted(self.others))

        # What the stack creates with ExistingHttpApiId: its own integration and five routes.
        ours = self.integration("qdn-photos-api")
        for key in ("GET /upload-url", "POST /upload-url", "GET /photos", "OPTIONS /upload-url", "OPTIONS /photos"):
            self.route(key, ours)

        out = run("restore", "--api-id", self.api_id, "--saved", self.saved)
        self.assertEqual(out.returncode, 0, out.stderr)
        now = self.routes()
        self.assertEqual(sorted(now), sorted([*self.old, *self.others]), out.stdout)
        for key, old in self.old.items():
            self.assertEqual(now[key]["Target"], f"integrations/{self.dashboard}", key)
            self.assertEqual(now[key]["AuthorizationType"], old["AuthorizationType"], key)
            self.assertEqual(now[key].get("AuthorizerId"), old.get("AuthorizerId"), key)
        for key, other in self.others.items():
            self.assertEqual(now[key]["RouteId"], other["RouteId"], f"{key} was never touched")

        again = run("restore", "--api-id", self.api_id, "--saved", self.saved)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(again.stdout.count("already the saved route"), 3, again.stdout)
        self.assertEqual(self.routes(), now)

    def test_a_route_changed_since_the_save_is_not_removed(self):
        self.assertEqual(run("save", "--api-id", self.api_id, "--saved", self.saved).returncode, 0)
        other = self.integration("someone-else")
        self.api.update_route(ApiId=self.api_id, RouteId=self.old["GET /photos"]["RouteId"],
                              Target=f"integrations/{other}")
        out = run("remove", "--api-id", self.api_id, "--saved", self.saved)
        self.assertEqual(out.returncode, 1)
        self.assertIn("GET /photos changed", out.stderr)
        self.assertEqual(sorted(self.routes()), sorted([*self.old, *self.others]), "nothing removed")

    def test_a_file_saved_for_another_api_is_refused(self):
        self.assertEqual(run("save", "--api-id", self.api_id, "--saved", self.saved).returncode, 0)
        other = self.api.create_api(Name="other", ProtocolType="HTTP")["ApiId"]
        out = run("restore", "--api-id", other, "--saved", self.saved)
        self.assertEqual(out.returncode, 1)
        self.assertIn("not " + other, out.stderr)


if __name__ == "__main__":
    unittest.main()
