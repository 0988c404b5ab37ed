/*
 * worldpm.h — the one public C ABI of the WorldPM kernel library.
 *
 * Rules (docs/c-abi.md explains each):
 *   - plain C, opaque handles, every function returns a wpm_status;
 *   - wpm_last_error() gives a thread-local message naming the argument and
 *     the value that was wrong, and wpm_last_error_argument() that argument's
 *     name as data; the library never aborts and never prints;
 *   - parameter structs start with their own size (set it to sizeof) so the
 *     ABI can grow without breaking old callers.
 *
 * Two call patterns, chosen per op by whether its arguments may grow:
 *   - Positional arguments for ops whose contract is fixed by their math:
 *     elementwise ops over n elements (SwiGLU, GELU, ReLU, casts), the flat
 *     row gather/scatter of the embedding (packing or padding a batch changes
 *     nothing for it: they are just more rows), the gradient utilities, memory
 *     and collectives. A new argument there would be a new op.
 *   - A parameter struct (wpm_<op>_params, first field struct_size) for ops
 *     with foreseeable new arguments: GEMM (epilogues), attention (masks,
 *     windows), RoPE (per-sequence position offsets of packed sequences, RoPE
 *     scaling), RMSNorm (a fused residual add), the preference head (other head layouts), last-token pooling (sequence
 *     offsets of packed batches instead of [B, T]), the row ops (a row
 *     stride), the Bradley-Terry loss and AdamW (new hyperparameters). A
 *     later minor version adds fields at the end; a caller built against an
 *     older header passes its smaller struct_size and gets the documented
 *     default for the missing fields.
 *     The forward and backward of an op share one struct: fields marked
 *     "backward only" are not read by the forward and may be left unset,
 *     and the same holds for "forward only" fields in the backward.
 *
 * Memory: device memory is owned by wpm_buffer handles, each tied to the
 * context that allocated it. A buffer has a dtype and an element count; ops
 * check both against the shapes they are given. A view (wpm_buffer_view) is a
 * window into another buffer, so one arena can hold many tensors; it keeps
 * its parent's memory alive. wpm_buffer_wrap makes a buffer of memory the
 * caller owns (no copy); such a buffer, and its views, never free it.
 *
 * Handles: wpm_context, wpm_buffer, wpm_comm and wpm_graph are told apart by the library.
 * A handle of another kind, a freed one, a pointer the library never returned,
 * or NULL where a handle is required, is WPM_ERR_INVALID_ARGUMENT naming the
 * parameter (or field); a destroy or free given such a pointer frees nothing.
 * A freed handle's address is not given to a new handle until 4096 more have
 * been freed, so a stale handle is recognised until then (after that it may be
 * a new, live handle: a freed handle must not be used).
 *
 * Overlap: an op's outputs must not share memory with its other buffer
 * arguments, inputs or outputs, counted in bytes over the elements the op
 * touches (for GEMM, from the first to the last element of each operand),
 * whatever handles they come through: views of one buffer and wrapped memory
 * count. Violations are WPM_ERR_INVALID_ARGUMENT naming the output. Inputs may
 * share memory (k and v may be one buffer). Exceptions: an output of SwiGLU,
 * GELU or ReLU may lie exactly over one of its inputs (in place: same first
 * byte, same byte length), not partly; RoPE rotates in place by design;
 * wpm_buffer_copy, and wpm_cast within one dtype (a copy), take overlapping
 * ranges as memmove does (a cast between dtypes must not overlap). The tensors of one AdamW step (params, grads, m, v, working
 * of every tensor), and those of a gradient utility with its output, must not
 * overlap one another (the error names the later argument of an overlapping
 * pair, "m[0]" over "params[0]"); the send and recv of a collective must not
 * overlap.
 *
 * Layouts are row-major. Shape letters: B batch, T tokens, H query heads,
 * KVH key/value heads, D head dim, C model width, N rows, V vocabulary,
 * P preference pairs.
 *
 * Gradients: backward ops OVERWRITE input/activation gradients (dx, dq, ...)
 * and ACCUMULATE (+=) into parameter gradients (dweight, dtable), so gradient
 * accumulation over micro-batches needs no extra pass.
 */
#ifndef WORLDPM_H
#define WORLDPM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define WPM_API __declspec(dllexport)
#else
#define WPM_API __attribute__((visibility("default")))
#endif

#define WPM_VERSION_MAJOR 0
#define WPM_VERSION_MINOR 7
#define WPM_VERSION_PATCH 0
/* major << 16 | minor << 8 | patch */
#define WPM_VERSION ((WPM_VERSION_MAJOR << 16) | (WPM_VERSION_MINOR << 8) | WPM_VERSION_PATCH)

typedef enum wpm_status {
  WPM_OK = 0,
  WPM_ERR_INVALID_ARGUMENT = 1, /* a null pointer, bad size, bad enum, mismatched shapes */
  WPM_ERR_DTYPE = 2,            /* a dtype the op does not support, or buffers that disagree */
  WPM_ERR_OUT_OF_MEMORY = 3,
  WPM_ERR_BACKEND_UNAVAILABLE = 4, /* backend not built, or no device */
  WPM_ERR_UNSUPPORTED = 5,         /* valid request this backend does not implement */
  WPM_ERR_WRONG_CONTEXT = 6,       /* a buffer from another context */
  WPM_ERR_INTERNAL = 7,
  WPM_ERR_COMM = 8 /* a collective failed: a peer rank died, stopped answering or disagreed */
} wpm_status;

typedef enum wpm_backend {
  WPM_BACKEND_AUTO = 0, /* cuda when a device is visible, else cpu */
  WPM_BACKEND_CPU = 1,
  WPM_BACKEND_CUDA = 2,
  WPM_BACKEND_EMU = 3 /* the CUDA kernel sources run on the CPU */
} wpm_backend;

