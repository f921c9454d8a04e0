#include "actors/sqlite_round_store.hpp"

#include "actors/store_codec.hpp"
#include "messages/duration.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>

namespace netpol {

namespace {

constexpr int schema_version = 5;

const char* const schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rounds (
  round             INTEGER PRIMARY KEY,
  phase             TEXT NOT NULL,
  stop_requested    INTEGER NOT NULL,
  digest            INTEGER NOT NULL,
  started_unix_ms   INTEGER NOT NULL,
  delivered_unix_ms INTEGER NOT NULL,
  stop_unix_ms      INTEGER NOT NULL,
  collected_unix_ms INTEGER NOT NULL,
  calls             INTEGER NOT NULL,
  retries           INTEGER NOT NULL,
  pods              INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS catalogs (
  round   INTEGER PRIMARY KEY,
  catalog BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS pods (
  round               INTEGER NOT NULL,
  pod                 INTEGER NOT NULL,
  ip                  TEXT NOT NULL,
  state               TEXT NOT NULL,
  delivery            TEXT NOT NULL,
  delivery_attempts   INTEGER NOT NULL,
  collection_attempts INTEGER NOT NULL,
  delivery_error      TEXT NOT NULL,
  collection_error    TEXT NOT NULL,
  delivered_after_us  INTEGER NOT NULL,
  collected_after_us  INTEGER NOT NULL,
  retry_at_unix_ms    INTEGER NOT NULL,
  connection_count    INTEGER NOT NULL,
  tests               INTEGER NOT NULL,
  results_entries     INTEGER NOT NULL,
  served_sample       TEXT NOT NULL,
  served_sample_taken_unix_ms INTEGER NOT NULL,
  PRIMARY KEY (round, pod)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pod_data (
  round       INTEGER NOT NULL,
  pod         INTEGER NOT NULL,
  expected    BLOB NOT NULL,
  connections TEXT,
  PRIMARY KEY (round, pod)
);
CREATE TABLE IF NOT EXISTS collected (
  round   INTEGER NOT NULL,
  pod     INTEGER NOT NULL,
  results BLOB,
  PRIMARY KEY (round, pod)
);
CREATE TABLE IF NOT EXISTS samples (
  round                INTEGER NOT NULL,
  pod                  INTEGER NOT NULL,
  entries              INTEGER NOT NULL,
  taken_unix_ms        INTEGER NOT NULL,
  not_extending        INTEGER NOT NULL,
  restart_seen_unix_ms INTEGER NOT NULL,
  body                 BLOB NOT NULL,
  PRIMARY KEY (round, pod)
);
CREATE TABLE IF NOT EXISTS calls (
  round           INTEGER NOT NULL,
  pod             INTEGER NOT NULL,
  stage           TEXT NOT NULL,
  attempt         INTEGER NOT NULL,
  started_unix_ms INTEGER NOT NULL,
  outcome         TEXT,
  http_status     INTEGER,
  request_sent    INTEGER,
  detail          TEXT,
  elapsed_ms      REAL,
  PRIMARY KEY (round, pod, stage, attempt)
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS pod_history AS
  SELECT p.ip, c.stage, c.attempt,
         strftime('%Y-%m-%dT%H:%M:%fZ', c.started_unix_ms / 1000.0,
                  'unixepoch') AS started,
         coalesce(c.outcome, 'in flight') AS outcome, c.http_status,
         c.request_sent, c.detail, c.elapsed_ms, c.round
  FROM calls c JOIN pods p ON p.round = c.round AND p.pod = c.pod
  ORDER BY c.round, c.pod, c.started_unix_ms;
)sql";

enum statement_id {
  insert_round,
  insert_catalog,
  update_round,
  insert_pod,
  insert_pod_data,
  update_pod,
  insert_collected,
  insert_sample,
  insert_call,
  update_call,
  put_meta,
  statement_count
};

const char* const statement_sql[statement_count] = {
  "INSERT INTO rounds VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
  "INSERT INTO catalogs VALUES (?1,?2)",
  "UPDATE rounds SET phase=?2, stop_requested=?3, digest=?4, "
  "started_unix_ms=?5, delivered_unix_ms=?6, stop_unix_ms=?7, "
  "collected_unix_ms=?8, calls=?9, retries=?10 WHERE round=?1",
  "INSERT INTO pods VALUES "
  "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,0,'',0)",
  "INSERT INTO pod_data VALUES (?1,?2,?3,?4)",
  "UPDATE pods SET state=?3, delivery=?4, delivery_attempts=?5, "
  "collection_attempts=?6, delivery_error=?7, collection_error=?8, "
  "delivered_after_us=?9, collected_after_us=?10, retry_at_unix_ms=?11, "
  "results_entries=?12, served_sample=?13, served_sample_taken_unix_ms=?14 "
  "WHERE round=?1 AND pod=?2",
  "INSERT OR REPLACE INTO collected VALUES (?1,?2,?3)",
  "INSERT OR REPLACE INTO samples VALUES (?1,?2,?3,?4,?5,?6,?7)",
  "INSERT OR REPLACE INTO calls (round, pod, stage, attempt, "
  "started_unix_ms) VALUES (?1,?2,?3,?4,?5)",
  "UPDATE calls SET outcome=?5, http_status=?6, request_sent=?7, detail=?8, "
  "elapsed_ms=?9 WHERE round=?1 AND pod=?2 AND stage=?3 AND attempt=?4",
  "INSERT OR REPLACE INTO meta VALUES (?1, ?2)",
};

template <class Enum, size_t N>
std::optional<Enum> parse_enum(std::string_view text) {
  for (size_t i = 0; i < N; ++i)
    if (text == to_string(static_cast<Enum>(i)))
      return static_cast<Enum>(i);
  return std::nullopt;
}

int64_t micros(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::microseconds>(x).count();
}

std::string_view column_text(sqlite3_stmt* stmt, int i) {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return p ? std::string_view{p, static_cast<size_t>(sqlite3_column_bytes(stmt, i))}
           : std::string_view{};
}

std::string_view column_blob(sqlite3_stmt* stmt, int i) {
  auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
  return p ? std::string_view{p, static_cast<size_t>(sqlite3_column_bytes(stmt, i))}
           : std::string_view{};
}

void bind_text(sqlite3_stmt* stmt, int i, std::string_view text) {
  sqlite3_bind_text(stmt, i, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
}

void bind_blob(sqlite3_stmt* stmt, int i, std::string_view blob) {
  sqlite3_bind_blob(stmt, i, blob.data(), static_cast<int>(blob.size()),
                    SQLITE_TRANSIENT);
}

/// Parameters 1 to 10 of insert_round and update_round.
void bind_round(sqlite3_stmt* stmt, const round_meta& meta) {
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(meta.round));
  bind_text(stmt, 2, to_string(meta.current));
  sqlite3_bind_int(stmt, 3, meta.stop_requested);
  sqlite3_bind_int64(stmt, 4, static_cast<int64_t>(meta.digest));
  sqlite3_bind_int64(stmt, 5, meta.started_unix_ms);
  sqlite3_bind_int64(stmt, 6, meta.delivered_unix_ms);
  sqlite3_bind_int64(stmt, 7, meta.stop_unix_ms);
  sqlite3_bind_int64(stmt, 8, meta.collected_unix_ms);
  sqlite3_bind_int64(stmt, 9, static_cast<int64_t>(meta.calls));
  sqlite3_bind_int64(stmt, 10, static_cast<int64_t>(meta.retries));
}

/// Prepares `sql` on `db` into `stmt`: whether it succeeded.
bool prepare(sqlite3* db, const char* sql, sqlite_statement& stmt) {
  sqlite3_stmt* raw = nullptr;
  auto rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  stmt.reset(raw);
  return rc == SQLITE_OK;
}

/// Whether `db` passes SQLite's integrity check: empty, or why not.
std::string check_integrity(sqlite3* db) {
  sqlite_statement stmt;
  if (!prepare(db, "PRAGMA quick_check", stmt))
    return sqlite3_errmsg(db);
  auto rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW)
    return sqlite3_errmsg(db);
  if (column_text(stmt.get(), 0) != "ok")
    return "integrity check: " + std::string{column_text(stmt.get(), 0)};
  return {};
}

/// Whether `db` reads as a store of ours: an SQLite file whose integrity
/// check passes and whose schema version we know.
std::string check_file(sqlite3* db) {
  auto result = check_integrity(db);
  if (!result.empty())
    return result;
  // A store without a version (no meta yet) is new; another version is not ours.
  sqlite_statement stmt;
  if (prepare(db, "SELECT value FROM meta WHERE key='schema'", stmt)
      && sqlite3_step(stmt.get()) == SQLITE_ROW
      && sqlite3_column_int(stmt.get(), 0) != schema_version)
    result = "schema version "
             + std::to_string(sqlite3_column_int(stmt.get(), 0))
             + ", this proxy writes " + std::to_string(schema_version);
  return result;
}

/// Takes the lock of the store in `dir` (its file descriptor in `fd`, kept
/// open while the store is) and writes our pid in it: empty, or why not.
std::string lock_dir(const std::string& dir, int& fd) {
  // Two proxies never share a store: the second finds the lock taken.
  auto lock_path = dir + "/netpol-proxy.lock";
  fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return "cannot open " + lock_path + ": " + std::strerror(errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder(32, '\0');
    auto n = ::pread(fd, holder.data(), holder.size(), 0);
    holder.resize(n > 0 ? static_cast<size_t>(n) : 0);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0'))
      holder.pop_back();
    return dir + " is in use by another netpol-proxy"
           + (holder.empty() ? "" : " (pid " + holder + ")");
  }
  auto pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) == 0)
    (void) !::pwrite(fd, pid.data(), pid.size(), 0);
  return {};
}

/// Opens (or creates) the database at `path` into `db` and checks it is
/// ours: empty, or why not.
std::string open_file(const std::string& path, sqlite3*& db) {
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                        | SQLITE_OPEN_NOMUTEX,
                      nullptr)
      != SQLITE_OK)
    return db ? sqlite3_errmsg(db) : "out of memory";
  return check_file(db);
}

