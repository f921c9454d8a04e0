// Type IDs and atoms of every message, in one block.
#pragma once

#include "messages/types.hpp"

#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(netpol, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(netpol, (netpol::pod_job))
  CAF_ADD_TYPE_ID(netpol, (netpol::pod_outcome))
  CAF_ADD_TYPE_ID(netpol, (netpol::round_plan))
  CAF_ADD_TYPE_ID(netpol, (netpol::round_status))
  CAF_ADD_TYPE_ID(netpol, (netpol::status_report))
  CAF_ADD_TYPE_ID(netpol, (netpol::results_snapshot))
  CAF_ADD_TYPE_ID(netpol, (netpol::proxy_metrics))
  CAF_ADD_TYPE_ID(netpol, (netpol::completeness_report))
  CAF_ADD_TYPE_ID(netpol, (netpol::sample_sweep))

  CAF_ADD_ATOM(netpol, netpol, initiate_atom, "initiate")
  CAF_ADD_ATOM(netpol, netpol, stop_atom, "stop")
  CAF_ADD_ATOM(netpol, netpol, poll_atom, "poll")
  CAF_ADD_ATOM(netpol, netpol, status_atom, "status")
  CAF_ADD_ATOM(netpol, netpol, results_atom, "results")
  CAF_ADD_ATOM(netpol, netpol, deliver_atom, "deliver")
  CAF_ADD_ATOM(netpol, netpol, collect_atom, "collect")
  CAF_ADD_ATOM(netpol, netpol, retry_atom, "retry")
  CAF_ADD_ATOM(netpol, netpol, metrics_atom, "metrics")
  CAF_ADD_ATOM(netpol, netpol, refused_atom, "refused")
  CAF_ADD_ATOM(netpol, netpol, report_atom, "report")
  CAF_ADD_ATOM(netpol, netpol, drain_atom, "drain")
  CAF_ADD_ATOM(netpol, netpol, dispatch_atom, "dispatch")
  CAF_ADD_ATOM(netpol, netpol, commit_atom, "commit")
  CAF_ADD_ATOM(netpol, netpol, progress_atom, "progress")
  CAF_ADD_ATOM(netpol, netpol, sweep_atom, "sweep")
  CAF_ADD_ATOM(netpol, netpol, swept_atom, "swept")
  CAF_ADD_ATOM(netpol, netpol, sample_atom, "sample")
  CAF_ADD_ATOM(netpol, netpol, confirm_atom, "confirm")
  CAF_ADD_ATOM(netpol, netpol, confirmed_atom, "confirmed")
  CAF_ADD_ATOM(netpol, netpol, resend_atom, "resend")
  CAF_ADD_ATOM(netpol, netpol, resent_atom, "resent")

CAF_END_TYPE_ID_BLOCK(netpol)
