#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""openapi_check.py - keeps docs/openapi.yaml true: every route of
`amaned --routes` must be described there with the same method and roles,
and every operation described must exist. Reads the YAML's `paths:` block
line by line (no YAML library on a bare Debian), which the file's layout
keeps simple: two-space path keys, four-space method keys, an
x-amane-roles line per operation."""
import re
import subprocess
import sys
import tempfile

amaned, spec = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as tmp:
    out = subprocess.run([amaned, "--routes", f"--store.path={tmp}/a.db"], check=True,
                         capture_output=True, text=True).stdout
server = {}
for line in out.splitlines():
    method, path, roles = line.split()
    server[(method, path)] = "public" if roles == "public" else ",".join(sorted(roles.split(",")))

described = {}
in_paths = False
path = method = None
for line in open(spec, encoding="utf-8"):
    if line.startswith("paths:"):
        in_paths = True
        continue
    if not in_paths:
        continue
    if re.match(r"^\S", line):
        break
    m = re.match(r"^  (/\S*):\s*$", line)
    if m:
        path, method = m.group(1), None
        continue
    m = re.match(r"^    (get|post|put|patch|delete):\s*$", line)
    if m:
        method = m.group(1).upper()
        described[(method, path)] = None
        continue
    m = re.match(r"^      x-amane-route:\s*\"?([^\"\s]+)\"?", line)
    if m and method:
        roles = described.pop((method, path))
        path = m.group(1)
        described[(method, path)] = roles
        continue
    m = re.match(r"^      x-amane-roles:\s*(.*)$", line)
    if m and method:
        v = m.group(1).strip()
        described[(method, path)] = "public" if v == "public" else ",".join(
            sorted(x.strip() for x in v.strip("[]").split(",")))

errors = []
for key, roles in sorted(server.items()):
    if key not in described:
        errors.append(f"{key[0]} {key[1]}: served but not in {spec}")
    elif described[key] != roles:
        errors.append(f"{key[0]} {key[1]}: roles {described[key]} in the spec, {roles} served")
for key in sorted(described):
    if key not in server:
        errors.append(f"{key[0]} {key[1]}: in {spec} but not served")
for e in errors:
    print("openapi:", e)
print(f"openapi: {len(server)} routes checked, {len(errors)} problems")
sys.exit(1 if errors else 0)
