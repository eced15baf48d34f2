#include "wbclient/transfer/transfer_pool.hpp"

#include "wbclient/transfer/blob_delivery.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace wbclient {

WorkerClients::WorkerClients(RegistryClient& own, unsigned workers, bool lend_own) : own_(own), lend_own_(lend_own) {
    for (unsigned i = lend_own ? 1 : 0; i < workers; ++i) siblings_.push_back(own.sibling());
}

RegistryClient& WorkerClients::operator[](unsigned worker) {
    if (lend_own_) return worker == 0 ? own_ : siblings_[worker - 1];
    return siblings_[worker];
}

unsigned worker_count(const TransferOptions& options, std::size_t blobs) {
    if (options.parallel_blobs == 0) throw std::invalid_argument("parallel_blobs must be at least 1");
    return static_cast<unsigned>(std::clamp<std::size_t>(blobs, 1, options.parallel_blobs));
}

void run_blobs(const TransferPlan& plan, unsigned workers, const BlobObserver& observe, const BlobWork& work) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::mutex error_mutex;
    std::mutex observe_mutex;  // the observer hears one event at a time, whichever worker it comes from
    const auto run = [&](unsigned worker) {
        try {
            for (std::size_t i = next++; i < plan.blobs.size() && !failed; i = next++) {
                const PlannedBlob& blob = plan.blobs[i];
                const BlobAction action = work(worker, blob);
                if (!observe) continue;
                const std::lock_guard lock(observe_mutex);
                observe(BlobEvent{blob.blob, action});
            }
        } catch (...) {
            const std::lock_guard lock(error_mutex);
            if (!first_error) first_error = std::current_exception();
            failed = true;
        }
    };
    {
        std::vector<std::jthread> threads;
        for (unsigned worker = 1; worker < workers; ++worker) threads.emplace_back(run, worker);
        run(0);
    }  // joins
    if (first_error) std::rethrow_exception(first_error);
}

namespace {

// The plan's manifests in order, each index after its children, children by digest; the last,
// the image's own, under the destination's tag or digest.
Digest put_manifests(RegistryClient& to, const Reference& destination, const TransferPlan& plan) {
    if (plan.manifests.empty()) throw std::logic_error("a transfer plan without a manifest");
    for (std::size_t i = 0; i + 1 < plan.manifests.size(); ++i) {
        const PlannedManifest& child = plan.manifests[i];
        to.put_manifest(destination.repository, child.descriptor.digest.str(), child.descriptor.media_type,
                        child.bytes);
    }
    const PlannedManifest& top = plan.manifests.back();
    const Digest pushed = to.put_manifest(destination.repository, destination.manifest_reference(),
                                          top.descriptor.media_type, top.bytes);
    if (destination.digest && *destination.digest != pushed)
        throw std::runtime_error("the manifest's digest is " + pushed.str() + ", not " + destination.digest->str() +
                                 " as the reference pins");
    return pushed;
}

}  // namespace

Digest push_plan(const TransferPlan& plan, RegistryClient& to, const Reference& destination,
                 const TransferOptions& options) {
    const unsigned workers = worker_count(options, plan.blobs.size());
    WorkerClients writers(to, workers);
    // Downloads and uploads run at once: a caller passing one client as both gets a second.
    std::optional<WorkerClients> readers;
    if (plan.source) readers.emplace(*plan.source, workers, plan.source != &to);
    run_blobs(plan, workers, options.observe, [&](unsigned worker, const PlannedBlob& blob) {
        return deliver_blob(writers[worker], destination.repository, blob, readers ? &(*readers)[worker] : nullptr);
    });
    // Only now may the manifests go: the registry refuses one that names a blob it lacks.
    return put_manifests(to, destination, plan);
}

}  // namespace wbclient
