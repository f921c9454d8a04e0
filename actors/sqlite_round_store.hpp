// The round in SQLite: one file per proxy, <state-dir>/netpol-proxy.db, in
// WAL mode, locked so that two proxies never share it. Users can read it
// with the sqlite3 CLI (docs/design.md gives the schema).
#pragma once

#include "actors/round_store.hpp"

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

namespace netpol {

/// Finalizes a prepared statement (a null one is a no-op).
struct sqlite_statement_deleter {
  void operator()(sqlite3_stmt* stmt) const noexcept;
};

/// A prepared statement, finalized when it goes.
using sqlite_statement
  = std::unique_ptr<sqlite3_stmt, sqlite_statement_deleter>;

class sqlite_round_store : public round_store {
public:
  /// What open() found, for the proxy's first log lines.
  struct opening {
    std::shared_ptr<sqlite_round_store> store; // null: run in memory
    std::string problem; // why not (locked, read-only, ...), or empty
    std::string note;    // e.g. a corrupt file moved aside
  };

  /// Opens or creates the store in `dir` (created if missing).
  static opening open(const std::string& dir);

  ~sqlite_round_store() override;

  std::string health() const override;
  void begin_round(const round_meta& meta, const round_catalog& catalog,
                   const std::vector<pod_record>& pods) override;
  void save_round(const round_meta& meta) override;
  void save_lifecycle(const lifecycle_meta& lifecycle) override;
  void save_pod(uint64_t round, uint32_t index,
                const pod_record& pod) override;
  void save_collected(uint64_t round, uint32_t index,
                      const shared_bytes& compressed) override;
  void save_sample(uint64_t round, uint32_t index,
                   const stored_sample& sample) override;
  void call_started(uint64_t round, uint32_t index, stage kind,
                    uint32_t attempt, int64_t unix_ms) override;
  void call_ended(uint64_t round, uint32_t index, stage kind,
                  uint32_t attempt, const pod_outcome& outcome) override;
  void commit() override;
  bool pending() const override {
    return in_transaction_ && degraded_.empty();
  }
  saved_round load() override;

  const std::string& path() const {
    return path_;
  }

  /// Bytes of the database file and its WAL now.
  uint64_t bytes_on_disk() const;

private:
  sqlite_round_store() = default;

  /// The pragmas, the schema and the prepared statements; false (why in
  /// last_error_) if one failed.
  bool configure();
  /// Writes the schema version once, at open, so that a read-only or full
  /// directory shows at start: empty, or why it could not be written.
  std::string write_schema_version();
  bool prepare_all();
  sqlite3_stmt* statement(int which);
  bool step(sqlite3_stmt* stmt, const char* what);
  bool exec(const char* sql, const char* what);
  bool begin();
  void degrade(const std::string& why);

  sqlite3* db_ = nullptr;
  int lock_fd_ = -1;
  std::string path_;
  std::string degraded_; // why writes stopped; empty while healthy
  std::string last_error_;
  bool in_transaction_ = false;
  uint64_t round_ = 0;
  std::vector<sqlite_statement> statements_;
};

} // namespace netpol
