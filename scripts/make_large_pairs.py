#!/usr/bin/env python3
"""Writes a file of synthetic preference data of about --bytes bytes (made-up words, seeded), for measuring
`worldpm prepare` and training with data larger than memory. --shape picks the format: generic-json JSON Lines (the
default), one generic-json JSON array, or a StackExchange-shaped Posts.xml (questions, each with three to five scored
answers, one of them accepted). Prints the record count (pairs for the JSON shapes, questions for Posts.xml)."""
import argparse
import json
import random
from xml.sax.saxutils import quoteattr


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="the file to write")
    parser.add_argument("--bytes", type=float, required=True, help="about how many bytes to write (e.g. 2e9)")
    parser.add_argument("--shape", choices=["jsonl", "json-array", "posts-xml"], default="jsonl")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(5000)]
    # A pool of sentences reused in varying order keeps generation fast while every record differs.
    sentences = [" ".join(rng.choices(words, k=rng.randint(6, 18))).capitalize() + "." for _ in range(20000)]
    text = lambda low, high: " ".join(rng.choices(sentences, k=rng.randint(low, high)))
    target, written, records = int(args.bytes), 0, 0
    opening, closing = {"jsonl": ("", ""), "json-array": ("[\n", "]\n"),
                        "posts-xml": ('<?xml version="1.0" encoding="utf-8"?>\n<posts>\n', "</posts>\n")}[args.shape]
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(opening)
        post_id = 0
        while written < target:
            if args.shape == "posts-xml":
                post_id += 1
                question, answers = post_id, rng.randint(3, 5)
                accepted = question + rng.randint(1, answers)
                rows = [f'  <row Id="{question}" PostTypeId="1" AcceptedAnswerId="{accepted}" Score="{rng.randint(0, 50)}" '
                        f'Title={quoteattr(text(1, 1))} Body={quoteattr("<p>" + text(2, 6) + "</p>")} />\n']
                for _ in range(answers):
                    post_id += 1
                    rows.append(f'  <row Id="{post_id}" PostTypeId="2" ParentId="{question}" Score="{rng.randint(-3, 40)}" '
                                f'Body={quoteattr("<p>" + text(1, 5) + "</p><pre><code>x = 1</code></pre>")} />\n')
                chunk = "".join(rows)
            else:
                record = {"prompt": text(2, 6) + f" ({records})", "chosen": text(1, 5), "rejected": text(1, 5)}
                separator = ",\n" if args.shape == "json-array" and records > 0 else ""
                chunk = separator + json.dumps(record) + ("\n" if args.shape == "jsonl" else "")
            out.write(chunk)
            written += len(chunk)
            records += 1
        out.write(("\n" if args.shape == "json-array" else "") + closing)
    print(records)


if __name__ == "__main__":
    main()
