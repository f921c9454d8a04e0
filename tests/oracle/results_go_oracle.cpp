// results_go_oracle: netpol::validate_results_body against Go itself.
//
//   netpol-test-go-oracle ORACLE [-v] DIR...
//
// Starts ORACLE (kube-burner-decode, built from kube_burner_decode.go) in
// --serve mode and runs every file of each DIR through it and through the
// scanner with an entry visitor. Fails on any accept/reject disagreement
// and, for accepted bodies, on any difference in the entries (count, each
// field and whether it was set, the timestamp's raw text, seconds and
// nanoseconds). A file whose name starts with "accept." or "reject."
// (tests/oracle/cases) also states Go's verdict, checked too: so a case
// pins what Go does, not only that the two agree. -v prints every verdict.
#include "go_oracle.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ORACLE [-v] DIR...\n", argv[0]);
    return 2;
  }
  netpol::oracle::process go;
  if (!go.start(argv[1])) {
    std::fprintf(stderr, "%s\n", go.error.c_str());
    return 2;
  }
  bool verbose = false;
  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) {
    if (std::string{argv[i]} == "-v") {
      verbose = true;
      continue;
    }
    std::error_code ec;
    fs::directory_iterator it{argv[i], ec};
    if (ec) {
      std::fprintf(stderr, "cannot read %s: %s\n", argv[i],
                   ec.message().c_str());
      return 2;
    }
    for (auto& entry : it)
      if (entry.is_regular_file())
        files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());

  size_t agreed = 0, accepted = 0, entries = 0, wrong_case = 0;
  std::vector<std::string> problems;
  for (auto& path : files) {
    std::ifstream in{path, std::ios::binary};
    std::string body{std::istreambuf_iterator<char>{in}, {}};
    auto verdict = go.decode(body);
    if (!verdict) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), go.error.c_str());
      return 2;
    }
    auto mine = netpol::oracle::scan(body);
    auto diff = netpol::oracle::compare(*verdict, mine);
    auto name = path.filename().string();
    auto shown = path.parent_path().filename().string() + "/" + name;
    if (verbose)
      std::printf("%-60s Go %s%s%s\n", shown.c_str(),
                  verdict->accept ? "accepts" : "refuses: ",
                  verdict->accept ? "" : verdict->error.c_str(),
                  diff.empty() ? "" : "  DISAGREE");
    bool says_accept = name.rfind("accept.", 0) == 0;
    bool says_reject = name.rfind("reject.", 0) == 0;
    if ((says_accept && !verdict->accept) || (says_reject && verdict->accept)) {
      ++wrong_case;
      problems.push_back(shown + ": named for " + (says_accept ? "accept" : "reject")
                         + ", but Go "
                         + (verdict->accept ? "accepts" : "refuses: " + verdict->error));
    }
    if (diff.empty()) {
      ++agreed;
      if (verdict->accept) {
        ++accepted;
        entries += verdict->entries.size();
      }
    } else {
      problems.push_back(shown + ": " + diff);
    }
  }
  for (auto& p : problems)
    std::printf("FAIL %s\n", p.c_str());
  std::printf("%zu of %zu inputs agreed with Go (%zu accepted with %zu "
              "entries, %zu refused); %zu disagreed; %zu cases misnamed\n",
              agreed, files.size(), accepted, entries, agreed - accepted,
              files.size() - agreed, wrong_case);
  if (files.empty()) {
    std::printf("no inputs\n");
    return 1;
  }
  return problems.empty() ? 0 : 1;
}
