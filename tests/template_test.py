"""template.yaml keeps its security properties: run by `make test` (python -m unittest).

Each check returns the problems it finds, so the same checks are shown to catch a weakened copy of the
template (tests named `test_catches_*`), not only to pass on the real one.
"""
import copy
import json
import logging
import os
import re
import sys
import unittest

from cfnlint.decode import decode
from samtranslator.translator.transform import transform

logging.getLogger("samtranslator").setLevel(logging.ERROR)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from template_env import function_environment, instantiate  # noqa: E402


def load_template():
    template, errors = decode(os.path.join(ROOT, "template.yaml"))
    assert not errors, errors
    return template


def sam_transform(template):
    """What CloudFormation deploys: SAM's own translator, offline (CodeUri stands in for the upload)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    doc = json.loads(json.dumps(template, default=str))
    for resource in doc["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/qdn-photos.zip"

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
    for r in lifecycle:
        # Evidence archives (exports/) are copies handed over within days; photos are never expired.
        if r.get("Prefix") == "exports/":
            continue
        if "ExpirationInDays" in r or "ExpirationDate" in r or "Transitions" in r:
            problems.append(f"bucket: lifecycle rule {r.get('Id')} deletes or archives current photos")
        days = r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        if days is not None and days != {"Ref": "AuditRetentionDays"}:
            problems.append(f"bucket: rule {r.get('Id')} removes noncurrent versions before the audit's retention, "
                            "and a listed photo is noncurrent while a later upload of its key waits")
    if not any(
        r.get("Status") == "Enabled" and r.get("Prefix") in ("jobs/", "")
        and r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") == {"Ref": "AuditRetentionDays"}
        for r in lifecycle
    ):
        problems.append("bucket: noncurrent versions under jobs/ are kept forever (a photo deleted by hand never goes)")
    statements = t["Resources"]["UploadsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    if not any(
        s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in statements
    ):
        problems.append("bucket policy does not deny non-TLS access")
    return problems


SHARED_TOKEN = {"AuthMode": "shared-token", "AuthTokenSha256": "0" * 64}
JWT = {"AuthMode": "jwt", "JwtIssuer": "https://issuer.example.com", "JwtAudience": "qdn"}
EXISTING_API = {"ExistingHttpApiId": "a1b2c3d4e5"}
OUR_ROUTES = ["DELETE /photos", "GET /exports", "GET /photos", "GET /upload-url", "POST /exports", "POST /upload-url"]
PREFLIGHT_ROUTES = ["OPTIONS /exports", "OPTIONS /photos", "OPTIONS /upload-url"]
API_MODES = {
    "own API": SHARED_TOKEN,
    "own API, jwt": JWT,
    "existing API": {**EXISTING_API, **SHARED_TOKEN},
    "existing API, jwt": {**EXISTING_API, **JWT},
    "existing API, its jwt authorizer": {**EXISTING_API, **JWT, "ExistingJwtAuthorizerId": "abc123"},
}
# What must not be created on an existing API: its stages, domain and settings are QDN's.
API_OWNED = ("AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::Deployment",
             "AWS::ApiGatewayV2::DomainName", "AWS::ApiGatewayV2::ApiMapping")


def api_problems(t):
    """Each API mode, evaluated with its conditions: which API the routes, integration, authorizer
    and invoke permissions are on, what is created, and how each route is authorized."""
    problems = []
    for mode, params in API_MODES.items():
        made = instantiate(t, params)["Resources"]
        existing = "ExistingHttpApiId" in params
        api = {"Ref": "ExistingHttpApiId"} if existing else {"Ref": "HttpApi"}
        created = sorted([n for kind in API_OWNED for n in of_type(made, kind)] + [n for n in ["AccessLogGroup"] if n in made])
        if existing and created:
            problems.append(f"{mode}: creates {created}; the existing API's stage and domain must stay as they are")
        if not existing:
            cors = made.get("HttpApi", {}).get("Properties", {}).get("CorsConfiguration", {})
            if cors.get("AllowOrigins") != [{"Ref": "DashboardOrigin"}]:
                problems.append(f"{mode}: API CORS origin is not exactly DashboardOrigin: {cors.get('AllowOrigins')}")
        routes = of_type(made, "AWS::ApiGatewayV2::Route")
        keys = sorted(r["Properties"]["RouteKey"] for r in routes.values())
        if keys != sorted(OUR_ROUTES + (PREFLIGHT_ROUTES if existing else [])):
            problems.append(f"{mode}: routes are {keys}")
        jwt = params["AuthMode"] == "jwt"
        reused = "ExistingJwtAuthorizerId" in params
        authorizer = {"Ref": "ExistingJwtAuthorizerId"} if reused else {"Ref": "JwtAuthorizer"}
        for name, route in routes.items():
            props = route["Properties"]
            preflight = props["RouteKey"].startswith("OPTIONS ")
            wanted = ("JWT", authorizer) if jwt and not preflight else ("NONE", None)
            if (props.get("AuthorizationType"), props.get("AuthorizerId")) != wanted:
                problems.append(f"{mode}: {name} is authorized by {props.get('AuthorizerId')}, not {wanted}")
        others = {**of_type(made, "AWS::ApiGatewayV2::Integration"), **of_type(made, "AWS::ApiGatewayV2::Authorizer")}
        for name, r in {**routes, **others}.items():
            if r["Properties"].get("ApiId") != api:
                problems.append(f"{mode}: {name} is on {r['Properties'].get('ApiId')}, not {api}")
        if bool(of_type(made, "AWS::ApiGatewayV2::Authorizer")) != (jwt and not reused):
            problems.append(f"{mode}: a JWT authorizer is {'not ' if jwt and not reused else ''}created")
        paths = []
        for name, perm in of_type(made, "AWS::Lambda::Permission").items():
            props = perm["Properties"]
            if props["Principal"] != "apigateway.amazonaws.com":
                continue
            arn = props.get("SourceArn", {}).get("Fn::Sub", [None, None])
            tail = re.fullmatch(r"arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:"
                                r"\$\{Api\}/\*/\*/(upload-url|photos|exports)", str(arn[0]))
            if not tail or arn[1] != {"Api": api} or props["FunctionName"] != {"Ref": "PhotosFunction"}:
                problems.append(f"{mode}: {name} lets API Gateway invoke the function beyond its paths: {props}")
            else:
                paths.append(tail.group(1))
        if sorted(paths) != ["exports", "photos", "upload-url"]:
            problems.append(f"{mode}: API Gateway may invoke the function for {paths}")
    rule = json.dumps(t.get("Rules", {}).get("ExistingApiKeepsItsDomain", {}).get("Assertions"))
    if "DomainName" not in rule:
        problems.append("a DomainName with ExistingHttpApiId is not refused before deploying")
    return problems


def statements_by_role(transformed):
    """Each role's statements: inline policies and AWS::IAM::Policy resources attached to it."""
    resources = transformed["Resources"]
    by_role = {}
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        by_role[name] = [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        for role in policy["Properties"]["Roles"]:
            by_role.setdefault(role["Ref"], []).extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return by_role


# What each function may do to objects, and where: the API signs uploads into jobs/ and reads
# photos and thumbnails; the pipeline reads and rejects in jobs/ and writes only thumbs/ (a write
# into jobs/ would trigger itself).
OBJECT_RULES = {
    "PhotosFunctionRole": {"s3:PutObject": "jobs", "s3:GetObject": ("jobs", "thumbs", "exports"), "s3:GetObjectVersion": "jobs",
                           # DELETE /photos: a retracted or erased photo's versions and thumbnails.
                           "s3:DeleteObject": ("jobs", "thumbs", "exports"),
                           "s3:DeleteObjectVersion": ("jobs", "thumbs", "exports")},
    "PipelineFunctionRole": {
        "s3:GetObject": "jobs", "s3:GetObjectVersion": "jobs",
        "s3:DeleteObjectVersion": "jobs", "s3:PutObject": "thumbs", "s3:DeleteObject": ("jobs", "thumbs"),
    },
    # Evidence exports: reads photos and thumbnails, writes (and removes, when withdrawn) archives
    # only under exports/.
    "ExportFunctionRole": {"s3:GetObject": ("jobs", "thumbs"), "s3:GetObjectVersion": "jobs", "s3:PutObject": "exports",
                           "s3:DeleteObject": "exports", "s3:DeleteObjectVersion": "exports"},
}
DYNAMODB_RULES = {
    "PhotosFunctionRole": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:BatchGetItem",
                           "dynamodb:Query"},
    "PipelineFunctionRole": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"},
    "ExportFunctionRole": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"},
}
# Which partitions each role may touch (dynamodb:LeadingKeys): both write only job rows; the API
# also reads the token rows (`TOKENS`), which only the operators' command writes, and updates
# only its grant counters (`QUOTA#`), never a job's rows.
JOB_ROWS = ["JOB#*"]
LEADING_KEYS = {
    ("PhotosFunctionRole", "write"): JOB_ROWS, ("PhotosFunctionRole", "read"): JOB_ROWS + ["TOKENS"],
    ("PhotosFunctionRole", "update"): ["QUOTA#*"],
    ("PipelineFunctionRole", "write"): JOB_ROWS, ("PipelineFunctionRole", "read"): JOB_ROWS,
    ("PipelineFunctionRole", "update"): [],
    ("ExportFunctionRole", "write"): JOB_ROWS, ("ExportFunctionRole", "read"): JOB_ROWS,
    ("ExportFunctionRole", "update"): [],
}


