#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/model/files.hpp"

#include "wbclient/transfer/ensure_blob.hpp"
#include "wbclient/image/oci_layout.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <set>
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

// One image's documents and blobs, gathered before any blob moves.
struct PlannedManifest {
    Descriptor descriptor;
    std::string bytes;
    Manifest parsed;
};
struct ImagePlan {
    std::vector<PlannedManifest> manifests;  // every index after the manifests it names
    std::vector<Descriptor> blobs;           // configs and layers, each once
};
// Fetches a manifest by tag or digest; `media_type` is what its parent says it is, if known.
using ManifestSource =
    std::function<PlannedManifest(const std::string& reference, const std::string& media_type)>;

void plan_into(ImagePlan& plan, std::set<std::string>& seen, const ManifestSource& fetch,
               const std::string& reference, const std::string& media_type) {
    PlannedManifest manifest = fetch(reference, media_type);
    for (const Descriptor& child : manifest.parsed.references()) {
        if (!seen.insert(child.digest.str()).second) continue;
        if (manifest.parsed.is_index())
            plan_into(plan, seen, fetch, child.digest.str(), child.media_type);
        else
            plan.blobs.push_back(child);
    }
    plan.manifests.push_back(std::move(manifest));
}

ImagePlan plan_image(const ManifestSource& fetch, const std::string& reference,
                     const std::string& media_type = "") {
    ImagePlan plan;
    std::set<std::string> seen;
    plan_into(plan, seen, fetch, reference, media_type);
    return plan;
}

ManifestSource from_registry(RegistryClient& registry, const std::string& repository) {
    return [&registry, repository](const std::string& reference, const std::string&) {
        FetchedManifest fetched = registry.get_manifest(repository, reference);
        return PlannedManifest{.descriptor = Descriptor{.media_type = fetched.media_type,
                                                        .digest = fetched.digest,
                                                        .size = fetched.bytes.size()},
                               .bytes = std::move(fetched.bytes),
                               .parsed = std::move(fetched.parsed)};
    };
}

// One client per worker: the caller's own for the first (its connection is already open),
// siblings for the rest, each with a connection of its own. `lend_own` false gives the first
// worker a sibling too, for a caller whose one client must serve two threads at once.
class WorkerClients {
public:
    WorkerClients(RegistryClient& own, unsigned workers, bool lend_own = true)
        : own_(own), lend_own_(lend_own) {
        for (unsigned i = lend_own ? 1 : 0; i < workers; ++i) siblings_.push_back(own.sibling());
    }
    RegistryClient& operator[](unsigned worker) {
        if (lend_own_) return worker == 0 ? own_ : siblings_[worker - 1];
        return siblings_[worker];
    }

private:
    RegistryClient& own_;
    bool lend_own_;
    std::vector<RegistryClient> siblings_;
};

