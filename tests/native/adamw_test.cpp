// AdamW multi-tensor step against a float64 reference over several steps:
// bias correction, decay only where asked, grad_scale (0 meaning 1), mixed grad
// dtypes, working copies equal to the cast of the params, and argument checks;
// lr and bias corrections read from a device buffer (step_values) give the bits
// of the by-value fields, on cpu and emu.
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend_param.h"
#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::expect_error;

struct Hyper {
  float lr = 1e-2f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.1f, grad_scale = 1.0f;
};

struct TensorSpec {
  size_t count;
  wpm_dtype grad_dtype;
  bool has_working;
  wpm_dtype working_dtype;
  bool decay;
};

// The float64 reference state of one tensor.
struct RefTensor {
  std::vector<double> p, m, v;
};

void ref_adamw_step(RefTensor& t, const std::vector<float>& grad, const Hyper& h, double grad_scale, bool decay,
                    int64_t step) {
  const double b1 = h.beta1, b2 = h.beta2;
  const double bc1 = 1 - std::pow(b1, double(step)), bc2 = 1 - std::pow(b2, double(step));
  for (size_t i = 0; i < t.p.size(); ++i) {
    double g = double(grad[i]) * grad_scale;
    t.m[i] = b1 * t.m[i] + (1 - b1) * g;
    t.v[i] = b2 * t.v[i] + (1 - b2) * g * g;
    double update = (t.m[i] / bc1) / (std::sqrt(t.v[i] / bc2) + double(h.eps));
    t.p[i] -= double(h.lr) * (update + (decay ? double(h.weight_decay) * t.p[i] : 0.0));
  }
}

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

std::vector<double> minus(const std::vector<double>& a, const std::vector<float>& b) {
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - double(b[i]);
  return d;
}

std::vector<float> minus(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}


// Device tensors for a list of specs, their float64 twins, and a params struct over them.
class AdamwSetup {
 public:
  AdamwSetup(wpm_context* ctx, const std::vector<TensorSpec>& specs, uint32_t seed) : specs_(specs) {
    for (size_t i = 0; i < specs.size(); ++i) {
      const TensorSpec& s = specs[i];
      uint32_t base = seed + uint32_t(10 * i);
      std::vector<float> p = wpm_test::random_values(s.count, base, -1, 1);
      std::vector<float> m = wpm_test::random_values(s.count, base + 1, -0.1f, 0.1f);
      std::vector<float> v = wpm_test::random_values(s.count, base + 2, 1e-4f, 1e-2f);
      initial_.push_back(p);
      ref_.push_back({to_double(p), to_double(m), to_double(v)});
      params_.push_back(std::make_unique<Buffer>(ctx, WPM_F32, p));
      m_.push_back(std::make_unique<Buffer>(ctx, WPM_F32, m));
      v_.push_back(std::make_unique<Buffer>(ctx, WPM_F32, v));
      grads_.push_back(std::make_unique<Buffer>(ctx, s.grad_dtype, s.count));
      working_.push_back(s.has_working ? std::make_unique<Buffer>(ctx, s.working_dtype, s.count) : nullptr);
      params_ptr_.push_back(*params_[i]);
      m_ptr_.push_back(*m_[i]);
      v_ptr_.push_back(*v_[i]);
      grads_ptr_.push_back(*grads_[i]);
      working_ptr_.push_back(s.has_working ? working_[i]->get() : nullptr);
      decay_.push_back(s.decay ? 1 : 0);
    }
  }

  wpm_adamw_params params(const Hyper& h, int64_t step) {
    wpm_adamw_params p{};
    p.struct_size = sizeof p;
    p.tensors = int64_t(specs_.size());
    p.params = params_ptr_.data();
    p.grads = grads_ptr_.data();
    p.m = m_ptr_.data();
    p.v = v_ptr_.data();
    p.working = working_ptr_.data();
    p.decay = decay_.data();
    p.lr = h.lr;
    p.beta1 = h.beta1;
    p.beta2 = h.beta2;
    p.eps = h.eps;
    p.weight_decay = h.weight_decay;
    p.grad_scale = h.grad_scale;
    p.step = step;
    return p;
  }