typedef enum wpm_dtype {
  WPM_F32 = 0,
  WPM_F16 = 1,
  WPM_BF16 = 2,
  WPM_I32 = 3
} wpm_dtype;

typedef enum wpm_gelu_kind {
  WPM_GELU_TANH = 0, /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
  WPM_GELU_EXACT = 1 /* 0.5 x (1 + erf(x / sqrt(2))) */
} wpm_gelu_kind;

typedef enum wpm_padding {
  WPM_PAD_RIGHT = 0, /* valid tokens of a sequence of length L are 0 .. L-1 */
  WPM_PAD_LEFT = 1   /* valid tokens are T-L .. T-1 */
} wpm_padding;

typedef struct wpm_context wpm_context;
typedef struct wpm_buffer wpm_buffer;
typedef struct wpm_comm wpm_comm;
typedef struct wpm_graph wpm_graph; /* added in 0.6 */

/* ---------------------------------------------------------------- library */

WPM_API uint32_t wpm_version(void);
WPM_API const char* wpm_version_string(void);
/* The message of the last failed call on this thread ("" if none). Valid until
 * the next call on this thread. */
WPM_API const char* wpm_last_error(void);
/* Added in 0.3. The name of the argument the last failed call on this thread was about, as
 * this header spells it: a parameter ("x", "context"), a field of a parameter struct ("q",
 * "eps"; "options.stream" for the options structs), or for a shape whose element count
 * overflows, the product named in the message ("vocab * c"). An entry of an array of
 * handles carries its index ("grads[1]"); a bad value inside a buffer is named by the
 * buffer ("ids" for a bad ids[3]; the message gives the index).
 * "" (never NULL) when the error is about no single argument (a backend, a peer or memory
 * failed) or no call failed. Thread-local and valid like wpm_last_error(). */
WPM_API const char* wpm_last_error_argument(void);
WPM_API const char* wpm_status_name(wpm_status status);

typedef struct wpm_backend_info {
  size_t struct_size;
  int32_t built;     /* compiled into this library */
  int32_t available; /* a context can be created now */
  int32_t device_count;
  char reason[256]; /* why not available, or what it runs on */
} wpm_backend_info;

WPM_API wpm_status wpm_backend_query(wpm_backend backend, wpm_backend_info* info);
/* Space-separated CPU features the CPU backend uses on this machine, e.g. "avx2 fma avx512f". */
WPM_API wpm_status wpm_cpu_features(const char** features);

/* ---------------------------------------------------------------- contexts */

typedef struct wpm_context_options {
  size_t struct_size;
  wpm_backend backend;
  int32_t num_threads; /* CPU threads; 0 = WORLDPM_NUM_THREADS or the machine's core count */
  int32_t device;      /* CUDA device ordinal */
  /* Added in 0.2. A cudaStream_t of `device` that the cuda backend queues every op and copy
   * on, so the library's work orders with the caller's own (a framework's current stream).
   * The library never destroys it: it must outlive the context and every buffer of it.
   * NULL = the context creates its own stream (for the legacy default stream, pass
   * cudaStreamLegacy). Set on cpu or emu, context creation fails
   * with WPM_ERR_UNSUPPORTED (they have no streams). A caller built against 0.1 passes a
   * struct_size of offsetof(wpm_context_options, stream) and gets NULL. */
  void* stream;
} wpm_context_options;

/* options may be NULL: auto backend, default threads, device 0, own stream. */
WPM_API wpm_status wpm_context_create(const wpm_context_options* options, wpm_context** context);
/* Frees the context. Buffers still alive keep their memory (read, write, free them as usual);
 * ops need a live context. NULL is a no-op. */
WPM_API wpm_status wpm_context_destroy(wpm_context* context);
WPM_API wpm_status wpm_context_backend(const wpm_context* context, wpm_backend* backend);
WPM_API wpm_status wpm_context_num_threads(const wpm_context* context, int32_t* num_threads);
/* Waits for all work queued on the context. */
WPM_API wpm_status wpm_synchronize(wpm_context* context);

/* Added in 0.4. What a device context (cuda, emu) has done since it was created, for
 * counting a training step's synchronisation and launches. The emu backend runs the cuda
 * backend's host code, so its counts are the ones a GPU would see. */
typedef struct wpm_device_counters {
  size_t struct_size;
  uint64_t host_waits; /* times the host waited for the context's stream: a read, a synchronize,
                          an upload that waits for queued work (today every upload does) */
  uint64_t d2h_copies; /* device-to-host copies (non-empty reads, including the library's own) */
  uint64_t h2d_copies; /* host-to-device copies (writes, argument tables, random fills) */
  uint64_t launches;   /* kernel launches */
  uint64_t gemms;      /* GEMM calls (one cuBLASLt matmul each on cuda) */
} wpm_device_counters;

/* Fills counters (struct_size set by the caller). The cpu backend queues no device work:
 * WPM_ERR_UNSUPPORTED naming 'context'. */
WPM_API wpm_status wpm_context_device_counters(const wpm_context* context, wpm_device_counters* counters);

/* Added in 0.5. The emu backend's work counters, per kernel (docs/profile.md): what the
 * kernels launched while counting was on did, counted by the emulator as each thread ran.
 * Counts of work, never times: a GPU's time is for the caller to estimate from them. */
typedef struct wpm_kernel_profile {
  size_t struct_size;
  char kernel[64];          /* the kernel's function name; "gemm" for the GEMMs (cuBLASLt on a GPU,
                               the CPU's BLAS on emu: their bytes and FLOPs are the formula's) */
  uint64_t launches;
  uint64_t bytes_read;      /* global memory, each thread's loads (no cache model) */
  uint64_t bytes_written;   /* global memory, each thread's stores */
  uint64_t shared_bytes_read, shared_bytes_written;
  uint64_t min_bytes;       /* the least global memory the launches must move: inputs read once,
                               outputs written once; 0 where the kernel's launcher states none */
  uint64_t mma_instructions; /* tensor-core mma.sync m16n8k16 */
  uint64_t mma_flops;        /* their FLOPs (4096 each), and the GEMMs' 2 m n k */
  uint64_t other_flops;      /* floating-point operations the kernel reports (0 where it does not) */
  int32_t bytes_counted;     /* 0 when this build's kernels do not report plain loads and stores
                                (the sanitizer builds): the byte counts then hold cp.async and
                                ldmatrix only */
} wpm_kernel_profile;

