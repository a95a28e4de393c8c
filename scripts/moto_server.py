"""moto's server (DynamoDB, and the versioned S3 of the version-pinning test), made to keep two
guarantees of the real services that the completion record relies on:

- DynamoDB accepts up to 100 items in one TransactWriteItems (AWS raised the limit from 25 in
  2022); moto 5.2.5 still refuses more than 25. A completion writes its audit row and one index
  row per key (up to 50) in one transaction.
- A DynamoDB transaction is isolated: its condition checks and writes happen as one step. moto
  checks and then writes in plain Python on a threaded server, so two transactions can interleave.
  Handling one request at a time restores isolation (moto is bound by one core's GIL anyway).
"""
import sys
import threading

import moto.dynamodb.responses as responses
from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

responses.TRANSACTION_MAX_ITEMS = 100

_one_at_a_time = threading.Lock()
_dispatch = DomainDispatcherApplication.__call__


def _serialized(self, environ, start_response):
    with _one_at_a_time:
        return list(_dispatch(self, environ, start_response))


DomainDispatcherApplication.__call__ = _serialized

if __name__ == "__main__":
    sys.exit(server.main())
