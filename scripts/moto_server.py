"""moto's server (DynamoDB, and the versioned S3 of the version-pinning test), made to keep two
guarantees of the real services that the completion record relies on:

- DynamoDB accepts up to 100 items in one TransactWriteItems (AWS raised the limit from 25 in
  2022); moto 5.2.5 still refuses more than 25. A completion writes its audit row and one index
  row per key (up to 50) in one transaction.
- A DynamoDB transaction is isolated: its condition checks and writes happen as one step. moto
  checks and then writes in plain Python on a threaded server, so two transactions can interleave.
  Handling one request at a time restores isolation (moto is bound by one core's GIL anyway).

And one of its costs: for its rollback, moto 5.2.5 deep-copies the whole table once per *item* of
a transaction, so a 50-key completion copied the table 51 times, and time and memory grew with the
table times the items (a long browser run reached 23 GB). One copy per table per transaction is the
same rollback.

And one S3 answer put right: moto 5.2.5 names the root element of GetBucketVersioning's and
GetBucketNotificationConfiguration's answers after the operation (`GetBucketVersioningResponse`);
S3's are `VersioningConfiguration` and `NotificationConfiguration`, and the Rust SDK reads only
those (boto3 does not look), so `check-bucket` could not read them here.
"""
import copy
import sys
import threading

import moto.dynamodb.models as models
import moto.dynamodb.responses as responses
from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

responses.TRANSACTION_MAX_ITEMS = 100


class _TablesCopiedOnce:
    """`copy` as moto's DynamoDB models see it: within a transaction, a table is copied once."""

    def __init__(self):
        self.copies = None

    def deepcopy(self, obj, *args):
        if self.copies is None or not isinstance(obj, models.Table):
            return copy.deepcopy(obj, *args)
        if id(obj) not in self.copies:
            self.copies[id(obj)] = copy.deepcopy(obj)
        return self.copies[id(obj)]


_copy = models.copy = _TablesCopiedOnce()
_transact = models.DynamoDBBackend.transact_write_items


def _transact_copying_once(self, transact_items):
    _copy.copies = {}
    try:
        return _transact(self, transact_items)
    finally:
        _copy.copies = None


models.DynamoDBBackend.transact_write_items = _transact_copying_once

_one_at_a_time = threading.Lock()
_dispatch = DomainDispatcherApplication.__call__


_S3_ROOTS = [
    (b"GetBucketVersioningResponse", b"VersioningConfiguration"),
    (b"GetBucketNotificationResponse", b"NotificationConfiguration"),
]


def _s3_root(body):
    for moto_name, s3_name in _S3_ROOTS:
        if b"<" + moto_name in body[:200]:
            return body.replace(b"<" + moto_name, b"<" + s3_name, 1).replace(
                b"</" + moto_name + b">", b"</" + s3_name + b">", 1
            )
    return body


def _serialized(self, environ, start_response):
    answer = {}

    def held(status, headers, exc_info=None):
        answer.update(status=status, headers=headers, exc_info=exc_info)

    with _one_at_a_time:
        body = b"".join(_dispatch(self, environ, held))
    fixed = _s3_root(body)
    headers = answer["headers"]
    if fixed != body:
        headers = [(k, str(len(fixed)) if k.lower() == "content-length" else v) for k, v in headers]
    start_response(answer["status"], headers, answer["exc_info"])
    return [fixed]


DomainDispatcherApplication.__call__ = _serialized

if __name__ == "__main__":
    sys.exit(server.main())
