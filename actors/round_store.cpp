#include "actors/round_store.hpp"

#include "actors/completeness.hpp"
#include "actors/results_body.hpp"

#include <zlib.h>

namespace netpol {

shared_bytes compress_blob(std::string_view body) {
  // Level 1: results JSON shrinks about tenfold, an account or a catalog
  // fivefold to sevenfold, at hundreds of MB/s; the store's room
  // (/dev/shm is often 64 MB) is what matters.
  auto bound = compressBound(static_cast<uLong>(body.size()));
  std::string out(sizeof(uint64_t) + bound, '\0');
  uint64_t size = body.size();
  for (size_t i = 0; i < sizeof(size); ++i)
    out[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  auto packed = static_cast<uLongf>(bound);
  if (compress2(reinterpret_cast<Bytef*>(&out[sizeof(size)]), &packed,
                reinterpret_cast<const Bytef*>(body.data()),
                static_cast<uLong>(body.size()), 1)
      != Z_OK)
    return {};
  out.resize(sizeof(size) + packed);
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
