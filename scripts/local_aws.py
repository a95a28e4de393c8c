"""Provisioning and inspection of the local stack through boto3 (reads .stack/env's variables).

    python scripts/local_aws.py check               each listener is this stack's own server (exit 1 if not)
    python scripts/local_aws.py provision           create the audit table, set the bucket's CORS for $DEV_ORIGIN
    python scripts/local_aws.py cors ORIGIN...      set the bucket's CORS rule (template.yaml's) for these origins
    python scripts/local_aws.py audit JOB           print a job's audit rows as JSON lines
"""
import json
import os
import sys
import time

import boto3
from botocore.config import Config


# Generous timeouts: the stack's servers are slow on a loaded 2-core machine, never absent.
TIMEOUTS = dict(connect_timeout=10, read_timeout=120, retries={"max_attempts": 3, "mode": "standard"})


def dynamodb():
    return boto3.client(
        "dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"], config=Config(**TIMEOUTS)
    )


def sqs():
    return boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL_SQS"])


def s3():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"],
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", **TIMEOUTS),
    )


def check():
    """The S3 port answers an S3 request signed with this stack's fresh key and lists this stack's
    bucket (so it is our Garage, not its RPC port or another process); the DynamoDB port answers
    a DynamoDB request."""
    bucket = os.environ["UPLOADS_BUCKET"]
    deadline = time.time() + 20
    while True:
        try:
            names = [b["Name"] for b in s3().list_buckets()["Buckets"]]
            if bucket in names:
                break
            problem = f"bucket {bucket} not among {names}"
        except Exception as err:  # noqa: BLE001 - any failure means "not (yet) our server"
            problem = repr(err)
        if time.time() > deadline:
            sys.exit(f"stack: {os.environ['AWS_ENDPOINT_URL_S3']} is not this stack's S3 API: {problem}")
        time.sleep(0.1)
    try:
        dynamodb().list_tables()
    except Exception as err:  # noqa: BLE001
        sys.exit(f"stack: {os.environ['AWS_ENDPOINT_URL_DYNAMODB']} is not a DynamoDB API: {err!r}")


def provision():
    table = os.environ["AUDIT_TABLE"]
    ddb = dynamodb()
    if table not in ddb.list_tables()["TableNames"]:
        ddb.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expire_at"}
        )
    # The bucket is Garage's --default-bucket; wait until it answers.
    deadline = time.time() + 20
    while True:
        try:
            s3().head_bucket(Bucket=os.environ["UPLOADS_BUCKET"])
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    set_cors([os.environ.get("DEV_ORIGIN", "http://localhost:8080")])
    # The export queue (template.yaml's ExportRequests), at the URL .stack/env names.
    name = os.environ["EXPORT_QUEUE_URL"].rsplit("/", 1)[1]
    url = sqs().create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    if url.rstrip("/").rsplit("/", 2)[-2:] != os.environ["EXPORT_QUEUE_URL"].rsplit("/", 2)[-2:]:
        sys.exit(f"stack: the export queue is {url}, not {os.environ['EXPORT_QUEUE_URL']}")


def template_cors_rules(origins):
    """The uploads bucket's CORS rules exactly as template.yaml gives them, with DashboardOrigin
    replaced by `origins`: one source of truth for AWS and the local Garage."""
    from cfnlint.decode import decode

    template, errors = decode(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "template.yaml"))
    if errors:
        raise SystemExit(f"template.yaml: {errors}")
    rules = []
    for rule in template["Resources"]["UploadsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]:
        assert rule["AllowedOrigins"] == [{"Ref": "DashboardOrigin"}], rule["AllowedOrigins"]
        rules.append({
            "AllowedOrigins": list(origins),
            "AllowedMethods": list(rule["AllowedMethods"]),
            "AllowedHeaders": list(rule.get("AllowedHeaders", [])),
            "ExposeHeaders": list(rule.get("ExposedHeaders", [])),
            "MaxAgeSeconds": int(rule.get("MaxAge", 0)),
        })
    return rules


def set_cors(origins):
    s3().put_bucket_cors(
        Bucket=os.environ["UPLOADS_BUCKET"], CORSConfiguration={"CORSRules": template_cors_rules(origins)}
    )


def audit(job_id):
    ddb = dynamodb()
    pages = ddb.get_paginator("query").paginate(
        TableName=os.environ["AUDIT_TABLE"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"JOB#{job_id}"}},
    )
    for page in pages:
        # Audit rows only: the job's GRANT#/PHOTO# index rows share its partition.
        for row in page["Items"]:
            if "event" in row:
                print(json.dumps(row))


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "check":
        check()
    elif command == "provision":
        provision()
    elif command == "cors" and len(sys.argv) > 2:
        set_cors(sys.argv[2:])
    elif command == "audit" and len(sys.argv) == 3:
        audit(sys.argv[2])
    else:
        sys.exit(__doc__)