/* Starts counting (enable nonzero: the table is cleared) or stops (0: the table is kept). Waits
 * for the context's queued work first. On emu only (WPM_ERR_UNSUPPORTED naming 'context'
 * elsewhere); one context of the process counts at a time (WPM_ERR_UNSUPPORTED naming
 * 'context' while another does). */
WPM_API wpm_status wpm_context_profile(wpm_context* context, int32_t enable);
/* The table: one row per kernel, in the order the kernels first ran. *count receives the
 * number of rows; min(count, capacity) of them are written to kernels (NULL allowed with
 * capacity 0), each row's struct_size set by the caller. Waits for the queued work first. */
WPM_API wpm_status wpm_context_profile_kernels(wpm_context* context, wpm_kernel_profile* kernels,
                                               size_t capacity, size_t* count);

/* ---------------------------------------------------------------- graphs
 * Added in 0.6 (docs/c-abi.md, "Graphs"). On the device backends (cuda, emu) the work of
 * a run of calls can be recorded once and replayed: between wpm_graph_capture_begin and
 * wpm_graph_capture_end the context's kernels, device-to-device copies and GEMMs are
 * recorded, not run (on cuda a stream capture, thread-local mode). wpm_graph_launch queues
 * the recording again after the context's queued work, with the same buffers: to run it on
 * new inputs, write them into those buffers before the launch. A replay repeats device work
 * only, so a call that needs the host during capture fails with WPM_ERR_INVALID_ARGUMENT
 * and a message naming the call: a read-back or a wait (wpm_buffer_read, wpm_synchronize,
 * an op that reads a value back), an upload from host memory (wpm_buffer_write, an op that
 * uploads a table), an allocation or a release of device memory (wpm_buffer_alloc, freeing
 * a buffer's last handle, an op that needs a workspace). That failure aborts the capture:
 * the context runs calls at once again, and wpm_graph_capture_end fails naming the call
 * that aborted it (a buffer freed that way is still freed). The cpu backend has no graphs:
 * WPM_ERR_UNSUPPORTED naming 'context'. Value checks recorded in a graph (token ids, row
 * indices, lengths) run at each replay and are reported at the next read-back. */

/* One capture per context at a time; the calls in between must come from this thread. */
WPM_API wpm_status wpm_graph_capture_begin(wpm_context* context);
/* Ends the capture and returns its graph (NULL after a failure). */
WPM_API wpm_status wpm_graph_capture_end(wpm_context* context, wpm_graph** graph);
/* Queues one replay on the context that captured the graph (another context:
 * WPM_ERR_WRONG_CONTEXT naming 'graph'). A graph whose buffers are not all alive, because
 * one was freed after the capture, is refused (WPM_ERR_INVALID_ARGUMENT naming 'graph'):
 * the replay would write to memory that is no longer the caller's. Not during a capture. */
WPM_API wpm_status wpm_graph_launch(wpm_context* context, const wpm_graph* graph);
/* NULL is a no-op. A replay still queued runs to its end. */
WPM_API wpm_status wpm_graph_destroy(wpm_graph* graph);

/* ---------------------------------------------------------------- memory */

WPM_API size_t wpm_dtype_size(wpm_dtype dtype); /* 0 for an unknown dtype */
WPM_API wpm_status wpm_buffer_alloc(wpm_context* context, wpm_dtype dtype, size_t count, wpm_buffer** buffer);
/* A window of count elements starting at element offset of parent, same dtype. */
WPM_API wpm_status wpm_buffer_view(wpm_buffer* parent, size_t offset, size_t count, wpm_buffer** view);
/* Releases the handle (memory goes when no view uses it). NULL is a no-op. */
WPM_API wpm_status wpm_buffer_free(wpm_buffer* buffer);
/* A buffer of count elements of dtype over memory the caller owns, WITHOUT a copy: ops read and
 * write the caller's memory directly. Ownership stays with the caller: freeing the buffer (and
 * every view of it) leaves the memory untouched, and the memory must stay valid (and, in managed
 * languages, pinned) until the last of them is freed. Nothing else changes: views, ops, copies,
 * and a destroyed context (the buffer can still be read, written and freed) work as for
 * wpm_buffer_alloc's buffers.
 *   cpu:  pointer is host memory. The library cannot see its extent: count is the caller's word.
 *   cuda: pointer is device (or managed) memory of the context's device, checked with
 *         cudaPointerGetAttributes; the extent is the caller's word. Use a context created with
 *         wpm_context_options.stream to order the library's work with the caller's stream.
 *   emu:  pointer lies inside the emulator's device memory, e.g. wpm_buffer_device_pointer of
 *         another buffer (plus an offset); the whole range is checked against that allocation.
 * Errors (WPM_ERR_INVALID_ARGUMENT, naming the argument): pointer NULL with count > 0, pointer
 * not aligned to the dtype's size, count above 2^40 or running past the end of the address
 * space, a host pointer (or a range outside device memory) on cuda/emu. pointer may be NULL
 * with count 0 (an empty buffer). */
WPM_API wpm_status wpm_buffer_wrap(wpm_context* context, wpm_dtype dtype, void* pointer, size_t count,
                                   wpm_buffer** buffer);
/* The address of the buffer's first element (a view's, not its parent's): a host pointer on cpu,
 * a device pointer on cuda, an emulated device pointer on emu. For handing memory to other
 * code (or back to wpm_buffer_wrap); it stays valid while the buffer or a view of its memory
 * lives, and is the caller's own pointer for a wrapped buffer. */