/// Closes `db` and moves the file at `path` aside (its WAL and shared
/// memory removed), for a look: the note for the log.
std::string move_aside(const std::string& path, sqlite3*& db,
                       const std::string& problem) {
  sqlite3_close(db);
  db = nullptr;
  std::error_code ec;
  auto aside = path + ".corrupt-" + std::to_string(unix_ms_now());
  std::filesystem::rename(path, aside, ec);
  for (auto suffix : {"-wal", "-shm"})
    std::filesystem::remove(path + suffix, ec);
  return path + " could not be read (" + problem + "); moved aside to " + aside
         + ", starting a new store";
}

/// The lifecycle, if the store has one.
void load_lifecycle(sqlite3* db, lifecycle_meta& lifecycle) {
  sqlite_statement stmt;
  if (prepare(db, "SELECT value FROM meta WHERE key='lifecycle'", stmt)
      && sqlite3_step(stmt.get()) == SQLITE_ROW)
    decode(column_blob(stmt.get(), 0), lifecycle);
}

/// The latest round's fields and catalog into `result`: false when there
/// is none, or its catalog is damaged (logged; `result.meta` left empty).
bool load_round(sqlite3* db, const std::string& path, saved_round& result) {
  sqlite_statement owned;
  if (!prepare(db,
               "SELECT round, phase, stop_requested, digest, started_unix_ms, "
               "delivered_unix_ms, stop_unix_ms, collected_unix_ms, calls, "
               "retries, c.catalog FROM rounds r JOIN catalogs c USING (round) "
               "ORDER BY round DESC LIMIT 1",
               owned)
      || sqlite3_step(owned.get()) != SQLITE_ROW)
    return false;
  auto* stmt = owned.get();
  auto& m = result.meta;
  m.round = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
  m.current = parse_enum<phase, 5>(column_text(stmt, 1)).value_or(phase::idle);
  m.stop_requested = sqlite3_column_int(stmt, 2) != 0;
  m.digest = static_cast<uint64_t>(sqlite3_column_int64(stmt, 3));
  m.started_unix_ms = sqlite3_column_int64(stmt, 4);
  m.delivered_unix_ms = sqlite3_column_int64(stmt, 5);
  m.stop_unix_ms = sqlite3_column_int64(stmt, 6);
  m.collected_unix_ms = sqlite3_column_int64(stmt, 7);
  m.calls = static_cast<uint64_t>(sqlite3_column_int64(stmt, 8));
  m.retries = static_cast<uint64_t>(sqlite3_column_int64(stmt, 9));
  auto catalog = std::make_shared<round_catalog>();
  std::string packed;
  if (!decompress_blob(column_blob(stmt, 10), packed)
      || !decode(packed, *catalog)) {
    owned.reset();
    spdlog::error("The round store {} holds round {} with a damaged "
                  "catalog: not resumed",
                  path, m.round);
    result.meta = round_meta{};
    return false;
  }
  result.catalog.ptr = catalog;
  return true;
}