def leading_keys_problems(role_name, statement, actions):
    keys = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
    problems = []
    for kind, touched in (("write", "dynamodb:PutItem" in actions), ("update", "dynamodb:UpdateItem" in actions),
                          ("read", bool({"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"} & set(actions)))):
        allowed = LEADING_KEYS[(role_name, kind)]
        if touched and (not keys or not set(keys) <= set(allowed)):
            problems.append(f"{role_name} may {kind} partitions {keys or 'any'}, not only {allowed}")
    if len(statement.get("Condition", {})) > 1 or len(statement.get("Condition", {}).get("ForAllValues:StringLike", {})) > 1:
        problems.append(f"{role_name}: unexpected conditions {statement['Condition']}")
    return problems


def iam_problems(transformed):
    problems = []
    resources = transformed["Resources"]
    roles = of_type(resources, "AWS::IAM::Role")
    if set(roles) != set(OBJECT_RULES):
        return [f"expected the roles {sorted(OBJECT_RULES)}, found {sorted(roles)}"]
    for role in roles.values():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            if "AWSLambdaBasicExecutionRole" not in json.dumps(arn):
                problems.append(f"managed policy {arn}")
    for role_name, statements in statements_by_role(transformed).items():
        versions_readable = False
        for s in statements:
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            resource = json.dumps(s.get("Resource"))
            for action in actions:
                if "*" in action:
                    problems.append(f"{role_name}: wildcard action {action}")
            if resource in ('"*"', "null") or '["*"]' in resource:
                problems.append(f"{role_name}: wildcard resource for {actions}")
            for action in actions:
                if not action.startswith("s3:") or action in ("s3:ListBucket", "s3:ListBucketVersions"):
                    continue
                allowed = OBJECT_RULES[role_name].get(action)
                prefix = re.search(r"/(\w+)/\*\"", resource)
                if allowed is None:
                    problems.append(f"{role_name} may {action}")
                elif not prefix or prefix.group(1) not in (allowed if isinstance(allowed, tuple) else (allowed,)):
                    problems.append(f"{role_name}: {action} on {resource}, not {allowed}/*")
            if "s3:GetObjectVersion" in actions:
                versions_readable = True
            if "s3:ListBucket" in actions:
                # HeadObject carries no s3:prefix: a prefix condition turns 404 into 403 on AWS.
                if "Condition" in s:
                    problems.append("ListBucket is conditioned, so a missing object's HEAD is 403, not 404")
                if "/" in resource:
                    problems.append(f"ListBucket on something other than the bucket: {resource}")
            if any(a.startswith("dynamodb:") for a in actions):
                if not set(actions) <= DYNAMODB_RULES[role_name] or s.get("Resource") != {"Fn::GetAtt": ["AuditTable", "Arn"]}:
                    problems.append(f"{role_name}: DynamoDB access beyond {sorted(DYNAMODB_RULES[role_name])} on the table: {actions} {resource}")
                problems += leading_keys_problems(role_name, s, actions)
        if not versions_readable:
            problems.append(f"{role_name}: no s3:GetObjectVersion: version-pinned objects would be refused")
    return problems


