// The optimizer step's kernels over the parameters of one Qwen2-style layer (C=2048, kv 256,
// MLP 5632: 7 matrices with weight decay, 5 vectors without, 44.0M parameters): the fused
// multi-tensor AdamW (grad bf16 + bf16 working copy, and grad f32 with none), the global
// gradient norm and the loss scaler's scale + finite check, over the bf16 and the f32
// gradients. Memory-bound: compared with the copy ceiling. Bytes, as the headers count them
// (sums over the tensors, n elements each):
//   adamw.cu      sum n (24 + sizeof(grad) + sizeof(working))   (p, m, v read and written; grad;
//                                                                 working written, 0 without one)
//   grad_norm.cu  global_norm         sum n sizeof(T)            (read once; 512 fp64 partials ignored)
//                 scale_check_finite  sum n 2 sizeof(T)          (in place, read and written)
// scale_check_finite runs with scale 1, so the gradients stay what they were across repetitions.
#include <cstdio>
#include <string>
#include <vector>

#include "check.h"
#include "device_buffer.h"
#include "suites.h"

namespace gpubench {

namespace {

namespace k = kernels_cuda;

struct LayerTensor {
  int64_t count;
  bool decay;
};

std::vector<LayerTensor> qwen2_layer() {
  const int64_t c = 2048, kv = 256, mlp = 5632;
  return {{c * c, true},   {kv * c, true},   {kv * c, true},   {c * c, true}, {mlp * c, true},
          {mlp * c, true}, {c * mlp, true},  {c, false},       {kv, false},   {kv, false},
          {c, false},      {c, false}};
}

struct LayerState {
  std::vector<LayerTensor> shape;
  std::vector<DeviceBuffer> param, m, v, grad_bf16, grad_f32, working;
  double elements = 0;
};

LayerState make_layer(Bench& bench) {
  LayerState st;
  st.shape = qwen2_layer();
  for (const LayerTensor& t : st.shape) {
    st.param.push_back(random_buffer(kdtype::f32, t.count, -1, 1, bench.next_seed()));
    st.m.push_back(random_buffer(kdtype::f32, t.count, -1e-3f, 1e-3f, bench.next_seed()));
    st.v.push_back(random_buffer(kdtype::f32, t.count, 0, 1e-6f, bench.next_seed()));  // (0, 1e-6): never 0
    st.grad_bf16.push_back(random_buffer(kdtype::bf16, t.count, -1e-2f, 1e-2f, bench.next_seed()));
    st.grad_f32.push_back(random_buffer(kdtype::f32, t.count, -1e-2f, 1e-2f, bench.next_seed()));
    st.working.push_back(DeviceBuffer(size_t(t.count) * 2));
    st.elements += double(t.count);
  }
  return st;
}

DeviceBuffer adamw_table(const LayerState& st, bool mixed) {
  std::vector<kadamw_tensor> table;
  for (size_t i = 0; i < st.shape.size(); ++i) {
    kadamw_tensor t{};
    t.param = st.param[i].as<float>();
    t.grad = mixed ? st.grad_bf16[i].get() : st.grad_f32[i].get();
    t.m = st.m[i].as<float>();
    t.v = st.v[i].as<float>();
    t.working = mixed ? st.working[i].get() : nullptr;
    t.count = st.shape[i].count;
    t.grad_dtype = mixed ? kdtype::bf16 : kdtype::f32;
    t.working_dtype = kdtype::bf16;
    t.decay = st.shape[i].decay ? 1 : 0;
    table.push_back(t);
  }
  return upload(table);
}

DeviceBuffer grad_table(const LayerState& st, kdtype dtype) {
  std::vector<ktensor> table;
  for (size_t i = 0; i < st.shape.size(); ++i)
    table.push_back({dtype == kdtype::bf16 ? st.grad_bf16[i].get() : st.grad_f32[i].get(), st.shape[i].count, dtype});
  return upload(table);
}

void run(Bench& bench) {
  if (!bench.wants({"adamw_step", "global_norm", "scale_check_finite"})) return;
  const LayerState st = make_layer(bench);
  const int64_t count = int64_t(st.shape.size());
  char params[32];
  std::snprintf(params, sizeof params, "%.1fM", st.elements / 1e6);
  const std::string shape = std::to_string(count) + " tensors, " + params + " (C=2048)";
  const kadamw_hyper hyper{1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f, 10};

  for (bool mixed : {true, false}) {
    if (!bench.wants({"adamw_step"})) continue;
    DeviceBuffer table = adamw_table(st, mixed);
    const double per_element = 24.0 + (mixed ? 2.0 + 2.0 : 4.0);
    bench.measure(memory_work("adamw_step", mixed ? "bf16 grad+work" : "f32 grad", shape,
                              st.elements * per_element, "sum n (24 + sizeof(grad) + sizeof(working))"),
                  [&] {
                    check_launch(k::adamw_step(bench.stream(), table.as<kadamw_tensor>(), count, hyper),
                                 "adamw_step");
                  });
  }

  DeviceBuffer norm_ws(size_t(k::global_norm_workspace_bytes())), out(4);
  for (kdtype dtype : {kdtype::bf16, kdtype::f32}) {
    DeviceBuffer table = grad_table(st, dtype);
    const double s = double(dtype_bytes(dtype));
    bench.measure(memory_work("global_norm", dtype_name(dtype), shape, st.elements * s, "sum n s"), [&] {
      check_launch(k::global_norm(bench.stream(), table.as<ktensor>(), count, norm_ws.get(), out.as<float>()),
                   "global_norm");
    });
    bench.measure(memory_work("scale_check_finite", dtype_name(dtype), shape, 2.0 * st.elements * s, "sum n 2 s"),
                  [&] {
                    check_launch(k::scale_check_finite(bench.stream(), table.as<ktensor>(), count, 1.0f,
                                                       out.as<float>()),
                                 "scale_check_finite");
                  });
  }
}

}  // namespace

void optimizer_suite(Bench& bench) { bench.guarded("optimizer set-up", [&] { run(bench); }); }

}  // namespace gpubench