/// A pod's stored fields from a row of load_pods' query; `list` gets its
/// stored list, if any (returned: whether there was one).
bool pod_from_row(sqlite3_stmt* stmt, pod_record& pod, std::string& list) {
  pod.ip = std::string{column_text(stmt, 1)};
  pod.state = parse_enum<pod_state, pod_state_count>(column_text(stmt, 2))
                .value_or(pod_state::queued);
  pod.delivery_outcome
    = parse_enum<pod_state, pod_state_count>(column_text(stmt, 3))
        .value_or(pod_state::queued);
  pod.delivery_attempts = static_cast<uint32_t>(sqlite3_column_int64(stmt, 4));
  pod.collection_attempts
    = static_cast<uint32_t>(sqlite3_column_int64(stmt, 5));
  pod.delivery_error = std::string{column_text(stmt, 6)};
  pod.collection_error = std::string{column_text(stmt, 7)};
  pod.delivered_after
    = std::chrono::microseconds(sqlite3_column_int64(stmt, 8));
  pod.collected_after
    = std::chrono::microseconds(sqlite3_column_int64(stmt, 9));
  pod.retry_at_unix_ms = sqlite3_column_int64(stmt, 10);
  pod.connection_count = static_cast<uint32_t>(sqlite3_column_int64(stmt, 11));
  pod.tests = static_cast<uint32_t>(sqlite3_column_int64(stmt, 12));
  pod.expected = shared_bytes{std::string{column_blob(stmt, 13)}};
  bool stored_list = sqlite3_column_type(stmt, 14) != SQLITE_NULL;
  list = std::string{column_text(stmt, 14)};
  pod.canonical = !stored_list;
  pod.results_entries = static_cast<uint32_t>(sqlite3_column_int64(stmt, 15));
  pod.served_sample = std::string{column_text(stmt, 17)};
  pod.served_sample_taken_unix_ms = sqlite3_column_int64(stmt, 18);
  return stored_list;
}

