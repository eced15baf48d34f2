#include "regclient/image_transfer.hpp"

#include "regclient/oci_layout.hpp"

#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace regclient {
namespace {

// A bounded single-producer, single-consumer byte buffer between the download and the
// upload of one blob. Either side can fail, and the other then stops instead of waiting.
class BlobPipe {
public:
    explicit BlobPipe(std::size_t capacity) : buffer_(capacity) {}

    void write(const char* data, std::size_t size) {
        std::unique_lock lock(mutex_);
        while (size > 0) {
            changed_.wait(lock, [&] { return used_ < buffer_.size() || reader_failed_; });
            if (reader_failed_) throw std::runtime_error("the upload side stopped");
            const std::size_t n = std::min(size, buffer_.size() - used_);
            for (std::size_t i = 0; i < n; ++i)
                buffer_[(head_ + used_ + i) % buffer_.size()] = data[i];
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
        for (std::size_t i = 0; i < n; ++i) out[i] = buffer_[(head_ + i) % buffer_.size()];
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

void notify(const BlobObserver& observe, const Descriptor& blob, const char* action) {
    if (observe) observe(BlobEvent{blob, action});
}

}  // namespace

bool copy_blob(RegistryClient& from, std::string_view from_repository, RegistryClient& to,
               std::string_view to_repository, const Descriptor& blob) {
    if (to.blob_size(to_repository, blob.digest)) return false;

    BlobPipe pipe(4 * 1024 * 1024);
    std::exception_ptr download_error;
    std::jthread download([&] {
        try {
            from.fetch_blob(from_repository, blob,
                            [&](const char* data, std::size_t size) { pipe.write(data, size); });
        } catch (...) {
            download_error = std::current_exception();
        }
        // fetch_blob verified size and digest before returning; only then may the upload end.
        pipe.finish_writing(download_error);
    });
    try {
        to.push_blob(to_repository, blob.digest, blob.size,
                     [&](char* buffer, std::size_t capacity) { return pipe.read(buffer, capacity); });
    } catch (...) {
        pipe.fail_reading();
        download.join();
        if (download_error) std::rethrow_exception(download_error);
        throw;
    }
    download.join();
    if (download_error) std::rethrow_exception(download_error);
    return true;
}

Digest copy_image(RegistryClient& from, const Reference& source, RegistryClient& to,
                  const Reference& destination, const BlobObserver& observe) {
    const FetchedManifest manifest =
        from.get_manifest(source.repository, source.manifest_reference());
    for (const Descriptor& child : manifest.parsed.references()) {
        if (manifest.parsed.is_index()) {
            // An index points at manifests: copy each as an image of its own, by digest.
            Reference child_source = source;
            child_source.digest = child.digest;
            Reference child_destination = destination;
            child_destination.tag.clear();
            child_destination.digest = child.digest;
            copy_image(from, child_source, to, child_destination, observe);
            continue;
        }
        const bool copied = copy_blob(from, source.repository, to, destination.repository, child);
        notify(observe, child, copied ? "copied" : "exists");
    }
    return to.put_manifest(destination.repository, destination.manifest_reference(),
                           manifest.media_type, manifest.bytes);
}

namespace {

void pull_into(RegistryClient& registry, const std::string& repository,
               const std::string& reference, OciLayoutWriter& layout,
               const BlobObserver& observe, Descriptor& pulled) {
    const FetchedManifest manifest = registry.get_manifest(repository, reference);
    pulled = Descriptor{.media_type = manifest.media_type,
                        .digest = manifest.digest,
                        .size = manifest.bytes.size()};
    for (const Descriptor& child : manifest.parsed.references()) {
        if (layout.has_blob(child.digest)) continue;
        if (manifest.parsed.is_index()) {
            Descriptor ignored = child;
            pull_into(registry, repository, child.digest.str(), layout, observe, ignored);
            continue;
        }
        layout.add_blob(child, [&](const BodySink& sink) {
            registry.fetch_blob(repository, child, sink);
        });
        notify(observe, child, "pulled");
    }
    layout.add_blob(pulled, manifest.bytes);
}

}  // namespace

Digest pull_to_layout(RegistryClient& registry, const Reference& image,
                      const std::filesystem::path& layout_path, const BlobObserver& observe) {
    OciLayoutWriter layout(layout_path);
    Descriptor manifest{.media_type = "", .digest = digest_of(""), .size = 0};
    pull_into(registry, image.repository, image.manifest_reference(), layout, observe, manifest);
    layout.commit(manifest, image.tag.empty() ? image.digest->str() : image.tag);
    return manifest.digest;
}

}  // namespace regclient
