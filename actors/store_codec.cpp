#include "actors/store_codec.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <vector>

namespace netpol {

namespace {

// The types' own inspect() decides the layout: CAF's binary format, sizes
// as varbytes, integers at their full width (docs/design.md, "The round store's schema").
template <class T>
std::string serialize(const T& x) {
  std::vector<char> buffer;
  caf::binary_serializer sink{nullptr, buffer};
  // Saving only reads `x`; CAF's inspectors take a mutable reference.
  if (sink(const_cast<T&>(x)))
    return {};
  return {buffer.begin(), buffer.end()};
}

// False unless `blob` is exactly one `T` as serialize wrote it.
template <class T>
bool deserialize(std::string_view blob, T& x) {
  caf::binary_deserializer source{nullptr, blob.data(), blob.size()};
  return !source(x) && source.remaining() == 0;
}

bool known(phase x) {
  return static_cast<uint8_t>(x) <= static_cast<uint8_t>(phase::collected);
}

} // namespace

std::string encode(const round_catalog& catalog) {
  return serialize(catalog);
}

bool decode(std::string_view blob, round_catalog& catalog) {
  // The per-netpol columns index the same netpols: one length for all.
  return deserialize(blob, catalog)
         && catalog.netpol_tests.size() == catalog.netpols.size()
         && catalog.netpol_pods.size() == catalog.netpols.size();
}

std::string encode(const lifecycle_meta& lifecycle) {
  return serialize(lifecycle);
}

bool decode(std::string_view blob, lifecycle_meta& lifecycle) {
  if (!deserialize(blob, lifecycle))
    return false;
  for (auto& summary : lifecycle.superseded)
    if (!known(summary.ended_in))
      return false;
  return true;
}

} // namespace netpol