/// The round's pods, rebuilt (rebuild_loaded_pod) against `catalog`, with
/// their accounts and whether their results were kept: false if the query
/// could not be prepared.
bool load_pods(sqlite3* db, const round_catalog& catalog,
               saved_round& result) {
  sqlite_statement owned;
  if (!prepare(db,
               "SELECT p.pod, ip, state, delivery, delivery_attempts, "
               "collection_attempts, delivery_error, collection_error, "
               "delivered_after_us, collected_after_us, retry_at_unix_ms, "
               "connection_count, tests, expected, connections, "
               "results_entries, results, served_sample, "
               "served_sample_taken_unix_ms FROM pods p JOIN pod_data d "
               "ON d.round = p.round AND d.pod = p.pod LEFT JOIN collected c "
               "ON c.round = p.round AND c.pod = p.pod WHERE p.round=?1 "
               "ORDER BY p.pod",
               owned))
    return false;
  auto* stmt = owned.get();
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(result.meta.round));
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    pod_record pod;
    std::string list;
    bool stored_list = pod_from_row(stmt, pod, list);
    pod_completeness account;
    result.results_kept.push_back(
      rebuild_loaded_pod(catalog, pod, stored_list ? &list : nullptr,
                         column_blob(stmt, 16), account));
    result.pods.push_back(std::move(pod));
    result.accounts.push_back(std::move(account));
  }
  return true;
}