def thumbnail_prefix():
    """Where the pipeline writes thumbnails, read from src/domain/job.rs."""
    with open(os.path.join(ROOT, "src", "domain", "job.rs")) as f:
        return re.search(r'format!\("(\w+)/\{\}/\{\}\.jpg"', f.read()).group(1) + "/"


def pipeline_problems(t):
    problems = []
    resources = t["Resources"]
    fn = resources.get("PipelineFunction", {}).get("Properties", {})
    if fn.get("Handler") != "photo-pipeline" or fn.get("CodeUri") != resources["PhotosFunction"]["Properties"]["CodeUri"]:
        problems.append("the pipeline is not the same binary in its pipeline role")
    if fn.get("MemorySize") != {"Ref": "PipelineMemorySize"}:
        problems.append("the pipeline's memory is not its parameter")
    if fn.get("ReservedConcurrentExecutions") != {"Ref": "PipelineConcurrency"}:
        problems.append("the pipeline's concurrency is not reserved from its parameter")
    configs = resources["UploadsBucket"]["Properties"].get("NotificationConfiguration", {}).get("LambdaConfigurations", [])
    if len(configs) != 1:
        return problems + [f"expected one notification, found {configs}"]
    config = configs[0]
    if config.get("Event") != "s3:ObjectCreated:*" or config.get("Function") != {"Fn::GetAtt": ["PipelineFunction", "Arn"]}:
        problems.append(f"the bucket does not send every ObjectCreated to the pipeline: {config}")
    rules = config.get("Filter", {}).get("S3Key", {}).get("Rules", [])
    prefixes = [r["Value"] for r in rules if r["Name"] == "prefix"]
    if prefixes != ["jobs/"]:
        problems.append(f"the notification is not limited to jobs/: {rules}")
    if any(thumbnail_prefix().startswith(p) for p in prefixes):
        problems.append("thumbnails are written under the notification's prefix: the pipeline would trigger itself")
    permission = resources.get("PipelineInvokePermission", {}).get("Properties", {})
    if permission.get("Principal") != "s3.amazonaws.com" or permission.get("SourceAccount") != {"Ref": "AWS::AccountId"}:
        problems.append("the pipeline may be invoked by S3 of other accounts")
    if resources["UploadsBucket"].get("DependsOn") != "PipelineInvokePermission":
        problems.append("the bucket's notification may be set before S3 may invoke the pipeline")
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


