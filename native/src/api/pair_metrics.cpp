// wpm_pair_metrics: a micro-batch's loss, accuracy and margin sums added into a
// step's metrics in backend memory, so a trainer reads them once per optimizer
// step. The rewards hold the chosen rows first, then the rejected ones.
#include "../validate.h"

extern "C" {

wpm_status wpm_pair_metrics(wpm_context* context, const wpm_buffer* rewards, const wpm_buffer* loss, int64_t pairs,
                            wpm_buffer* metrics) {
  return wpm::guarded("wpm_pair_metrics", [&] {
    wpm::Checker check("wpm_pair_metrics", context);
    check.in_range("pairs", pairs, 1, int64_t(1) << 30);
    if (!check.ok()) return check.status();
    const size_t rows = size_t(2 * pairs);
    check.buffer("rewards", rewards, rows, wpm::kF32)
        .buffer("loss", loss, 1, wpm::kF32)
        .buffer("metrics", metrics, 3, wpm::kF32);
    if (!check.ok()) return check.status();
    check.disjoint({"metrics", metrics, 3}, {{"rewards", rewards, rows}, {"loss", loss, 1}});
    if (!check.ok()) return check.status();
    return check.backend().pair_metrics(static_cast<const float*>(rewards->data()),
                                        static_cast<const float*>(loss->data()), pairs,
                                        static_cast<float*>(metrics->data()));
  });
}

}  // extern "C"
