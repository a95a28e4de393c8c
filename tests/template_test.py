"""template.yaml keeps its security properties: run by `make test` (python -m unittest).

Each check returns the problems it finds, so the same checks are shown to catch a weakened copy of the
template (tests named `test_catches_*`), not only to pass on the real one.
"""
import copy
import json
import logging
import os
import re
import unittest

from cfnlint.decode import decode
from samtranslator.translator.transform import transform

logging.getLogger("samtranslator").setLevel(logging.ERROR)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_template():
    template, errors = decode(os.path.join(ROOT, "template.yaml"))
    assert not errors, errors
    return template


def sam_transform(template):
    """What CloudFormation deploys: SAM's own translator, offline (CodeUri stands in for the upload)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    doc = json.loads(json.dumps(template, default=str))
    doc["Resources"]["PhotosFunction"]["Properties"]["CodeUri"] = "s3://artifacts/qdn-photos.zip"

    class NoManagedPolicies:
        def load(self):
            return {}

    return transform(doc, {"AWS::Region": "us-east-1"}, NoManagedPolicies())


def of_type(resources, kind):
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def bucket_problems(t):
    problems = []
    bucket = t["Resources"]["UploadsBucket"]["Properties"]
    pab = bucket.get("PublicAccessBlockConfiguration", {})
    for flag in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"]:
        if pab.get(flag) is not True:
            problems.append(f"bucket: {flag} is not true")
    rules = bucket.get("OwnershipControls", {}).get("Rules", [])
    if rules != [{"ObjectOwnership": "BucketOwnerEnforced"}]:
        problems.append("bucket: ownership is not BucketOwnerEnforced")
    if bucket.get("VersioningConfiguration", {}).get("Status") != "Enabled":
        problems.append("bucket: versioning is off, so a replayed grant could destroy a photo")
    sse = bucket.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    if not sse or sse[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] not in ("AES256", "aws:kms"):
        problems.append("bucket: no default encryption")
    for rule in bucket.get("CorsConfiguration", {}).get("CorsRules", []):
        if rule.get("AllowedOrigins") != [{"Ref": "DashboardOrigin"}]:
            problems.append(f"bucket CORS origin is not exactly DashboardOrigin: {rule.get('AllowedOrigins')}")
        if not set(rule.get("AllowedMethods", [])) <= {"POST", "GET"}:
            problems.append(f"bucket CORS allows {rule.get('AllowedMethods')}")
    lifecycle = bucket.get("LifecycleConfiguration", {}).get("Rules", [])
    if not any("AbortIncompleteMultipartUpload" in r and r.get("Status") == "Enabled" for r in lifecycle):
        problems.append("bucket: incomplete multipart uploads are never aborted")
    if any("NoncurrentVersionExpiration" in r for r in lifecycle):
        problems.append("bucket: noncurrent versions expire, so a replayed grant would in time delete a pinned photo")
    statements = t["Resources"]["UploadsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    if not any(
        s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in statements
    ):
        problems.append("bucket policy does not deny non-TLS access")
    return problems


def api_problems(t):
    problems = []
    cors = t["Resources"]["HttpApi"]["Properties"].get("CorsConfiguration", {})
    if cors.get("AllowOrigins") != [{"Ref": "DashboardOrigin"}]:
        problems.append(f"API CORS origin is not exactly DashboardOrigin: {cors.get('AllowOrigins')}")
    routes = of_type(t["Resources"], "AWS::ApiGatewayV2::Route")
    keys = sorted(r["Properties"]["RouteKey"] for r in routes.values())
    if keys != ["GET /photos", "GET /upload-url", "POST /upload-url"]:
        problems.append(f"routes are {keys}")
    for name, route in routes.items():
        if route["Properties"].get("AuthorizationType") != {"Fn::If": ["UseJwt", "JWT", "NONE"]}:
            problems.append(f"{name}: authorization does not follow AuthMode")
    return problems


def iam_problems(transformed):
    problems = []
    resources = transformed["Resources"]
    roles = of_type(resources, "AWS::IAM::Role")
    if len(roles) != 1:
        return [f"expected one role, found {list(roles)}"]
    role = next(iter(roles.values()))["Properties"]
    for arn in role.get("ManagedPolicyArns", []):
        if "AWSLambdaBasicExecutionRole" not in json.dumps(arn):
            problems.append(f"managed policy {arn}")
    for policy in role.get("Policies", []):
        for s in policy["PolicyDocument"]["Statement"]:
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            resource = json.dumps(s.get("Resource"))
            for action in actions:
                if "*" in action:
                    problems.append(f"wildcard action {action}")
            if resource in ('"*"', "null") or '["*"]' in resource:
                problems.append(f"wildcard resource for {actions}")
            if set(actions) & {"s3:PutObject", "s3:GetObject"} and not re.search(r"/jobs/\*\"", resource):
                problems.append(f"object access not limited to jobs/*: {resource}")
            if "s3:ListBucket" in actions:
                # HeadObject carries no s3:prefix: a prefix condition turns 404 into 403 on AWS.
                if "Condition" in s:
                    problems.append("ListBucket is conditioned, so a missing object's HEAD is 403, not 404")
                if "/" in resource:
                    problems.append(f"ListBucket on something other than the bucket: {resource}")
            if "s3:GetObject" in actions and "s3:GetObjectVersion" not in actions:
                problems.append("no s3:GetObjectVersion: version-pinned photo URLs would be refused")
            if any(a.startswith("dynamodb:") for a in actions):
                allowed = {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
                if not set(actions) <= allowed or s.get("Resource") != {"Fn::GetAtt": ["AuditTable", "Arn"]}:
                    problems.append(f"DynamoDB access beyond put/get/query on the table: {actions} {resource}")
    return problems


def table_and_function_problems(t):
    problems = []
    table = t["Resources"]["AuditTable"]["Properties"]
    if table.get("BillingMode") != "PAY_PER_REQUEST":
        problems.append("table is not on-demand")
    if table.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is not True:
        problems.append("table has no point-in-time recovery")
    if table.get("SSESpecification", {}).get("SSEEnabled") is not True:
        problems.append("table SSE is off")
    if table.get("TimeToLiveSpecification") != {"AttributeName": "expire_at", "Enabled": True}:
        problems.append("table TTL is not on expire_at")
    fn = t["Resources"]["PhotosFunction"]
    props = fn["Properties"]
    expected = {"Runtime": "provided.al2023", "Handler": "bootstrap", "MemorySize": 128}
    for key, value in expected.items():
        if props.get(key) != value:
            problems.append(f"function {key} is {props.get(key)}")
    if not props.get("Timeout", 99) < 29:
        problems.append("function timeout is not below API Gateway's 29 s")
    if props.get("LoggingConfig", {}).get("LogFormat") != "JSON":
        problems.append("logs are not structured JSON")
    if fn.get("Metadata", {}).get("BuildMethod") != "rust-cargolambda":
        problems.append("not built with cargo-lambda")
    if props.get("Architectures") != [{"Ref": "Architecture"}]:
        problems.append("architecture is not the parameter")
    return problems


class TemplateTest(unittest.TestCase):
    def setUp(self):
        self.template = load_template()

    def test_transforms_with_sam(self):
        transformed = sam_transform(self.template)
        self.assertIn("PhotosFunctionRole", transformed["Resources"])

    def test_bucket_is_private_encrypted_and_scoped(self):
        self.assertEqual(bucket_problems(self.template), [])

    def test_api_cors_and_routes(self):
        self.assertEqual(api_problems(self.template), [])

    def test_iam_is_least_privilege(self):
        self.assertEqual(iam_problems(sam_transform(self.template)), [])

    def test_table_and_function(self):
        self.assertEqual(table_and_function_problems(self.template), [])

    def test_environment_names_are_the_configs(self):
        with open(os.path.join(ROOT, "src", "config.rs")) as f:
            config_rs = f.read()
        names = self.template["Resources"]["PhotosFunction"]["Properties"]["Environment"]["Variables"]
        for name in names:
            self.assertIn(f'"{name}"', config_rs, f"{name} is not a setting the function reads")

    # The checks themselves catch weakening edits.
    def weakened(self, edit):
        t = copy.deepcopy(self.template)
        edit(t)
        return t

    def test_catches_public_or_wildcard_bucket(self):
        def public(t):
            t["Resources"]["UploadsBucket"]["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] = False

        def star(t):
            t["Resources"]["UploadsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"] = ["*"]

        def put_cors(t):
            t["Resources"]["UploadsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0]["AllowedMethods"].append("PUT")

        def unversioned(t):
            del t["Resources"]["UploadsBucket"]["Properties"]["VersioningConfiguration"]

        def expiring_versions(t):
            rules = t["Resources"]["UploadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
            rules.append({"Id": "x", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}})

        for edit in (public, star, put_cors, unversioned, expiring_versions):
            self.assertNotEqual(bucket_problems(self.weakened(edit)), [], edit.__name__)

    def test_catches_api_wildcard_origin(self):
        t = self.weakened(lambda t: t["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"].update(AllowOrigins=["*"]))
        self.assertNotEqual(api_problems(t), [])

    def test_catches_broad_iam(self):
        def statements(t):
            return t["Resources"]["PhotosFunction"]["Properties"]["Policies"][0]["Statement"]

        def whole_bucket(t):
            statements(t)[0]["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::anything/*"}

        def any_s3(t):
            statements(t)[0]["Action"] = ["s3:*"]

        def prefix_conditioned_list(t):
            statements(t)[1]["Condition"] = {"StringLike": {"s3:prefix": "jobs/*"}}

        def no_versions(t):
            statements(t)[0]["Action"] = ["s3:PutObject", "s3:GetObject"]

        def dynamo_scan(t):
            statements(t)[2]["Action"] = ["dynamodb:PutItem", "dynamodb:Scan"]

        def dynamo_delete(t):
            statements(t)[2]["Action"] = ["dynamodb:PutItem", "dynamodb:DeleteItem"]

        for edit in (whole_bucket, any_s3, prefix_conditioned_list, no_versions, dynamo_scan, dynamo_delete):
            self.assertNotEqual(iam_problems(sam_transform(self.weakened(edit))), [], edit.__name__)

    def test_retention_has_a_floor_and_every_auth_mode_is_offered(self):
        params = self.template["Parameters"]
        self.assertGreaterEqual(params["AuditRetentionDays"]["MinValue"], 90)
        self.assertEqual(set(params["AuthMode"]["AllowedValues"]), {"jwt", "tokens", "shared-token", "token"})

    def test_catches_unprotected_table(self):
        t = self.weakened(lambda t: t["Resources"]["AuditTable"]["Properties"].pop("PointInTimeRecoverySpecification"))
        self.assertNotEqual(table_and_function_problems(t), [])


if __name__ == "__main__":
    unittest.main()