WPM_API wpm_status wpm_buffer_device_pointer(const wpm_buffer* buffer, void** pointer);
WPM_API wpm_status wpm_buffer_info(const wpm_buffer* buffer, wpm_dtype* dtype, size_t* count);
/* Host <-> device copies of count elements at element offset; host data has the buffer's dtype.
 * The host memory may be reused as soon as either returns. A read waits for the work queued
 * before it; on cuda and emu a write of up to 256 KiB is queued in stream order without waiting
 * (the bytes are staged first), a larger one waits for its copy. */
WPM_API wpm_status wpm_buffer_write(wpm_buffer* buffer, size_t offset, const void* host, size_t count);
WPM_API wpm_status wpm_buffer_read(const wpm_buffer* buffer, size_t offset, void* host, size_t count);
/* Device-to-device copy of the whole of src into dst (same dtype, same count). */
WPM_API wpm_status wpm_buffer_copy(wpm_buffer* dst, const wpm_buffer* src);
/* Every element set to value (converted to the buffer's dtype). */
WPM_API wpm_status wpm_buffer_fill(wpm_buffer* buffer, double value);
/* Counter-based random fills: the same seed gives the same bits on every backend. */
WPM_API wpm_status wpm_fill_uniform(wpm_buffer* buffer, uint64_t seed, float low, float high);
WPM_API wpm_status wpm_fill_normal(wpm_buffer* buffer, uint64_t seed, float mean, float stddev);

/* ---------------------------------------------------------------- GEMM
 * C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], op(A) is M x K, op(B) is K x N.
 * A, B, C share one dtype (f32, f16, bf16); accumulation is fp32.
 * lda/ldb/ldc are row strides in elements (0 = tight); stride_* are batch strides
 * in elements (0 with batch 1). Backward of C = A B is dA = dC B^T, dB = A^T dC:
 * two more calls of this function. */
typedef struct wpm_gemm_params {
  size_t struct_size;
  int32_t trans_a, trans_b;
  int64_t m, n, k;
  int64_t batch;
  float alpha, beta;
  const wpm_buffer* a;
  const wpm_buffer* b;
  wpm_buffer* c;
  int64_t lda, ldb, ldc;
  int64_t stride_a, stride_b, stride_c;
  /* Added in 0.5. Nonzero: every element of C is computed by one fixed sequence of
   * operations (acc = 0; acc = fma(op(A)[i][k], op(B)[k][j], acc) for k = 0 .. K-1;
   * C = alpha acc, or fma(beta, C, alpha acc) when beta != 0), so a row of C does not depend
   * on M, on the other rows or on where the row sits: a sequence's activations are the same
   * bits alone and in any batch. cpu and emu run their own kernel for it instead of their
   * BLAS (f16/bf16 through f32 copies, with K in panels of 1024); cuda fails with
   * WPM_ERR_UNSUPPORTED. A caller built against 0.4 passes a struct_size of
   * offsetof(wpm_gemm_params, row_invariant) and gets 0. */
  int32_t row_invariant;
} wpm_gemm_params;

WPM_API wpm_status wpm_gemm(wpm_context* context, const wpm_gemm_params* params);

/* ---------------------------------------------------------------- values in device memory
 * Token ids, row indices and sequence lengths are read by the ops from buffers, so the
 * boundary cannot see them. A value out of range is WPM_ERR_INVALID_ARGUMENT naming the op,
 * the argument with its index ('ids[3]') and the value: on cpu from the op itself (nothing
 * written); on cuda and emu from the context's NEXT read-back (wpm_buffer_read,
 * wpm_synchronize), because a kernel checks the values on the stream into a per-context
 * device error word that the read-back copies behind the same wait. Meanwhile the ops run on
 * and stay in bounds (a bad id's row is NaN, a bad length is taken as T); the first failed
 * check since the last read-back is the one reported, and reporting it clears the word.
 *
 * ---------------------------------------------------------------- embedding
 * out[n, :] = table[ids[n], :]; ids i32 [N], table [V, C], out [N, C].
 * Backward sums the dout rows of each id in token order and adds the sum into dtable
 * once (deterministic for any thread count). */
WPM_API wpm_status wpm_embedding_fwd(wpm_context* context, const wpm_buffer* ids, const wpm_buffer* table,
                                     wpm_buffer* out, int64_t n, int64_t vocab, int64_t c);
WPM_API wpm_status wpm_embedding_bwd(wpm_context* context, const wpm_buffer* ids, const wpm_buffer* dout,
                                     wpm_buffer* dtable, int64_t n, int64_t vocab, int64_t c);

/* ---------------------------------------------------------------- RMSNorm
 * out = x * rstd * weight, rstd = 1 / sqrt(mean(x^2) + eps); x, out [N, C], weight [C],
 * rstd f32 [N] saved for the backward. dweight accumulates. x, weight, out, dout, dx and
 * dweight share one dtype (f32, f16, bf16). A struct since 0.3 (a fused residual add is
 * the foreseeable field). */
typedef struct wpm_rmsnorm_params {
  size_t struct_size;
  int64_t n, c;
  float eps; /* forward only; >= 0 */
  const wpm_buffer* x;
  const wpm_buffer* weight;
  wpm_buffer* out;  /* forward output */
  wpm_buffer* rstd; /* written by the forward, read by the backward */
  /* backward only */
  const wpm_buffer* dout;
  wpm_buffer* dx;
  wpm_buffer* dweight;
} wpm_rmsnorm_params;

WPM_API wpm_status wpm_rmsnorm_fwd(wpm_context* context, const wpm_rmsnorm_params* params);
/* Reads dout, x, weight, rstd; writes dx, accumulates into dweight. */
WPM_API wpm_status wpm_rmsnorm_bwd(wpm_context* context, const wpm_rmsnorm_params* params);

