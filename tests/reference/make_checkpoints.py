"""Writes small random checkpoints in Hugging Face layout with their reference outputs, for the test that loads them
as `worldpm train --init` does (tests/WorldPM.Tests/Checkpoints/HuggingFaceReferenceTests.cs).

    /usr/bin/python3 -B tests/reference/make_checkpoints.py OUT_DIR      (-B: no __pycache__ in the checkout)

Each variant goes into OUT_DIR/<name>/: config.json, the weights (model.safetensors, or shards with
model.safetensors.index.json), tokenizer.json, tokenizer_config.json, and reference.json holding, per conversation,
the token ids, last_hidden_state at the scoring token and the reward, computed in float64 from the weights as
written (a bf16 checkpoint's rounded values). Variants:

  qwen2         Qwen2, fp32, one file, an untied lm_head.weight the reward model does not use
  qwen2-bf16    Qwen2, bf16, three shards and their index, the off values of rope_scaling and the sliding window
  llama         Llama: no q/k/v biases, tied embeddings (no lm_head), rope_theta left to its default (10000),
                scored at <|im_end|> with a ReLU head
  qwen2-base    a bare Qwen2 decoder as Qwen2Model saves it: no "model." prefix, no lm_head and no head, two shards
                (reference.json then has the hidden states and no rewards)

Sequences are the project's chat template (Qwen2.5's, with an empty system turn when the conversation has none),
ending in the scoring token: <|im_end|>\\n<|endoftext|> by default, <|im_end|> with scoring_token "im_end"."""

import json
import os
import sys

import torch

import byte_level_bpe
import qwen2_reference
import safetensors_writer

CONVERSATIONS = [
    ([("user", "Tell me the weather in the north.")], "It is cold there, and storms come in the evening."),
    ([("system", "You are terse."), ("user", "Sing a song")], "la la la"),
    ([("user", "Hi")], ""),
    ([("user", "What is the answer?"), ("assistant", "Forty two."), ("user", "And the question?")],
     "Nobody knows the question; sorry, the other one is lost."),
]

SHAPE = {
    "vocab_size": 280, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "intermediate_size": 48, "hidden_act": "silu", "rms_norm_eps": 1e-6, "max_position_embeddings": 256,
    "head_hidden_size": 16,
}

VARIANTS = {
    "qwen2": dict(seed=11, dtype=torch.float32, shards=1, lm_head=True, config={
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "rope_theta": 1000000.0,
        "tie_word_embeddings": False, "torch_dtype": "float32", "head_activation": "gelu_pytorch_tanh"}),
    "qwen2-bf16": dict(seed=12, dtype=torch.bfloat16, shards=3, lm_head=True, config={
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "rope_theta": 10000.0, "rope_scaling": None,
        "use_sliding_window": False, "sliding_window": 4096, "max_window_layers": 2, "tie_word_embeddings": False,
        "torch_dtype": "bfloat16", "head_activation": "gelu_pytorch_tanh", "scoring_token": "endoftext"}),
    "llama": dict(seed=13, dtype=torch.float32, shards=1, lm_head=False, config={
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "rope_scaling": None, "mlp_bias": False,
        "head_dim": 8, "pretraining_tp": 1, "tie_word_embeddings": True, "torch_dtype": "float32",
        "head_activation": "relu", "scoring_token": "im_end"}),
    "qwen2-base": dict(seed=14, dtype=torch.float32, shards=2, lm_head=False, head=False, prefix="", config={
        "architectures": ["Qwen2Model"], "model_type": "qwen2", "rope_theta": 1000000.0, "tie_word_embeddings": False,
        "torch_dtype": "float32"}),
}


def render(turns, response, scoring_token):
    """The conversation and response as template text, special tokens written out."""
    if not turns or turns[0][0] != "system":
        turns = [("system", "")] + list(turns)
    text = "".join(f"<|im_start|>{role}\n{content}<|im_end|>\n" for role, content in turns)
    text += f"<|im_start|>assistant\n{response}<|im_end|>"
    return text + "\n<|endoftext|>" if scoring_token == "endoftext" else text