/// The samples taken during the job, their bodies as stored (compressed).
void load_samples(sqlite3* db, saved_round& result) {
  sqlite_statement owned;
  if (!prepare(db,
               "SELECT pod, entries, taken_unix_ms, not_extending, "
               "restart_seen_unix_ms, body FROM samples WHERE round=?1 "
               "ORDER BY pod",
               owned))
    return;
  auto* stmt = owned.get();
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(result.meta.round));
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    stored_sample sample;
    sample.pod = static_cast<uint32_t>(sqlite3_column_int64(stmt, 0));
    sample.entries = static_cast<uint32_t>(sqlite3_column_int64(stmt, 1));
    sample.taken_unix_ms = sqlite3_column_int64(stmt, 2);
    sample.not_extending
      = static_cast<uint32_t>(sqlite3_column_int64(stmt, 3));
    sample.restart_seen_unix_ms = sqlite3_column_int64(stmt, 4);
    sample.compressed = shared_bytes{std::string{column_blob(stmt, 5)}};
    result.samples.push_back(std::move(sample));
  }
}

/// The round's calls: those whose start was committed and whose end was
/// not, per pod; and every call counted as /metrics counts them.
void load_calls(sqlite3* db, saved_round& result) {
  result.in_flight.assign(result.pods.size(), in_flight_stage::none);
  result.in_flight_attempt.assign(result.pods.size(), 0);
  sqlite_statement owned;
  if (!prepare(db,
               "SELECT pod, stage, attempt, outcome, elapsed_ms FROM calls "
               "WHERE round=?1",
               owned))
    return;
  auto* stmt = owned.get();
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(result.meta.round));
  auto& totals = result.call_totals;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    auto pod = static_cast<size_t>(sqlite3_column_int64(stmt, 0));
    auto kind = column_text(stmt, 1) == "delivery" ? stage::delivery
                                                   : stage::collection;
    auto attempt = static_cast<uint32_t>(sqlite3_column_int64(stmt, 2));
    if (attempt > 1)
      ++totals.retries[static_cast<size_t>(kind)];
    if (sqlite3_column_type(stmt, 3) != SQLITE_NULL) {
      auto outcome
        = parse_enum<call_status, call_status_count>(column_text(stmt, 3));
      if (outcome)
        totals.count_call(kind, *outcome,
                          sqlite3_column_double(stmt, 4) / 1000.0);
      continue;
    }
    if (pod < result.in_flight.size()) {
      result.in_flight[pod] = kind == stage::delivery
                                ? in_flight_stage::delivery
                                : in_flight_stage::collection;
      result.in_flight_attempt[pod] = attempt;
    }
  }
}

} // namespace

void sqlite_statement_deleter::operator()(
  sqlite3_stmt* stmt) const noexcept {
  sqlite3_finalize(stmt);
}

