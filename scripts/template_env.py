"""What template.yaml gives each function, as CloudFormation would create it: conditions evaluated,
Fn::If chosen, AWS::NoValue dropped, parameters at their defaults unless given. The tests start each
role with exactly a function's `Environment.Variables` from here (and what Lambda itself adds).

    python scripts/template_env.py PipelineFunction --param CreateBucket=true \
        --resource UploadsBucket=qdn-uploads --resource AuditTable=qdn-audit

prints {"Handler": …, "MemorySize": …, "Variables": {…}} as JSON. A reference it cannot resolve is an error, never a
guess: every resource a variable names must be given with --resource.
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_template():
    from cfnlint.decode import decode

    template, errors = decode(os.path.join(ROOT, "template.yaml"))
    if errors:
        raise SystemExit(f"template.yaml does not parse: {errors}")
    return template


def instantiate(t, params):
    """What CloudFormation creates from `t` with `params` (others at their defaults): conditions
    evaluated, resources and outputs whose condition is false dropped, Fn::If chosen and
    AWS::NoValue removed. Enough of CloudFormation for this template's conditions."""
    values = {name: str(p.get("Default", "")) for name, p in t["Parameters"].items()}
    values.update(params)

    def value(x):
        if isinstance(x, dict) and "Ref" in x:
            return values[x["Ref"]]
        return x

    def holds(expr):
        if isinstance(expr, dict) and "Condition" in expr:
            return holds(t["Conditions"][expr["Condition"]])
        (fn, args), = expr.items()
        if fn == "Fn::Equals":
            return value(args[0]) == value(args[1])
        if fn == "Fn::Not":
            return not holds(args[0])
        if fn == "Fn::And":
            return all(holds(a) for a in args)
        if fn == "Fn::Or":
            return any(holds(a) for a in args)
        raise ValueError(f"no evaluation for {fn}")

    no_value = object()

    def resolve(node):
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return resolve(yes if holds({"Condition": name}) else no)
            if node == {"Ref": "AWS::NoValue"}:
                return no_value
            out = {k: resolve(v) for k, v in node.items()}
            return {k: v for k, v in out.items() if v is not no_value}
        if isinstance(node, list):
            return [v for v in (resolve(x) for x in node) if v is not no_value]
        return node

    def kept(section):
        return {
            name: resolve(r)
            for name, r in t.get(section, {}).items()
            if "Condition" not in r or holds({"Condition": r["Condition"]})
        }

    return {"Resources": kept("Resources"), "Outputs": kept("Outputs"), "Parameters": values}


def function_environment(t, function, params, resources):
    """`function`'s Handler and environment variables with every reference resolved: parameters
    to their values, resources to the names in `resources`."""
    made = instantiate(t, params)
    if function not in made["Resources"]:
        raise SystemExit(f"{function} is not created with these parameters")
    props = made["Resources"][function]["Properties"]
    parameters = made["Parameters"]

    def scalar(name, v):
        if isinstance(v, dict) and set(v) == {"Ref"}:
            ref = v["Ref"]
            if ref in parameters:
                return parameters[ref]
            if ref in resources:
                return resources[ref]
            raise SystemExit(f"{function}: {name} names {ref}: give --resource {ref}=NAME")
        if isinstance(v, (dict, list)):
            raise SystemExit(f"{function}: {name} is {v!r}, which this evaluator does not resolve")
        return str(v).lower() if isinstance(v, bool) else str(v)

    variables = props.get("Environment", {}).get("Variables", {})
    return {
        "Handler": props["Handler"],
        # Lambda's default where a function names none.
        "MemorySize": scalar("MemorySize", props.get("MemorySize", 128)),
        "Variables": {name: scalar(name, v) for name, v in variables.items()},
    }


def pairs(items):
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"expected NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("function")
    parser.add_argument("--param", action="append", default=[])
    parser.add_argument("--resource", action="append", default=[])
    args = parser.parse_args(argv)
    env = function_environment(load_template(), args.function, pairs(args.param), pairs(args.resource))
    json.dump(env, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
