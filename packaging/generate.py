#!/usr/bin/env python3
"""Builds what the packages ship from the daemons themselves (run by the build, see CPack.cmake).

Every daemon prints its commented default config with --print-default-config (the shared
database/redis/log sections, then its own); that output is generated from the one table of keys
each daemon declares (common/config/schema.hpp). From it this writes:

  waddle.yaml            the example /etc/waddlebot/waddle.yaml: the shared sections once, then each
                         daemon's own section; secrets only ever as commented *_file lines
  keys.scd               every key for waddle.yaml(5), as scdoc
  keys-<section>.scd     one daemon's own keys, for its waddle-<daemon>d(8) page
  units/<unit>.service   the daemon's unit from systemd/waddle-daemon.service.in, with a
                         LoadCredential= line for each of its secret keys
  units/waddle.target    from systemd/waddle.target.in, enabling every unit built here

Usage: generate.py --out DIR --templates DIR --sbindir DIR SECTION|BINARY|UNIT|DESCRIPTION|PATH...
"""

import argparse
import os
import re
import subprocess
import sys

SECTION_RE = re.compile(r"^([a-z][a-z0-9_]*):\s*$")
# "  # doc (type[, details]; env WADDLE_X)": the rightmost " (<type>" starts the details, so a doc
# may hold parentheses of its own.
DESCRIBE_RE = re.compile(
    r"^  # (?P<doc>.*) \((?P<type>string|integer|number|boolean|duration|list of strings|"
    r"enumeration)(?P<details>.*); env (?P<env>WADDLE_[A-Z0-9_]+)\)$")
KEY_RE = re.compile(r"^  (?P<commented># )?(?P<name>[a-z][a-z0-9_]*): ?(?P<value>.*)$")


class GenerateError(Exception):
    pass


class Key:
    def __init__(self, section, name, doc, type_, details, env, value, commented, secret):
        self.section = section
        self.name = name
        self.doc = doc
        self.type = type_
        self.details = details
        self.env = env
        self.value = value
        self.commented = commented
        self.secret = secret


class DefaultConfig:
    """One daemon's --print-default-config output, split into header and sections."""

    def __init__(self, origin, text):
        self.origin = origin
        self.header = []
        self.sections = {}  # name -> list of lines, in order
        self.keys = {}  # name -> list of Key
        current = None
        for line in text.splitlines():
            m = SECTION_RE.match(line)
            if m:
                current = m.group(1)
                if current in self.sections:
                    raise GenerateError(f"{origin}: section {current} printed twice")
                self.sections[current] = []
                continue
            if current is None:
                if line.strip():
                    self.header.append(line)
                continue
            if line.strip():
                self.sections[current].append(line)
        if not self.sections:
            raise GenerateError(f"{origin}: --print-default-config printed no section")
        for section, lines in self.sections.items():
            self.keys[section] = self._parse_keys(section, lines)

    def _parse_keys(self, section, lines):
        if len(lines) % 2:
            raise GenerateError(f"{self.origin}: section {section}: a key without its description")
        keys = []
        for describe, key_line in zip(lines[0::2], lines[1::2]):
            d = DESCRIBE_RE.match(describe)
            k = KEY_RE.match(key_line)
            if not d or not k:
                raise GenerateError(
                    f"{self.origin}: section {section}: cannot read\n  {describe}\n  {key_line}")
            name = k.group("name")
            secret = ", secret" in d.group("details")
            if secret:
                # A secret is printed as "# <name>_file: /etc/waddlebot/<section>.<name>".
                if not k.group("commented") or not name.endswith("_file"):
                    raise GenerateError(
                        f"{self.origin}: secret {section}.{name} is not a commented *_file line")
                name = name[: -len("_file")]
            keys.append(Key(section, name, d.group("doc"), d.group("type"),
                            d.group("details"), d.group("env"), k.group("value"),
                            bool(k.group("commented")), secret))
        return keys


def run_print_default(binary_path):
    try:
        result = subprocess.run([binary_path, "--print-default-config"], capture_output=True,
                                text=True, timeout=60, check=False)
    except OSError as e:
        raise GenerateError(f"{binary_path}: {e.strerror}") from e
    if result.returncode != 0:
        raise GenerateError(f"{binary_path} --print-default-config exited with "
                            f"{result.returncode}: {result.stderr.strip()}")
    return result.stdout