/* ---------------------------------------------------------------- RoPE
 * In place on x [B, T, H, D] (the rotate-half layout of Qwen2: pairs i and i + D/2),
 * angle = pos * theta^(-2i/D). positions i32 [B, T] or NULL for pos = t.
 * The backward is the same rotation with -sin, applied in place to the gradient dx.
 * A struct since 0.3 (position offsets of packed sequences and RoPE scaling are the
 * foreseeable fields). */
typedef struct wpm_rope_params {
  size_t struct_size;
  int64_t b, t, h, d; /* d even */
  float theta;        /* > 0 */
  const wpm_buffer* positions;
  wpm_buffer* x;  /* forward only: rotated in place */
  wpm_buffer* dx; /* backward only: rotated back in place */
} wpm_rope_params;

WPM_API wpm_status wpm_rope_fwd(wpm_context* context, const wpm_rope_params* params);
WPM_API wpm_status wpm_rope_bwd(wpm_context* context, const wpm_rope_params* params);

/* ---------------------------------------------------------------- attention
 * Fused causal attention with GQA and per-sequence lengths.
 * q, out [B, T, H, D]; k, v [B, T, KVH, D]; H % KVH == 0; D >= 1 (the cuda and emu
 * backends: D <= 256, tensor cores for f16/bf16 with D 64 or 128 and 16-byte aligned
 * buffers). lse f32 [B, H, T] is the natural-log logsumexp of
 * each query row's scaled scores, saved for the backward. lengths i32 [B] or NULL
 * (all T); padding positions are never read and their outputs are written as 0.
 * scale 0 means 1/sqrt(D).
 *
 * Packed batches (added in 0.5): with cu_seqlens set, the b sequences lie end to end in
 * one stream of t tokens, no padding: q, out [T, H, D]; k, v [T, KVH, D]; lse f32 [H, T].
 * cu_seqlens i32 [B + 1] holds the offsets (FlashAttention's varlen convention):
 * cu_seqlens[0] = 0, non-decreasing, cu_seqlens[B] = T; sequence i is tokens
 * cu_seqlens[i] .. cu_seqlens[i + 1] - 1, and query j of it attends its keys 0..j, never
 * another sequence's. A sequence may be empty. max_seqlen is at least the longest
 * sequence and at most T (the device backends size their grid by it); lengths must be
 * NULL and padding WPM_PAD_RIGHT. A caller built against 0.4 passes a struct_size of
 * offsetof(wpm_attention_params, cu_seqlens) and gets the padded layout. RoPE restarts
 * per sequence through its positions (position j of each sequence). */
typedef struct wpm_attention_params {
  size_t struct_size;
  int64_t b, t, h, kvh, d;
  float scale;
  wpm_padding padding;
  const wpm_buffer* lengths;
  const wpm_buffer* q;
  const wpm_buffer* k;
  const wpm_buffer* v;
  wpm_buffer* out;
  wpm_buffer* lse;
  /* backward only */
  const wpm_buffer* dout;
  wpm_buffer* dq;
  wpm_buffer* dk;
  wpm_buffer* dv;
  /* added in 0.5: a packed batch (see above); NULL = the padded [B, T] layout */
  const wpm_buffer* cu_seqlens;
  int64_t max_seqlen; /* read only with cu_seqlens */
} wpm_attention_params;

WPM_API wpm_status wpm_attention_fwd(wpm_context* context, const wpm_attention_params* params);
/* Reads q, k, v, out, lse, dout; writes dq, dk, dv (out and lse from the forward). */
WPM_API wpm_status wpm_attention_bwd(wpm_context* context, const wpm_attention_params* params);

/* ---------------------------------------------------------------- SwiGLU
 * out = silu(gate) * up, elementwise over n elements. */
WPM_API wpm_status wpm_swiglu_fwd(wpm_context* context, const wpm_buffer* gate, const wpm_buffer* up,
                                  wpm_buffer* out, int64_t n);
WPM_API wpm_status wpm_swiglu_bwd(wpm_context* context, const wpm_buffer* dout, const wpm_buffer* gate,
                                  const wpm_buffer* up, wpm_buffer* dgate, wpm_buffer* dup, int64_t n);

/* ---------------------------------------------------------------- GELU */
WPM_API wpm_status wpm_gelu_fwd(wpm_context* context, const wpm_buffer* x, wpm_buffer* out, int64_t n,
                                wpm_gelu_kind kind);
WPM_API wpm_status wpm_gelu_bwd(wpm_context* context, const wpm_buffer* dout, const wpm_buffer* x,
                                wpm_buffer* dx, int64_t n, wpm_gelu_kind kind);

/* ---------------------------------------------------------------- ReLU
 * out = max(x, 0); dx = dout where x > 0, else 0 (the head activation of the released
 * WorldPM-72B layout). */
WPM_API wpm_status wpm_relu_fwd(wpm_context* context, const wpm_buffer* x, wpm_buffer* out, int64_t n);
WPM_API wpm_status wpm_relu_bwd(wpm_context* context, const wpm_buffer* dout, const wpm_buffer* x, wpm_buffer* dx,
                                int64_t n);

/* ---------------------------------------------------------------- last-token pooling
 * out[b, :] = hidden[b, s_b, :] with s_b = lengths[b] - 1 (right padding) or T - 1
 * (left padding); hidden [B, T, C], lengths i32 [B] in 1..T, out [B, C].
 * The backward writes the whole of dhidden [B, T, C]: dout [B, C] at the scoring rows, 0
 * elsewhere. hidden and out share one dtype (f32, f16, bf16), as do dout and dhidden. A struct since
 * 0.3 (per-sequence offsets of packed batches are the foreseeable field). */