sqlite_round_store::opening sqlite_round_store::open(const std::string& dir) {
  opening result;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    result.problem = "cannot create " + dir + ": " + ec.message();
    return result;
  }
  auto store = std::shared_ptr<sqlite_round_store>(new sqlite_round_store);
  result.problem = lock_dir(dir, store->lock_fd_);
  if (!result.problem.empty())
    return result;
  store->path_ = dir + "/netpol-proxy.db";
  auto problem = open_file(store->path_, store->db_);
  if (!problem.empty() && store->db_ != nullptr
      && access(store->path_.c_str(), W_OK) == 0) {
    // Not a store we can read: keep it aside for a look, start afresh.
    result.note = move_aside(store->path_, store->db_, problem);
    problem = open_file(store->path_, store->db_);
  }
  if (problem.empty() && !store->configure())
    problem = store->last_error_;
  if (!problem.empty()) {
    result.problem = "cannot use " + store->path_ + ": " + problem;
    return result;
  }
  problem = store->write_schema_version();
  if (!problem.empty()) {
    result.problem = "cannot write " + store->path_ + ": " + problem;
    return result;
  }
  result.store = std::move(store);
  return result;
}

bool sqlite_round_store::configure() {
  // WAL, and no fsync: a commit is in the kernel when COMMIT returns, which
  // is what survives a crash of the process (kill -9, OOM kill); power
  // loss takes the pod, and its /dev/shm, anyway.
  return exec("PRAGMA journal_mode=WAL", "WAL mode")
         && exec("PRAGMA synchronous=OFF", "synchronous")
         // After a checkpoint the WAL is cut back to 4 MiB: /dev/shm is
         // often 64 MB in all.
         && exec("PRAGMA journal_size_limit=4194304", "WAL size")
         && exec(schema_sql, "schema") && prepare_all();
}

std::string sqlite_round_store::write_schema_version() {
  auto* stmt = statement(put_meta);
  bind_text(stmt, 1, "schema");
  sqlite3_bind_int(stmt, 2, schema_version);
  if (!begin() || !step(stmt, "schema version"))
    return degraded_;
  commit();
  return degraded_;
}

sqlite_round_store::~sqlite_round_store() {
  if (db_ && in_transaction_)
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  // Finalized before the database closes (a statement left would keep it
  // open).
  statements_.clear();
  if (db_)
    sqlite3_close(db_);
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
}

bool sqlite_round_store::prepare_all() {
  statements_.clear();
  for (int i = 0; i < statement_count; ++i) {
    sqlite3_stmt* raw = nullptr;
    auto rc = sqlite3_prepare_v3(db_, statement_sql[i], -1,
                                 SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    statements_.emplace_back(raw);
    if (rc != SQLITE_OK) {
      last_error_ = sqlite3_errmsg(db_);
      return false;
    }
  }
  return true;
}

sqlite3_stmt* sqlite_round_store::statement(int which) {
  auto* stmt = statements_[which].get();
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return stmt;
}

bool sqlite_round_store::exec(const char* sql, const char* what) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    last_error_ = std::string{what} + ": " + (error ? error : "failed");
    sqlite3_free(error);
    return false;
  }
  return true;
}

bool sqlite_round_store::step(sqlite3_stmt* stmt, const char* what) {
  auto rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW)
    return true;
  degrade(std::string{what} + ": " + sqlite3_errmsg(db_));
  return false;
}

bool sqlite_round_store::begin() {
  if (!degraded_.empty())
    return false;
  if (in_transaction_)
    return true;
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    degrade(std::string{"begin: "} + sqlite3_errmsg(db_));
    return false;
  }
  in_transaction_ = true;
  return true;
}

void sqlite_round_store::degrade(const std::string& why) {
  if (!degraded_.empty())
    return;
  degraded_ = why;
  if (in_transaction_) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    in_transaction_ = false;
  }
  // One line, then the round goes on in memory.
  spdlog::error("The round store {} failed ({}); the round goes on in memory "
                "and a restart of the proxy would lose it",
                path_, why);
}

std::string sqlite_round_store::health() const {
  if (!degraded_.empty())
    return "degraded: " + degraded_;
  return "on: " + path_;
}

uint64_t sqlite_round_store::bytes_on_disk() const {
  uint64_t total = 0;
  std::error_code ec;
  for (auto suffix : {"", "-wal"}) {
    auto size = std::filesystem::file_size(path_ + suffix, ec);
    if (!ec)
      total += size;
  }
  return total;
}

