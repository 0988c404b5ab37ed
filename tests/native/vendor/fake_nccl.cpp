#include "fake_nccl.h"

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "half.h"

namespace fake_nccl {
namespace {

// NCCL's documented codes (nccl.h), written out here rather than taken from nccl_library.h, so a wrong value
// there shows as a type or reduction the fake rejects or misreads.
enum Type : int { kInt32 = 2, kFloat16 = 6, kFloat32 = 7, kBfloat16 = 9 };
enum Op : int { kSum = 0, kAvg = 4 };
enum Kind { kAllReduce, kBroadcast, kAllGather, kReduceScatter };

struct Call {
  Kind kind;
  const void* send;
  void* recv;
  size_t count;
  int type, op, root;
};

// The ranks of one unique id: a rendezvous for init and for each collective.
struct Group {
  explicit Group(int n) : size(n), calls(size_t(n)) {}
  const int size;
  std::mutex mutex;
  std::condition_variable changed;
  int joined = 0;
  int arrived = 0;
  uint64_t generation = 0;  // completed rendezvous
  std::vector<Call> calls;
  int result = 0;
};

}  // namespace
}  // namespace fake_nccl

// nccl_library.h's opaque communicator type, defined by this implementation.
struct wpm::comm::ncclComm {
  std::shared_ptr<fake_nccl::Group> group;
  int rank;
};

namespace fake_nccl {
namespace {

std::mutex registry_mutex;
std::map<std::string, std::shared_ptr<Group>> groups;  // by unique id
uint64_t next_id = 1;

size_t type_bytes(int type) { return type == kFloat16 || type == kBfloat16 ? 2 : 4; }
bool known_type(int type) { return type == kInt32 || type == kFloat16 || type == kFloat32 || type == kBfloat16; }

double load(int type, const void* base, size_t i) {
  const auto* p = static_cast<const unsigned char*>(base) + i * type_bytes(type);
  switch (type) {
    case kInt32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case kFloat32: {
      float v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return type == kFloat16 ? wpm::f16_to_float(h) : wpm::bf16_to_float(h);
    }
  }
}

void store(int type, void* base, size_t i, double v) {
  auto* p = static_cast<unsigned char*>(base) + i * type_bytes(type);
  switch (type) {
    case kInt32: {
      const int32_t x = int32_t(v);
      std::memcpy(p, &x, 4);
      return;
    }
    case kFloat32: {
      const float x = float(v);
      std::memcpy(p, &x, 4);
      return;
    }
    default: {
      const uint16_t h = type == kFloat16 ? wpm::float_to_f16(float(v)) : wpm::float_to_bf16(float(v));
      std::memcpy(p, &h, 2);
      return;
    }
  }
}

// Every rank's call is in; runs the collective for all of them (group mutex held).
int run(Group& g) {
  const Call& first = g.calls[0];
  for (const Call& c : g.calls)
    if (c.kind != first.kind || c.count != first.count || c.type != first.type || c.op != first.op ||
        c.root != first.root)
      return kInvalidUsage;
  const int n = g.size;
  const size_t count = first.count;
  const int type = first.type;
  // Everything is read before anything is written: calls may be in place.
  std::vector<double> values;
  switch (first.kind) {
    case kAllReduce:
    case kReduceScatter: {
      const size_t total = first.kind == kAllReduce ? count : count * size_t(n);
      values.assign(total, 0.0);
      for (const Call& c : g.calls)
        for (size_t i = 0; i < total; ++i) values[i] += load(type, c.send, i);
      if (first.op == kAvg)
        for (double& v : values) v /= n;
      for (int r = 0; r < n; ++r)
        for (size_t i = 0; i < count; ++i)
          store(type, g.calls[size_t(r)].recv, i, values[first.kind == kAllReduce ? i : size_t(r) * count + i]);
      return 0;
    }
    case kBroadcast:
      for (size_t i = 0; i < count; ++i) values.push_back(load(type, g.calls[size_t(first.root)].send, i));
      for (const Call& c : g.calls)
        for (size_t i = 0; i < count; ++i) store(type, c.recv, i, values[i]);
      return 0;
    case kAllGather:
      for (const Call& c : g.calls)
        for (size_t i = 0; i < count; ++i) values.push_back(load(type, c.send, i));
      for (const Call& c : g.calls)
        for (size_t i = 0; i < values.size(); ++i) store(type, c.recv, i, values[i]);
      return 0;
  }
  return kInvalidUsage;
}

// Blocks until every rank of comm's group made its call, then returns the collective's result.
int collective(wpm::comm::NcclComm comm, const Call& call) {
  if (comm == nullptr || !known_type(call.type)) return kInvalidArgument;
  if ((call.kind == kAllReduce || call.kind == kReduceScatter) && call.op != kSum && call.op != kAvg)
    return kInvalidArgument;
  Group& g = *comm->group;
  if (call.kind == kBroadcast && (call.root < 0 || call.root >= g.size)) return kInvalidArgument;
  std::unique_lock<std::mutex> lock(g.mutex);
  const uint64_t generation = g.generation;
  g.calls[size_t(comm->rank)] = call;
  if (++g.arrived == g.size) {
    g.result = run(g);
    g.arrived = 0;
    ++g.generation;
    g.changed.notify_all();
  } else {
    g.changed.wait(lock, [&] { return g.generation != generation; });
  }
  return g.result;
}

// ---------------------------------------------------------------- the API

int get_version(int* version) {
  *version = 21903;
  return 0;
}

int get_unique_id(wpm::comm::NcclUniqueId* id) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  std::memset(id->internal, 0, sizeof id->internal);
  const std::string text = "fake-nccl-" + std::to_string(next_id++);
  std::memcpy(id->internal, text.data(), text.size());
  return 0;
}

int comm_init_rank(wpm::comm::NcclComm* comm, int nranks, wpm::comm::NcclUniqueId id, int rank) {
  if (comm == nullptr || nranks < 1 || rank < 0 || rank >= nranks) return kInvalidArgument;
  std::shared_ptr<Group> group;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    const std::string key(id.internal, strnlen(id.internal, sizeof id.internal));
    std::shared_ptr<Group>& slot = groups[key];
    if (!slot) slot = std::make_shared<Group>(nranks);
    if (slot->size != nranks) return kInvalidUsage;
    group = slot;
  }
  std::unique_lock<std::mutex> lock(group->mutex);
  if (++group->joined == group->size) {
    std::lock_guard<std::mutex> registry(registry_mutex);
    groups.erase(std::string(id.internal, strnlen(id.internal, sizeof id.internal)));
    group->changed.notify_all();
  } else {
    group->changed.wait(lock, [&] { return group->joined == group->size; });
  }
  *comm = new wpm::comm::ncclComm{group, rank};
  return 0;
}

