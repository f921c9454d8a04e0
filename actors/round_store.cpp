#include "actors/round_store.hpp"

#include "actors/completeness.hpp"
#include "actors/results_body.hpp"

#include <zlib.h>

#include <cstdint>

namespace netpol {

namespace {

/// A deflate stream kept per thread and reset for each blob: compress2's
/// setting up and clearing of its tables took several times as long as
/// compressing a results body of a few KB.
struct deflater {
  z_stream stream{};
  bool ready = false;
  deflater() {
    // Level 1: results JSON shrinks about tenfold, an account or a catalog
    // fivefold to sevenfold; the store's room (/dev/shm is often 64 MB) is
    // what matters. zlib's default window and tables: smaller ones
    // (memLevel 6 or 5) measured no faster (docs/performance.md).
    ready = deflateInit2(&stream, 1, Z_DEFLATED, 15, 8,
                         Z_DEFAULT_STRATEGY)
            == Z_OK;
  }
  ~deflater() {
    if (ready)
      deflateEnd(&stream);
  }
};

} // namespace

shared_bytes compress_blob(std::string_view body) {
  thread_local deflater d;
  // zlib counts one call's input in 32 bits.
  if (body.size() > UINT32_MAX / 2 || !d.ready
      || deflateReset(&d.stream) != Z_OK)
    return {};
  auto bound = deflateBound(&d.stream, static_cast<uLong>(body.size()));
  std::string out(sizeof(uint64_t) + bound, '\0');
  uint64_t size = body.size();
  for (size_t i = 0; i < sizeof(size); ++i)
    out[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  d.stream.next_in
    = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  d.stream.avail_in = static_cast<uInt>(body.size());
  d.stream.next_out = reinterpret_cast<Bytef*>(&out[sizeof(size)]);
  d.stream.avail_out = static_cast<uInt>(bound);
  if (deflate(&d.stream, Z_FINISH) != Z_STREAM_END)
    return {};
  out.resize(sizeof(size) + d.stream.total_out);
  return shared_bytes{std::move(out)};
}

bool decompress_blob(std::string_view compressed, std::string& body) {
  if (compressed.size() < sizeof(uint64_t))
    return false;
  uint64_t size = 0;
  for (size_t i = 0; i < sizeof(size); ++i)
    size |= static_cast<uint64_t>(static_cast<unsigned char>(compressed[i]))
            << (8 * i);
  if (size > (uint64_t{1} << 32))
    return false;
  body.assign(size, '\0');
  auto length = static_cast<uLongf>(size);
  auto rc = uncompress(reinterpret_cast<Bytef*>(body.data()), &length,
                       reinterpret_cast<const Bytef*>(compressed.data()
                                                      + sizeof(size)),
                       static_cast<uLong>(compressed.size() - sizeof(size)));
  return rc == Z_OK && length == size;
}

bool rebuild_loaded_pod(const round_catalog& catalog, pod_record& pod,
                        const std::string* stored_list,
                        std::string_view compressed,
                        pod_completeness& account) {
  if (!is_delivery_terminal(pod.state) || pod.state == pod_state::queued) {
    pod.connections = shared_bytes{
      stored_list ? *stored_list : connections_json(catalog, pod.expected.view())};
  }
  if (pod.state != pod_state::collected)
    return false;
  std::string body;
  if (compressed.empty() || !decompress_blob(compressed, body))
    return false;
  pod_matcher matcher{catalog, pod.expected.view()};
  auto check = validate_results_body(
    body, [&](const results_entry& entry) { matcher.add(entry); });
  if (!check.ok)
    return false; // not what was stored: fetch it again
  account = matcher.finish();
  pod.results = shared_bytes{std::move(body)};
  return true;
}

} // namespace netpol
