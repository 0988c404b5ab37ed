// Graphs (wpm_graph_*) on the emu backend, which runs the cuda backend's host code: a captured chain of ops,
// replayed over new contents of its input buffers, gives the bits an eager run of the same chain gives on
// those inputs; a capture records without running; a replay moves the launch and GEMM counters by what the
// eager chain did and waits for nothing; each call a replay could not repeat fails during capture naming the
// call, aborts the capture and leaves the context usable; a workspace or argument table kept from an eager call
// records (an AdamW step reading each replay's lr and step from step_values); a graph over a freed buffer is refused.
// Run in both queue modes (emu.deferred_queue runs EmuGraph.* with WORLDPM_EMU_QUEUE=deferred).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::expect_error;

constexpr int64_t kRows = 8, kPicked = 4, kWidth = 16;

wpm_context* new_context(wpm_backend backend) {
  wpm_context_options options{sizeof options, backend, 1, 0, nullptr};
  wpm_context* made = nullptr;
  if (wpm_context_create(&options, &made) != WPM_OK) ADD_FAILURE() << wpm_last_error();
  return made;
}

// The inputs of one run, made from a seed so that two seeds give different bytes.
struct Inputs {
  std::vector<float> table, weight, projection;
  std::vector<int32_t> index;
  explicit Inputs(int seed) {
    for (int64_t i = 0; i < kRows * kWidth; ++i) table.push_back(float((i * 7 + seed * 13) % 23) / 11.0f - 1.0f);
    for (int64_t i = 0; i < kWidth; ++i) weight.push_back(1.0f + float((i + seed) % 5) / 8.0f);
    for (int64_t i = 0; i < kWidth * kWidth; ++i) projection.push_back(float((i * 5 + seed) % 17) / 16.0f - 0.5f);
    for (int64_t i = 0; i < kPicked; ++i) index.push_back(int32_t((i * 3 + seed) % kRows));
  }
};

// A chain of ops with its buffers, on one context: gather rows by index, RMSNorm, a GEMM, GELU
// (a value check, three kernels and a GEMM).
class Chain {
 public:
  explicit Chain(wpm_context* ctx) : ctx_(ctx) {
    alloc(&table_, WPM_F32, kRows * kWidth);
    alloc(&index_, WPM_I32, kPicked);
    alloc(&weight_, WPM_F32, kWidth);
    alloc(&projection_, WPM_F32, kWidth * kWidth);
    alloc(&rows_, WPM_F32, kPicked * kWidth);
    alloc(&normed_, WPM_F32, kPicked * kWidth);
    alloc(&rstd_, WPM_F32, kPicked);
    alloc(&projected_, WPM_F32, kPicked * kWidth);
    alloc(&out_, WPM_F32, kPicked * kWidth);
  }
  ~Chain() {
    for (wpm_buffer* b : owned_) wpm_buffer_free(b);
  }

  void write(const Inputs& in) {
    WPM_ASSERT_OK(wpm_buffer_write(table_, 0, in.table.data(), in.table.size()));
    WPM_ASSERT_OK(wpm_buffer_write(index_, 0, in.index.data(), in.index.size()));
    WPM_ASSERT_OK(wpm_buffer_write(weight_, 0, in.weight.data(), in.weight.size()));
    WPM_ASSERT_OK(wpm_buffer_write(projection_, 0, in.projection.data(), in.projection.size()));
  }
  void run() {
    wpm_rows_params rows{sizeof rows, kPicked, kRows, kWidth, index_, table_, rows_};
    WPM_ASSERT_OK(wpm_rows_gather(ctx_, &rows));
    wpm_rmsnorm_params norm{};
    norm.struct_size = sizeof norm;
    norm.n = kPicked, norm.c = kWidth, norm.eps = 1e-5f;
    norm.x = rows_, norm.weight = weight_, norm.out = normed_, norm.rstd = rstd_;
    WPM_ASSERT_OK(wpm_rmsnorm_fwd(ctx_, &norm));
    wpm_gemm_params gemm{};
    gemm.struct_size = sizeof gemm;
    gemm.m = kPicked, gemm.n = kWidth, gemm.k = kWidth, gemm.batch = 1, gemm.alpha = 1.0f;
    gemm.a = normed_, gemm.b = projection_, gemm.c = projected_;
    WPM_ASSERT_OK(wpm_gemm(ctx_, &gemm));
    WPM_ASSERT_OK(wpm_gelu_fwd(ctx_, projected_, out_, kPicked * kWidth, WPM_GELU_TANH));
  }
  std::vector<float> result() {
    std::vector<float> host(size_t(kPicked * kWidth));
    EXPECT_EQ(wpm_buffer_read(out_, 0, host.data(), host.size()), WPM_OK) << wpm_last_error();
    return host;
  }
  void fill_result(double value) { WPM_ASSERT_OK(wpm_buffer_fill(out_, value)); }

