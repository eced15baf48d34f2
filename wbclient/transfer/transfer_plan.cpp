#include "wbclient/transfer/transfer_plan.hpp"

#include "wbclient/image/oci_layout.hpp"
#include "wbclient/model/files.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <set>
#include <stdexcept>

namespace wbclient {
namespace fs = std::filesystem;

namespace {

// A manifest as the planner reads it: its bytes for the push, parsed for what it names.
struct ReadManifest {
    PlannedManifest planned;
    Manifest parsed;
};
// Reads a manifest by tag or digest; `media_type` is what its parent says it is, if known.
using ManifestSource = std::function<ReadManifest(const std::string& reference, const std::string& media_type)>;
// Where the blobs a manifest names come from.
using OriginOf = std::function<BlobOrigin(const Descriptor& blob)>;

// Depth first: an index's children (and their blobs) before the index itself, each digest once.
void plan_into(TransferPlan& plan, std::set<std::string>& seen, const ManifestSource& read,
               const OriginOf& origin_of, const std::string& reference, const std::string& media_type) {
    ReadManifest manifest = read(reference, media_type);
    for (const Descriptor& child : manifest.parsed.references()) {
        if (!seen.insert(child.digest.str()).second) continue;
        if (manifest.parsed.is_index())
            plan_into(plan, seen, read, origin_of, child.digest.str(), child.media_type);
        else
            plan.blobs.push_back(PlannedBlob{.blob = child, .origin = origin_of(child)});
    }
    plan.manifests.push_back(std::move(manifest.planned));
}

TransferPlan plan_image(const ManifestSource& read, const OriginOf& origin_of, const std::string& reference,
                        const std::string& media_type = "") {
    TransferPlan plan;
    std::set<std::string> seen;
    plan_into(plan, seen, read, origin_of, reference, media_type);
    return plan;
}

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

}  // namespace

TransferPlan plan_built_image(const BuiltImage& image, bool ask_first) {
    TransferPlan plan;
    for (const ImageLayer& layer : image.layers)
        plan.blobs.push_back(
            PlannedBlob{.blob = layer.built.blob, .origin = BlobInFile{layer.built.file}, .ask_first = ask_first});
    plan.blobs.push_back(
        PlannedBlob{.blob = image.config_blob, .origin = BlobInMemory{image.config}, .ask_first = ask_first});
    plan.manifests.push_back(PlannedManifest{.descriptor = image.manifest_blob, .bytes = image.manifest});
    return plan;
}

TransferPlan plan_layout(const fs::path& layout, const Reference& destination) {
    const Descriptor top = choose_manifest(layout, destination);
    // Manifests come from the layout's files, checked against their digests (they are small);
    // the blobs are only checked for presence and size here: the registry verifies their digests.
    const ManifestSource read = [&layout](const std::string& reference, const std::string& media_type) {
        const Digest digest = Digest::parse(reference);
        std::string bytes = read_file(layout_blob_path(layout, digest));
        if (digest_of(bytes) != digest)
            throw std::runtime_error("manifest " + reference + " in " + layout.string() + " is corrupt");
        Manifest parsed = Manifest::parse(bytes, media_type);
        Descriptor descriptor{.media_type = parsed.media_type, .digest = digest, .size = bytes.size()};
        return ReadManifest{.planned = {.descriptor = std::move(descriptor), .bytes = std::move(bytes)},
                            .parsed = std::move(parsed)};
    };
    TransferPlan plan = plan_image(
        read, [&layout](const Descriptor& blob) -> BlobOrigin { return BlobInFile{layout_blob_path(layout, blob.digest)}; },
        top.digest.str(), top.media_type);
    // Missing or truncated files fail here, before a single request.
    for (const PlannedBlob& planned : plan.blobs) {
        const Descriptor& blob = planned.blob;
        std::error_code error;
        const auto size = fs::file_size(std::get<BlobInFile>(planned.origin).file, error);
        if (error) throw std::runtime_error("layout " + layout.string() + " lacks blob " + blob.digest.str());
        if (size != blob.size)
            throw std::runtime_error("blob " + blob.digest.str() + " in " + layout.string() + " has " +
                                     std::to_string(size) + " bytes, its descriptor says " +
                                     std::to_string(blob.size));
    }
    return plan;
}

TransferPlan plan_remote_image(RegistryClient& registry, const Reference& source) {
    const std::string& repository = source.repository;
    const ManifestSource read = [&registry, &repository](const std::string& reference, const std::string&) {
        FetchedManifest fetched = registry.get_manifest(repository, reference);
        Descriptor descriptor{.media_type = fetched.media_type, .digest = fetched.digest, .size = fetched.bytes.size()};
        return ReadManifest{.planned = {.descriptor = std::move(descriptor), .bytes = std::move(fetched.bytes)},
                            .parsed = std::move(fetched.parsed)};
    };
    TransferPlan plan = plan_image(
        read, [&repository](const Descriptor&) -> BlobOrigin { return BlobInRegistry{repository}; },
        source.manifest_reference());
    plan.source = &registry;
    return plan;
}

}  // namespace wbclient
