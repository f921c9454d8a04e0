#include "actors/store_codec.hpp"

#include "actors/varint.hpp"

namespace netpol {

namespace {

class writer {
public:
  void u64(uint64_t x) {
    append_varint(out_, x);
  }

  void i64(int64_t x) {
    u64((static_cast<uint64_t>(x) << 1) ^ static_cast<uint64_t>(x >> 63));
  }

  void text(std::string_view x) {
    u64(x.size());
    out_ += x;
  }

  std::string take() {
    return std::move(out_);
  }

private:
  std::string out_;
};

class reader {
public:
  explicit reader(std::string_view in) : in_(in) {
  }

  uint64_t u64() {
    return read_varint(in_, pos_, ok_);
  }

  int64_t i64() {
    auto x = u64();
    return static_cast<int64_t>((x >> 1) ^ (~(x & 1) + 1));
  }

  std::string text() {
    auto n = u64();
    if (n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string result{in_.substr(pos_, n)};
    pos_ += n;
    return result;
  }

  bool ok() const {
    return ok_;
  }

private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

} // namespace

std::string encode(const round_catalog& c) {
  writer w;
  w.u64(c.addresses.size());
  for (auto& x : c.addresses)
    w.text(x);
  w.u64(c.netpols.size());
  for (size_t i = 0; i < c.netpols.size(); ++i) {
    w.text(c.netpols[i]);
    w.u64(c.netpol_tests[i]);
    w.u64(c.netpol_pods[i]);
  }
  return w.take();
}

bool decode(std::string_view blob, round_catalog& c) {
  reader r{blob};
  auto addresses = r.u64();
  for (uint64_t i = 0; i < addresses && r.ok(); ++i)
    c.addresses.push_back(r.text());
  auto netpols = r.u64();
  for (uint64_t i = 0; i < netpols && r.ok(); ++i) {
    c.netpols.push_back(r.text());
    c.netpol_tests.push_back(static_cast<uint32_t>(r.u64()));
    c.netpol_pods.push_back(static_cast<uint32_t>(r.u64()));
  }
  return r.ok();
}

std::string encode(const lifecycle_meta& l) {
  writer w;
  w.u64(l.superseded.size());
  for (auto& s : l.superseded) {
    w.u64(s.round);
    w.u64(static_cast<uint64_t>(s.ended_in));
    for (auto x : {s.pods, s.delivered, s.unconfirmed, s.delivery_failed,
                   s.collected, s.collect_failed, s.in_flight})
      w.u64(x);
    w.i64(s.ended_unix_ms);
    w.text(s.by);
  }
  w.u64(l.rounds_superseded);
  w.u64(l.initiates_refused);
  w.u64(l.has_refusal);
  w.u64(l.refusal_pending);
  w.u64(l.last_refusal.http_status);
  w.text(l.last_refusal.reason);
  w.i64(l.last_refusal.at_unix_ms);
  return w.take();
}

bool decode(std::string_view blob, lifecycle_meta& l) {
  reader r{blob};
  auto count = r.u64();
  for (uint64_t i = 0; i < count && r.ok(); ++i) {
    round_summary s;
    s.round = r.u64();
    s.ended_in = static_cast<phase>(r.u64() % 5);
    for (auto* x : {&s.pods, &s.delivered, &s.unconfirmed, &s.delivery_failed,
                    &s.collected, &s.collect_failed, &s.in_flight})
      *x = static_cast<uint32_t>(r.u64());
    s.ended_unix_ms = r.i64();
    s.by = r.text();
    l.superseded.push_back(std::move(s));
  }
  l.rounds_superseded = r.u64();
  l.initiates_refused = r.u64();
  l.has_refusal = r.u64() != 0;
  l.refusal_pending = r.u64() != 0;
  l.last_refusal.http_status = static_cast<uint16_t>(r.u64());
  l.last_refusal.reason = r.text();
  l.last_refusal.at_unix_ms = r.i64();
  return r.ok();
}


} // namespace netpol
