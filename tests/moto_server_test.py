"""scripts/moto_server.py's transactions against the stack's moto: a cancelled transaction leaves
every item it named as it was (puts, new items and updates undone), and a whole one lands. The
patch undoes a cancelled transaction item by item instead of restoring a copy of the table, so
these are the checks that it is still a rollback. Run by `make test` once the stack is up (it needs
AWS_ENDPOINT_URL_DYNAMODB).
"""
import os
import unittest
import uuid

import boto3

MOTO = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]


def key(pk, sk):
    return {"pk": {"S": pk}, "sk": {"S": sk}}


class TransactionTest(unittest.TestCase):
    def setUp(self):
        self.db = boto3.client("dynamodb", endpoint_url=MOTO)
        self.table = f"moto-test-{uuid.uuid4().hex}"
        self.db.create_table(
            TableName=self.table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}])
        self.db.put_item(TableName=self.table, Item={**key("K", "1"), "v": {"S": "old"}})

    def tearDown(self):
        self.db.delete_table(TableName=self.table)

    def value(self, sk):
        item = self.db.get_item(TableName=self.table, Key=key("K", sk)).get("Item")
        return item and item["v"]["S"]

    def transact(self, *ops):
        self.db.transact_write_items(TransactItems=[{op: {"TableName": self.table, **args}} for op, args in ops])

    def test_a_cancelled_transaction_leaves_every_item_it_named_as_it_was(self):
        overwrite = ("Put", {"Item": {**key("K", "1"), "v": {"S": "new"}}})
        create = ("Put", {"Item": {**key("K", "2"), "v": {"S": "new"}}})
        update = ("Update", {"Key": key("K", "3"), "UpdateExpression": "SET v = :v",
                             "ExpressionAttributeValues": {":v": {"S": "new"}}})
        refused = ("Put", {"Item": key("K", "9"), "ConditionExpression": "attribute_exists(pk)"})
        # Refused last (the others were written, then undone) and refused first (none written).
        for ops in ((overwrite, create, update, refused), (refused, create, update)):
            with self.assertRaises(self.db.exceptions.TransactionCanceledException):
                self.transact(*ops)
            self.assertEqual([self.value(sk) for sk in "1239"], ["old", None, None, None])

    def test_a_whole_transaction_lands(self):
        self.transact(("Put", {"Item": {**key("K", "2"), "v": {"S": "two"}}}),
                      ("Update", {"Key": key("K", "1"), "UpdateExpression": "SET v = :v",
                                  "ExpressionAttributeValues": {":v": {"S": "one"}}}))
        self.assertEqual((self.value("1"), self.value("2")), ("one", "two"))


if __name__ == "__main__":
    unittest.main()
