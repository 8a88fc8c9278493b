"""Helpers of schema-tests/run, run with the virtualenv's Python.

    document.py fetch LABEL URL OUT
                                   download an OpenAPI document, check that it is a valid
                                   OpenAPI 3.1 document (openapi-spec-validator), save it to OUT
                                   and print its base path (the path of `servers[0].url`, or
                                   nothing) on stdout; messages go to stderr.
                                   Exit 0: valid; 1: the server answered but the document is
                                   missing or invalid; 2: the server never answered.
    document.py summary REPORT     print the numbers of a schemathesis JSON run report.

`fetch` sends TALLY_SANDBOX_KEY as a bearer token when it is set, and waits up to
TALLY_FUZZ_WAIT_SECS (default 30) for the server to answer.
"""

import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_ERRORS_SHOWN = 20
# Keys whose values are data (examples, defaults) or names (properties), not keywords.
DATA_KEYS = {"example", "examples", "default", "const", "enum"}

PREFIX = "schema-tests: "  # `fetch` adds the generation's label


def say(message):
    print(f"{PREFIX}{message}", file=sys.stderr, flush=True)


def download(url):
    """The document's bytes, waiting for the server to come up; exits 1 or 2 on failure."""
    wait = float(os.environ.get("TALLY_FUZZ_WAIT_SECS") or 30)
    deadline = time.monotonic() + wait
    while True:
        try:
            # The documents are served without a key.
            request = urllib.request.Request(url)
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()[:500].decode("utf-8", "replace")
            say(f"GET {url} answered {exc.code}: {body}")
            sys.exit(1)
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() >= deadline:
                say(f"cannot reach {url} after {wait:g}s: {exc}")
                sys.exit(2)
            time.sleep(0.5)


def nullable_keywords(node, where):
    """JSON pointers of every `nullable` keyword in the document."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from nullable_keywords(item, f"{where}/{index}")
    elif isinstance(node, dict):
        for key, value in node.items():
            pointer = f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key == "nullable":
                yield pointer
            if key in DATA_KEYS or str(key).startswith("x-"):
                continue
            if key == "properties" and isinstance(value, dict):
                for name, schema in value.items():
                    yield from nullable_keywords(schema, f"{pointer}/{str(name).replace('~', '~0').replace('/', '~1')}")
            else:
                yield from nullable_keywords(value, pointer)


def fetch(label, url, out):
    global PREFIX
    PREFIX = f"schema-tests: {label}: "
    raw = download(url)
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        say(f"{url} is not JSON ({exc}): {raw[:200]!r}")
        sys.exit(1)
    if not isinstance(doc, dict):
        say(f"{url} is not a JSON object")
        sys.exit(1)
    version = doc.get("openapi")
    if not (isinstance(version, str) and re.fullmatch(r"3\.1\.\d+", version)):
        say(f"{url}: `openapi` is {version!r}, expected 3.1.x")
        sys.exit(1)

    from jsonschema_path import SchemaPath
    from openapi_spec_validator import OpenAPIV31SpecValidator

    # The validator yields the JSON Schema errors first, then walks the document for the rest;
    # on a document of the wrong shape that walk can raise, after the errors that explain why.
    errors, crash = [], None
    try:
        for error in OpenAPIV31SpecValidator(SchemaPath.from_dict(doc)).iter_errors():
            errors.append(error)
    except Exception as exc:  # noqa: BLE001 - any crash of the validator means "invalid"
        crash = exc
    if errors or crash is not None:
        say(f"{url}: not a valid OpenAPI 3.1 document ({len(errors)} validation error(s)):")
        for error in errors[:MAX_ERRORS_SHOWN]:
            where = "#" + "".join(
                "/" + str(part).replace("~", "~0").replace("/", "~1") for part in getattr(error, "path", ())
            )
            message = str(getattr(error, "message", error)).splitlines()[0]
            print(f"  at {where}: {message}", file=sys.stderr)
        if len(errors) > MAX_ERRORS_SHOWN:
            print(f"  ... and {len(errors) - MAX_ERRORS_SHOWN} more", file=sys.stderr)
        if crash is not None:
            print(f"  (the validator then stopped: {type(crash).__name__}: {crash})", file=sys.stderr)
        sys.exit(1)

    # OpenAPI 3.0's `nullable` means nothing in 3.1 (JSON Schema 2020-12 ignores unknown
    # keywords), so clients read such a field as never null; the validator and schemathesis both
    # accept it, schemathesis even honours it. 3.1 spells it `type: [..., "null"]`.
    leftovers = list(nullable_keywords(doc, "#"))
    if leftovers:
        say(f"{url}: `nullable` is not an OpenAPI 3.1 keyword (use type: [..., \"null\"]), found at:")
        for where in leftovers[:MAX_ERRORS_SHOWN]:
            print(f"  at {where}", file=sys.stderr)
        if len(leftovers) > MAX_ERRORS_SHOWN:
            print(f"  ... and {len(leftovers) - MAX_ERRORS_SHOWN} more", file=sys.stderr)
        sys.exit(1)

    operations = sum(
        1
        for item in (doc.get("paths") or {}).values()
        if isinstance(item, dict)
        for method in item
        if method in METHODS
    )
    base_path = ""
    servers = doc.get("servers") or []
    if servers and isinstance(servers[0], dict) and isinstance(servers[0].get("url"), str):
        base_path = urllib.parse.urlsplit(servers[0]["url"]).path.rstrip("/")
        if "{" in base_path:
            say(f"{url}: servers[0].url has variables ({servers[0]['url']}); not supported here")
            sys.exit(1)
    info = doc.get("info") or {}
    say(
        f"valid OpenAPI {version} document: {info.get('title')!s} {info.get('version')!s}, "
        f"{operations} operations, base path {base_path or '/'}"
    )
    with open(out, "wb") as file:
        file.write(raw)
    print(base_path)


def summary(path):
    with open(path, encoding="utf-8") as file:
        report = json.load(file)
    operations = report.get("operations", {})
    cases = report.get("test_cases", {})
    warnings = {name: labels for name, labels in (report.get("warnings") or {}).items() if labels}
    print(
        f"operations: {operations.get('tested', '?')} tested of {operations.get('selected', '?')} selected "
        f"({operations.get('total', '?')} in the document, {operations.get('errored', 0)} errored, "
        f"{operations.get('skipped', 0)} skipped)"
    )
    print(
        f"requests: {cases.get('generated', '?')} test cases sent, {cases.get('with_failures', 0)} with failures "
        f"({cases.get('unique_failures', 0)} unique), {cases.get('errored', 0)} errored"
    )
    failures = report.get("failures") or []
    errors = report.get("errors") or []
    print(
        f"findings: {sum(failure.get('count', 1) for failure in failures)} failures, {len(errors)} errors, "
        f"warnings: {', '.join(f'{name} ({len(labels)})' for name, labels in warnings.items()) or 'none'}"
    )
    for failure in failures:
        print(
            f"  failure {failure.get('code', '?')} {failure.get('title', failure.get('type', '?'))}: "
            f"{failure.get('count', 1)} in {', '.join(failure.get('operations') or []) or '?'}"
        )
    for error in errors:
        extra = {key: value for key, value in error.items() if key not in ("title", "count")}
        print(f"  error {error.get('title', '?')}: {error.get('count', 1)}{' ' + json.dumps(extra) if extra else ''}")


def main(argv):
    if len(argv) == 5 and argv[1] == "fetch":
        fetch(argv[2], argv[3], argv[4])
    elif len(argv) == 3 and argv[1] == "summary":
        summary(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