  // Fresh gradients for every tensor, poisoned working copies, then one reference step.
  void prepare_step(const Hyper& h, int64_t step, uint32_t seed, bool decay_all = false) {
    for (size_t i = 0; i < specs_.size(); ++i) {
      std::vector<float> g = wpm_test::random_values(specs_[i].count, seed + uint32_t(i), -1, 1, specs_[i].grad_dtype);
      grads_[i]->upload(g);
      if (working_[i]) working_[i]->poison();
      double scale = h.grad_scale == 0 ? 1.0 : double(h.grad_scale);
      ref_adamw_step(ref_[i], g, h, scale, decay_all || specs_[i].decay, step);
    }
  }

  void expect_matches_reference() {
    const double tol = wpm_test::tolerance(WPM_F32, true);
    for (size_t i = 0; i < specs_.size(); ++i) {
      SCOPED_TRACE("tensor " + std::to_string(i));
      std::vector<float> p = params_[i]->download();
      // The update, not p itself: p dominates and would hide an error in the step.
      EXPECT_LE(wpm_test::rel_error(minus(p, initial_[i]), minus(ref_[i].p, initial_[i])), tol);
      EXPECT_LE(wpm_test::rel_error(p, ref_[i].p), tol);
      EXPECT_LE(wpm_test::rel_error(m_[i]->download(), ref_[i].m), tol);
      EXPECT_LE(wpm_test::rel_error(v_[i]->download(), ref_[i].v), tol);
      if (working_[i]) {
        std::vector<float> w = working_[i]->download();
        for (size_t j = 0; j < p.size(); ++j)
          ASSERT_EQ(w[j], wpm_test::round_to(specs_[i].working_dtype, p[j])) << "element " << j;
      }
    }
  }

  std::vector<float> download_params(size_t i) const { return params_[i]->download(); }
  // Every buffer the step writes, in one list: params, m, v and working copies of each tensor.
  std::vector<std::vector<float>> state() const {
    std::vector<std::vector<float>> all;
    for (size_t i = 0; i < specs_.size(); ++i) {
      all.push_back(params_[i]->download());
      all.push_back(m_[i]->download());
      all.push_back(v_[i]->download());
      if (working_[i]) all.push_back(working_[i]->download());
    }
    return all;
  }
  const std::vector<float>& initial(size_t i) const { return initial_[i]; }
  std::vector<int32_t>& decay() { return decay_; }
  std::vector<const wpm_buffer*>& grads() { return grads_ptr_; }
  std::vector<wpm_buffer*>& m() { return m_ptr_; }
  std::vector<wpm_buffer*>& working() { return working_ptr_; }

 private:
  std::vector<TensorSpec> specs_;
  std::vector<std::vector<float>> initial_;
  std::vector<RefTensor> ref_;
  std::vector<std::unique_ptr<Buffer>> params_, m_, v_, grads_, working_;
  std::vector<wpm_buffer*> params_ptr_, m_ptr_, v_ptr_, working_ptr_;
  std::vector<const wpm_buffer*> grads_ptr_;
  std::vector<int32_t> decay_;
};

TEST(Adamw, SeveralStepsOfMixedTensorsMatchTheReference) {
  Context ctx(4);
  AdamwSetup setup(ctx,
                   {{1, WPM_F32, true, WPM_BF16, true},
                    {37, WPM_F16, false, WPM_F32, false},
                    {40001, WPM_BF16, true, WPM_F16, true},  // split over threads
                    {513, WPM_F32, true, WPM_F32, false}},
                   1000);
  Hyper h;
  h.grad_scale = 0.5f;
  for (int64_t step = 1; step <= 3; ++step) {
    setup.prepare_step(h, step, 2000 + uint32_t(step) * 17);
    wpm_adamw_params p = setup.params(h, step);
    WPM_ASSERT_OK(wpm_adamw_step(ctx, &p));
    SCOPED_TRACE("step " + std::to_string(step));
    setup.expect_matches_reference();
  }
}

TEST(Adamw, NullDecayDecaysEveryTensorAndZeroGradScaleMeansOne) {
  Context ctx;
  AdamwSetup setup(ctx, {{29, WPM_F32, false, WPM_F32, false}, {31, WPM_F16, true, WPM_BF16, false}}, 3000);
  Hyper h;
  h.grad_scale = 0.0f;
  h.weight_decay = 0.5f;
  for (int64_t step = 1; step <= 2; ++step) {
    setup.prepare_step(h, step, 4000 + uint32_t(step), /*decay_all=*/true);
    wpm_adamw_params p = setup.params(h, step);
    p.decay = nullptr;
    WPM_ASSERT_OK(wpm_adamw_step(ctx, &p));
    setup.expect_matches_reference();
  }
}