def merge(daemons):
    """The shared sections once (identical in every daemon, else an error), then each own one."""
    header = daemons[0]["config"].header
    order, owner = [], {}
    for d in daemons:
        config = d["config"]
        for section, lines in config.sections.items():
            if section in owner:
                first = owner[section]
                if first["config"].sections[section] != lines:
                    raise GenerateError(
                        f"section {section} differs between {first['binary']} and "
                        f"{d['binary']}: a shared section must be declared once, in "
                        f"daemon::shared_schema()")
                continue
            owner[section] = d
            order.append(section)
    own = {d["section"] for d in daemons}
    # Shared sections first, then the daemons' own, in the table's order.
    shared = [s for s in order if s not in own]
    ordered = shared + [d["section"] for d in daemons if d["section"] in owner]
    out = list(header)
    out.append("#")
    out.append("# This file is shared by waddle(1) and every daemon installed here; each daemon")
    out.append("# reads the shared sections and its own. Check it with: <daemon> --check-config")
    for section in ordered:
        out.append("")
        out.append(f"{section}:")
        out.extend(owner[section]["config"].sections[section])
    text = "\n".join(out) + "\n"
    keys = [k for s in ordered for k in owner[s]["config"].keys[s]]
    for k in keys:
        if k.secret and not k.commented:
            raise GenerateError(f"secret {k.section}.{k.name} would be shipped with a value")
    return text, ordered, owner


def scd_escape(text):
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def key_reference(sections, owner, own_only=None):
    """scdoc: one ## per section, one term per key with its type, bounds, default and env."""
    out = []
    for section in sections:
        if own_only is not None and section != own_only:
            continue
        keys = owner[section]["config"].keys[section]
        if own_only is None:
            d = owner[section]
            if section == d["section"]:
                out.append(f"## {section} ({scd_escape(d['binary'])})")
            else:
                out.append(f"## {section} (shared)")
            out.append("")
        for k in keys:
            # A space after each list item's comma lets troff break a long default list.
            details = k.details.replace('","', '", "')
            out.append(f"*{scd_escape(section)}.{scd_escape(k.name)}* "
                       f"({scd_escape(k.type + details)})")
            doc = k.doc[0].upper() + k.doc[1:] if k.doc else k.name
            lines = [f"{scd_escape(doc)}."]
            if k.secret:
                lines.append(
                    f"Secret: never written in this file. Give it as *{scd_escape(k.name)}\\_file*"
                    f" (a file holding it), as *{scd_escape(k.env)}* or *{scd_escape(k.env)}\\_FILE*"
                    f" in the environment, or as the systemd credential "
                    f"*{scd_escape(section)}.{scd_escape(k.name)}* "
                    f"(_/etc/credstore/{scd_escape(section)}.{scd_escape(k.name)}_).")
            elif k.commented:
                lines.append(f"No default. Example: *{scd_escape(k.value)}*.")
            lines.append(f"Environment: *{scd_escape(k.env)}*.")
            out.append("\t" + " ".join(lines))
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def render(template_path, values):
    with open(template_path, encoding="utf-8") as f:
        text = f.read()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise GenerateError(f"{template_path}: unknown placeholder(s) {', '.join(left)}")
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--templates", required=True, help="the source tree's systemd/")
    parser.add_argument("--sbindir", required=True, help="where the package installs daemons")
    parser.add_argument("daemons", nargs="+", metavar="SECTION|BINARY|UNIT|DESCRIPTION|PATH")
    args = parser.parse_args()

    daemons = []
    for spec in args.daemons:
        fields = spec.split("|")
        if len(fields) != 5:
            raise GenerateError(f"bad daemon spec {spec!r}")
        section, binary, unit, description, path = fields
        config = DefaultConfig(binary, run_print_default(path))
        if section not in config.sections:
            raise GenerateError(f"{binary} printed no {section}: section")
        daemons.append({"section": section, "binary": binary, "unit": unit,
                        "description": description, "config": config})

    yaml_text, sections, owner = merge(daemons)
    write(os.path.join(args.out, "waddle.yaml"), yaml_text)
    write(os.path.join(args.out, "keys.scd"), key_reference(sections, owner))
    for d in daemons:
        write(os.path.join(args.out, f"keys-{d['section']}.scd"),
              key_reference(sections, owner, own_only=d["section"]))
        secrets = [k for keys in d["config"].keys.values() for k in keys if k.secret]
        credentials = "\n".join(f"LoadCredential={k.section}.{k.name}" for k in secrets)
        unit = render(os.path.join(args.templates, "waddle-daemon.service.in"), {
            "BINARY": d["binary"], "UNIT": d["unit"], "SECTION": d["section"],
            "DESCRIPTION": d["description"], "SBINDIR": args.sbindir,
            "CREDENTIALS": credentials or "# (no secret keys)"})
        write(os.path.join(args.out, "units", f"{d['unit']}.service"), unit)
    target = render(os.path.join(args.templates, "waddle.target.in"), {
        "UNITS": " ".join(f"{d['unit']}.service" for d in daemons)})
    write(os.path.join(args.out, "units", "waddle.target"), target)


if __name__ == "__main__":
    try:
        main()
    except GenerateError as e:
        print(f"generate.py: {e}", file=sys.stderr)
        sys.exit(1)
