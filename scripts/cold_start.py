"""Cold start of the release binary: process start → its first `GET /runtime/invocation/next`
(configuration parsed, S3 and DynamoDB clients built, ready for an invocation), and peak RSS.

A minimal Lambda Runtime API on loopback stands in for Lambda's. The binary is the one inside the
release zip (`make build ARCH=x86_64`), run as Lambda runs it: `bootstrap` with Lambda's variables.

    python scripts/cold_start.py target/lambda/qdn-photos/bootstrap [RUNS] [api|pipeline]

`pipeline` starts the pipeline role (`_HANDLER=photo-pipeline`, no bucket: the default stack's).
"""
import os
import resource
import socket
import statistics
import subprocess
import sys
import time

binary = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
role = sys.argv[3] if len(sys.argv) > 3 else "api"

env = {
    "PATH": "/usr/bin:/bin",
    "AWS_LAMBDA_FUNCTION_NAME": "qdn-photos",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "ASIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjE" * 48,
    "UPLOADS_BUCKET": "qdn-uploads",
    "AUDIT_TABLE": "qdn-audit",
    "ALLOWED_ORIGINS": "https://dash.example.com",
    "AUTH_TOKEN_SHA256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}

if role == "pipeline":
    env = {k: v for k, v in env.items() if k not in ("UPLOADS_BUCKET", "ALLOWED_ORIGINS", "AUTH_TOKEN_SHA256")}
    env["_HANDLER"] = "photo-pipeline"

ready_ms, rss_kb = [], []
for _ in range(runs):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.getsockname()[1]}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn, _ = server.accept()
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            break
        request += chunk
    elapsed = (time.perf_counter() - start) * 1000
    assert b"/runtime/invocation/next" in request, request[:200]
    ready_ms.append(elapsed)
    proc.kill()
    proc.wait()
    conn.close()
    server.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rss_kb.append(after if after > before else before)

print(f"{role} cold start to ready: median {statistics.median(ready_ms):.2f} ms, "
      f"p90 {sorted(ready_ms)[int(runs * 0.9) - 1]:.2f} ms over {runs} runs")
print(f"peak RSS: {max(rss_kb) / 1024:.1f} MB")
