#include "actors/round_store.hpp"

#include "actors/completeness.hpp"
#include "actors/results_body.hpp"

#include <zstd.h>

#include <cstdint>

namespace netpol {

namespace {

// A blob is its size (8 bytes, little endian), then a zstd frame. (Stores
// of schema 3 and before could hold zlib streams; they are moved aside.)
constexpr size_t size_bytes = sizeof(uint64_t);

/// One compression context per thread, reused: setting one up per body
/// costs more than compressing a results body of a few KB.
struct compressor {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  compressor() {
    // Level 1: 20-result bodies shrink to a tenth, a third smaller than
    // zlib's level 1 made them and in half its time (docs/performance.md).
    // The frame's checksum: a blob damaged at rest reads as damaged (the pod
    // is asked again), not as other results.
    if (context != nullptr
        && (ZSTD_isError(
              ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 1))
            || ZSTD_isError(
              ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)))) {
      ZSTD_freeCCtx(context);
      context = nullptr;
    }
  }
  ~compressor() {
    ZSTD_freeCCtx(context);
  }
};

struct decompressor {
  ZSTD_DCtx* context = ZSTD_createDCtx();
  ~decompressor() {
    ZSTD_freeDCtx(context);
  }
};

} // namespace

shared_bytes compress_blob(std::string_view body) {
  thread_local compressor c;
  if (c.context == nullptr)
    return {};
  auto bound = ZSTD_compressBound(body.size());
  if (ZSTD_isError(bound))
    return {};
  std::string out(size_bytes + bound, '\0');
  uint64_t size = body.size();
  for (size_t i = 0; i < size_bytes; ++i)
    out[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  auto written = ZSTD_compress2(c.context, &out[size_bytes], bound,
                                body.data(), body.size());
  if (ZSTD_isError(written))
    return {};
  out.resize(size_bytes + written);
  return shared_bytes{std::move(out)};
}

bool decompress_blob(std::string_view compressed, std::string& body) {
  if (compressed.size() < size_bytes)
    return false;
  uint64_t size = 0;
  for (size_t i = 0; i < size_bytes; ++i)
    size |= static_cast<uint64_t>(static_cast<unsigned char>(compressed[i]))
            << (8 * i);
  if (size > (uint64_t{1} << 32))
    return false;
  auto stream = compressed.substr(size_bytes);
  body.assign(size, '\0');
  thread_local decompressor d;
  if (d.context == nullptr)
    return false;
  auto written = ZSTD_decompressDCtx(d.context, body.data(), body.size(),
                                     stream.data(), stream.size());
  return !ZSTD_isError(written) && written == size;
}

bool rebuild_loaded_pod(const round_catalog& catalog, pod_record& pod,
                        const std::string* stored_list,
                        std::string_view compressed,
                        pod_completeness& account) {
  if (!is_delivery_terminal(pod.state) || pod.state == pod_state::queued) {
    pod.connections = shared_bytes{
      stored_list ? *stored_list : connections_json(catalog, pod.expected.view())};
  } else if (pod.state == pod_state::unconfirmed && stored_list) {
    // Asked whether it holds this very list (coordinator_sampling.cpp); a
    // canonical one is rebuilt from its tests when asked.
    pod.connections = shared_bytes{*stored_list};
  }
  // A pod whose collection failed has results when it was served its
  // sample (coordinator_sampling.hpp).
  if (pod.state != pod_state::collected && pod.served_sample.empty())
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