DOMAIN = {"DomainName": "api.quickdumpnow.com",
          "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234"}


def domain_problems(t):
    problems = []
    bare = instantiate(t, {})
    for name in ("ApiDomainName", "ApiDomainMapping"):
        if name in bare["Resources"]:
            problems.append(f"{name} is created without a DomainName")
    if "DomainTarget" in bare["Outputs"]:
        problems.append("DomainTarget is output without a DomainName")
    if bare["Outputs"]["ApiUrl"]["Value"] != {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}:
        problems.append("without a domain, ApiUrl is not the execute-api endpoint")
    named = instantiate(t, DOMAIN)["Resources"]
    domain = named.get("ApiDomainName", {}).get("Properties", {})
    mapping = named.get("ApiDomainMapping", {}).get("Properties", {})
    if domain.get("DomainName") != {"Ref": "DomainName"}:
        problems.append("no domain name resource for DomainName")
    config = (domain.get("DomainNameConfigurations") or [{}])[0]
    if config.get("CertificateArn") != {"Ref": "CertificateArn"} or config.get("SecurityPolicy") != "TLS_1_2":
        problems.append(f"the domain is not served with CertificateArn over TLS 1.2: {config}")
    if mapping != {"ApiId": {"Ref": "HttpApi"}, "DomainName": {"Ref": "ApiDomainName"},
                   "Stage": {"Ref": "HttpApiStage"}}:
        problems.append(f"the domain is not mapped to the API's stage: {mapping}")
    outputs = instantiate(t, DOMAIN)["Outputs"]
    if outputs["ApiUrl"]["Value"] != {"Fn::Sub": "https://${DomainName}"}:
        problems.append("with a domain, ApiUrl is not https://DomainName")
    if "DomainTarget" not in outputs:
        problems.append("no DomainTarget output to point DNS at")
    rule = t.get("Rules", {}).get("CustomDomainNeedsCertificate", {})
    if "CertificateArn" not in json.dumps(rule.get("Assertions")):
        problems.append("a DomainName without a CertificateArn is not refused before deploying")
    return problems