typedef struct wpm_last_token_pool_params {
  size_t struct_size;
  int64_t b, t, c;
  wpm_padding padding;
  const wpm_buffer* lengths; /* read by the forward and the backward */
  const wpm_buffer* hidden;  /* forward only: the input */
  wpm_buffer* out;           /* forward only: the output */
  /* backward only */
  const wpm_buffer* dout;
  wpm_buffer* dhidden;
} wpm_last_token_pool_params;

WPM_API wpm_status wpm_last_token_pool_fwd(wpm_context* context, const wpm_last_token_pool_params* params);
/* Reads dout and lengths; writes dhidden. */
WPM_API wpm_status wpm_last_token_pool_bwd(wpm_context* context, const wpm_last_token_pool_params* params);

/* ---------------------------------------------------------------- rows by index
 * Gather:      dst[i, :] = src[index[i], :]     src [R, C], dst [N, C]
 * Scatter-add: dst[index[i], :] += src[i, :]    src [N, C], dst [R, C] (ACCUMULATES)
 * index i32 [N] in 0..R-1; src and dst share one dtype (f32, f16, bf16). An index may repeat:
 * the scatter-add sums the src rows of one index in index order (fp32) and adds the sum to dst
 * once, the same bits on every backend run. What the trainer uses them for: picking each
 * sequence's scoring row out of [B T, C] activations and sending its gradient back. An index
 * outside 0..R-1 is reported as the embedding's ids are ("values in device memory").
 * A struct since 0.5 (a row stride for rows inside a wider tensor is the foreseeable field). */
typedef struct wpm_rows_params {
  size_t struct_size;
  int64_t n; /* index entries, rows of the [N, C] side; 0..2^31-1 */
  int64_t r; /* rows of the [R, C] side; >= 1 */
  int64_t c;
  const wpm_buffer* index;
  const wpm_buffer* src;
  wpm_buffer* dst;
} wpm_rows_params;

WPM_API wpm_status wpm_rows_gather(wpm_context* context, const wpm_rows_params* params);
WPM_API wpm_status wpm_rows_scatter_add(wpm_context* context, const wpm_rows_params* params);

/* ---------------------------------------------------------------- Bradley-Terry loss
 * delta_i = chosen_i - rejected_i - margin;  l_i = softplus(-delta_i) = -log sigmoid(delta_i)
 * loss = sum_i w_i l_i / sum_i w_i  (w_i = 1 without weights), all f32.
 * Backward: dchosen_i = dloss * w_i (sigmoid(delta_i) - 1) / sum w, drejected_i = -dchosen_i. */
typedef struct wpm_bt_loss_params {
  size_t struct_size;
  int64_t pairs;
  float margin;
  const wpm_buffer* chosen;   /* f32 [P] rewards of the chosen responses */
  const wpm_buffer* rejected; /* f32 [P] */
  const wpm_buffer* weights;  /* f32 [P] or NULL; each >= 0, sum > 0 */
  wpm_buffer* loss;           /* f32 [1], forward output */
  float dloss;                /* backward: the incoming gradient of loss (usually 1) */
  wpm_buffer* dchosen;        /* f32 [P], backward output */
  wpm_buffer* drejected;      /* f32 [P], backward output */
} wpm_bt_loss_params;

WPM_API wpm_status wpm_bt_loss_fwd(wpm_context* context, const wpm_bt_loss_params* params);
WPM_API wpm_status wpm_bt_loss_bwd(wpm_context* context, const wpm_bt_loss_params* params);

/* ---------------------------------------------------------------- preference head (added in 0.6)
 * The whole head of a reward model in one op, from the scoring rows' hidden states:
 *   n_i      = x_i * rstd_i * norm_weight          (the final RMSNorm, rstd_i = 1 / sqrt(mean(x_i^2) + eps))
 *   reward_i = w2 . act(w1 n_i + b1) + b2          (Linear(d, h) -> act -> Linear(h, 1), fp32 out)
 * and, with pairs > 0, the Bradley-Terry loss of wpm_bt_loss_fwd over rows 0..P-1 (chosen) and
 * P..2P-1 (rejected), so b = 2 P. x [B, d], norm_weight [d], w1 [h, d], b1 [h], w2 [h] (score.2's
 * [1, h]), b2 [1] and the gradients dx, dnorm_weight, dw1, db1, dw2, db2 share one dtype (f32, f16,
 * bf16; all math in fp32). saved f32 [B, h + 1] holds what the backward needs (written by the forward,
 * read by the backward; its contents are the library's). The backward overwrites dx and
 * ACCUMULATES into dnorm_weight, dw1, db1, dw2 and db2. With pairs, it starts from the loss: drewards
 * f32 [B] receives d loss / d reward times dloss (as dchosen, drejected of wpm_bt_loss_bwd); without
 * pairs (0), drewards is an input, the caller's d loss / d reward. Deterministic: fixed reduction order,
 * the same bits on every run of a backend. */
typedef enum wpm_head_activation {
  WPM_HEAD_GELU_TANH = 0,  /* as WPM_GELU_TANH */
  WPM_HEAD_GELU_EXACT = 1, /* as WPM_GELU_EXACT */
  WPM_HEAD_RELU = 2        /* max(x, 0); the released WorldPM-72B head */
} wpm_head_activation;

