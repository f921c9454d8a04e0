#include "actors/pod_worker.hpp"

#include "actors/results_body.hpp"

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
      // stores bytes it knows kube-burner can decode.
      auto check = validate_results_body(out.body.view());
      if (!check.ok) {
        out.status = call_status::bad_body;
        out.detail = "bad results body: " + check.error;
        out.body = {};
        return out;
      }
      out.entries = check.entries;
      return out;
    },
  };
}

} // namespace netpol
