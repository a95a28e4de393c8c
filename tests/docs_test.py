"""The docs match the tree: run by `make test` (python -m unittest).

- every path docs/layout.md names exists, and every file under src/ is named there;
- each layer folder under src/ imports (`crate::…`, outside its tests) only what the layout's
  "Who may import whom" table lets it;
- every test SECURITY.md cites exists, by its exact name;
- the README's links lead to files that exist, and it stays short (<= 300 lines).

Each check returns what it finds wrong, and `test_catches_*` show it catching a broken copy.
"""
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def files_under(folder, suffixes=(".rs",)):
    out = []
    for base, _, names in os.walk(os.path.join(ROOT, folder)):
        out += [os.path.relpath(os.path.join(base, n), ROOT) for n in names if n.endswith(suffixes)]
    return sorted(out)


def layout_paths(text):
    """The paths the layout's tree block names: the first word of each line, when it looks like one."""
    tree = text.split("## The tree", 1)[1]
    block = tree.split("```", 2)[1]
    paths = []
    for line in block.splitlines():
        word = line.split(" ", 1)[0]
        if "/" in word or word.endswith((".rs", ".yaml", ".py", ".js")):
            paths.append(word)
    return paths


def layout_problems(text, src_files):
    named = layout_paths(text)
    problems = [f"docs/layout.md names {p}, which does not exist" for p in named
                if not os.path.exists(os.path.join(ROOT, p))]
    problems += [f"{f} is not in docs/layout.md" for f in src_files if f not in named]
    return problems


def import_rules(text):
    """{layer folder: the crate modules it may import}, from the layout's table: the first
    backticked names of each `folder/` row's "imports" cell (`ops::export` allows `ops`); a row
    that may import anything has no rule."""
    table = text.split("## Who may import whom", 1)[1].split("\n## ", 1)[0]
    rules = {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        folder = re.fullmatch(r"`([a-z_]+)/`(?: \(.*\))?", cells[0]) if len(cells) >= 2 else None
        if folder and not cells[1].startswith("anything"):
            allowed = {name.split("::")[0] for name in re.findall(r"`([a-z_:]+)`", cells[1])}
            rules[folder.group(1)] = allowed | {folder.group(1)}
    return rules


def import_problems(rules, sources):
    """`crate::` imports outside a file's tests that its layer's rule does not allow.
    `sources`: {path under src/: text}."""
    problems = []
    for path, text in sorted(sources.items()):
        layer = path.split("/")[1]
        if layer not in rules:
            continue
        code = text.split("#[cfg(test)]", 1)[0]
        for used in sorted(set(re.findall(r"\bcrate::([a-z_]+)", code)) - rules[layer]):
            problems.append(f"{path} imports crate::{used}; docs/layout.md lets {layer}/ import only {sorted(rules[layer])}")
    return problems


def test_functions():
    """Every test function's name, by the file stem it lives in: Rust, Python and node tests."""
    found = {}

    def add(stem, name):
        found.setdefault(stem, set()).add(name)

    for path in files_under("src") + files_under("tests") + files_under("crates"):
        stem = os.path.splitext(os.path.basename(path))[0]
        for name in re.findall(r"\bfn\s+([a-z_0-9]+)", read(path)):
            add(stem, name)
    for path in files_under("tests", (".py",)) + files_under("scripts", (".py",)):
        stem = os.path.splitext(os.path.basename(path))[0]
        for name in re.findall(r"\bdef\s+([a-z_0-9]+)", read(path)):
            add(stem, name)
    return found


def cited_problems(text, functions):
    """`module::name` and `module::tests::name` citations whose function does not exist."""
    problems = []
    for citation in sorted(set(re.findall(r"`([a-z_0-9]+(?:::[a-z_0-9]+)+)`", text))):
        parts = citation.split("::")
        module, name = parts[0], parts[-1]
        if name == "tests":  # a whole test module: `bucket_check::tests`
            if module not in functions:
                problems.append(f"{citation}: no module {module}")
            continue
        if name not in functions.get(module, set()):
            problems.append(f"{citation}: no function {name} in any {module}.rs or {module}.py")
    for name in sorted(set(re.findall(r"`(test_[a-z_0-9]+)`", text))):
        if not any(name in names for names in functions.values()):
            problems.append(f"{name}: no such Python test")
    return problems


def readme_problems(text):
    problems = []
    if len(text.splitlines()) > 300:
        problems.append(f"README.md has {len(text.splitlines())} lines (at most 300)")
    head = text.split("\n## ", 1)[0]
    for command in ("make dev", "make test"):
        if command not in head:
            problems.append(f"README.md does not open with `{command}`")
    for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not link.startswith("http") and not os.path.exists(os.path.join(ROOT, link)):
            problems.append(f"README.md links {link}, which does not exist")
    return problems


class DocsTest(unittest.TestCase):
    def test_layout_names_every_source_file_and_only_paths_that_exist(self):
        self.assertEqual(layout_problems(read("docs/layout.md"), files_under("src")), [])

    def test_each_layer_imports_only_what_the_layout_lets_it(self):
        rules = import_rules(read("docs/layout.md"))
        self.assertGreaterEqual(set(rules), {"domain", "store", "api", "pipeline", "ops", "exports", "evidence"})
        sources = {path: read(path) for path in files_under("src") if path.count("/") >= 2}
        self.assertEqual(import_problems(rules, sources), [])

    def test_catches_an_import_across_the_layers(self):
        rules = import_rules(read("docs/layout.md"))
        self.assertEqual(import_problems(rules, {"src/store/x.rs": "use crate::domain::job::JobId;"}), [])
        wrong = import_problems(rules, {"src/store/x.rs": "use crate::api::error::ApiError;"})
        self.assertEqual(len(wrong), 1, wrong)
        self.assertIn("src/store/x.rs imports crate::api", wrong[0])
        # Tests may reach for the dev fixtures.
        self.assertEqual(import_problems(rules, {"src/store/x.rs": "#[cfg(test)]\nuse crate::dev::api_events;"}), [])

    def test_every_test_security_md_cites_exists(self):
        self.assertEqual(cited_problems(read("SECURITY.md"), test_functions()), [])

    def test_the_readme_is_short_opens_with_the_two_commands_and_links_what_exists(self):
        self.assertEqual(readme_problems(read("README.md")), [])

    def test_catches_a_stale_layout(self):
        text = read("docs/layout.md")
        self.assertNotEqual(layout_problems(text, files_under("src") + ["src/new_module.rs"]), [])
        stale = text.replace("src/store/keys.rs ", "src/photo_index.rs ")
        self.assertIn("docs/layout.md names src/photo_index.rs, which does not exist", layout_problems(stale, []))

    def test_catches_a_renamed_test(self):
        functions = test_functions()
        self.assertEqual(cited_problems("`uploads::s3_refuses_an_empty_body`", functions), [])
        self.assertNotEqual(cited_problems("`uploads::s3_refuses_an_empty_bod`", functions), [])
        self.assertNotEqual(cited_problems("`test_no_such_template_check`", functions), [])

    def test_catches_a_long_readme_or_a_dead_link(self):
        self.assertNotEqual(readme_problems(read("README.md") + "\nx" * 300), [])
        self.assertNotEqual(readme_problems(read("README.md") + "\n[gone](docs/gone.md)\n"), [])


if __name__ == "__main__":
    unittest.main()