def random_weights(config, seed, lm_head, head=True):
    g = torch.Generator().manual_seed(seed)

    def normal(*shape, std=1.0, mean=0.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * std + mean

    d, i, h = config["hidden_size"], config["intermediate_size"], config["head_hidden_size"]
    dh = d // config["num_attention_heads"]
    q, kv = config["num_attention_heads"] * dh, config["num_key_value_heads"] * dh
    bias = config["model_type"] != "llama"
    w = {"model.embed_tokens.weight": normal(config["vocab_size"], d)}
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        w[p + "input_layernorm.weight"] = normal(d, std=0.2, mean=1.0)
        w[p + "post_attention_layernorm.weight"] = normal(d, std=0.2, mean=1.0)
        for name, rows in (("q_proj", q), ("k_proj", kv), ("v_proj", kv)):
            w[p + f"self_attn.{name}.weight"] = normal(rows, d, std=d ** -0.5)
            if bias:
                w[p + f"self_attn.{name}.bias"] = normal(rows, std=0.3)
        w[p + "self_attn.o_proj.weight"] = normal(d, q, std=q ** -0.5)
        w[p + "mlp.gate_proj.weight"] = normal(i, d, std=d ** -0.5)
        w[p + "mlp.up_proj.weight"] = normal(i, d, std=d ** -0.5)
        w[p + "mlp.down_proj.weight"] = normal(d, i, std=i ** -0.5)
    w["model.norm.weight"] = normal(d, std=0.2, mean=1.0)
    if lm_head:
        w["lm_head.weight"] = normal(config["vocab_size"], d, std=d ** -0.5)
    if head:
        w["score.0.weight"] = normal(h, d, std=d ** -0.5)
        w["score.0.bias"] = normal(h, std=0.1)
        w["score.2.weight"] = normal(1, h, std=h ** -0.5)
        w["score.2.bias"] = normal(1, std=0.3)
    return w


def stored_name(name, prefix):
    """The name a decoder tensor is saved under: Qwen2Model alone drops the "model." of the causal LM's names."""
    return prefix + name[len("model."):] if name.startswith("model.") else name


def write_variant(directory, variant, tokenizer):
    os.makedirs(directory, exist_ok=True)
    config = dict(SHAPE, **variant["config"])
    head = variant.get("head", True)
    stored = {name: t.to(variant["dtype"]) for name, t in
              random_weights(config, variant["seed"], variant["lm_head"], head).items()}
    on_disk = {stored_name(name, variant.get("prefix", "model.")): t for name, t in stored.items()}
    if variant["shards"] == 1:
        safetensors_writer.write_file(f"{directory}/model.safetensors", on_disk)
    else:
        safetensors_writer.write_sharded(directory, on_disk, variant["shards"])
    with open(f"{directory}/config.json", "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    tokenizer.write(directory)

    scoring_token = config.get("scoring_token", "endoftext")
    cases = []
    for turns, response in CONVERSATIONS:
        ids = tokenizer.encode(render(turns, response, scoring_token))
        hidden = qwen2_reference.last_hidden_state(config, stored, ids)[-1]
        cases.append({
            "prompt": [{"role": role, "content": content} for role, content in turns],
            "response": response,
            "ids": ids,
            "hidden": hidden.tolist(),
            "reward": qwen2_reference.reward(config, stored, hidden) if head else None,
        })
    with open(f"{directory}/reference.json", "w", encoding="utf-8") as f:
        json.dump({"cases": cases}, f, indent=1)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_checkpoints.py OUT_DIR")
    tokenizer = byte_level_bpe.Tokenizer()
    assert tokenizer.size <= SHAPE["vocab_size"]
    for name, variant in VARIANTS.items():
        write_variant(os.path.join(sys.argv[1], name), variant, tokenizer)


if __name__ == "__main__":
    main()
