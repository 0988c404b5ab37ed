// kernels/adamw.cu under the emulator: a multi-tensor step (mixed grad dtypes,
// with and without working copies, per-tensor decay, odd sizes) against a
// float64 AdamW and the CPU backend through the C ABI; the working copy is p
// rounded to its dtype; the same bits in every schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "emu_test_util.h"
#include "test_util.h"

namespace {

using emu_test::DeviceArray;
using wpm_test::Buffer;
using wpm_test::Context;

struct TensorSpec {
  size_t count;
  emu_test::DtypeCase grad;
  int working;  // -1 none, else index into kDtypes
  bool decay;
};

const std::vector<TensorSpec>& specs() {
  static const std::vector<TensorSpec> all = {{1000, emu_test::kDtypes[0], -1, true},
                                              {37, emu_test::kDtypes[1], 1, false},
                                              {4099, emu_test::kDtypes[2], 2, true},
                                              {1, emu_test::kDtypes[0], 0, true},
                                              {513, emu_test::kDtypes[1], 2, true}};
  return all;
}

struct State {
  std::vector<std::vector<float>> p, g, m, v;
};

State make_state() {
  State s;
  uint32_t seed = 1;
  for (const TensorSpec& t : specs()) {
    s.p.push_back(wpm_test::random_values(t.count, seed++));
    s.g.push_back(wpm_test::random_values(t.count, seed++, -1.0f, 1.0f, t.grad.wpm));
    s.m.push_back(wpm_test::random_values(t.count, seed++, -0.1f, 0.1f));
    s.v.push_back(wpm_test::random_values(t.count, seed++, 0.0f, 0.01f));
  }
  return s;
}

const kadamw_hyper kHyper{1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.5f, 7};

struct Result {
  std::vector<std::vector<float>> p, m, v, working;
  std::vector<uint8_t> bytes;
};

Result run_emu(const State& s) {
  std::vector<std::unique_ptr<DeviceArray>> keep;
  auto array = [&](kdtype d, const std::vector<float>& values) {
    keep.push_back(std::make_unique<DeviceArray>(d, values));
    return keep.back().get();
  };
  std::vector<kadamw_tensor> table;
  std::vector<DeviceArray*> p, m, v, w;
  for (size_t i = 0; i < specs().size(); ++i) {
    const TensorSpec& t = specs()[i];
    p.push_back(array(kdtype::f32, s.p[i]));
    m.push_back(array(kdtype::f32, s.m[i]));
    v.push_back(array(kdtype::f32, s.v[i]));
    DeviceArray* g = array(t.grad.kd, s.g[i]);
    DeviceArray* work = nullptr;
    if (t.working >= 0) {
      work = array(emu_test::kDtypes[t.working].kd, std::vector<float>(t.count));
      work->poison();
    }
    w.push_back(work);
    table.push_back(kadamw_tensor{p.back()->as<float>(), g->data(), m.back()->as<float>(), v.back()->as<float>(),
                                  work ? work->data() : nullptr, int64_t(t.count), t.grad.kd,
                                  t.working >= 0 ? emu_test::kDtypes[t.working].kd : kdtype::f32, t.decay});
  }
  // The table lives in device memory.
  char* device_table = static_cast<char*>(emu::device_alloc(table.size() * sizeof(kadamw_tensor), "adamw table"));
  std::memcpy(device_table, table.data(), table.size() * sizeof(kadamw_tensor));
  EXPECT_EQ(adamw_step(nullptr, reinterpret_cast<const kadamw_tensor*>(device_table), int64_t(table.size()), kHyper),
            KSTATUS_OK)
      << klast_error();
  emu::device_free(device_table);
  Result r;
  for (size_t i = 0; i < specs().size(); ++i) {
    r.p.push_back(p[i]->download());
    r.m.push_back(m[i]->download());
    r.v.push_back(v[i]->download());
    r.working.push_back(w[i] ? w[i]->download() : std::vector<float>{});
    for (const DeviceArray* a : {p[i], m[i], v[i], w[i]}) {
      if (!a) continue;
      const auto b = a->bytes();
      r.bytes.insert(r.bytes.end(), b.begin(), b.end());
    }
  }
  return r;
}

Result run_cpu(const State& s) {
  Context ctx;
  std::vector<std::unique_ptr<Buffer>> keep;
  std::vector<wpm_buffer*> p, m, v, w;
  std::vector<const wpm_buffer*> g;
  std::vector<int32_t> decay;
  for (size_t i = 0; i < specs().size(); ++i) {
    const TensorSpec& t = specs()[i];
    auto add = [&](wpm_dtype d, const std::vector<float>& values) {
      keep.push_back(std::make_unique<Buffer>(ctx, d, values));
      return keep.back()->get();
    };
    p.push_back(add(WPM_F32, s.p[i]));
    m.push_back(add(WPM_F32, s.m[i]));
    v.push_back(add(WPM_F32, s.v[i]));
    g.push_back(add(t.grad.wpm, s.g[i]));
    w.push_back(t.working >= 0 ? add(emu_test::kDtypes[t.working].wpm, std::vector<float>(t.count)) : nullptr);
    decay.push_back(t.decay);
  }
  wpm_adamw_params a{};
  a.struct_size = sizeof(a);
  a.tensors = int64_t(specs().size());
  a.params = p.data();
  a.grads = g.data();
  a.m = m.data();
  a.v = v.data();
  a.working = w.data();
  a.decay = decay.data();
  a.lr = kHyper.lr;
  a.beta1 = kHyper.beta1;
  a.beta2 = kHyper.beta2;
  a.eps = kHyper.eps;
  a.weight_decay = kHyper.weight_decay;
  a.grad_scale = kHyper.grad_scale;
  a.step = kHyper.step;
  EXPECT_EQ(wpm_adamw_step(ctx, &a), WPM_OK) << wpm_last_error();
  Result r;
  std::vector<float> none;
  for (size_t i = 0; i < specs().size(); ++i) {
    auto read = [&](wpm_buffer* b) {
      for (auto& k : keep)
        if (k->get() == b) return k->download();
      return none;
    };
    r.p.push_back(read(p[i]));
    r.m.push_back(read(m[i]));
    r.v.push_back(read(v[i]));
    r.working.push_back(w[i] ? read(w[i]) : none);
  }
  return r;
}

TEST(EmuAdamw, MatchesFloat64AndTheCpuBackend) {
  const State s = make_state();
  const Result got = run_emu(s), cpu = run_cpu(s);
  const double bc1 = 1 - std::pow(double(kHyper.beta1), double(kHyper.step));
  const double bc2 = 1 - std::pow(double(kHyper.beta2), double(kHyper.step));
  for (size_t i = 0; i < specs().size(); ++i) {
    const TensorSpec& t = specs()[i];
    std::vector<double> p(t.count), m(t.count), v(t.count);
    for (size_t k = 0; k < t.count; ++k) {
      const double g = double(s.g[i][k]) * kHyper.grad_scale;
      m[k] = kHyper.beta1 * double(s.m[i][k]) + (1 - double(kHyper.beta1)) * g;
      v[k] = kHyper.beta2 * double(s.v[i][k]) + (1 - double(kHyper.beta2)) * g * g;
      const double p0 = s.p[i][k];
      p[k] = p0 - kHyper.lr * (m[k] / bc1 / (std::sqrt(v[k] / bc2) + kHyper.eps) + (t.decay ? kHyper.weight_decay : 0) * p0);
    }
    const std::string label = "tensor " + std::to_string(i);
    EXPECT_LT(wpm_test::rel_error(got.p[i], p), 1e-5) << label;
    EXPECT_LT(wpm_test::rel_error(got.m[i], m), 1e-5) << label;
    EXPECT_LT(wpm_test::rel_error(got.v[i], v), 1e-5) << label;
    EXPECT_LT(wpm_test::rel_error(got.p[i], std::vector<double>(cpu.p[i].begin(), cpu.p[i].end())), 1e-6) << label;
    EXPECT_LT(wpm_test::rel_error(got.v[i], std::vector<double>(cpu.v[i].begin(), cpu.v[i].end())), 1e-6) << label;
    if (t.working >= 0) {
      for (size_t k = 0; k < t.count; ++k)
        ASSERT_EQ(got.working[i][k], wpm_test::round_to(emu_test::kDtypes[t.working].wpm, got.p[i][k]))
            << label << " working[" << k << "]";
    }
  }
}

TEST(EmuAdamw, BitwiseIdenticalInEverySchedule) {
  const State s = make_state();
  emu_test::expect_same_bits_in_every_schedule([&] { return run_emu(s).bytes; }, "adamw");
}

TEST(EmuAdamw, LauncherChecksItsArguments) {
  EXPECT_EQ(adamw_step(nullptr, nullptr, 2, kHyper), KSTATUS_INVALID_ARGUMENT);
  kadamw_hyper bad = kHyper;
  bad.step = 0;
  kadamw_tensor t{};
  EXPECT_EQ(adamw_step(nullptr, &t, 1, bad), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("step = 0"), std::string::npos) << klast_error();
  EXPECT_EQ(adamw_step(nullptr, nullptr, 0, kHyper), KSTATUS_OK);
}

}  // namespace