void sqlite_round_store::begin_round(const round_meta& meta,
                                     const round_catalog& catalog,
                                     const std::vector<pod_record>& pods) {
  if (!begin())
    return;
  // One round is kept: the one a restart resumes.
  if (!exec("DELETE FROM calls; DELETE FROM pods; DELETE FROM pod_data; "
            "DELETE FROM collected; DELETE FROM samples; DELETE FROM catalogs; "
            "DELETE FROM rounds",
            "dropping the last round")) {
    degrade(last_error_);
    return;
  }
  round_ = meta.round;
  auto* stmt = statement(insert_round);
  bind_round(stmt, meta);
  sqlite3_bind_int64(stmt, 11, static_cast<int64_t>(pods.size()));
  if (!step(stmt, "saving the round"))
    return;
  // Apart from the round's row, which changes with every commit (its call
  // counts): SQLite rewrites a whole row on update, and the catalog of a
  // large round is megabytes.
  stmt = statement(insert_catalog);
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(meta.round));
  bind_blob(stmt, 2, compress_blob(encode(catalog)).view());
  if (!step(stmt, "saving the round"))
    return;
  for (uint32_t i = 0; i < pods.size(); ++i) {
    auto& pod = pods[i];
    stmt = statement(insert_pod);
    sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(meta.round));
    sqlite3_bind_int64(stmt, 2, i);
    bind_text(stmt, 3, pod.ip);
    bind_text(stmt, 4, to_string(pod.state));
    bind_text(stmt, 5, to_string(pod.delivery_outcome));
    sqlite3_bind_int64(stmt, 6, pod.delivery_attempts);
    sqlite3_bind_int64(stmt, 7, pod.collection_attempts);
    bind_text(stmt, 8, pod.delivery_error);
    bind_text(stmt, 9, pod.collection_error);
    sqlite3_bind_int64(stmt, 10, micros(pod.delivered_after));
    sqlite3_bind_int64(stmt, 11, micros(pod.collected_after));
    sqlite3_bind_int64(stmt, 12, pod.retry_at_unix_ms);
    sqlite3_bind_int64(stmt, 13, pod.connection_count);
    sqlite3_bind_int64(stmt, 14, pod.tests);
    if (!step(stmt, "saving the round's pods"))
      return;
    // The blobs in a table of their own: a pod's state changes five times
    // a round, and SQLite rewrites the whole row on each update.
    stmt = statement(insert_pod_data);
    sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(meta.round));
    sqlite3_bind_int64(stmt, 2, i);
    bind_blob(stmt, 3, pod.expected.view());
    // The list only when its tests can't rebuild it exactly.
    if (!pod.canonical)
      bind_text(stmt, 4, pod.connections.view());
    if (!step(stmt, "saving the round's pods"))
      return;
  }
}

void sqlite_round_store::save_round(const round_meta& meta) {
  if (!begin())
    return;
  auto* stmt = statement(update_round);
  bind_round(stmt, meta);
  step(stmt, "saving the round");
}

void sqlite_round_store::save_lifecycle(const lifecycle_meta& lifecycle) {
  if (!begin())
    return;
  auto* stmt = statement(put_meta);
  bind_text(stmt, 1, "lifecycle");
  bind_blob(stmt, 2, encode(lifecycle));
  step(stmt, "saving the lifecycle");
}

void sqlite_round_store::save_pod(uint64_t round, uint32_t index,
                                  const pod_record& pod) {
  if (!begin())
    return;
  auto* stmt = statement(update_pod);
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(round));
  sqlite3_bind_int64(stmt, 2, index);
  bind_text(stmt, 3, to_string(pod.state));
  bind_text(stmt, 4, to_string(pod.delivery_outcome));
  sqlite3_bind_int64(stmt, 5, pod.delivery_attempts);
  sqlite3_bind_int64(stmt, 6, pod.collection_attempts);
  bind_text(stmt, 7, pod.delivery_error);
  bind_text(stmt, 8, pod.collection_error);
  sqlite3_bind_int64(stmt, 9, micros(pod.delivered_after));
  sqlite3_bind_int64(stmt, 10, micros(pod.collected_after));
  sqlite3_bind_int64(stmt, 11, pod.retry_at_unix_ms);
  sqlite3_bind_int64(stmt, 12, pod.results_entries);
  bind_text(stmt, 13, pod.served_sample);
  sqlite3_bind_int64(stmt, 14, pod.served_sample_taken_unix_ms);
  step(stmt, "saving a pod");
}

