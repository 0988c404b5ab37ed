// Collective entry points (worldpm.h, "collectives"): validate, then hand the
// work to the communicator of the context's backend (native/src/comm). In a
// library built without MPI every call but the query says so; in one built with
// it, where libmpi cannot be opened, wpm_comm_create says that.
#include <cstdio>
#include <memory>

#include "../comm/launch_env.h"
#include "../comm/nccl_library.h"
#include "../validate.h"
#ifdef WPM_HAVE_MPI
#include "../comm/communicator.h"
#include "../comm/mpi_library.h"
#include "../comm/mpi_thread.h"
#endif

struct wpm_comm {
  static constexpr wpm::HandleKind kKind = wpm::HandleKind::comm;
  wpm::HandleHeader header;
#ifdef WPM_HAVE_MPI
  std::unique_ptr<wpm::comm::Communicator> impl;
#endif
  uint64_t context_id = 0;
};

namespace {

constexpr double kDefaultTimeoutSeconds = 60;

#ifdef WPM_HAVE_MPI
wpm_status report(const wpm::comm::Outcome& outcome, const char* function) {
  if (outcome.ok()) return WPM_OK;
  return wpm::fail(outcome.status, "%s: %s", function, outcome.message.c_str());
}
#endif

// A live communicator; the buffers (by name) live, of its context, of the allowed dtypes.
wpm::Checker& comm_and_buffers(wpm::Checker& check, const wpm_comm* comm,
                               std::initializer_list<wpm::Checker::NamedBuffer> buffers, wpm::DtypeSet allowed) {
  if (!check.handle("comm", comm, wpm::HandleKind::comm).ok()) return check;
  for (const auto& [name, buffer] : buffers) {
    check.buffer(name, buffer, 0, allowed);
    if (check.ok() && buffer->context_id != comm->context_id)
      check.fail_argument(WPM_ERR_WRONG_CONTEXT, name, "belongs to another context than the communicator's");
  }
  return check;
}

// all_gather / reduce_scatter: MPI forbids a receive buffer that aliases the send buffer.
void send_recv_disjoint(wpm::Checker& check, const wpm_buffer* send, wpm_buffer* recv) {
  if (check.ok()) check.disjoint({"recv", recv, recv->count}, {{"send", send, send->count}});
}

#ifdef WPM_HAVE_MPI
// all_gather / reduce_scatter: `whole` holds one `block` per rank, and a block fits MPI's int count.
void check_blocks(wpm::Checker& check, const wpm_comm* comm, const char* whole_name, const wpm_buffer* whole,
                  const char* block_name, const wpm_buffer* block) {
  if (check.ok() && whole->count != block->count * static_cast<size_t>(comm->impl->size()))
    check.fail_argument(WPM_ERR_INVALID_ARGUMENT, whole_name, "holds %zu elements; it must hold size (%d) x %s's %zu",
                        whole->count, comm->impl->size(), block_name, block->count);
  if (check.ok() && block->count > 0x7fffffff)
    check.fail_argument(WPM_ERR_UNSUPPORTED, block_name, "holds %zu elements; at most 2^31-1 per rank",
               block->count);
}
#endif

[[maybe_unused]] wpm_status not_built(wpm::Checker& check) {
  return check.fail(WPM_ERR_BACKEND_UNAVAILABLE,
                    "this library was built without MPI (install libopenmpi-dev and rebuild: scripts/setup.sh)");
}

}  // namespace

