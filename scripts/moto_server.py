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
table times the items (a long browser run reached 23 GB). Even one copy per transaction grows with
the table: by the browser step (after the API suite) every transaction took a few hundred ms, and
with moto answering one request at a time, a burst of them queued a read past the function's 2 s
budget (a 503 in the 150-photo test). So no table is copied: the items a transaction names are
kept as they were, and put back if it is cancelled. The same rollback, in time that grows with the
transaction only.

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


class _TablesNotCopied:
    """`copy` as moto's DynamoDB models see it: inside a transaction, a table is not copied (its
    "restore" puts the same table back); everything else is copied as before."""

    def __init__(self):
        self.in_transaction = False

    def deepcopy(self, obj, *args):
        if self.in_transaction and isinstance(obj, models.Table):
            return obj
        return copy.deepcopy(obj, *args)


_copy = models.copy = _TablesNotCopied()
_transact = models.DynamoDBBackend.transact_write_items


def _named_items(backend, transact_items):
    """(table name, key, the item as it is now or None) for each item the transaction names."""
    named = []
    for item in transact_items:
        _, op = next(iter(item.items()))
        name = op.get("TableName")
        if name not in backend.tables:
            continue
        table = backend.tables[name]
        attrs = op.get("Item") or op.get("Key") or {}
        key = {k: attrs[k] for k in (table.hash_key_attr, table.range_key_attr) if k in attrs}
        if len(key) < (2 if table.range_key_attr else 1):
            continue  # moto refuses it; nothing of it is written
        current = backend.get_item(name, key)
        named.append((name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
    return named


def _transact_undone_by_item(self, transact_items):
    before = _named_items(self, transact_items)
    _copy.in_transaction = True
    try:
        return _transact(self, transact_items)
    except Exception:
        for name, key, attrs in reversed(before):
            if attrs is None:
                self.delete_item(name, key)
            else:
                self.put_item(name, attrs)
        raise
    finally:
        _copy.in_transaction = False


models.DynamoDBBackend.transact_write_items = _transact_undone_by_item

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
