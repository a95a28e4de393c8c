"""The evidence export's memory on a large job, for `make bench`: COUNT distinct camera photos
(PHOTO, each with different trailing bytes after its end-of-image marker, so each has its own
SHA-256) stored under a fresh job as photos from before this service, registered with
`qdn-photos import`, then `qdn-photos export` of the job: its peak RSS and time, and the
archive's size. Needs the local stack's environment (scripts/lib.sh function_env).

    python scripts/export_memory.py BINARY PHOTO COUNT...
"""
import os
import subprocess
import sys
import tempfile
import time
import uuid

import boto3


def export_of(binary, photo, data, count, s3, bucket):
    job = f"export-bench-{uuid.uuid4().hex[:12]}"
    for i in range(count):
        s3.put_object(Bucket=bucket, Key=f"jobs/{job}/{uuid.uuid4()}.jpg", Body=data + i.to_bytes(4, "big"),
                      ContentType="image/jpeg")
    subprocess.run([binary, "import", "--prefix", f"jobs/{job}/"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as out:
        archive = os.path.join(out, f"{job}.zip")
        started = time.perf_counter()
        child = subprocess.Popen([binary, "export", "--job", job, "--out", archive],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        took = time.perf_counter() - started
        assert status == 0, f"export exited {status}"
        size = os.path.getsize(archive)
    print(f"export of {count} photos ({count * len(data) / 1e6:.0f} MB of originals, {len(data) / 1e6:.1f} MB "
          f"each): a {size / 1e6:.0f} MB archive in {took:.1f} s, peak RSS {usage.ru_maxrss / 1024:.1f} MB")


def main():
    binary, photo = sys.argv[1], sys.argv[2]
    data = open(photo, "rb").read()
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"])
    for count in map(int, sys.argv[3:]):
        export_of(binary, photo, data, count, s3, os.environ["UPLOADS_BUCKET"])


if __name__ == "__main__":
    main()
