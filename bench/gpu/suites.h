// One suite per kernel family of kernels.h. Each allocates random inputs on the device,
// then times every launcher of its family through Bench::measure, counting FLOPs or bytes
// with the formula the kernel's header (kernels/*.cu) states.
#pragma once

#include "bench.h"

namespace gpubench {

void attention_suite(Bench& bench);        // suite_attention.cpp: attention.cu, attention_generic.cu
void elementwise_suite(Bench& bench);      // suite_elementwise.cpp: gelu, swiglu, relu, cast, fill
void layer_suite(Bench& bench);            // suite_layer.cpp: rmsnorm, rope, embedding
void last_token_pool_suite(Bench& bench);  // suite_last_token_pool.cpp: last_token_pool
void bt_loss_suite(Bench& bench);          // suite_bt_loss.cpp: bt_loss
void optimizer_suite(Bench& bench);        // suite_optimizer.cpp: adamw, global_norm, scale_check_finite

}  // namespace gpubench
