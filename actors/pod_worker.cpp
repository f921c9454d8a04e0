#include "actors/pod_worker.hpp"

#include "actors/completeness.hpp"
#include "actors/list_confirmation.hpp"
#include "actors/results_body.hpp"
#include "actors/round_store.hpp"

#include <optional>

namespace netpol {

pod_worker_actor::behavior_type
pod_worker(pod_worker_actor::stateful_pointer<pod_worker_state> self,
           pod_client_ptr client) {
  self->state.client = std::move(client);
  return {
    [self](deliver_atom, const pod_job& job) -> caf::result<pod_outcome> {
      return self->state.client->post_check(job.ip, job.payload.view());
    },
    [self](collect_atom, const pod_job& job) -> caf::result<pod_outcome> {
      auto out = self->state.client->get_results(job.ip);
      if (out.status != call_status::ok)
        return out;
      // Validated here, on the worker's thread, so the coordinator only
      // stores bytes it knows kube-burner can decode; the same pass matches
      // each entry against what the pod was sent.
      std::optional<pod_matcher> matcher;
      if (job.catalog.ptr)
        matcher.emplace(*job.catalog.ptr, job.expected.view());
      results_visitor visit;
      if (matcher)
        visit = [&](const results_entry& entry) { matcher->add(entry); };
      auto check = validate_results_body(out.body.view(), visit);
      if (!check.ok) {
        out.status = call_status::bad_body;
        out.detail = "bad results body: " + check.error;
        out.body = {};
        return out;
      }
      out.entries = check.entries;
      if (matcher)
        out.completeness = matcher->finish();
      if (job.compress)
        out.compressed = compress_blob(out.body.view());
      return out;
    },
    [self](confirm_atom, const pod_job& job) -> caf::result<pod_outcome> {
      // Only asks: whether to send the list again is the coordinator's
      // call, so that a list sent again counts as a call to its address.
      auto out = self->state.client->get_status(job.ip);
      out.confirmation = read_client_status(out, job.payload.view());
      return out;
    },
  };
}

} // namespace netpol
