"""A tiny byte-level BPE tokenizer in Hugging Face's tokenizer.json layout, and its encoder, from the scheme's
definition: text is UTF-8 bytes, each byte written as one printable character (the GPT-2 byte alphabet), and
merges, applied lowest rank first within a word, join adjacent symbols. Special tokens are matched as whole strings
before any of that.

The merges only join lowercase letters. Qwen2's pre-tokenizer regex never separates two adjacent letters (texts
without an apostrophe, whose contractions split words), so applying the merges to each text between special tokens
gives the same ids as applying them per pre-token; the encoder here needs no regex engine."""

import json

# Qwen2's pre-tokenizer pattern, as its tokenizer.json ships it (the project accepts only this one).
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

MERGES = [("t", "h"), ("e", "r"), ("i", "n"), ("th", "e"), ("o", "u"), ("a", "n"), ("r", "e"), ("in", "g"),
          ("o", "n"), ("e", "s"), ("a", "t"), ("o", "r"), ("e", "n"), ("s", "t"), ("l", "l"), ("the", "r")]


def byte_alphabet():
    """byte value -> character: printable Latin-1 bytes stand for themselves, the other 68 take 256, 257, ... in order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = {}
    extra = 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


class Tokenizer:
    def __init__(self):
        alphabet = byte_alphabet()
        self.byte_char = alphabet
        self.vocab = {alphabet[b]: b for b in range(256)}
        for left, right in MERGES:
            self.vocab[left + right] = len(self.vocab)
        self.rank = {pair: i for i, pair in enumerate(MERGES)}
        self.special = {token: len(self.vocab) + i for i, token in enumerate(SPECIAL_TOKENS)}
        self.size = len(self.vocab) + len(self.special)

    def encode(self, text):
        ids = []
        rest = text
        while rest:
            hits = [(rest.find(s), s) for s in self.special if rest.find(s) >= 0]
            if not hits:
                ids += self.encode_plain(rest)
                break
            at, token = min(hits)
            ids += self.encode_plain(rest[:at]) + [self.special[token]]
            rest = rest[at + len(token):]
        return ids

    def encode_plain(self, text):
        symbols = [self.byte_char[b] for b in text.encode("utf-8")]
        while len(symbols) > 1:
            pairs = [(self.rank.get((a, b), len(MERGES)), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
            best, at = min(pairs)
            if best == len(MERGES):
                break
            symbols[at:at + 2] = [symbols[at] + symbols[at + 1]]
        return [self.vocab[s] for s in symbols]

    def write(self, directory):
        """tokenizer.json and tokenizer_config.json as transformers writes them for a Qwen2 tokenizer."""
        added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
                  "special": True} for t, i in self.special.items()]
        tokenizer = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": self.vocab, "merges": [f"{a} {b}" for a, b in MERGES]},
        }
        with open(f"{directory}/tokenizer.json", "w", encoding="utf-8") as f:
            json.dump(tokenizer, f, ensure_ascii=False, indent=1)
        config = {
            "add_prefix_space": False,
            "added_tokens_decoder": {str(i): {k: v for k, v in a.items() if k != "id"} for a in added for i in [a["id"]]},
            "bos_token": None,
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "model_max_length": 131072,
            "tokenizer_class": "Qwen2Tokenizer",
        }
        with open(f"{directory}/tokenizer_config.json", "w", encoding="utf-8") as f:
            json.dump(config, f, indent=1)