def function_log_problems(t):
    """Each function logs to a group of the stack's, kept AccessLogRetentionDays, not forever."""
    problems = []
    for fn in ("PhotosFunction", "PipelineFunction"):
        group = t["Resources"][fn]["Properties"].get("LoggingConfig", {}).get("LogGroup", {}).get("Ref")
        resource = t["Resources"].get(group or "", {})
        if resource.get("Type") != "AWS::Logs::LogGroup" or "Condition" in resource:
            problems.append(f"{fn} logs to Lambda's default group, kept forever")
        elif resource["Properties"].get("RetentionInDays") != {"Ref": "AccessLogRetentionDays"}:
            problems.append(f"{fn}'s log group is kept {resource['Properties'].get('RetentionInDays')}")
    return problems


def access_log_problems(t):
    problems = []
    settings = t["Resources"]["HttpApiStage"]["Properties"].get("AccessLogSettings", {})
    if settings.get("DestinationArn") != {"Fn::GetAtt": ["AccessLogGroup", "Arn"]}:
        return ["the API's access logs go nowhere"]
    try:
        fields = json.loads(settings["Format"])
    except (KeyError, ValueError) as e:
        return [f"access log format is not one JSON object: {e}"]
    values = " ".join(fields.values())
    for needed in ("$context.requestId", "$context.status", "$context.routeKey", "$context.identity.sourceIp"):
        if needed not in values:
            problems.append(f"access logs lack {needed}")
    # Headers and claims could carry a bearer token or a person's details.
    for leaking in ("$request.header", "$context.authorizer.claims", "$request.querystring"):
        if leaking in values:
            problems.append(f"access logs include {leaking}")
    group = t["Resources"].get("AccessLogGroup", {}).get("Properties", {})
    if group.get("RetentionInDays") != {"Ref": "AccessLogRetentionDays"}:
        problems.append("access logs are kept forever (no retention parameter)")
    return problems


def emitted_metrics():
    """The metric names the function writes (src/metrics.rs)."""
    with open(os.path.join(ROOT, "src", "telemetry", "metrics.rs")) as f:
        return set(re.findall(r'\("([A-Za-z0-9]+)", "(?:Count|Bytes)"', f.read()))


EXPECTED_ALARMS = {
    ("AWS/ApiGateway", "5xx"),
    ("custom", "AuditFailures"),
    ("custom", "S3Failures"),
    ("AWS/Lambda", "Throttles"),
    ("AWS/Lambda", "Errors"),
    # Events the pipeline failed for good, waiting for `qdn-photos redrive`.
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
}