typedef struct wpm_preference_head_params {
  size_t struct_size;
  int64_t b; /* scoring rows, 1..2^31-1 */
  int64_t d; /* model width, >= 1 */
  int64_t h; /* head hidden width, >= 1 */
  wpm_head_activation activation;
  float eps;     /* the final norm's epsilon (forward only), >= 0 */
  int64_t pairs; /* 0: rewards only; else b == 2 pairs */
  float margin;  /* of the loss, as wpm_bt_loss_params */
  const wpm_buffer* x;
  const wpm_buffer* norm_weight;
  const wpm_buffer* w1;
  const wpm_buffer* b1;
  const wpm_buffer* w2;
  const wpm_buffer* b2;
  const wpm_buffer* weights; /* f32 [P] or NULL, with pairs: each >= 0, sum > 0 */
  wpm_buffer* rewards;       /* f32 [B]: written by the forward, read by the backward with pairs */
  wpm_buffer* saved;         /* f32 [B, h + 1]: written by the forward, read by the backward */
  wpm_buffer* loss;          /* f32 [1], forward output with pairs (NULL without) */
  /* backward only */
  float dloss;          /* with pairs: the incoming gradient of loss (usually 1, or the loss scale) */
  wpm_buffer* drewards; /* f32 [B]: output with pairs, input without */
  wpm_buffer* dx;
  wpm_buffer* dnorm_weight;
  wpm_buffer* dw1;
  wpm_buffer* db1;
  wpm_buffer* dw2;
  wpm_buffer* db2;
} wpm_preference_head_params;

/* Reads x, the weights and (with pairs) weights; writes rewards, saved and (with pairs) loss. */
WPM_API wpm_status wpm_preference_head_fwd(wpm_context* context, const wpm_preference_head_params* params);
/* Reads x, norm_weight, w1, b1, w2, saved and, with pairs, rewards and weights (else drewards);
 * writes dx (and drewards with pairs), accumulates into the parameter gradients. */
WPM_API wpm_status wpm_preference_head_bwd(wpm_context* context, const wpm_preference_head_params* params);

/* ---------------------------------------------------------------- AdamW
 * One multi-tensor step. For each tensor i (count elements each):
 *   g = grad * grad_scale;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   p -= lr * (m / (1-b1^step) / (sqrt(v / (1-b2^step)) + eps) + wd_i p)
 * with wd_i = weight_decay where decay[i] != 0, else 0. params, m, v are f32;
 * grads f32/f16/bf16; working[i] (or NULL) receives p cast to its dtype in the same pass.
 * tensors is at most 2^24; no two buffers of the step may overlap (see "Overlap" above).
 * Added in 0.6: grad_check (or NULL), f32 [2] in backend memory holding {inf/NaN flag,
 * L2 norm of the gradients as stored}, as wpm_scale_check_finite and wpm_global_norm
 * write them, read by the step itself so the host need not see them: a nonzero flag
 * skips the step (no buffer changes); otherwise, with n = norm * grad_scale, the
 * gradient factor is grad_scale * max_grad_norm / (n + 1e-6) where max_grad_norm > 0
 * and n > max_grad_norm, else grad_scale. max_grad_norm >= 0 (0: no clipping); it is
 * used only with grad_check; grad_check must not overlap the step's buffers.
 * Added in 0.7: step_values (or NULL), f32 [3] in backend memory holding {lr,
 * 1/(1-beta1^step), 1/(1-beta2^step)}, read by the step itself in place of lr and
 * step (neither is then read nor checked): a step recorded into a graph reads the
 * values the host writes into it before each replay. The by-value path forms the
 * factors in double, 1.0 / (1.0 - pow((double)beta, (double)step)), rounded to f32;
 * the same values give the same bits. It must not overlap the step's buffers. */
typedef struct wpm_adamw_params {
  size_t struct_size;
  int64_t tensors;
  wpm_buffer* const* params;
  const wpm_buffer* const* grads;
  wpm_buffer* const* m;
  wpm_buffer* const* v;
  wpm_buffer* const* working; /* NULL, or an array whose entries may be NULL */
  const int32_t* decay;       /* NULL = decay every tensor */
  float lr, beta1, beta2, eps, weight_decay;
  float grad_scale; /* multiply gradients first: unscale and clip in one (0 means 1) */
  int64_t step;     /* 1-based, for bias correction */
  const wpm_buffer* grad_check; /* added in 0.6: NULL, or f32 [2] {inf/NaN flag, gradient norm} */
  float max_grad_norm;          /* added in 0.6: clip threshold with grad_check (0 = none) */
  const wpm_buffer* step_values; /* added in 0.7: NULL, or f32 [3] {lr, 1/(1-beta1^step), 1/(1-beta2^step)} */
} wpm_adamw_params;

WPM_API wpm_status wpm_adamw_step(wpm_context* context, const wpm_adamw_params* params);

/* ---------------------------------------------------------------- gradient utilities
 * Global L2 norm over many tensors (f32/f16/bf16) into out f32 [1]; a fixed-order
 * two-phase sum, so the same input gives the same bits for a thread count. count is at
 * most 2^24; the tensors and the output must not overlap one another. */
WPM_API wpm_status wpm_global_norm(wpm_context* context, const wpm_buffer* const* tensors, int64_t count,
                                   wpm_buffer* out);
/* Multiplies every tensor by scale in place and writes 1.0f to found_inf f32 [1] if any
 * element is inf or NaN after scaling, else 0.0f (loss-scale unscale + check). */
WPM_API wpm_status wpm_scale_check_finite(wpm_context* context, wpm_buffer* const* tensors, int64_t count,
                                          float scale, wpm_buffer* found_inf);
/* Added in 0.6. A training step's preference metrics, kept in backend memory so a step
 * reads them once: rewards f32 [>= 2 pairs] (chosen = rewards[0..pairs), rejected =
 * rewards[pairs..2 pairs)), loss f32 [1]; metrics f32 [3] += {loss * pairs,
 * count(chosen > rejected), sum(chosen - rejected)}, each added once from a float64 sum
 * in pair order (the same bits on every backend). pairs >= 1; metrics must not overlap
 * rewards or loss. */
WPM_API wpm_status wpm_pair_metrics(wpm_context* context, const wpm_buffer* rewards, const wpm_buffer* loss,
                                    int64_t pairs, wpm_buffer* metrics);

/* ---------------------------------------------------------------- casts
 * dst = src converted (round to nearest even), n elements, between f32, f16 and bf16.
 * The backward of a cast is the cast the other way. */
WPM_API wpm_status wpm_cast(wpm_context* context, const wpm_buffer* src, wpm_buffer* dst, int64_t n);