  wpm_buffer* out() const { return out_; }
  wpm_buffer* index() const { return index_; }
  // Takes the output's handle away from the chain, for a test that frees it.
  wpm_buffer* release_out() {
    owned_.erase(std::find(owned_.begin(), owned_.end(), out_));
    return out_;
  }

 private:
  void alloc(wpm_buffer** b, wpm_dtype dtype, int64_t count) {
    if (wpm_buffer_alloc(ctx_, dtype, size_t(count), b) != WPM_OK) ADD_FAILURE() << wpm_last_error();
    owned_.push_back(*b);
  }

  wpm_context* ctx_;
  std::vector<wpm_buffer*> owned_;
  wpm_buffer *table_ = nullptr, *index_ = nullptr, *weight_ = nullptr, *projection_ = nullptr, *rows_ = nullptr,
             *normed_ = nullptr, *rstd_ = nullptr, *projected_ = nullptr, *out_ = nullptr;
};

struct ContextDeleter {
  void operator()(wpm_context* ctx) const { wpm_context_destroy(ctx); }
};
using OwnedContext = std::unique_ptr<wpm_context, ContextDeleter>;

struct GraphDeleter {
  void operator()(wpm_graph* graph) const { wpm_graph_destroy(graph); }
};
using OwnedGraph = std::unique_ptr<wpm_graph, GraphDeleter>;

