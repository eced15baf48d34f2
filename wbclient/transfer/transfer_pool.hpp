// The worker pool every whole-image transfer runs its plan on: blobs on up to
// TransferOptions::parallel_blobs connections, one narrated event per blob, the first failure
// stopping the rest, and the manifests only after every blob, in the plan's order.
#pragma once

#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/transfer/transfer_plan.hpp"

#include <functional>
#include <vector>

namespace wbclient {

/// One client per worker: the caller's own for the first (its connection is already open),
/// siblings for the rest, each with a connection of its own. `lend_own` false gives the first
/// worker a sibling too, for a caller whose one client must serve two threads at once.
class WorkerClients {
public:
    WorkerClients(RegistryClient& own, unsigned workers, bool lend_own = true);
    RegistryClient& operator[](unsigned worker);

private:
    RegistryClient& own_;
    bool lend_own_;
    std::vector<RegistryClient> siblings_;
};

/// How many workers a plan of `blobs` blobs gets: options.parallel_blobs, but no more than
/// there are blobs and at least one. Throws std::invalid_argument for parallel_blobs == 0.
unsigned worker_count(const TransferOptions& options, std::size_t blobs);

/// What one worker does with one blob; its answer is narrated.
using BlobWork = std::function<BlobAction(unsigned worker, const PlannedBlob& blob)>;

/// Runs `work` for every blob of `plan` on `workers` threads (the caller's thread is worker 0,
/// so one worker means no thread at all). Each worker takes the next blob when it finishes one;
/// `observe` hears each blob's action once, one event at a time. After the first failure no new
/// blob starts, and that failure is rethrown once every worker stopped.
void run_blobs(const TransferPlan& plan, unsigned workers, const BlobObserver& observe, const BlobWork& work);

/// Pushes `plan` to `destination` at `to`: every blob made present by deliver_blob on
/// worker_count(options) workers (blobs from plan.source read through clients of its own,
/// so `to` may be the very same client), then the manifests in order on `to`, the last under
/// the destination's tag or digest. Returns the digest the registry confirmed; throws if the
/// destination pins another one.
Digest push_plan(const TransferPlan& plan, RegistryClient& to, const Reference& destination,
                 const TransferOptions& options);

}  // namespace wbclient
