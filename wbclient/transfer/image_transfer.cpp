#include "wbclient/transfer/image_transfer.hpp"

#include "wbclient/image/oci_layout.hpp"
#include "wbclient/transfer/blob_delivery.hpp"
#include "wbclient/transfer/transfer_plan.hpp"
#include "wbclient/transfer/transfer_pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace wbclient {
namespace fs = std::filesystem;

namespace {

// What the download side of a BlobPipe hears when the upload side gave up: a consequence,
// never the error worth reporting.
struct UploadStopped : std::runtime_error {
    UploadStopped() : std::runtime_error("the upload side stopped") {}
};

// A bounded single-producer, single-consumer byte ring between the download and the upload
// of one blob. Either side can fail, and the other then stops instead of waiting.
class BlobPipe {
public:
    explicit BlobPipe(std::size_t capacity) : buffer_(capacity) {}

    void write(const char* data, std::size_t size) {
        std::unique_lock lock(mutex_);
        while (size > 0) {
            changed_.wait(lock, [&] { return used_ < buffer_.size() || reader_failed_; });
            if (reader_failed_) throw UploadStopped();
            // At most two copies: up to the ring's end, then from its start.
            const std::size_t n = std::min(size, buffer_.size() - used_);
            const std::size_t tail = (head_ + used_) % buffer_.size();
            const std::size_t first = std::min(n, buffer_.size() - tail);
            std::memcpy(buffer_.data() + tail, data, first);
            std::memcpy(buffer_.data(), data + first, n - first);
            used_ += n;
            data += n;
            size -= n;
            changed_.notify_all();
        }
    }

    std::size_t read(char* out, std::size_t capacity) {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return used_ > 0 || finished_ || writer_error_; });
        if (writer_error_) std::rethrow_exception(writer_error_);
        const std::size_t n = std::min(capacity, used_);
        const std::size_t first = std::min(n, buffer_.size() - head_);
        std::memcpy(out, buffer_.data() + head_, first);
        std::memcpy(out + first, buffer_.data(), n - first);
        head_ = (head_ + n) % buffer_.size();
        used_ -= n;
        changed_.notify_all();
        return n;  // 0 only once the writer finished and everything was read
    }

    void finish_writing(std::exception_ptr error) {
        std::lock_guard lock(mutex_);
        finished_ = true;
        writer_error_ = error;
        changed_.notify_all();
    }
    void fail_reading() {
        std::lock_guard lock(mutex_);
        reader_failed_ = true;
        changed_.notify_all();
    }

private:
    std::vector<char> buffer_;
    std::size_t head_ = 0;
    std::size_t used_ = 0;
    bool finished_ = false;
    bool reader_failed_ = false;
    std::exception_ptr writer_error_;
    std::mutex mutex_;
    std::condition_variable changed_;
};

// Downloads `blob` on a thread of its own and hands `upload` a source that yields its bytes
// as they arrive. Only a download that verified size and digest lets the source end, so an
// upload never completes with bytes that did not check out.
void stream_blob(RegistryClient& from, std::string_view from_repository, const Descriptor& blob,
                 const std::function<void(const BodySource&)>& upload) {
    // Twice the send buffer: the download fills one half while libcurl sends the other.
    BlobPipe pipe(2 * static_cast<std::size_t>(HttpClient::send_buffer_size));
    std::exception_ptr download_error;
    std::jthread download([&] {
        try {
            from.fetch_blob(from_repository, blob,
                            [&](const char* data, std::size_t size) { pipe.write(data, size); });
        } catch (const UploadStopped&) {
            // The upload failed first; its error is the one to report.
        } catch (...) {
            download_error = std::current_exception();
        }
        pipe.finish_writing(download_error);
    });
    try {
        upload([&](char* buffer, std::size_t capacity) { return pipe.read(buffer, capacity); });
    } catch (...) {
        pipe.fail_reading();
        download.join();
        // A failed download also fails the upload (the source throws): the download's error
        // is the cause. Otherwise the upload failed on its own.
        if (download_error) std::rethrow_exception(download_error);
        throw;
    }
    download.join();
    if (download_error) std::rethrow_exception(download_error);
}

}  // namespace

// blob_delivery's way into the pipe above: stream_blob stays here, beside BlobPipe.
void stream_registry_blob(RegistryClient& from, std::string_view from_repository, const Descriptor& blob,
                          const std::function<void(const BodySource&)>& upload) {
    stream_blob(from, from_repository, blob, upload);
}

bool copy_blob(RegistryClient& from, std::string_view from_repository, RegistryClient& to,
               std::string_view to_repository, const Descriptor& blob) {
    const PlannedBlob planned{.blob = blob, .origin = BlobInRegistry{std::string(from_repository)}};
    return deliver_blob(to, to_repository, planned, &from) == BlobAction::copied;
}

Digest copy_image(RegistryClient& from, const Reference& source, RegistryClient& to,
                  const Reference& destination, const TransferOptions& options) {
    TransferPlan plan = plan_remote_image(from, source);
    // Same registry, other repository: it already stores every byte, so link, don't send.
    if (options.mount_within_registry && from.base_url() == to.base_url() &&
        source.repository != destination.repository)
        for (PlannedBlob& blob : plan.blobs) blob.mount_from = source.repository;
    return push_plan(plan, to, destination, options);
}

Digest copy_image(RegistryClient& from, const Reference& source, RegistryClient& to,
                  const Reference& destination, const BlobObserver& observe) {
    return copy_image(from, source, to, destination,
                      TransferOptions{.parallel_blobs = 1, .observe = observe,
                                      .mount_within_registry = false});
}

Digest pull_to_layout(RegistryClient& registry, const Reference& image,
                      const fs::path& layout_path, const TransferOptions& options) {
    OciLayoutWriter layout(layout_path);
    const TransferPlan plan = plan_remote_image(registry, image);
    const unsigned workers = worker_count(options, plan.blobs.size());
    WorkerClients clients(registry, workers);
    run_blobs(plan, workers, options.observe, [&](unsigned worker, const PlannedBlob& planned) {
        // fetch_blob hashes as the bytes arrive and throws on a mismatch, before the layout
        // keeps the file: one pass of SHA-256, no second read.
        layout.add_verified_blob(planned.blob, [&](const BodySink& sink) {
            clients[worker].fetch_blob(image.repository, planned.blob, sink);
        });
        return BlobAction::pulled;
    });
    for (const PlannedManifest& manifest : plan.manifests) layout.add_blob(manifest.descriptor, manifest.bytes);
    const Descriptor& top = plan.manifests.back().descriptor;
    layout.commit(top, image.tag.empty() ? image.digest->str() : image.tag);
    return top.digest;
}

Digest pull_to_layout(RegistryClient& registry, const Reference& image,
                      const fs::path& layout, const BlobObserver& observe) {
    return pull_to_layout(registry, image, layout,
                          TransferOptions{.parallel_blobs = 1, .observe = observe});
}

Digest push_layout(RegistryClient& registry, const fs::path& layout, const Reference& destination,
                   const TransferOptions& options) {
    // HEAD each blob first; then POST and one PUT streaming the file: the monolithic upload.
    return push_plan(plan_layout(layout, destination), registry, destination, options);
}

Digest push_image(RegistryClient& registry, const Reference& destination, const BuiltImage& image,
                  const BlobObserver& observe) {
    // `docker push`: one blob after another on the caller's connection, layers then config.
    return push_plan(plan_built_image(image), registry, destination,
                     TransferOptions{.parallel_blobs = 1, .observe = observe});
}

}  // namespace wbclient