// The chain's output run eagerly on a fresh context: the reference a replay must equal.
std::vector<float> eager_result(const Inputs& in) {
  OwnedContext ctx(new_context(WPM_BACKEND_EMU));
  Chain chain(ctx.get());
  chain.write(in);
  chain.run();
  return chain.result();
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// The chain recorded on ctx.
OwnedGraph record(wpm_context* ctx, Chain& chain) {
  EXPECT_EQ(wpm_graph_capture_begin(ctx), WPM_OK) << wpm_last_error();
  chain.run();
  wpm_graph* graph = nullptr;
  EXPECT_EQ(wpm_graph_capture_end(ctx, &graph), WPM_OK) << wpm_last_error();
  return OwnedGraph(graph);
}

// The chain recorded on ctx after one eager run (which makes the context's device error word).
OwnedGraph capture_chain(wpm_context* ctx, Chain& chain, const Inputs& warm_up) {
  chain.write(warm_up);
  chain.run();
  EXPECT_EQ(wpm_synchronize(ctx), WPM_OK) << wpm_last_error();
  return record(ctx, chain);
}

wpm_device_counters counters(wpm_context* ctx) {
  wpm_device_counters c{};
  c.struct_size = sizeof c;
  EXPECT_EQ(wpm_context_device_counters(ctx, &c), WPM_OK) << wpm_last_error();
  return c;
}

TEST(EmuGraph, AReplayOnNewInputsGivesTheBitsOfAnEagerRunOnThem) {
  OwnedContext ctx(new_context(WPM_BACKEND_EMU));
  Chain chain(ctx.get());
  OwnedGraph graph = capture_chain(ctx.get(), chain, Inputs(1));
  ASSERT_NE(graph, nullptr);
  for (int seed : {2, 3}) {
    SCOPED_TRACE("inputs " + std::to_string(seed));
    chain.write(Inputs(seed));
    WPM_ASSERT_OK(wpm_graph_launch(ctx.get(), graph.get()));
    const std::vector<float> replayed = chain.result();
    const std::vector<float> expected = eager_result(Inputs(seed));
    EXPECT_TRUE(same_bits(replayed, expected));
    EXPECT_FALSE(same_bits(replayed, eager_result(Inputs(1)))) << "the inputs do not change the result";
  }
}

TEST(EmuGraph, ACaptureRecordsWithoutRunning) {
  OwnedContext ctx(new_context(WPM_BACKEND_EMU));
  Chain chain(ctx.get());
  chain.write(Inputs(1));
  chain.run();
  chain.fill_result(7.0);
  const wpm_device_counters before = counters(ctx.get());
  OwnedGraph graph = record(ctx.get(), chain);
  ASSERT_NE(graph, nullptr);
  const wpm_device_counters after = counters(ctx.get());
  EXPECT_EQ(after.launches, before.launches);
  EXPECT_EQ(after.gemms, before.gemms);
  EXPECT_EQ(chain.result(), std::vector<float>(size_t(kPicked * kWidth), 7.0f));
}

TEST(EmuGraph, AReplayCountsTheChainsLaunchesAndGemmsAndWaitsForNothing) {
  OwnedContext ctx(new_context(WPM_BACKEND_EMU));
  Chain chain(ctx.get());
  chain.write(Inputs(1));
  chain.run();  // makes the error word: the eager run below is the steady state the capture sees
  WPM_ASSERT_OK(wpm_synchronize(ctx.get()));
  const wpm_device_counters before_eager = counters(ctx.get());
  chain.run();
  const wpm_device_counters after_eager = counters(ctx.get());
  OwnedGraph graph = record(ctx.get(), chain);
  ASSERT_NE(graph, nullptr);

  const wpm_device_counters before = counters(ctx.get());
  WPM_ASSERT_OK(wpm_graph_launch(ctx.get(), graph.get()));
  WPM_ASSERT_OK(wpm_graph_launch(ctx.get(), graph.get()));
  const wpm_device_counters after = counters(ctx.get());
  EXPECT_EQ(after.host_waits, before.host_waits);
  EXPECT_EQ(after.d2h_copies, before.d2h_copies);
  EXPECT_EQ(after.h2d_copies, before.h2d_copies);
  // The chain is a value check, gather, RMSNorm and GELU kernels and one GEMM.
  EXPECT_EQ(after_eager.launches - before_eager.launches, 4u);
  EXPECT_EQ(after_eager.gemms - before_eager.gemms, 1u);
  EXPECT_EQ(after.launches - before.launches, 2 * (after_eager.launches - before_eager.launches));
  EXPECT_EQ(after.gemms - before.gemms, 2u);
}

// A bad index written after the capture is found by the recorded check at the replay and reported at the next
// read-back, naming the op and the argument, as an eager run reports it.
TEST(EmuGraph, AReplaysValueChecksReportAtTheNextReadBack) {
  OwnedContext ctx(new_context(WPM_BACKEND_EMU));
  Chain chain(ctx.get());
  OwnedGraph graph = capture_chain(ctx.get(), chain, Inputs(1));
  const int32_t bad = int32_t(kRows);
  WPM_ASSERT_OK(wpm_buffer_write(chain.index(), 1, &bad, 1));
  WPM_ASSERT_OK(wpm_graph_launch(ctx.get(), graph.get()));
  std::vector<float> host(size_t(kPicked * kWidth));
  expect_error(wpm_buffer_read(chain.out(), 0, host.data(), host.size()), WPM_ERR_INVALID_ARGUMENT,
               {"wpm_rows_gather", "index"});
  // Reported once: the index put right, the replay reads clean.
  chain.write(Inputs(2));
  WPM_ASSERT_OK(wpm_graph_launch(ctx.get(), graph.get()));
  EXPECT_TRUE(same_bits(chain.result(), eager_result(Inputs(2))));
}

// One forbidden call, as the test drives it on a context whose chain has run once.
struct Forbidden {
  const char* call;
  const char* what;
  std::function<wpm_status(wpm_context*, Chain&)> make;
};

std::vector<Forbidden> forbidden_calls() {
  return {
      {"wpm_buffer_read", "host read-back",
       [](wpm_context*, Chain& chain) {
         float host = 0;
         return wpm_buffer_read(chain.out(), 0, &host, 1);
       }},
      // A wait, which here also reads the device error word back (the chain queued a value check).
      {"wpm_synchronize", "host", [](wpm_context* ctx, Chain&) { return wpm_synchronize(ctx); }},
      {"wpm_buffer_write", "upload from host memory",
       [](wpm_context*, Chain& chain) {
         const int32_t zero = 0;
         return wpm_buffer_write(chain.index(), 0, &zero, 1);
       }},
      {"wpm_buffer_alloc", "allocation of device memory",
       [](wpm_context* ctx, Chain&) {
         wpm_buffer* made = nullptr;
         const wpm_status s = wpm_buffer_alloc(ctx, WPM_F32, 4, &made);
         EXPECT_EQ(made, nullptr);
         return s;
       }},
      {"wpm_buffer_free", "release of device memory",
       [](wpm_context*, Chain& chain) { return wpm_buffer_free(chain.release_out()); }},
  };
}

TEST(EmuGraph, EachCallAReplayCouldNotRepeatFailsNamingItAndLeavesTheContextUsable) {
  for (const Forbidden& forbidden : forbidden_calls()) {
    SCOPED_TRACE(forbidden.call);
    OwnedContext ctx(new_context(WPM_BACKEND_EMU));
    Chain chain(ctx.get());
    chain.write(Inputs(1));
    chain.run();
    chain.fill_result(7.0);
    WPM_ASSERT_OK(wpm_graph_capture_begin(ctx.get()));
    chain.run();  // recorded: never runs, since the capture is aborted
    expect_error(forbidden.make(ctx.get(), chain), WPM_ERR_INVALID_ARGUMENT,
                 {forbidden.call, forbidden.what, "during graph capture", "aborted"});
    wpm_graph* made = nullptr;
    expect_error(wpm_graph_capture_end(ctx.get(), &made), WPM_ERR_INVALID_ARGUMENT,
                 {"wpm_graph_capture_end", "aborted by", forbidden.call});
    EXPECT_EQ(made, nullptr);
    EXPECT_EQ(std::string(wpm_last_error_argument()), "context");
    if (std::string(forbidden.call) == "wpm_buffer_free") continue;  // the chain's output is gone
    // The aborted recording never ran, and the context runs calls at once again.
    EXPECT_EQ(chain.result(), std::vector<float>(size_t(kPicked * kWidth), 7.0f));
    chain.write(Inputs(2));
    chain.run();
    EXPECT_TRUE(same_bits(chain.result(), eager_result(Inputs(2))));
    // And it captures again.
    OwnedGraph graph = capture_chain(ctx.get(), chain, Inputs(2));
    chain.write(Inputs(3));
    WPM_ASSERT_OK(wpm_graph_launch(ctx.get(), graph.get()));
    EXPECT_TRUE(same_bits(chain.result(), eager_result(Inputs(3))));
  }
}

// A workspace is kept by the context once an eager call made it: first needed during a capture it is an allocation
// there, refused naming the op; after an eager call of its size the op records and replays.
TEST(EmuGraph, AWorkspaceFirstNeededDuringCaptureFailsNamingTheOpAndIsKeptAfterAnEagerCall) {
  OwnedContext ctx(new_context(WPM_BACKEND_EMU));
  wpm_test::Buffer x(ctx.get(), WPM_F32, std::vector<float>(size_t(kPicked * kWidth), 0.5f));
  wpm_test::Buffer weight(ctx.get(), WPM_F32, std::vector<float>(size_t(kWidth), 1.0f));
  wpm_test::Buffer rstd(ctx.get(), WPM_F32, std::vector<float>(size_t(kPicked), 1.0f));
  wpm_test::Buffer dout(ctx.get(), WPM_F32, std::vector<float>(size_t(kPicked * kWidth), 1.0f));
  wpm_test::Buffer dx(ctx.get(), WPM_F32, size_t(kPicked * kWidth));
  wpm_test::Buffer dweight(ctx.get(), WPM_F32, std::vector<float>(size_t(kWidth), 0.0f));
  wpm_rmsnorm_params p{};
  p.struct_size = sizeof p;
  p.n = kPicked, p.c = kWidth;
  p.x = x, p.weight = weight, p.rstd = rstd, p.dout = dout, p.dx = dx, p.dweight = dweight;
  WPM_ASSERT_OK(wpm_graph_capture_begin(ctx.get()));
  expect_error(wpm_rmsnorm_bwd(ctx.get(), &p), WPM_ERR_INVALID_ARGUMENT,
               {"wpm_rmsnorm_bwd", "allocation of device memory", "during graph capture"});
  wpm_graph* made = nullptr;
  expect_error(wpm_graph_capture_end(ctx.get(), &made), WPM_ERR_INVALID_ARGUMENT, {"aborted by wpm_rmsnorm_bwd"});
  WPM_ASSERT_OK(wpm_rmsnorm_bwd(ctx.get(), &p));  // eagerly it runs, and makes the workspace
  const std::vector<float> once = dweight.download();
  WPM_ASSERT_OK(wpm_graph_capture_begin(ctx.get()));
  WPM_ASSERT_OK(wpm_rmsnorm_bwd(ctx.get(), &p));
  WPM_ASSERT_OK(wpm_graph_capture_end(ctx.get(), &made));
  OwnedGraph graph(made);
  WPM_ASSERT_OK(wpm_graph_launch(ctx.get(), graph.get()));
  const std::vector<float> twice = dweight.download();  // dweight accumulates: the replay added the same again
  for (size_t i = 0; i < once.size(); ++i) ASSERT_EQ(twice[i], once[i] + once[i]) << "element " << i;
}

// One AdamW tensor and its state, on one context.
struct AdamwState {
  wpm_test::Buffer p, g, m, v;
  wpm_buffer* params[1];
  const wpm_buffer* grads[1];
  wpm_buffer* ms[1];
  wpm_buffer* vs[1];
  AdamwState(wpm_context* ctx, size_t count)
      : p(ctx, WPM_F32, wpm_test::random_values(count, 11, -1, 1)),
        g(ctx, WPM_F32, wpm_test::random_values(count, 12, -1, 1)),
        m(ctx, WPM_F32, std::vector<float>(count, 0.0f)),
        v(ctx, WPM_F32, std::vector<float>(count, 0.0f)),
        params{p},
        grads{g},
        ms{m},
        vs{v} {}
  wpm_adamw_params step(float lr, int64_t step, const wpm_buffer* step_values) {
    wpm_adamw_params a{};
    a.struct_size = sizeof a;
    a.tensors = 1;
    a.params = params, a.grads = grads, a.m = ms, a.v = vs;
    a.lr = lr, a.beta1 = 0.9f, a.beta2 = 0.999f, a.eps = 1e-8f, a.weight_decay = 0.01f, a.grad_scale = 1.0f;
    a.step = step;
    a.step_values = step_values;
    return a;
  }
};

// An AdamW step recorded after an eager one (which keeps its argument table on the device) reads the lr and bias
// corrections the host writes into step_values before each replay: the bits of eager by-value steps. A table first
// met during a capture is refused naming the op.
TEST(EmuGraph, AnAdamWStepRecordedAfterAnEagerOneReadsEachReplaysStepValues) {
  OwnedContext ctx(new_context(WPM_BACKEND_EMU));
  constexpr size_t kCount = 300;
  constexpr int64_t kSteps = 4;
  auto lr_at = [](int64_t step) { return 1e-2f / float(step); };
  auto values_at = [&](int64_t step) {
    return std::vector<float>{lr_at(step), float(1.0 / (1.0 - std::pow(double(0.9f), double(step)))),
                              float(1.0 / (1.0 - std::pow(double(0.999f), double(step))))};
  };
  AdamwState eager(ctx.get(), kCount), replayed(ctx.get(), kCount);
  wpm_test::Buffer scalars(ctx.get(), WPM_F32, size_t(3));
  wpm_adamw_params recorded = replayed.step(0.0f, 0, scalars);
  WPM_ASSERT_OK(wpm_graph_capture_begin(ctx.get()));
  expect_error(wpm_adamw_step(ctx.get(), &recorded), WPM_ERR_INVALID_ARGUMENT,
               {"wpm_adamw_step", "during graph capture"});
  wpm_graph* made = nullptr;
  expect_error(wpm_graph_capture_end(ctx.get(), &made), WPM_ERR_INVALID_ARGUMENT, {"aborted by wpm_adamw_step"});
  OwnedGraph graph;
  for (int64_t step = 1; step <= kSteps; ++step) {
    wpm_adamw_params by_value = eager.step(lr_at(step), step, nullptr);
    WPM_ASSERT_OK(wpm_adamw_step(ctx.get(), &by_value));
    scalars.upload(values_at(step));
    if (step == 1) {
      WPM_ASSERT_OK(wpm_adamw_step(ctx.get(), &recorded));  // the warm-up
      continue;
    }
    if (!graph) {
      WPM_ASSERT_OK(wpm_graph_capture_begin(ctx.get()));
      WPM_ASSERT_OK(wpm_adamw_step(ctx.get(), &recorded));
      WPM_ASSERT_OK(wpm_graph_capture_end(ctx.get(), &made));
      graph.reset(made);
    }
    WPM_ASSERT_OK(wpm_graph_launch(ctx.get(), graph.get()));
  }
  EXPECT_TRUE(same_bits(replayed.p.download(), eager.p.download()));
  EXPECT_TRUE(same_bits(replayed.m.download(), eager.m.download()));
  EXPECT_TRUE(same_bits(replayed.v.download(), eager.v.download()));
}

TEST(EmuGraph, AGraphOverAFreedBufferIsRefusedNamingTheGraph) {
  OwnedContext ctx(new_context(WPM_BACKEND_EMU));
  Chain chain(ctx.get());
  OwnedGraph graph = capture_chain(ctx.get(), chain, Inputs(1));
  WPM_ASSERT_OK(wpm_graph_launch(ctx.get(), graph.get()));
  WPM_ASSERT_OK(wpm_buffer_free(chain.release_out()));
  expect_error(wpm_graph_launch(ctx.get(), graph.get()), WPM_ERR_INVALID_ARGUMENT, {"wpm_graph_launch", "freed"});
  EXPECT_EQ(std::string(wpm_last_error_argument()), "graph");
}

// A view freed while its parent lives frees no memory: the graph over it still replays.
TEST(EmuGraph, AGraphOverAFreedViewOfALiveBufferStillReplays) {
  OwnedContext ctx(new_context(WPM_BACKEND_EMU));
  wpm_test::Buffer whole(ctx.get(), WPM_F32, std::vector<float>{-1.0f, 0.5f, 2.0f, 3.0f});
  wpm_buffer* view = nullptr;
  WPM_ASSERT_OK(wpm_buffer_view(whole, 0, 2, &view));
  WPM_ASSERT_OK(wpm_graph_capture_begin(ctx.get()));
  WPM_ASSERT_OK(wpm_relu_fwd(ctx.get(), view, view, 2));
  wpm_graph* made = nullptr;
  WPM_ASSERT_OK(wpm_graph_capture_end(ctx.get(), &made));
  OwnedGraph graph(made);
  WPM_ASSERT_OK(wpm_buffer_free(view));
  WPM_ASSERT_OK(wpm_graph_launch(ctx.get(), graph.get()));
  EXPECT_EQ(whole.download(), (std::vector<float>{0.0f, 0.5f, 2.0f, 3.0f}));
}

TEST(EmuGraph, CaptureAndLaunchRefuseWhatTheyCannotDo) {
  OwnedContext ctx(new_context(WPM_BACKEND_EMU)), other(new_context(WPM_BACKEND_EMU));
  wpm_graph* made = nullptr;
  expect_error(wpm_graph_capture_end(ctx.get(), &made), WPM_ERR_INVALID_ARGUMENT, {"no graph capture in progress"});
  WPM_ASSERT_OK(wpm_graph_capture_begin(ctx.get()));
  expect_error(wpm_graph_capture_begin(ctx.get()), WPM_ERR_INVALID_ARGUMENT, {"capturing a graph already"});
  WPM_ASSERT_OK(wpm_graph_capture_end(ctx.get(), &made));
  OwnedGraph graph(made);
  expect_error(wpm_graph_launch(other.get(), graph.get()), WPM_ERR_WRONG_CONTEXT, {"graph", "another context"});
  WPM_ASSERT_OK(wpm_graph_capture_begin(ctx.get()));
  expect_error(wpm_graph_launch(ctx.get(), graph.get()), WPM_ERR_INVALID_ARGUMENT, {"inside a capture"});
  WPM_ASSERT_OK(wpm_graph_capture_end(ctx.get(), &made));
  wpm_graph_destroy(made);
  EXPECT_EQ(wpm_graph_destroy(nullptr), WPM_OK);
}

TEST(Graph, TheCpuBackendHasNoGraphs) {
  OwnedContext ctx(new_context(WPM_BACKEND_CPU));
  expect_error(wpm_graph_capture_begin(ctx.get()), WPM_ERR_UNSUPPORTED, {"wpm_graph_capture_begin", "cpu"});
  EXPECT_EQ(std::string(wpm_last_error_argument()), "context");
  wpm_graph* made = nullptr;
  expect_error(wpm_graph_capture_end(ctx.get(), &made), WPM_ERR_UNSUPPORTED, {"wpm_graph_capture_end", "cpu"});
}

}  // namespace
