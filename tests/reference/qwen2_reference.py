"""The Hugging Face Qwen2 decoder (and Llama, the same without q/k/v biases) and a preference head, in float64,
written from the architecture's definition:

    h = embed_tokens[ids]
    per layer:  a = RMSNorm(h) ; q, k, v = a Wq^T + bq, a Wk^T + bk, a Wv^T + bv
                q, k rotated by RoPE at positions 0.. (rope_theta; pairs i and i + d/2 of each head)
                h = h + softmax(q k^T / sqrt(d) + causal mask) v Wo^T      (each key/value head shared by
                                                                          num_attention_heads / num_key_value_heads
                                                                          query heads)
                m = RMSNorm(h) ; h = h + (silu(m Wg^T) * (m Wu^T)) Wd^T
    last_hidden_state = RMSNorm(h)                                       (model.norm)
    RMSNorm(x) = x / sqrt(mean(x^2) + eps) * weight

The preference head reads last_hidden_state at the scoring token, the sequence's last one:
reward = score.2(act(score.0(x))), two Linear layers with biases (score.0 [h, d], score.2 [1, h])."""

import math

import torch

HEAD_ACTIVATIONS = {
    "gelu_pytorch_tanh": lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
    "gelu": lambda x: torch.nn.functional.gelu(x),
    "relu": torch.relu,
}


def rms_norm(x, weight, eps):
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * weight


def rope(x, theta):
    """x [heads, T, d]: each position t turns the pair (x_i, x_{i + d/2}) by the angle t / theta^(2i / d)."""
    d = x.shape[-1]
    inverse = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = torch.arange(x.shape[-2], dtype=torch.float64)[:, None] * inverse[None, :]
    cos, sin = torch.cos(angles), torch.sin(angles)
    first, second = x[..., : d // 2], x[..., d // 2:]
    return torch.cat([first * cos - second * sin, second * cos + first * sin], dim=-1)


def linear(x, weights, name, bias=True):
    y = x @ weights[name + ".weight"].T
    return y + weights[name + ".bias"] if bias else y


def last_hidden_state(config, weights, ids):
    """[T, hidden_size] after model.norm for one sequence of token ids."""
    w = {k: v.to(torch.float64) for k, v in weights.items()}
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    d = config["hidden_size"] // heads
    eps, theta = config["rms_norm_eps"], config.get("rope_theta", 10000.0)
    bias = config.get("attention_bias", config.get("model_type") != "llama")
    t = len(ids)
    h = w["model.embed_tokens.weight"][torch.tensor(ids)]
    causal = torch.triu(torch.full((t, t), float("-inf"), dtype=torch.float64), diagonal=1)
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        a = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = linear(a, w, p + "self_attn.q_proj", bias).view(t, heads, d).transpose(0, 1)
        k = linear(a, w, p + "self_attn.k_proj", bias).view(t, kv_heads, d).transpose(0, 1)
        v = linear(a, w, p + "self_attn.v_proj", bias).view(t, kv_heads, d).transpose(0, 1)
        q, k = rope(q, theta), rope(k, theta)
        group = heads // kv_heads
        k, v = k.repeat_interleave(group, dim=0), v.repeat_interleave(group, dim=0)
        scores = q @ k.transpose(1, 2) / math.sqrt(d) + causal
        attention = torch.softmax(scores, dim=-1) @ v
        h = h + linear(attention.transpose(0, 1).reshape(t, heads * d), w, p + "self_attn.o_proj", bias=False)
        m = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate = linear(m, w, p + "mlp.gate_proj", bias=False)
        up = linear(m, w, p + "mlp.up_proj", bias=False)
        h = h + linear(torch.nn.functional.silu(gate) * up, w, p + "mlp.down_proj", bias=False)
    return rms_norm(h, w["model.norm.weight"], eps)


def reward(config, weights, hidden):
    """The preference head on one hidden state [hidden_size]."""
    w = {k: v.to(torch.float64) for k, v in weights.items() if k.startswith("score.")}
    act = HEAD_ACTIVATIONS[config["head_activation"]]
    return float(linear(act(linear(hidden, w, "score.0")), w, "score.2")[0])