void sqlite_round_store::save_collected(uint64_t round, uint32_t index,
                                        const shared_bytes& compressed) {
  if (!begin())
    return;
  // A table of its own, written once per pod: added to pod_data's rows
  // results split its pages, which then stood half empty (4 KB a pod).
  auto* stmt = statement(insert_collected);
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(round));
  sqlite3_bind_int64(stmt, 2, index);
  if (compressed.size() > 0)
    bind_blob(stmt, 3, compressed.view());
  step(stmt, "saving a pod's results");
}

void sqlite_round_store::save_sample(uint64_t round, uint32_t index,
                                     const stored_sample& sample) {
  if (!begin())
    return;
  // A table of its own, as collected results: a sample is replaced as it
  // grows, which would split the pages of a table of small rows.
  auto* stmt = statement(insert_sample);
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(round));
  sqlite3_bind_int64(stmt, 2, index);
  sqlite3_bind_int64(stmt, 3, sample.entries);
  sqlite3_bind_int64(stmt, 4, sample.taken_unix_ms);
  sqlite3_bind_int64(stmt, 5, sample.not_extending);
  sqlite3_bind_int64(stmt, 6, sample.restart_seen_unix_ms);
  bind_blob(stmt, 7, sample.compressed.view());
  step(stmt, "saving a pod's sample");
}

void sqlite_round_store::call_started(uint64_t round, uint32_t index,
                                      stage kind, uint32_t attempt,
                                      int64_t unix_ms) {
  if (!begin())
    return;
  auto* stmt = statement(insert_call);
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(round));
  sqlite3_bind_int64(stmt, 2, index);
  bind_text(stmt, 3, to_string(kind));
  sqlite3_bind_int64(stmt, 4, attempt);
  sqlite3_bind_int64(stmt, 5, unix_ms);
  step(stmt, "saving a call");
}

void sqlite_round_store::call_ended(uint64_t round, uint32_t index,
                                    stage kind, uint32_t attempt,
                                    const pod_outcome& out) {
  if (!begin())
    return;
  auto* stmt = statement(update_call);
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(round));
  sqlite3_bind_int64(stmt, 2, index);
  bind_text(stmt, 3, to_string(kind));
  sqlite3_bind_int64(stmt, 4, attempt);
  bind_text(stmt, 5, to_string(out.status));
  if (out.http_status != 0)
    sqlite3_bind_int(stmt, 6, out.http_status);
  sqlite3_bind_int(stmt, 7, out.request_sent);
  if (!out.detail.empty())
    bind_text(stmt, 8, out.detail);
  sqlite3_bind_double(stmt, 9,
                      std::chrono::duration<double, std::milli>(out.elapsed)
                        .count());
  step(stmt, "saving a call's outcome");
}

void sqlite_round_store::commit() {
  if (!in_transaction_ || !degraded_.empty())
    return;
  in_transaction_ = false;
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    auto why = std::string{"commit: "} + sqlite3_errmsg(db_);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    degrade(why);
  }
}

saved_round sqlite_round_store::load() {
  saved_round result;
  load_lifecycle(db_, result.lifecycle);
  if (!load_round(db_, path_, result))
    return result;
  round_ = result.meta.round;
  if (!load_pods(db_, *result.catalog.ptr, result)) {
    result.meta = round_meta{};
    return result;
  }
  load_calls(db_, result);
  load_samples(db_, result);
  return result;
}

} // namespace netpol
