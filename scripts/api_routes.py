#!/usr/bin/env python3
"""The hand-over of this service's routes on an existing HTTP API (docs/deploy-qdn.md), and back.

    python3 scripts/api_routes.py save    --api-id ID [--saved qdn-routes.json]
    python3 scripts/api_routes.py remove  --api-id ID [--saved qdn-routes.json]
    python3 scripts/api_routes.py restore --api-id ID [--saved qdn-routes.json]

`save` writes the API's routes for this service's paths (GET/POST /upload-url, GET/DELETE /photos, GET/POST /exports and
their OPTIONS), with their targets and authorization, to a file it never overwrites. `remove`
deletes exactly those routes, and refuses if any changed since the save, so that the stack
(ExistingHttpApiId) can create its own. `restore` is the rollback: every route on those paths that
is not a saved one (the stack's) is deleted and the saved ones are created again with their old
targets and authorization; the old integrations were never touched. Every other route, the stages
and the domain are left alone. Each run prints one line per route and is safe to repeat.

Credentials, region and endpoint come from the usual AWS configuration (boto3).
"""
import argparse
import json
import os
import sys

import boto3

ROUTE_KEYS = ["GET /upload-url", "POST /upload-url", "GET /photos", "DELETE /photos", "GET /exports",
              "POST /exports", "OPTIONS /upload-url", "OPTIONS /photos", "OPTIONS /exports"]
# What `create_route` takes back from a saved route; the rest (ids, managed flags) is the API's.
RECREATED = ["RouteKey", "Target", "AuthorizationType", "AuthorizerId", "AuthorizationScopes",
             "ApiKeyRequired", "OperationName", "RequestParameters", "RequestModels",
             "ModelSelectionExpression", "RouteResponseSelectionExpression"]


class Refused(Exception):
    pass


def routes_by_key(client, api_id):
    routes, token = {}, None
    while True:
        page = client.get_routes(ApiId=api_id, **({"NextToken": token} if token else {}))
        for route in page["Items"]:
            routes[route["RouteKey"]] = route
        token = page.get("NextToken")
        if not token:
            return routes


def ours(routes):
    return {key: route for key, route in routes.items() if key in ROUTE_KEYS}


def stage_note(client, api_id):
    stages = client.get_stages(ApiId=api_id).get("Items", [])
    for stage in stages:
        if not stage.get("AutoDeploy"):
            print(f"  note: stage {stage['StageName']} is not auto-deployed; make the change live with "
                  f"aws apigatewayv2 create-deployment --api-id {api_id} --stage-name {stage['StageName']}")


def save(client, api_id, path):
    if os.path.exists(path):
        raise Refused(f"{path} exists: it may be the only record of the old routes; move it away first")
    routes = routes_by_key(client, api_id)
    saved = ours(routes)
    with open(path, "w") as out:
        json.dump({"api_id": api_id, "routes": list(saved.values())}, out, indent=2, default=str)
    for key in ROUTE_KEYS:
        route = saved.get(key)
        print(f"  {key:<20} {'saved: ' + str(route.get('Target')) if route else 'none on this API'}")
    print(f"saved {len(saved)} route(s) to {path}; {len(routes) - len(saved)} other route(s) are not this service's")


def load(path, api_id):
    with open(path) as f:
        saved = json.load(f)
    if saved["api_id"] != api_id:
        raise Refused(f"{path} holds the routes of API {saved['api_id']}, not {api_id}")
    return {route["RouteKey"]: route for route in saved["routes"]}


def remove(client, api_id, path):
    saved = load(path, api_id)
    current = ours(routes_by_key(client, api_id))
    for key, route in saved.items():
        now = current.get(key)
        if now and (now["RouteId"], now.get("Target")) != (route["RouteId"], route.get("Target")):
            raise Refused(f"{key} changed since {path} was saved (now {now.get('Target')}): save again first")
    for key, route in saved.items():
        if key in current:
            client.delete_route(ApiId=api_id, RouteId=route["RouteId"])
            print(f"  {key:<20} removed (was {route.get('Target')})")
        else:
            print(f"  {key:<20} already removed")
    print(f"removed; deploy the stack with ExistingHttpApiId={api_id} now (restore undoes this)")
    stage_note(client, api_id)


def restore(client, api_id, path):
    saved = load(path, api_id)
    current = ours(routes_by_key(client, api_id))
    for key in ROUTE_KEYS:
        now, old = current.get(key), saved.get(key)
        if now and old and now["RouteId"] == old["RouteId"]:
            print(f"  {key:<20} already the saved route")
            continue
        if now:
            client.delete_route(ApiId=api_id, RouteId=now["RouteId"])
        if old:
            created = client.create_route(ApiId=api_id, **{k: old[k] for k in RECREATED if old.get(k) not in (None, {}, [])})
            # The saved file now names the route that is there, so a second restore changes nothing.
            old["RouteId"] = created["RouteId"]
            print(f"  {key:<20} restored → {old.get('Target')}")
        elif now:
            print(f"  {key:<20} removed (this service's {now.get('Target')}; the API had none)")
        else:
            print(f"  {key:<20} none, as saved")
    with open(path, "w") as out:
        json.dump({"api_id": api_id, "routes": list(saved.values())}, out, indent=2, default=str)
    print("restored: the API answers these paths as before the cut-over. Photos uploaded meanwhile stay "
          "in the bucket under jobs/, with their audit rows (docs/deploy-qdn.md, Rollback)")
    stage_note(client, api_id)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["save", "remove", "restore"])
    parser.add_argument("--api-id", required=True)
    parser.add_argument("--saved", default="qdn-routes.json", help="the saved routes (default qdn-routes.json)")
    args = parser.parse_args()
    client = boto3.client("apigatewayv2")
    try:
        {"save": save, "remove": remove, "restore": restore}[args.command](client, args.api_id, args.saved)
    except Refused as why:
        print(f"api_routes: {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
