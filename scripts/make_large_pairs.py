#!/usr/bin/env python3
"""Writes a generic-json JSONL file of synthetic preference pairs of about --bytes bytes (made-up words, seeded), for
measuring `worldpm prepare` and training on a token store with data larger than memory. Prints the pair count."""
import argparse
import json
import random


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="the JSONL file to write")
    parser.add_argument("--bytes", type=float, required=True, help="about how many bytes to write (e.g. 2e9)")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(5000)]
    # A pool of sentences reused in varying order keeps generation fast while every record differs.
    sentences = [" ".join(rng.choices(words, k=rng.randint(6, 18))).capitalize() + "." for _ in range(20000)]
    target, written, pairs = int(args.bytes), 0, 0
    with open(args.out, "w", encoding="utf-8") as out:
        while written < target:
            record = {
                "prompt": " ".join(rng.choices(sentences, k=rng.randint(2, 6))) + f" ({pairs})",
                "chosen": " ".join(rng.choices(sentences, k=rng.randint(1, 5))),
                "rejected": " ".join(rng.choices(sentences, k=rng.randint(1, 5))),
            }
            line = json.dumps(record) + "\n"
            out.write(line)
            written += len(line)
            pairs += 1
    print(pairs)


if __name__ == "__main__":
    main()