extern "C" {

wpm_status wpm_comm_query(wpm_comm_info* info) {
  return wpm::guarded("wpm_comm_query", [&] {
    wpm::Checker check("wpm_comm_query");
    check.not_null("info", info);
    if (check.ok()) check.struct_size("info", info->struct_size, sizeof(wpm_comm_info));
    if (!check.ok()) return check.status();
    const wpm::comm::LaunchEnv env = wpm::comm::read_launch_env();
    info->launched = env.launched;
    info->world_size = env.world_size;
    info->rank = env.rank;
    info->local_rank = env.local_rank;
    info->local_size = env.local_size;
    std::string nccl = wpm::comm::nccl_description();
    info->nccl_available = nccl.rfind("NCCL ", 0) == 0;
    std::snprintf(info->nccl, sizeof info->nccl, "%s", nccl.c_str());
#ifdef WPM_HAVE_MPI
    info->mpi_built = 1;
    // Once started, the library's own version line; before, whether libmpi can be opened (that starts nothing).
    std::string mpi = wpm::comm::MpiThread::instance().library_version();
    if (mpi.empty()) {
      std::string why;
      const wpm::comm::MpiLibrary* library = wpm::comm::mpi_library(&why);
      mpi = library != nullptr ? "OpenMPI (" + library->file + "), not started" : "unavailable: " + why;
    }
    std::snprintf(info->mpi, sizeof info->mpi, "%s", mpi.c_str());
#else
    info->mpi_built = 0;
    std::snprintf(info->mpi, sizeof info->mpi, "not built: MPI was not found when the library was configured");
#endif
    return WPM_OK;
  });
}

wpm_status wpm_comm_create(wpm_context* context, const wpm_comm_options* options, wpm_comm** comm) {
  return wpm::guarded("wpm_comm_create", [&] {
    wpm::Checker check("wpm_comm_create", context);
    check.not_null("comm", comm);
    wpm_comm_options opts{sizeof(wpm_comm_options), 0};
    if (check.ok() && options != nullptr) {
      check.struct_size("options", options->struct_size, sizeof(wpm_comm_options));
      if (check.ok()) opts = *options;
    }
    check.finite("options.timeout_seconds", opts.timeout_seconds);
    if (check.ok() && opts.timeout_seconds < 0)
      check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "options.timeout_seconds", "is %g; it must not be negative",
                 opts.timeout_seconds);
    if (!check.ok()) return check.status();
    *comm = nullptr;
#ifndef WPM_HAVE_MPI
    return not_built(check);
#else
    const double timeout = opts.timeout_seconds > 0 ? opts.timeout_seconds : kDefaultTimeoutSeconds;
    wpm::comm::Outcome outcome;
    std::unique_ptr<wpm::comm::Communicator> impl =
        context->backend->kind() == WPM_BACKEND_CUDA
            ? wpm::comm::make_nccl_communicator(context->backend, timeout, &outcome)
            : wpm::comm::make_mpi_communicator(context->backend, timeout, &outcome);
    if (!impl) return report(outcome, "wpm_comm_create");
    auto* created = new wpm_comm();
    created->impl = std::move(impl);
    created->context_id = context->id;
    wpm::register_handle(created);
    *comm = created;
    return WPM_OK;
#endif
  });
}

wpm_status wpm_comm_destroy(wpm_comm* comm) {
  if (comm == nullptr) return WPM_OK;
  return wpm::guarded("wpm_comm_destroy", [&] {
    wpm::Checker check("wpm_comm_destroy");
    comm_and_buffers(check, comm, {}, 0);
    if (!check.ok()) return check.status();
    wpm::destroy_handle(comm);
    return WPM_OK;
  });
}

wpm_status wpm_comm_finalize(void) {
  return wpm::guarded("wpm_comm_finalize", [&] {
    wpm::clear_error();
#ifdef WPM_HAVE_MPI
    return report(wpm::comm::MpiThread::instance().finalize(), "wpm_comm_finalize");
#else
    return WPM_OK;
#endif
  });
}

wpm_status wpm_comm_rank(const wpm_comm* comm, int32_t* rank, int32_t* size) {
  wpm::Checker check("wpm_comm_rank");
  comm_and_buffers(check, comm, {}, 0).not_null("rank", rank).not_null("size", size);
  if (!check.ok()) return check.status();
#ifdef WPM_HAVE_MPI
  *rank = comm->impl->rank();
  *size = comm->impl->size();
  return WPM_OK;
#else
  return not_built(check);
#endif
}

// The body of every collective: validated arguments, then `run` on the communicator.
#ifdef WPM_HAVE_MPI
#define WPM_COLLECTIVE(function, check, call)                       \
  do {                                                              \
    if (!(check).ok()) return (check).status();                    \
    return report(comm->impl->call, function);                      \
  } while (0)
#else
#define WPM_COLLECTIVE(function, check, call) \
  do {                                        \
    if (!(check).ok()) return (check).status(); \
    return not_built(check);                  \
  } while (0)
#endif

wpm_status wpm_all_reduce(wpm_comm* comm, wpm_buffer* buffer, wpm_reduce_op op) {
  return wpm::guarded("wpm_all_reduce", [&] {
    wpm::Checker check("wpm_all_reduce");
    comm_and_buffers(check, comm, {{"buffer", buffer}}, wpm::kFloatTypes).in_range("op", op, WPM_REDUCE_SUM, WPM_REDUCE_MEAN);
    WPM_COLLECTIVE("wpm_all_reduce", check, all_reduce(buffer, op));
  });
}

