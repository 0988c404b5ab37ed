// The attention kernels (attention.cu's tensor-core ones, attention_generic.cu's CUDA-core ones) on packed
// batches (cu_seqlens) under the emulator: out, lse, dq, dk, dv bitwise identical in every schedule (fiber
// and block orders), and equal within the tolerances of docs/numerics.md to the CPU backend's packed
// attention through the C ABI (an independent implementation, itself checked against the padded layout in
// attention_packed_test.cpp). Outputs and the workspace are poisoned first; batches hold empty and
// one-token sequences and cross the 64-row tiles.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "emu_attention_harness.h"
#include "emu_test_util.h"
#include "packed_lengths.h"

namespace {

using namespace attention_test;
using emu_test::DeviceArray;

struct Packed : wpm_test::PackedLengths {
  int64_t h, kvh, d;

  size_t q_count() const { return size_t(total() * h * d); }
  size_t kv_count() const { return size_t(total() * kvh * d); }
  std::string label(const emu_test::DtypeCase& c) const {
    std::string s = std::string(wpm_test::dtype_label(c.wpm)) + " h=" + std::to_string(h) +
                    " kvh=" + std::to_string(kvh) + " d=" + std::to_string(d) + " lens={";
    for (int32_t n : lens) s += std::to_string(n) + ",";
    return s + "}";
  }
};

struct Results {
  std::vector<float> out, lse, dq, dk, dv;
  std::vector<uint8_t> bytes;  // all five, for the schedule comparison
};

Inputs make_inputs(const Packed& s, wpm_dtype dtype, uint32_t seed) {
  Inputs in;
  in.q = wpm_test::random_values(s.q_count(), seed, -2.0f, 2.0f, dtype);
  in.k = wpm_test::random_values(s.kv_count(), seed + 1, -2.0f, 2.0f, dtype);
  in.v = wpm_test::random_values(s.kv_count(), seed + 2, -2.0f, 2.0f, dtype);
  in.dout = wpm_test::random_values(s.q_count(), seed + 3, -1.0f, 1.0f, dtype);
  return in;
}

// The emulated forward, then the backward fed its out and lse.
Results run_emu(const BwdKernel& kernel, const Packed& s, const emu_test::DtypeCase& c, const Inputs& in) {
  const int64_t b = int64_t(s.lens.size()), t = s.total();
  DeviceArray q(c.kd, in.q), k(c.kd, in.k), v(c.kd, in.v), dout(c.kd, in.dout), cu(s.offsets());
  DeviceArray out(c.kd, s.q_count()), lse(kdtype::f32, size_t(s.h * t));
  DeviceArray dq(c.kd, s.q_count()), dk(c.kd, s.kv_count()), dv(c.kd, s.kv_count());
  DeviceArray work(kdtype::f32, size_t(kernel.workspace_bytes(1, t, s.h, s.kvh, s.d) / 4));
  for (DeviceArray* a : {&out, &lse, &dq, &dk, &dv, &work}) a->poison();
  const int32_t* offsets = cu.as<int32_t>();
  EXPECT_EQ(kernel.fwd(nullptr, q.data(), k.data(), v.data(), nullptr, out.data(), lse.as<float>(), b, t, s.h, s.kvh,
                       s.d, 0.0f, kpadding::right, c.kd, offsets, s.longest()),
            KSTATUS_OK)
      << klast_error();
  EXPECT_EQ(kernel.bwd(nullptr, q.data(), k.data(), v.data(), out.data(), lse.as<float>(), dout.data(), dq.data(),
                       dk.data(), dv.data(), work.data(), nullptr, b, t, s.h, s.kvh, s.d, 0.0f, kpadding::right, c.kd,
                       offsets, s.longest()),
            KSTATUS_OK)
      << klast_error();
  Results r{out.download(), lse.download(), dq.download(), dk.download(), dv.download(), {}};
  for (const DeviceArray* a : {&out, &lse, &dq, &dk, &dv}) {
    const std::vector<uint8_t> bytes = a->bytes();
    r.bytes.insert(r.bytes.end(), bytes.begin(), bytes.end());
  }
  return r;
}

Results run_cpu(const Packed& s, const emu_test::DtypeCase& c, const Inputs& in) {
  using wpm_test::Buffer;
  wpm_test::Context ctx;
  const int64_t t = s.total();
  Buffer q(ctx, c.wpm, in.q), k(ctx, c.wpm, in.k), v(ctx, c.wpm, in.v), dout(ctx, c.wpm, in.dout);
  Buffer out(ctx, c.wpm, s.q_count()), lse(ctx, WPM_F32, size_t(s.h * t));
  Buffer dq(ctx, c.wpm, s.q_count()), dk(ctx, c.wpm, s.kv_count()), dv(ctx, c.wpm, s.kv_count());
  Buffer cu(ctx, WPM_I32, s.lens.size() + 1);
  cu.upload_i32(s.offsets());
  wpm_attention_params p{};
  p.struct_size = sizeof p;
  p.b = int64_t(s.lens.size()), p.t = t, p.h = s.h, p.kvh = s.kvh, p.d = s.d;
  p.q = q, p.k = k, p.v = v, p.out = out, p.lse = lse, p.dout = dout, p.dq = dq, p.dk = dk, p.dv = dv;
  p.cu_seqlens = cu, p.max_seqlen = s.longest();
  EXPECT_EQ(wpm_attention_fwd(ctx, &p), WPM_OK) << wpm_last_error();
  EXPECT_EQ(wpm_attention_bwd(ctx, &p), WPM_OK) << wpm_last_error();
  return Results{out.download(), lse.download(), dq.download(), dk.download(), dv.download(), {}};
}

void check(const BwdKernel& kernel, const Packed& s, std::initializer_list<emu_test::DtypeCase> dtypes,
           uint32_t seed) {
  for (const auto& c : dtypes) {
    const std::string label = s.label(c);
    const Inputs in = make_inputs(s, c.wpm, seed);
    const Results emu = run_emu(kernel, s, c, in), cpu = run_cpu(s, c, in);
    const double tol = out_tolerance(c);
    EXPECT_LT(wpm_test::rel_error(emu.out, widen(cpu.out)), tol) << label << ": out";
    EXPECT_LT(wpm_test::rel_error(emu.lse, widen(cpu.lse)), lse_tolerance(c)) << label << ": lse";
    EXPECT_LT(wpm_test::rel_error(emu.dq, widen(cpu.dq)), tol) << label << ": dq";
    EXPECT_LT(wpm_test::rel_error(emu.dk, widen(cpu.dk)), tol) << label << ": dk";
    EXPECT_LT(wpm_test::rel_error(emu.dv, widen(cpu.dv)), tol) << label << ": dv";
    emu_test::expect_same_bits_in_every_schedule([&] { return run_emu(kernel, s, c, in).bytes; }, label);
  }
}

TEST(EmuAttentionPacked, TensorCoresD64Gqa) {
  check(kTensorCoreBwd, {{{1, 0, 40, 70}}, 4, 2, 64}, kHalf, 10);
}

TEST(EmuAttentionPacked, TensorCoresD128) {
  check(kTensorCoreBwd, {{{17, 0, 65}}, 2, 1, 128}, kHalf, 20);
}

TEST(EmuAttentionPacked, CudaCoresOddHeadDim) {
  check(kGenericBwd, {{{3, 0, 18, 1}}, 2, 1, 17}, {{WPM_F32, kdtype::f32}, {WPM_BF16, kdtype::bf16}}, 30);
}

// The launchers refuse what a packed batch cannot have.
TEST(EmuAttentionPacked, LaunchersRefuseLengthsLeftPaddingAndBadMaxSeqlen) {
  DeviceArray buf(kdtype::f16, 4096), lse(kdtype::f32, 64), cu(std::vector<int32_t>{0, 4});
  const int32_t* offsets = cu.as<int32_t>();
  for (auto fwd : {attention_fwd, attention_generic_fwd}) {
    auto error = [&](const int32_t* lengths, kpadding padding, int64_t max_seqlen) -> std::string {
      const kstatus status = fwd(nullptr, buf.data(), buf.data(), buf.data(), lengths, buf.data(), lse.as<float>(), 1,
                                 4, 1, 1, 64, 0.0f, padding, kdtype::f16, offsets, max_seqlen);
      return status == KSTATUS_INVALID_ARGUMENT ? klast_error() : "status " + std::to_string(int(status));
    };
    EXPECT_NE(error(offsets, kpadding::right, 4).find("lengths"), std::string::npos);
    EXPECT_NE(error(nullptr, kpadding::left, 4).find("right padding"), std::string::npos);
    EXPECT_NE(error(nullptr, kpadding::right, 5).find("max_seqlen = 5"), std::string::npos);
    EXPECT_NE(error(nullptr, kpadding::right, 0).find("max_seqlen = 0"), std::string::npos);
  }
}

}  // namespace
