// Handle confusion with a live communicator (a world of one, or every rank under
// mpirun, each making the same calls in the same order): the communicator in every
// context and buffer slot of worldpm.h, a destroyed communicator in every comm slot,
// and every wrong handle in the buffer slots of the collectives, which are checked
// only once the communicator is (handle_confusion.h).
#include <gtest/gtest.h>

#include <string>

#include "backend_param.h"
#include "handle_confusion.h"

namespace {

class CommHandleConfusion : public wpm_test::HostBackendTest {};

TEST_P(CommHandleConfusion, EverySlotOfTheHeaderRefusesEveryWrongHandleNamingIt) {
  wpm_test::HandleFixture fixture(GetParam().kind, true);
  ASSERT_TRUE(fixture.ready());
  ASSERT_NE(fixture.comm(), nullptr);
  EXPECT_GT(wpm_test::expect_every_slot_refuses_every_wrong_handle(fixture), 500u);
}

WPM_INSTANTIATE_HOST_BACKENDS(CommHandleConfusion);

}  // namespace