/* ---------------------------------------------------------------- collectives
 * Data parallelism across processes launched by mpirun. A communicator spans
 * every rank of the launch (MPI_COMM_WORLD) and one context per rank. On the
 * cpu and emu backends the collectives run over MPI (OpenMPI, linked when the
 * library was built with it); on cuda over NCCL, loaded at run time
 * (libnccl.so.2), its unique id broadcast over MPI.
 *
 * Every collective is collective: all ranks call it, in the same order, with
 * the same counts and dtype. A collective that does not complete within the
 * communicator's timeout fails with WPM_ERR_COMM and a message naming the
 * ranks that did not answer a liveness probe; after any WPM_ERR_COMM the
 * communicator is broken (every later call fails the same way) and the
 * process should exit non-zero without wpm_comm_finalize (which would wait
 * for the missing ranks). Buffers are whole wpm_buffers or views. */

typedef enum wpm_reduce_op {
  WPM_REDUCE_SUM = 0,
  WPM_REDUCE_MEAN = 1 /* the sum divided by the rank count */
} wpm_reduce_op;

typedef struct wpm_comm_info {
  size_t struct_size;
  int32_t mpi_built;      /* compiled with MPI */
  int32_t launched;       /* this process was started by a launcher (mpirun) with a world of > 1 rank */
  int32_t world_size;     /* from the launcher's environment; 1 when not launched */
  int32_t rank;           /* this process's rank; 0 when not launched */
  int32_t local_rank;     /* rank among the processes of this host: the GPU a rank picks */
  int32_t local_size;     /* ranks on this host (1 when not launched): they share its cores */
  int32_t nccl_available; /* libnccl.so.2 could be loaded with every function the cuda path needs */
  char mpi[160];          /* the MPI library, or why there is none */
  char nccl[160];         /* the NCCL library version, or why it is unavailable */
} wpm_comm_info;

/* What this process could do, from the environment, without starting MPI. */
WPM_API wpm_status wpm_comm_query(wpm_comm_info* info);

typedef struct wpm_comm_options {
  size_t struct_size;
  double timeout_seconds; /* how long one collective may wait for the other ranks; 0 = 60 */
} wpm_comm_options;

/* Starts MPI in this process on first use (a process not started by mpirun is
 * a world of one) and builds a communicator over every rank for context's
 * backend. options may be NULL. Several communicators may exist; MPI stays up
 * until wpm_comm_finalize. */
WPM_API wpm_status wpm_comm_create(wpm_context* context, const wpm_comm_options* options, wpm_comm** comm);
/* Frees the communicator (not collective). NULL is a no-op. */
WPM_API wpm_status wpm_comm_destroy(wpm_comm* comm);
/* Shuts MPI down in this process after a clean run (collective: every rank
 * calls it). Communicators still alive are destroyed; afterwards
 * wpm_comm_create fails. A no-op when MPI never started. */
WPM_API wpm_status wpm_comm_finalize(void);
WPM_API wpm_status wpm_comm_rank(const wpm_comm* comm, int32_t* rank, int32_t* size);

/* In place over the whole buffer (f32/f16/bf16; sums accumulate in the
 * buffer's dtype on MPI for f32, in f32 for f16/bf16). */
WPM_API wpm_status wpm_all_reduce(wpm_comm* comm, wpm_buffer* buffer, wpm_reduce_op op);
/* Starts the same all-reduce and returns; it runs beside the caller's work (the buffer must not be touched until
 * wpm_comm_wait). Started collectives complete in the order they were started. On NCCL (cuda) it is queued on the
 * context's stream; on MPI with the cpu backend it runs on the MPI thread at once. On MPI with emu every collective
 * but wpm_barrier is stream-ordered device work like NCCL's (docs/c-abi.md): queued on the stream, it exchanges when the
 * stream runs it and never waits for the device; a failure is the status of the call that ran the stream (a read-back,
 * wpm_synchronize) and names the collective; a graph capture records it
 * and each replay exchanges again. */
WPM_API wpm_status wpm_all_reduce_start(wpm_comm* comm, wpm_buffer* buffer, wpm_reduce_op op);
/* Added in 0.6. The same, and when wpm_comm_wait returns, host_copy (host memory of
 * host_count = the buffer's element count of f32, untouched until then) also
 * holds the result as the buffer holds it (f16/bf16 widened after rounding). Free on MPI with the cpu backend; on
 * emu wpm_comm_wait then waits for the stream once (for every copy asked since the last wait), on NCCL (cuda) it
 * reads the buffer back.
 * Refused while the context captures a graph: a replay could not fill it. */
WPM_API wpm_status wpm_all_reduce_start_copy(wpm_comm* comm, wpm_buffer* buffer, wpm_reduce_op op, float* host_copy,
                                             int64_t host_count);
/* Waits for every started collective of comm; the first failure is returned (on emu: waits for nothing). */
WPM_API wpm_status wpm_comm_wait(wpm_comm* comm);
/* root's buffer is copied into every rank's buffer. */
WPM_API wpm_status wpm_broadcast(wpm_comm* comm, wpm_buffer* buffer, int32_t root);
/* recv (size * n elements) = the ranks' send buffers (n elements each) in rank order. */
WPM_API wpm_status wpm_all_gather(wpm_comm* comm, const wpm_buffer* send, wpm_buffer* recv);
/* recv (n elements) = the reduction over ranks of block `rank` of send (size * n elements). */
WPM_API wpm_status wpm_reduce_scatter(wpm_comm* comm, const wpm_buffer* send, wpm_buffer* recv, wpm_reduce_op op);
/* Waits until every rank has arrived (with the same timeout); on emu the queued work runs first (a host wait). */
WPM_API wpm_status wpm_barrier(wpm_comm* comm);

#ifdef __cplusplus
}
#endif

#endif /* WORLDPM_H */