int comm_destroy(wpm::comm::NcclComm comm) {
  delete comm;
  return 0;
}

int comm_get_async_error(wpm::comm::NcclComm, int* error) {
  *error = 0;
  return 0;
}

const char* get_error_string(int result) {
  switch (result) {
    case 0: return "no error";
    case kInvalidArgument: return "invalid argument";
    case kInvalidUsage: return "invalid usage";
    default: return "unknown result";
  }
}

int all_reduce(const void* send, void* recv, size_t count, int type, int op, wpm::comm::NcclComm comm,
               wpm::comm::CudaStream) {
  return collective(comm, {kAllReduce, send, recv, count, type, op, 0});
}
int broadcast(const void* send, void* recv, size_t count, int type, int root, wpm::comm::NcclComm comm,
              wpm::comm::CudaStream) {
  return collective(comm, {kBroadcast, send, recv, count, type, 0, root});
}
int all_gather(const void* send, void* recv, size_t count, int type, wpm::comm::NcclComm comm,
               wpm::comm::CudaStream) {
  return collective(comm, {kAllGather, send, recv, count, type, 0, 0});
}
int reduce_scatter(const void* send, void* recv, size_t count, int type, int op, wpm::comm::NcclComm comm,
                   wpm::comm::CudaStream) {
  return collective(comm, {kReduceScatter, send, recv, count, type, op, 0});
}

}  // namespace

const wpm::comm::NcclLibrary& library() {
  static const wpm::comm::NcclLibrary table{get_version, get_unique_id, comm_init_rank, comm_destroy,
                                            comm_destroy,  comm_get_async_error, get_error_string, all_reduce,
                                            broadcast,     all_gather, reduce_scatter, 21903};
  return table;
}

}  // namespace fake_nccl