TEST(Adamw, NullWorkingArrayAndLateStepBiasCorrection) {
  Context ctx;
  AdamwSetup setup(ctx, {{101, WPM_BF16, false, WPM_F32, true}}, 5000);
  Hyper h;
  h.beta1 = 0.0f;  // allowed: no momentum
  h.beta2 = 0.95f;
  setup.prepare_step(h, 1000, 6000);
  wpm_adamw_params p = setup.params(h, 1000);
  p.working = nullptr;
  WPM_ASSERT_OK(wpm_adamw_step(ctx, &p));
  setup.expect_matches_reference();
}

class AdamwArgs : public ::testing::Test {
 protected:
  Context ctx;
  AdamwSetup setup{ctx,
                   {{20, WPM_F32, true, WPM_BF16, true},
                    {20, WPM_F16, false, WPM_F32, true},
                    {20, WPM_F32, true, WPM_F16, true},
                    {20, WPM_BF16, true, WPM_F32, true}},
                   7000};
  Hyper h;
  wpm_adamw_params valid() { return setup.params(h, 1); }
  void expect_params_untouched() {
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(setup.download_params(i), setup.initial(i)) << "tensor " << i;
  }
};

TEST_F(AdamwArgs, NullParamsAndBadStructSizeAreNamed) {
  expect_error(wpm_adamw_step(ctx, nullptr), WPM_ERR_INVALID_ARGUMENT, "'params'");
  wpm_adamw_params p = valid();
  p.struct_size = 8;
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "struct_size");
  p = valid();
  p.tensors = -1;
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'tensors'");
  p = valid();
  p.grads = nullptr;
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'grads'");
}

TEST_F(AdamwArgs, TooSmallTensorIsNamedWithItsIndexAndNothingIsWritten) {
  Buffer small_grad(ctx, WPM_F16, 10);
  setup.grads()[3] = small_grad;
  wpm_adamw_params p = valid();
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_INVALID_ARGUMENT,
               "argument 'grads[3]' holds 10 elements; the shape needs 20");
  expect_params_untouched();
}

TEST_F(AdamwArgs, WrongDtypesAndNullEntriesAreNamedWithTheirIndex) {
  Buffer f16_moment(ctx, WPM_F16, 20), i32_working(ctx, WPM_I32, 20), short_working(ctx, WPM_BF16, 19);
  setup.m()[2] = f16_moment;
  wpm_adamw_params p = valid();
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_DTYPE, "'m[2]'");
  setup.m()[2] = nullptr;
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'m[2]'");
  AdamwSetup other(ctx, {{20, WPM_F32, true, WPM_BF16, true}}, 8000);
  other.working()[0] = i32_working;
  p = other.params(h, 1);
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_DTYPE, "'working[0]'");
  other.working()[0] = short_working;
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'working[0]'");
  expect_params_untouched();
}

TEST_F(AdamwArgs, BadHyperParametersAreNamed) {
  struct Case {
    const char* name;
    void (*apply)(wpm_adamw_params&);
  };
  const Case cases[] = {
      {"'lr'", [](wpm_adamw_params& p) { p.lr = NAN; }},
      {"'lr'", [](wpm_adamw_params& p) { p.lr = -1e-3f; }},
      {"'beta1'", [](wpm_adamw_params& p) { p.beta1 = 1.0f; }},
      {"'beta1'", [](wpm_adamw_params& p) { p.beta1 = -0.1f; }},
      {"'beta2'", [](wpm_adamw_params& p) { p.beta2 = NAN; }},
      {"'eps'", [](wpm_adamw_params& p) { p.eps = 0.0f; }},
      {"'eps'", [](wpm_adamw_params& p) { p.eps = INFINITY; }},
      {"'weight_decay'", [](wpm_adamw_params& p) { p.weight_decay = -0.1f; }},
      {"'grad_scale'", [](wpm_adamw_params& p) { p.grad_scale = INFINITY; }},
      {"'step'", [](wpm_adamw_params& p) { p.step = 0; }},
  };
  for (const Case& c : cases) {
    wpm_adamw_params p = valid();
    c.apply(p);
    expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_INVALID_ARGUMENT, c.name);
  }
  expect_params_untouched();
}