wpm_status wpm_all_reduce_start(wpm_comm* comm, wpm_buffer* buffer, wpm_reduce_op op) {
  return wpm::guarded("wpm_all_reduce_start", [&] {
    wpm::Checker check("wpm_all_reduce_start");
    comm_and_buffers(check, comm, {{"buffer", buffer}}, wpm::kFloatTypes).in_range("op", op, WPM_REDUCE_SUM, WPM_REDUCE_MEAN);
    WPM_COLLECTIVE("wpm_all_reduce_start", check, all_reduce_start(buffer, op, nullptr));
  });
}

wpm_status wpm_all_reduce_start_copy(wpm_comm* comm, wpm_buffer* buffer, wpm_reduce_op op, float* host_copy,
                                     int64_t host_count) {
  return wpm::guarded("wpm_all_reduce_start_copy", [&] {
    wpm::Checker check("wpm_all_reduce_start_copy");
    comm_and_buffers(check, comm, {{"buffer", buffer}}, wpm::kFloatTypes).in_range("op", op, WPM_REDUCE_SUM, WPM_REDUCE_MEAN);
    check.not_null("host_copy", host_copy);
    if (check.ok())
      check.require(host_count >= 0 && static_cast<size_t>(host_count) == buffer->count, "host_count",
                    "is %lld; it must be buffer's element count (%zu)", static_cast<long long>(host_count), buffer->count);
    // A recorded collective's replays have no wait to fill the copy at (emu), and NCCL's wait would read back.
    if (check.ok() && buffer->storage->backend->capturing())
      check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "host_copy",
                          "cannot be filled by a collective recorded into a graph (the context is capturing one); "
                          "start the all-reduce without a host copy");
    WPM_COLLECTIVE("wpm_all_reduce_start_copy", check, all_reduce_start(buffer, op, host_copy));
  });
}

wpm_status wpm_comm_wait(wpm_comm* comm) {
  return wpm::guarded("wpm_comm_wait", [&] {
    wpm::Checker check("wpm_comm_wait");
    comm_and_buffers(check, comm, {}, 0);
    WPM_COLLECTIVE("wpm_comm_wait", check, wait());
  });
}

wpm_status wpm_broadcast(wpm_comm* comm, wpm_buffer* buffer, int32_t root) {
  return wpm::guarded("wpm_broadcast", [&] {
    wpm::Checker check("wpm_broadcast");
    comm_and_buffers(check, comm, {{"buffer", buffer}}, wpm::kFloatTypes | wpm::kI32);
#ifdef WPM_HAVE_MPI
    if (check.ok()) check.in_range("root", root, 0, comm->impl->size() - 1);
#endif
    WPM_COLLECTIVE("wpm_broadcast", check, broadcast(buffer, root));
  });
}

wpm_status wpm_all_gather(wpm_comm* comm, const wpm_buffer* send, wpm_buffer* recv) {
  return wpm::guarded("wpm_all_gather", [&] {
    wpm::Checker check("wpm_all_gather");
    comm_and_buffers(check, comm, {{"send", send}, {"recv", recv}}, wpm::kFloatTypes | wpm::kI32)
        .same_dtype("recv", recv, "send", send);
    send_recv_disjoint(check, send, recv);
#ifdef WPM_HAVE_MPI
    check_blocks(check, comm, "recv", recv, "send", send);
#endif
    WPM_COLLECTIVE("wpm_all_gather", check, all_gather(send, recv));
  });
}

wpm_status wpm_reduce_scatter(wpm_comm* comm, const wpm_buffer* send, wpm_buffer* recv, wpm_reduce_op op) {
  return wpm::guarded("wpm_reduce_scatter", [&] {
    wpm::Checker check("wpm_reduce_scatter");
    comm_and_buffers(check, comm, {{"send", send}, {"recv", recv}}, wpm::kFloatTypes)
        .same_dtype("recv", recv, "send", send)
        .in_range("op", op, WPM_REDUCE_SUM, WPM_REDUCE_MEAN);
    send_recv_disjoint(check, send, recv);
#ifdef WPM_HAVE_MPI
    check_blocks(check, comm, "send", send, "recv", recv);
#endif
    WPM_COLLECTIVE("wpm_reduce_scatter", check, reduce_scatter(send, recv, op));
  });
}

wpm_status wpm_barrier(wpm_comm* comm) {
  return wpm::guarded("wpm_barrier", [&] {
    wpm::Checker check("wpm_barrier");
    comm_and_buffers(check, comm, {}, 0);
    WPM_COLLECTIVE("wpm_barrier", check, barrier());
  });
}

}  // extern "C"
