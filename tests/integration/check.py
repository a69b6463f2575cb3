#!/usr/bin/env python3
"""check.py -- holds `eximexplain export`'s NDJSON to the scenarios table.

Usage: check.py PASS SCENARIOS EXPORT.ndjson UNPARSED

For every scenario it finds the message by the Message-ID the runner gave
it (NAME.PASS@eeit.test), or the SMTP-time event by the scenario's own
client address, and checks each expectation (see the table's header). It
prints one PASS or FAIL line per scenario, with what export said when it
fails, and fails too when eximexplain left any line of the real log
unclassified. It reads only; it never changes the logs.
"""

import json
import re
import shlex
import sys


def load_scenarios(path):
    scenarios = []
    with open(path, encoding="utf-8") as table:
        for line in table:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, args, expect = (field.strip() for field in line.split("|"))
            words = shlex.split(args)
            source = words[words.index("-li") + 1] if "-li" in words else None
            scenarios.append((name, source, expect.split()))
    return scenarios


def smtp_field(recipient, key):
    value = recipient.get("smtp", {}).get(key)
    return None if value is None else str(value).replace(" ", "_")


def check_message(message, expect, by_id):
    problems = []
    recipients = message.get("recipients", [])
    if len(recipients) != 1:
        return [f"{len(recipients)} recipients, expected 1"]
    recipient = recipients[0]
    for item in expect:
        key, _, want = item.partition("=")
        if key == "status":
            got = recipient.get("status")
        elif key == "rule":
            got = recipient.get("rule", "-")
        elif key in ("router", "transport", "host"):
            got = recipient.get(key)
        elif key in ("code", "stage"):
            got = smtp_field(recipient, key)
        elif key == "delay":
            got = recipient.get("delay", {}).get("rule")
        elif key in ("bounce", "bounce_rule"):
            bounce = by_id.get(message.get("bounced_by"))
            if bounce is None:
                problems.append(f"no bounce (bounced_by={message.get('bounced_by')})")
                continue
            if bounce.get("bounce_of") != message["id"]:
                problems.append(f"bounce {bounce['id']} has bounce_of={bounce.get('bounce_of')}")
            if key == "bounce":
                got = "frozen" if bounce.get("frozen") else \
                    ",".join(r.get("status", "?") for r in bounce.get("recipients", []))
            else:
                got = bounce.get("freeze", {}).get("rule") or \
                    ",".join(r.get("rule", "-") for r in bounce.get("recipients", []))
        else:
            problems.append(f"unknown expectation {item}")
            continue
        if str(got) != want:
            problems.append(f"{key}={got}, expected {want}")
    return problems


def summary(message):
    parts = []
    for r in message.get("recipients", []):
        parts.append(f"{r.get('address')} status={r.get('status')} rule={r.get('rule', '-')} "
                     f"router={r.get('router')} transport={r.get('transport')} "
                     f"host={r.get('host')} smtp={r.get('smtp')} error={r.get('error')!r} "
                     f"delay={r.get('delay', {}).get('rule')}")
    return "; ".join(parts)


def main():
    pass_name, scenarios_path, export_path, unparsed_path = sys.argv[1:5]
    messages, events = [], []
    with open(export_path, encoding="utf-8") as export:
        for line in export:
            record = json.loads(line)
            (messages if record["type"] == "message" else events).append(record)
    by_id = {m["id"]: m for m in messages}
    by_msgid = {m.get("arrival", {}).get("message_id"): m for m in messages}

    failed = 0
    for name, source, expect in load_scenarios(scenarios_path):
        problems = []
        message = by_msgid.get(f"{name}.{pass_name}@eeit.test")
        if "none" in expect:
            if message is not None:
                problems.append(f"message {message['id']} exists, expected a refusal")
            want = dict(e.split("=", 1) for e in expect if "=" in e)
            want["kind"] = want.pop("event", None)
            mine = [e for e in events if e.get("ip") == source]
            if not any(all(e.get(k) == v for k, v in want.items()) for e in mine):
                problems.append(f"no event {want} from {source}; got " +
                                "; ".join(f"kind={e.get('kind')} rule={e.get('rule')} "
                                          f"sender={e.get('sender')} detail={e.get('detail')!r}"
                                          for e in mine))
        elif message is None:
            problems.append("no message with this Message-ID in the export")
        else:
            problems = check_message(message, expect, by_id)
            if problems:
                problems.append("export: " + summary(message))
        if problems:
            failed += 1
            print(f"FAIL: {pass_name}: {name}: " + "\n    ".join(problems))
        else:
            print(f"PASS: {pass_name}: {name}")

    with open(unparsed_path, encoding="utf-8", errors="replace") as unparsed:
        lines = unparsed.read().splitlines()
    if lines:
        failed += 1
        print(f"FAIL: {pass_name}: {len(lines)} log lines eximexplain cannot classify:")
        for line in lines[:20]:
            print("    " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