// wpm_adamw_params.step_values: {lr, 1/bc1, 1/bc2} as the header says the by-value path forms them.
std::vector<float> step_values(float lr, const Hyper& h, int64_t step) {
  return {lr, float(1.0 / (1.0 - std::pow(double(h.beta1), double(step)))),
          float(1.0 / (1.0 - std::pow(double(h.beta2), double(step))))};
}

class AdamwStepValues : public wpm_test::HostBackendTest {};

// Two identical setups, one stepped with lr and step by value, one reading them from step_values (whose lr and step
// fields hold nonsense that is neither read nor checked), with a learning rate that changes every step and a
// gradient check that clips some steps: the same bits in every written buffer.
TEST_P(AdamwStepValues, DeviceScalarsGiveTheBitsOfTheByValueFields) {
  Context ctx(2, GetParam().kind);
  const std::vector<TensorSpec> specs = {{300, WPM_F32, true, WPM_BF16, true}, {77, WPM_BF16, true, WPM_F32, false},
                                         {5000, WPM_F16, false, WPM_F32, true}};
  AdamwSetup by_value(ctx, specs, 9000), on_device(ctx, specs, 9000);
  Buffer scalars(ctx, WPM_F32, size_t(3)), check(ctx, WPM_F32, size_t(2));
  Hyper h;
  h.grad_scale = 0.25f;
  for (int64_t step = 1; step <= 4; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const float lr = 1e-2f / float(step) + 1e-3f * float(step);
    h.lr = lr;
    by_value.prepare_step(h, step, 9100 + uint32_t(step));
    on_device.prepare_step(h, step, 9100 + uint32_t(step));
    check.upload(std::vector<float>{0.0f, step % 2 == 0 ? 1e3f : 1e-3f});  // even steps clip
    wpm_adamw_params a = by_value.params(h, step);
    a.grad_check = check;
    a.max_grad_norm = 1.0f;
    WPM_ASSERT_OK(wpm_adamw_step(ctx, &a));
    scalars.upload(step_values(lr, h, step));
    wpm_adamw_params b = on_device.params(h, step);
    b.grad_check = check;
    b.max_grad_norm = 1.0f;
    b.step_values = scalars;
    b.lr = NAN;
    b.step = 0;
    WPM_ASSERT_OK(wpm_adamw_step(ctx, &b));
    const auto expected = by_value.state(), got = on_device.state();
    ASSERT_EQ(expected.size(), got.size());
    for (size_t i = 0; i < expected.size(); ++i)
      ASSERT_EQ(0, std::memcmp(expected[i].data(), got[i].data(), expected[i].size() * sizeof(float)))
          << "buffer " << i << " (params, m, v, working of each tensor in turn)";
  }
}

// A 0.6 caller's struct ends before step_values: accepted, and its by-value lr is used.
TEST_P(AdamwStepValues, TheSmallerStructOfAnOlderCallerReadsNoStepValues) {
  Context ctx(1, GetParam().kind);
  AdamwSetup setup(ctx, {{40, WPM_F32, false, WPM_F32, true}}, 9500);
  Hyper h;
  setup.prepare_step(h, 1, 9600);
  wpm_adamw_params p = setup.params(h, 1);
  p.struct_size = offsetof(wpm_adamw_params, step_values);
  Buffer wrong(ctx, WPM_F32, size_t(1));  // past the declared size: never read, so never checked
  p.step_values = wrong;
  WPM_ASSERT_OK(wpm_adamw_step(ctx, &p));
  setup.expect_matches_reference();
}

TEST_P(AdamwStepValues, BadStepValuesAreNamedAndNothingIsWritten) {
  Context ctx(1, GetParam().kind);
  AdamwSetup setup(ctx, {{20, WPM_F32, true, WPM_BF16, true}}, 9700);
  Hyper h;
  Buffer short_values(ctx, WPM_F32, size_t(2)), f16_values(ctx, WPM_F16, size_t(3));
  wpm_adamw_params p = setup.params(h, 1);
  p.step_values = short_values;
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'step_values'");
  p.step_values = f16_values;
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_DTYPE, "'step_values'");
  p.step_values = setup.m()[0];  // over m[0]: the step would read values it writes
  expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'step_values'");
  EXPECT_EQ(setup.download_params(0), setup.initial(0));
}

WPM_INSTANTIATE_HOST_BACKENDS(AdamwStepValues);

}  // namespace
