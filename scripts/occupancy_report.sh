#!/usr/bin/env bash
# The occupancy report: from the kernel resource report (scripts/kernel_report.sh: registers, static shared
# memory and __launch_bounds__ threads per kernel and arch), the resident blocks per SM of every kernel on
# an A100 (its sm_80 build) and an H100 (its sm_90 build), what limits them, and for the attention kernels
# the grid and the number of waves at the reference shapes. Prints it, writes it to OUT when given, and
# exits 1 only on something definite: a kernel that cannot launch at all (no block fits an SM).
#
#   scripts/occupancy_report.sh RESOURCES [OUT]      RESOURCES: <build>/kernel_resources.txt
#
# Device limits (CUDA programming guide, compute capability 8.0 and 9.0): 64 K registers, 64 warps, 32
# blocks and 2048 threads per SM; registers allocated per warp in units of 256; shared memory per SM 164 KiB
# (A100) / 228 KiB (H100), per block at most 163 / 227 KiB, plus 1 KiB the system reserves per block,
# allocated in units of 128 bytes. 108 / 132 SMs.
#
# Threads per block are the __launch_bounds__ maximum (every kernel here launches with exactly that). ptxas
# sees only static shared memory; the dynamic shared memory and grids of the attention kernels are their
# launchers' (kernels/attention.cu: smem_bytes, smem_bytes_bwd, launch, launch_bwd) and must follow them. The
# RMSNorm kernels stage rows of C elements (kernels/rmsnorm.cu: fwd_staged_bytes, bwd_staged_bytes): their
# occupancy is at the reference model's C (512) and whether they can launch at all at the most their launcher
# allows (kMaxStagedBytes, 160 KiB; a larger C is refused naming c).
# Reference shapes, at each kernel's own D: "ref" is the reference model (bench/WorldPM.Workloads/
# ReferenceModel.cs: H 8, KVH 2, D 64) on W4's batch, B 16 x T 256; "W2" is the attention workload and
# bench/gpu's shape, B 4, T 512, H 8, KVH 8 (no GQA: no reduce kernel, "none").
set -euo pipefail
resources=${1:?usage: occupancy_report.sh RESOURCES [OUT]}
out=${2:-}
[[ -f "$resources" ]] || { echo "occupancy_report.sh: no resource report '$resources' (build the kernel_report target)" >&2; exit 2; }

report=$(awk '
  function ceil_div(a, b) { return int((a + b - 1) / b) }
  # Dynamic shared memory bytes and grid blocks of an attention kernel at shape (b, t, h, kvh), head dim d.
  function dyn_smem(k, d, name) {
    if (k == "rmsnorm_fwd_kernel") return 2 * 512 * elem_bytes(name)
    if (k == "rmsnorm_bwd_kernel") return 512 * (4 + 3 * elem_bytes(name))
    if (k == "attention_fwd_kernel") return (64 + 4 * 64) * (d + 8) * 2
    if (k == "attention_bwd_dkdv_kernel") return 6 * 64 * (d + 8) * 2 + (d == 128 ? 64 * d * 4 : 0)
    if (k == "attention_bwd_dq_kernel") return 6 * 64 * (d + 8) * 2
    return 0
  }
  # The most dynamic shared memory the launcher may ask for at any shape (what must fit for a launch).
  function dyn_smem_max(k, d, name) {
    if (k == "rmsnorm_fwd_kernel" || k == "rmsnorm_bwd_kernel") return 160 * 1024
    return dyn_smem(k, d, name)
  }
  function elem_bytes(name) { return name ~ /<float>/ ? 4 : 2 }
  function grid(k, d, b, t, h, kvh) {
    if (k == "attention_fwd_kernel" || k == "attention_bwd_dq_kernel" || k == "attention_bwd_dkdv_kernel")
      return ceil_div(t, 64) * h * b
    if (k == "attention_bwd_preprocess_kernel") return ceil_div(t, 128 / (d / 8)) * h * b
    if (k == "attention_bwd_reduce_kernel") return h > kvh ? 2 * ceil_div(b * t * kvh * d / 8, 128) : 0
    return -1
  }
  BEGIN {
    sms["sm_80"] = 108; smem_sm["sm_80"] = 164 * 1024; smem_block["sm_80"] = 163 * 1024; gpu["sm_80"] = "A100"
    sms["sm_90"] = 132; smem_sm["sm_90"] = 228 * 1024; smem_block["sm_90"] = 227 * 1024; gpu["sm_90"] = "H100"
    printf "%-44s %-4s %4s %7s %6s %7s %6s %-8s %4s  %-15s %-15s\n", "kernel", "gpu", "regs", "smem", "dyn", "threads",
           "blk/SM", "limit", "occ%", "ref grid/waves", "W2 grid/waves"
  }
  NR == 1 { next }
  {
    # kernel name (may hold spaces), then arch regs smem threads stack spill_st spill_ld
    n = NF; arch = $(n - 6); regs = $(n - 5); smem = $(n - 4); threads = $(n - 3)
    name = $1; for (i = 2; i <= n - 7; ++i) name = name " " $i
    base = name; sub(/^void /, "", base); sub(/<.*/, "", base)
    d = 0; if (match(name, /, (64|128)>/)) d = substr(name, RSTART + 2, RLENGTH - 3) + 0
    if (threads == "-") threads = 1024
    dyn = dyn_smem(base, d, name)
    warps = ceil_div(threads, 32)
    by_regs = int(int(65536 / (ceil_div(regs * 32, 256) * 256)) / warps)
    need = smem + dyn
    by_smem = need > 0 ? int(smem_sm[arch] / (ceil_div(need + 1024, 128) * 128)) : 32
    by_threads = int(2048 / threads)
    blocks = 32; limit = "blocks"
    if (by_threads < blocks) { blocks = by_threads; limit = "threads" }
    if (by_regs < blocks) { blocks = by_regs; limit = "regs" }
    if (by_smem < blocks) { blocks = by_smem; limit = "smem" }
    need_max = smem + dyn_smem_max(base, d, name)
    if (need_max > smem_block[arch] || blocks == 0) {
      printf "CANNOT LAUNCH: %s on %s: %d registers x %d threads, %d bytes shared memory per block\n",
             name, gpu[arch], regs, threads, need_max > "/dev/stderr"
      bad = 1; blocks = 0; limit = "none"
    }
    occ = 100 * blocks * warps / 64
    ref = "-"; w2 = "-"
    if (base == "attention_bwd_reduce_kernel") d = 64  # not a template argument; the reference head dim
    if (d > 0 && grid(base, d, 1, 1, 1, 1) >= 0) {
      slots = sms[arch] * blocks
      g = grid(base, d, 16, 256, 8, 2); ref = g == 0 ? "none" : sprintf("%d/%.2f", g, slots ? g / slots : 0)
      g = grid(base, d, 4, 512, 8, 8); w2 = g == 0 ? "none" : sprintf("%d/%.2f", g, slots ? g / slots : 0)
    }
    printf "%-44s %-4s %4d %7d %6d %7d %6d %-8s %4.0f  %-15s %-15s\n", name, gpu[arch], regs, smem, dyn, threads,
           blocks, limit, occ, ref, w2
  }
  END { exit bad }' "$resources") || status=$?
echo "$report"
if [[ -n "$out" ]]; then echo "$report" >"$out"; fi
exit "${status:-0}"
