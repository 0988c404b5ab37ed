// Handle confusion on the cpu and emu backends: every handle slot of worldpm.h
// refuses a handle of another kind, a freed one, a foreign pointer and NULL, naming
// the slot, and leaves the handle it was given alive (handle_confusion.h). The
// communicator's own cases need MPI: comm/comm_handle_confusion_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backend_param.h"
#include "handle_confusion.h"
#include "handles.h"
#include "test_util.h"

namespace {

using wpm_test::HandleSlot;
using wpm_test::SlotKind;

bool has_slot(const std::vector<HandleSlot>& slots, const char* function, const char* argument, SlotKind kind) {
  return std::any_of(slots.begin(), slots.end(), [&](const HandleSlot& s) {
    return s.function == function && s.argument == argument && s.kind == kind;
  });
}

TEST(HeaderSlots, ReadsParametersStructFieldsAndArraysButNotOutParameters) {
  const std::vector<HandleSlot> slots = wpm_test::handle_slots(wpm_test::read_header());
  EXPECT_TRUE(has_slot(slots, "wpm_synchronize", "context", SlotKind::context));
  EXPECT_TRUE(has_slot(slots, "wpm_buffer_copy", "src", SlotKind::buffer));
  EXPECT_TRUE(has_slot(slots, "wpm_gemm", "c", SlotKind::buffer));
  EXPECT_TRUE(has_slot(slots, "wpm_attention_bwd", "dv", SlotKind::buffer));
  EXPECT_TRUE(has_slot(slots, "wpm_adamw_step", "grads[0]", SlotKind::buffer));
  EXPECT_TRUE(has_slot(slots, "wpm_global_norm", "tensors[0]", SlotKind::buffer));
  EXPECT_TRUE(has_slot(slots, "wpm_barrier", "comm", SlotKind::comm));
  EXPECT_FALSE(has_slot(slots, "wpm_buffer_alloc", "buffer", SlotKind::buffer));  // wpm_buffer**: an output
  EXPECT_FALSE(has_slot(slots, "wpm_context_create", "context", SlotKind::context));
  EXPECT_GT(slots.size(), 100u);
}

class HandleConfusion : public wpm_test::HostBackendTest {};

TEST_P(HandleConfusion, EverySlotOfTheHeaderRefusesEveryWrongHandleNamingIt) {
  wpm_test::HandleFixture fixture(GetParam().kind, false);
  ASSERT_TRUE(fixture.ready());
  EXPECT_GT(wpm_test::expect_every_slot_refuses_every_wrong_handle(fixture), 400u);
}

// The cases the issue found, spelled out.
TEST_P(HandleConfusion, ABufferAsAContextAndAContextAsABufferAreRefusedAndSurvive) {
  wpm_test::HandleFixture fixture(GetParam().kind, false);
  ASSERT_TRUE(fixture.ready());
  wpm_buffer* buffer = fixture.f32(0);
  auto* as_context = reinterpret_cast<wpm_context*>(buffer);
  EXPECT_EQ(wpm_synchronize(as_context), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "context");
  EXPECT_NE(std::string(wpm_last_error()).find("is a buffer handle"), std::string::npos) << wpm_last_error();
  wpm_buffer* made = nullptr;
  EXPECT_EQ(wpm_buffer_alloc(as_context, WPM_F32, 4, &made), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(made, nullptr);
  EXPECT_EQ(wpm_context_destroy(as_context), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "context");
  float host[2] = {0, 0};
  WPM_ASSERT_OK(wpm_buffer_read(buffer, 0, host, 2));  // destroyed nothing
  EXPECT_EQ(host[0], 0.5f);

  auto* as_buffer = reinterpret_cast<wpm_buffer*>(fixture.context());
  EXPECT_EQ(wpm_buffer_free(as_buffer), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "buffer");
  EXPECT_EQ(wpm_buffer_read(as_buffer, 0, host, 2), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(wpm_last_error()).find("is a context handle"), std::string::npos) << wpm_last_error();
  WPM_ASSERT_OK(wpm_synchronize(fixture.context()));
}

// A live handle whose header was overwritten (a stray write by the caller) is refused, not trusted.
TEST_P(HandleConfusion, AHandleWhoseHeaderWasOverwrittenIsRefused) {
  wpm_test::HandleFixture fixture(GetParam().kind, false);
  ASSERT_TRUE(fixture.ready());
  wpm_buffer* buffer = fixture.f32(0);
  const wpm::HandleHeader saved = buffer->header;
  buffer->header.generation += 1;
  size_t count = 0;
  EXPECT_EQ(wpm_buffer_info(buffer, nullptr, &count), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "buffer");
  EXPECT_NE(std::string(wpm_last_error()).find("header was overwritten"), std::string::npos) << wpm_last_error();
  buffer->header.generation = saved.generation;
  buffer->header.magic ^= 1;
  EXPECT_EQ(wpm_gelu_fwd(fixture.context(), buffer, fixture.f32(1), 8, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "x");
  buffer->header = saved;
  WPM_ASSERT_OK(wpm_buffer_info(buffer, nullptr, &count));
}

// A handle freed a moment ago is still refused after new handles of its kind were made:
// the allocator would hand its address to the next one at once, and the stale pointer
// would then pass for the new handle (freed memory is quarantined, handles.h).
TEST_P(HandleConfusion, AFreedHandleIsRefusedAfterNewOnesOfItsKindWereMade) {
  const wpm_context_options options{sizeof(wpm_context_options), GetParam().kind, 1, 0, nullptr};
  wpm_context* stale_context = nullptr;
  WPM_ASSERT_OK(wpm_context_create(&options, &stale_context));
  WPM_ASSERT_OK(wpm_context_destroy(stale_context));
  wpm_context* ctx = nullptr;
  WPM_ASSERT_OK(wpm_context_create(&options, &ctx));
  wpm_buffer* stale_buffer = nullptr;
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 4, &stale_buffer));
  WPM_ASSERT_OK(wpm_buffer_free(stale_buffer));

  std::vector<wpm_buffer*> buffers(64, nullptr);
  for (wpm_buffer*& b : buffers) WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 4, &b));
  std::vector<wpm_context*> contexts(8, nullptr);
  for (wpm_context*& c : contexts) WPM_ASSERT_OK(wpm_context_create(&options, &c));
  EXPECT_EQ(std::count(buffers.begin(), buffers.end(), stale_buffer), 0);
  EXPECT_EQ(std::count(contexts.begin(), contexts.end(), stale_context), 0);
  EXPECT_NE(ctx, stale_context);

  size_t count = 0;
  wpm_test::expect_error(wpm_buffer_info(stale_buffer, nullptr, &count), WPM_ERR_INVALID_ARGUMENT, "'buffer'");
  wpm_test::expect_error(wpm_synchronize(stale_context), WPM_ERR_INVALID_ARGUMENT, "'context'");
  for (wpm_buffer* b : buffers) WPM_ASSERT_OK(wpm_buffer_free(b));
  for (wpm_context* c : contexts) WPM_ASSERT_OK(wpm_context_destroy(c));
  WPM_ASSERT_OK(wpm_context_destroy(ctx));
}

WPM_INSTANTIATE_HOST_BACKENDS(HandleConfusion);

}  // namespace