def alarm_problems(t):
    problems = []
    topic = "arn:aws:sns:us-east-1:123456789012:qdn-ops"
    emitted = emitted_metrics()
    for params, actions in (({}, None), ({"AlarmTopicArn": topic}, [{"Ref": "AlarmTopicArn"}])):
        alarms = of_type(instantiate(t, params)["Resources"], "AWS::CloudWatch::Alarm")
        watched = set()
        for name, alarm in alarms.items():
            props = alarm["Properties"]
            stats = [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
            for metric in stats or [props]:
                namespace = metric.get("Namespace")
                if namespace == {"Ref": "MetricsNamespace"}:
                    namespace = "custom"
                    if metric["MetricName"] not in emitted:
                        problems.append(f"{name} watches {metric['MetricName']}, which the function never writes")
                watched.add((namespace, metric["MetricName"]))
                dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
                if dims not in (
                    {"FunctionName": {"Ref": "PhotosFunction"}},
                    {"FunctionName": {"Ref": "PipelineFunction"}},
                    {"ApiId": {"Ref": "HttpApi"}},
                    {"ApiId": {"Ref": "ExistingHttpApiId"}},
                    {"QueueName": {"Fn::GetAtt": ["PipelineFailures", "QueueName"]}},
                    {"QueueName": {"Fn::GetAtt": ["ExportFailures", "QueueName"]}},
                ):
                    problems.append(f"{name} watches {dims}, not this stack's function or API")
            for key in ("AlarmActions", "OKActions"):
                if props.get(key) != actions:
                    problems.append(f"{name} {key} is {props.get(key)} with AlarmTopicArn={params}")
        for missing in sorted(EXPECTED_ALARMS - watched):
            problems.append(f"no alarm on {missing}")
    return problems


def failure_queue_problems(t):
    """The pipeline's failed events go to a queue kept long enough to act on, which it may send to."""
    problems = []
    resources = t["Resources"]
    fn = resources["PipelineFunction"]["Properties"]
    target = fn.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
    if target != {"Type": "SQS", "Destination": {"Fn::GetAtt": ["PipelineFailures", "Arn"]}}:
        problems.append(f"the pipeline's failed events go nowhere kept: {target}")
    queue = resources.get("PipelineFailures", {}).get("Properties", {})
    if queue.get("MessageRetentionPeriod", 345600) < 7 * 86400:
        problems.append("failed events are kept less than a week")
    statements = [s for p in fn.get("Policies", []) for s in p.get("Statement", [])]
    if not any(s.get("Action") == "sqs:SendMessage" and s.get("Resource") == {"Fn::GetAtt": ["PipelineFailures", "Arn"]}
               for s in statements):
        problems.append("the pipeline may not send to its failure queue")
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

    def test_each_function_gets_exactly_what_its_role_reads(self):
        def read_by(*paths):
            text = ""
            for path in paths:
                with open(os.path.join(ROOT, "src", path)) as f:
                    text += f.read()
            return set(re.findall(r'"([A-Z][A-Z0-9_]+)"', text))

        common = read_by("config.rs")
        roles = {
            "PhotosFunction": read_by("api/config.rs") | common,
            "PipelineFunction": read_by("pipeline/config.rs") | common,
        }
        for function, reads in roles.items():
            given = set(self.template["Resources"][function]["Properties"]["Environment"]["Variables"])
            self.assertEqual(given - reads, set(), f"{function} is given settings its role never reads")
        # What the pipeline reads of the API's, or the API of the pipeline's, is a leak across roles.
        self.assertNotIn("AUTH_MODE", roles["PipelineFunction"])
        self.assertNotIn("THUMBNAIL_MAX_EDGE", roles["PhotosFunction"])

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

        def rules(t):
            return t["Resources"]["UploadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]

        def expiring_versions(t):
            rules(t).append({"Id": "x", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}})

        def expiring_photos(t):
            rules(t).append({"Id": "x", "Status": "Enabled", "ExpirationInDays": 365})

        def versions_kept_forever(t):
            rules(t)[:] = [r for r in rules(t) if "NoncurrentVersionExpiration" not in r]

        for edit in (public, star, put_cors, unversioned, expiring_versions, expiring_photos, versions_kept_forever):
            self.assertNotEqual(bucket_problems(self.weakened(edit)), [], edit.__name__)

    def test_catches_api_wildcard_origin(self):
        t = self.weakened(lambda t: t["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"].update(AllowOrigins=["*"]))
        self.assertNotEqual(api_problems(t), [])

    def test_catches_an_existing_api_mode_that_touches_more_than_its_routes(self):
        def resources(t):
            return t["Resources"]

        def stage_created(t):
            del resources(t)["HttpApiStage"]["Condition"]

        def route_on_own_api(t):
            resources(t)["IssueUploadUrlRoute"]["Properties"]["ApiId"] = {"Ref": "HttpApi"}

        def whole_api_may_invoke(t):
            resources(t)["PhotosInvokePermission"]["Properties"]["SourceArn"]["Fn::Sub"][0] = (
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/*")

        def preflight_needs_a_token(t):
            resources(t)["UploadUrlPreflightRoute"]["Properties"]["AuthorizationType"] = {"Fn::If": ["UseJwt", "JWT", "NONE"]}

        def authorizer_not_reused(t):
            resources(t)["JwtAuthorizer"]["Condition"] = "UseJwt"

        def no_preflight_route(t):
            del resources(t)["PhotosPreflightRoute"]

        def domain_allowed(t):
            del t["Rules"]["ExistingApiKeepsItsDomain"]

        for edit in (stage_created, route_on_own_api, whole_api_may_invoke, preflight_needs_a_token,
                     authorizer_not_reused, no_preflight_route, domain_allowed):
            self.assertNotEqual(api_problems(self.weakened(edit)), [], edit.__name__)

    def test_catches_broad_iam(self):
        def statements(t):
            return t["Resources"]["PhotosFunction"]["Properties"]["Policies"][0]["Statement"]

        def whole_bucket(t):
            statements(t)[0]["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::anything/*"}

        def any_s3(t):
            statements(t)[0]["Action"] = ["s3:*"]

        def prefix_conditioned_list(t):
            statements(t)[2]["Condition"] = {"StringLike": {"s3:prefix": "jobs/*"}}

        def no_versions(t):
            statements(t)[0]["Action"] = ["s3:PutObject", "s3:GetObject"]

        def dynamo_scan(t):
            statements(t)[3]["Action"] = ["dynamodb:PutItem", "dynamodb:Scan"]

        def dynamo_delete(t):
            statements(t)[3]["Action"] = ["dynamodb:PutItem", "dynamodb:DeleteItem"]

        def token_rows_writable(t):
            del statements(t)[3]["Condition"]

        def any_partition_readable(t):
            statements(t)[5]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] = ["*"]

        def job_rows_updatable(t):
            statements(t)[4]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"].append("JOB#*")

        def counters_anywhere(t):
            del statements(t)[4]["Condition"]

        def pipeline_reads_tokens(t):
            pipeline = t["Resources"]["PipelineFunction"]["Properties"]["Policies"][0]["Statement"]
            pipeline[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"].append("TOKENS")

        for edit in (whole_bucket, any_s3, prefix_conditioned_list, no_versions, dynamo_scan, dynamo_delete,
                     token_rows_writable, any_partition_readable, job_rows_updatable, counters_anywhere,
                     pipeline_reads_tokens):
            self.assertNotEqual(iam_problems(sam_transform(self.weakened(edit))), [], edit.__name__)

    def test_every_function_logs_to_a_group_with_a_retention(self):
        self.assertEqual(function_log_problems(self.template), [])

        def default_group(t):
            del t["Resources"]["PipelineFunction"]["Properties"]["LoggingConfig"]["LogGroup"]

        def kept_forever(t):
            del t["Resources"]["PhotosFunctionLogGroup"]["Properties"]["RetentionInDays"]

        for edit in (default_group, kept_forever):
            self.assertNotEqual(function_log_problems(self.weakened(edit)), [], edit.__name__)

    def test_the_pipeline_is_triggered_by_jobs_only_and_never_by_its_own_thumbnails(self):
        self.assertEqual(pipeline_problems(self.template), [])

    def test_every_failed_pipeline_event_is_kept_two_weeks_for_a_redrive(self):
        self.assertEqual(failure_queue_problems(self.template), [])
        def no_destination(t):
            del t["Resources"]["PipelineFunction"]["Properties"]["EventInvokeConfig"]["DestinationConfig"]
        def short_retention(t):
            t["Resources"]["PipelineFailures"]["Properties"]["MessageRetentionPeriod"] = 3600
        def cannot_send(t):
            statements = t["Resources"]["PipelineFunction"]["Properties"]["Policies"][0]["Statement"]
            statements[:] = [s for s in statements if s["Sid"] != "SendFailedEvents"]
        for edit in (no_destination, short_retention, cannot_send):
            self.assertNotEqual(failure_queue_problems(self.weakened(edit)), [], edit.__name__)

    def test_catches_a_self_triggering_or_unbounded_pipeline(self):
        def any_prefix(t):
            rules = t["Resources"]["UploadsBucket"]["Properties"]["NotificationConfiguration"]["LambdaConfigurations"][0]
            rules["Filter"]["S3Key"]["Rules"][0]["Value"] = ""

        def unreserved(t):
            del t["Resources"]["PipelineFunction"]["Properties"]["ReservedConcurrentExecutions"]

        def any_account(t):
            del t["Resources"]["PipelineInvokePermission"]["Properties"]["SourceAccount"]

        for edit in (any_prefix, unreserved, any_account):
            self.assertNotEqual(pipeline_problems(self.weakened(edit)), [], edit.__name__)

        def thumbs_into_jobs(t):
            statements = t["Resources"]["PipelineObjectAccess"]["Properties"]["PolicyDocument"]["Statement"]
            statements[1]["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::b/jobs/*"}

        def api_deletes_anywhere(t):
            statements = t["Resources"]["PhotosFunction"]["Properties"]["Policies"][0]["Statement"]
            removal = next(s for s in statements if s["Sid"] == "RemoveRetractedOrErasedPhotos")
            removal["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::b/*"}

        for edit in (thumbs_into_jobs, api_deletes_anywhere):
            self.assertNotEqual(iam_problems(sam_transform(self.weakened(edit))), [], edit.__name__)

    def test_custom_domain_exists_only_when_named(self):
        self.assertEqual(domain_problems(self.template), [])

    def test_access_logs_are_json_without_headers_and_expire(self):
        self.assertEqual(access_log_problems(self.template), [])

    def test_alarms_watch_the_functions_metrics_and_notify_the_topic(self):
        self.assertEqual(alarm_problems(self.template), [])
        self.assertTrue(emitted_metrics() >= {"UrlsIssued", "AuditFailures", "S3Failures"})

    def test_catches_an_unconditional_domain_or_leaky_logs_or_dead_alarms(self):
        def unconditional_mapping(t):
            del t["Resources"]["ApiDomainMapping"]["Condition"]

        def http_only_domain(t):
            t["Resources"]["ApiDomainName"]["Properties"]["DomainNameConfigurations"][0]["SecurityPolicy"] = "TLS_1_0"

        for edit in (unconditional_mapping, http_only_domain):
            self.assertNotEqual(domain_problems(self.weakened(edit)), [], edit.__name__)

        def log_headers(t):
            settings = t["Resources"]["HttpApiStage"]["Properties"]["AccessLogSettings"]
            settings["Format"] = settings["Format"].replace("}", ',"auth":"$request.header.Authorization"}')

        def forever(t):
            del t["Resources"]["AccessLogGroup"]["Properties"]["RetentionInDays"]

        for edit in (log_headers, forever):
            self.assertNotEqual(access_log_problems(self.weakened(edit)), [], edit.__name__)

        def renamed_metric(t):
            t["Resources"]["AuditFailuresAlarm"]["Properties"]["MetricName"] = "AuditErrors"

        def silent(t):
            del t["Resources"]["S3FailuresAlarm"]["Properties"]["AlarmActions"]

        def no_throttle_alarm(t):
            del t["Resources"]["FunctionThrottlesAlarm"]

        for edit in (renamed_metric, silent, no_throttle_alarm):
            self.assertNotEqual(alarm_problems(self.weakened(edit)), [], edit.__name__)

    def test_retention_has_a_floor_and_every_auth_mode_is_offered(self):
        params = self.template["Parameters"]
        self.assertGreaterEqual(params["AuditRetentionDays"]["MinValue"], 90)
        self.assertEqual(set(params["AuthMode"]["AllowedValues"]), {"jwt", "tokens", "shared-token", "token"})

    def test_catches_unprotected_table(self):
        t = self.weakened(lambda t: t["Resources"]["AuditTable"]["Properties"].pop("PointInTimeRecoverySpecification"))
        self.assertNotEqual(table_and_function_problems(t), [])


if __name__ == "__main__":
    unittest.main()