// Runs work(worker, blob) for every blob on `workers` threads (the caller's thread is worker
// 0). Each worker takes the next blob when it finishes one; after the first failure no new
// blob starts, and that failure is rethrown once every worker stopped.
void for_each_blob(const std::vector<Descriptor>& blobs, unsigned workers,
                   const std::function<void(unsigned worker, const Descriptor& blob)>& work) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::mutex error_mutex;
    const auto run = [&](unsigned worker) {
        try {
            for (std::size_t i = next++; i < blobs.size() && !failed; i = next++) work(worker, blobs[i]);
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

unsigned worker_count(const TransferOptions& options, std::size_t blobs) {
    if (options.parallel_blobs == 0) throw std::invalid_argument("parallel_blobs must be at least 1");
    return static_cast<unsigned>(std::clamp<std::size_t>(blobs, 1, options.parallel_blobs));
}

// The observer hears one event at a time, whichever worker it comes from.
class Narrator {
public:
    explicit Narrator(const BlobObserver& observe) : observe_(observe) {}
    void operator()(const Descriptor& blob, BlobAction action) {
        if (!observe_) return;
        const std::lock_guard lock(mutex_);
        observe_(BlobEvent{blob, action});
    }

private:
    const BlobObserver& observe_;
    std::mutex mutex_;
};

// Pushes the plan's manifests in order, each index after its children; the last, the image's
// own, under the destination's tag or digest. Returns the digest the registry confirmed.
Digest put_manifests(RegistryClient& to, const Reference& destination, const ImagePlan& plan) {
    for (std::size_t i = 0; i + 1 < plan.manifests.size(); ++i) {
        const PlannedManifest& child = plan.manifests[i];
        to.put_manifest(destination.repository, child.descriptor.digest.str(),
                        child.descriptor.media_type, child.bytes);
    }
    const PlannedManifest& top = plan.manifests.back();
    return to.put_manifest(destination.repository, destination.manifest_reference(),
                           top.descriptor.media_type, top.bytes);
}

}  // namespace

bool copy_blob(RegistryClient& from, std::string_view from_repository, RegistryClient& to,
               std::string_view to_repository, const Descriptor& blob) {
    if (to.blob_size(to_repository, blob.digest)) return false;
    stream_blob(from, from_repository, blob, [&](const BodySource& source) {
        to.push_blob(to_repository, blob.digest, blob.size, source);
    });
    return true;
}

Digest copy_image(RegistryClient& from, const Reference& source, RegistryClient& to,
                  const Reference& destination, const TransferOptions& options) {
    const ImagePlan plan =
        plan_image(from_registry(from, source.repository), source.manifest_reference());
    // Same registry, other repository: it already stores every byte, so link, don't send.
    const bool same_registry = options.mount_within_registry && from.base_url() == to.base_url() &&
                               source.repository != destination.repository;
    const unsigned workers = worker_count(options, plan.blobs.size());
    // Downloads and uploads run at once: a caller passing one client as both gets a second.
    WorkerClients readers(from, same_registry ? 0 : workers, &from != &to);
    WorkerClients writers(to, workers);
    Narrator narrate(options.observe);
    for_each_blob(plan.blobs, workers, [&](unsigned worker, const Descriptor& blob) {
        RegistryClient& writer = writers[worker];
        if (!same_registry) {
            narrate(blob, copy_blob(readers[worker], source.repository, writer,
                                    destination.repository, blob)
                              ? BlobAction::copied
                              : BlobAction::already_there);
            return;
        }
        if (writer.blob_size(destination.repository, blob.digest)) return narrate(blob, BlobAction::already_there);
        const MountResult mount =
            request_mount(writer, destination.repository, blob.digest, source.repository);
        if (mount.mounted) return narrate(blob, BlobAction::mounted);
        // Not mountable (the source repository lacks it): fill the session the mount opened.
        RegistryClient reader = from.sibling();
        try {
            stream_blob(reader, source.repository, blob, [&](const BodySource& bytes) {
                upload_to_session(writer, mount.upload_location, blob, bytes);
            });
        } catch (...) {
            try {
                cancel_upload(writer, mount.upload_location);
            } catch (const std::exception&) {
            }
            throw;
        }
        narrate(blob, BlobAction::copied);
    });
    return put_manifests(to, destination, plan);
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
    const ImagePlan plan =
        plan_image(from_registry(registry, image.repository), image.manifest_reference());
    const unsigned workers = worker_count(options, plan.blobs.size());
    WorkerClients clients(registry, workers);
    Narrator narrate(options.observe);
    for_each_blob(plan.blobs, workers, [&](unsigned worker, const Descriptor& blob) {
        // fetch_blob hashes as the bytes arrive and throws on a mismatch, before the layout
        // keeps the file: one pass of SHA-256, no second read.
        layout.add_verified_blob(blob, [&](const BodySink& sink) {
            clients[worker].fetch_blob(image.repository, blob, sink);
        });
        narrate(blob, BlobAction::pulled);
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

namespace {

// The manifest index.json names for `destination`: its only one, or the one whose ref.name
// is the destination's tag (or whose digest the destination pins).
Descriptor choose_manifest(const fs::path& layout, const Reference& destination) {
    if (!fs::exists(layout / "oci-layout"))
        throw std::runtime_error(layout.string() + " is not an OCI layout (no oci-layout file)");
    const auto index = nlohmann::json::parse(read_file(layout / "index.json"), nullptr, false);
    if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array() ||
        index["manifests"].empty())
        throw std::runtime_error(layout.string() + "/index.json names no manifest");
    const auto& entries = index["manifests"];
    if (entries.size() == 1 && !destination.digest) return descriptor_from_json(entries[0]);
    for (const auto& entry : entries) {
        const Descriptor descriptor = descriptor_from_json(entry);
        if (destination.digest) {
            if (descriptor.digest == *destination.digest) return descriptor;
            continue;
        }
        const auto annotations = entry.find("annotations");
        if (annotations != entry.end() && annotations->is_object() &&
            annotations->value("org.opencontainers.image.ref.name", "") == destination.tag)
            return descriptor;
    }
    throw std::runtime_error(layout.string() + "/index.json names " + std::to_string(entries.size()) +
                             " manifests and none for " + destination.manifest_reference());
}

// Manifests come from the layout's files, checked against their digests (they are small);
// the blobs are only checked for presence and size here: the registry verifies their digests.
ManifestSource from_layout(const fs::path& layout) {
    return [layout](const std::string& reference, const std::string& media_type) {
        const Digest digest = Digest::parse(reference);
        std::string bytes = read_file(layout_blob_path(layout, digest));
        if (digest_of(bytes) != digest)
            throw std::runtime_error("manifest " + reference + " in " + layout.string() + " is corrupt");
        Manifest parsed = Manifest::parse(bytes, media_type);
        Descriptor descriptor{.media_type = parsed.media_type, .digest = digest, .size = bytes.size()};
        return PlannedManifest{.descriptor = std::move(descriptor), .bytes = std::move(bytes),
                               .parsed = std::move(parsed)};
    };
}

}  // namespace

Digest push_layout(RegistryClient& registry, const fs::path& layout, const Reference& destination,
                   const TransferOptions& options) {
    const Descriptor top = choose_manifest(layout, destination);
    const ImagePlan plan = plan_image(from_layout(layout), top.digest.str(), top.media_type);
    // Missing or truncated files fail here, before a single request.
    for (const Descriptor& blob : plan.blobs) {
        const fs::path file = layout_blob_path(layout, blob.digest);
        std::error_code error;
        const auto size = fs::file_size(file, error);
        if (error) throw std::runtime_error("layout " + layout.string() + " lacks blob " + blob.digest.str());
        if (size != blob.size)
            throw std::runtime_error("blob " + blob.digest.str() + " in " + layout.string() + " has " +
                                     std::to_string(size) + " bytes, its descriptor says " +
                                     std::to_string(blob.size));
    }
    const unsigned workers = worker_count(options, plan.blobs.size());
    WorkerClients clients(registry, workers);
    Narrator narrate(options.observe);
    for_each_blob(plan.blobs, workers, [&](unsigned worker, const Descriptor& blob) {
        // HEAD first; then POST and one PUT streaming the file: the monolithic upload.
        const BlobArrival arrival = ensure_blob(clients[worker], destination.repository, blob,
                                                layout_blob_path(layout, blob.digest));
        narrate(blob, arrival);
    });
    return put_manifests(registry, destination, plan);
}

Digest push_image(RegistryClient& registry, const Reference& destination, const BuiltImage& image,
                  const BlobObserver& observe) {
    const std::string& repository = destination.repository;
    const auto report = [&](const Descriptor& blob, BlobAction action) {
        if (observe) observe(BlobEvent{blob, action});
    };
    for (const ImageLayer& layer : image.layers) {
        const Descriptor& blob = layer.built.blob;
        if (registry.blob_size(repository, blob.digest) == blob.size) {
            report(blob, BlobAction::already_there);
            continue;
        }
        registry.push_blob(repository, blob, layer.built.file);
        report(blob, BlobAction::uploaded);
    }
    if (registry.blob_size(repository, image.config_blob.digest) == image.config_blob.size) {
        report(image.config_blob, BlobAction::already_there);
    } else {
        registry.push_blob(repository, image.config);
        report(image.config_blob, BlobAction::uploaded);
    }
    const Digest pushed = registry.put_manifest(repository, destination.manifest_reference(),
                                                image.manifest_blob.media_type, image.manifest);
    if (destination.digest && *destination.digest != pushed)
        throw std::runtime_error("the manifest's digest is " + pushed.str() + ", not " +
                                 destination.digest->str() + " as the reference pins");
    return pushed;
}

}  // namespace wbclient
